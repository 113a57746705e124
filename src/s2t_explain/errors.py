"""User-facing errors.

Everything a user can cause (a missing file, an unknown model name, a bad option) raises a
subclass of :class:`S2TError` with a one-line message that says what went wrong and what to do.
The CLI prints that line and exits non-zero; library users can catch :class:`S2TError`.
Programming errors (bugs) stay ordinary exceptions so they keep their tracebacks.
"""

from __future__ import annotations

from typing import Any


class S2TError(Exception):
    """Base class of errors caused by user input; the message is one actionable line."""


class AudioError(S2TError):
    """The audio could not be read or is unusable (missing, corrupt, empty, silent, too long)."""


class ModelError(S2TError):
    """The model spec cannot be resolved or its files are missing or damaged."""


class OptionError(S2TError, ValueError):
    """An option has an invalid value (unknown language, task not supported, bad head set...)."""


class EmptyTranscriptError(OptionError):
    """The model said nothing for this audio (so there is nothing to explain or time)."""


class ResultError(S2TError):
    """A stored result file cannot be read."""


def check_type(value: Any, expected: type | tuple[type, ...], name: str, hint: str = "") -> None:
    """Raise :class:`OptionError` naming argument ``name`` when ``value`` is not of the ``expected`` type(s).

    Used at library entry points so that, say, DecodingOptions passed where SaliencyOptions belong
    fails at once with one clear line, not deep inside a computation.
    """
    if isinstance(value, expected):
        return
    kinds = expected if isinstance(expected, tuple) else (expected,)
    wanted = " or ".join(k.__name__ for k in kinds)
    raise OptionError(f"{name}= takes {wanted}, got {type(value).__name__}" + (f"; {hint}" if hint else ""))
