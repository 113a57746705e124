"""``s2t-explain`` entry point: parse arguments, call one library function per subcommand.

User errors (:class:`S2TError`) become one line on stderr and exit code 2; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from ..audio.io import AudioWarning
from ..errors import S2TError
from . import align, commands, study


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2t-explain",
        description="Explain encoder-decoder speech-to-text models: cross-attention and saliency.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_transcribe(sub)
    commands.add_attention(sub)
    commands.add_explain(sub)
    align.add_timestamps(sub)
    align.add_heads(sub)
    align.add_align_bench(sub)
    study.add_study(sub)
    study.add_report(sub)
    commands.add_methods(sub)
    commands.add_html(sub)
    commands.add_models(sub)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def _one_line_warnings(message: Warning | str, category: type[Warning], *rest: object, **kw: object) -> None:
    """Audio warnings as one line on stderr (even with --quiet: the result covers less than asked);
    any other warning as Python shows it."""
    if issubclass(category, AudioWarning):
        print(f"s2t-explain: warning: {message}", file=sys.stderr)
    else:
        _python_show(message, category, *rest, **kw)  # type: ignore[arg-type]


_python_show = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    shown, warnings.showwarning = warnings.showwarning, _one_line_warnings
    try:
        return int(args.run(args) or 0)
    except S2TError as e:
        print(f"s2t-explain: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # disk full, permissions...: the user's environment, not a bug
        print(f"s2t-explain: error: {e.strerror or e}{f': {e.filename}' if e.filename else ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ns2t-explain: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown
