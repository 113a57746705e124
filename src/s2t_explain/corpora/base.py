"""The corpus-format interface, its registry, and the entry points ``read_corpus`` / ``read_timed_corpus``.

A format is one registered :class:`CorpusFormat` subclass: ``detect(path)`` says whether a path
looks like it (for ``format="auto"``, tried in registration order), ``read(path)`` streams its
entries as :class:`Utterance` or :class:`BadLine` (a generator: nothing is read before it is
asked for, audio never), and formats whose entries carry exact word times also have
``read_timed(path)`` for the alignment benchmark.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from ..errors import OptionError
from ..registry import Registry
from .utterance import BadLine, TimedUtterance, Utterance

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # ids become file names of the run folder
PLACE = "_"  # first character of a place id: never the first of an id (SAFE_ID starts with a letter or digit)

# What a format's ``entries`` yields: (the entry's place id, see ``place_id``: the id it is recorded
# under if it has no usable id or turns out to be a duplicate; its line or row; the entry).
Entry = tuple[str, int, Utterance | BadLine]


def place_id(place: str) -> str:
    """The id of an entry known by its place in the corpus: ``line-3`` -> ``_line-3``.

    A failure record of an entry without a usable id (or with a duplicate one) is filed under it,
    so it can never share a file name with an utterance of the run; formats make each place
    unique in the corpus (file and line, split and row).
    """
    return PLACE + re.sub(r"[^A-Za-z0-9._-]", "_", place)[:200]


def safe_id(value: object) -> str | None:
    """``value`` as an id usable as a file name, or None."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    return text if text is not None and SAFE_ID.match(text) else None


def bad_id_reason(value: object) -> str:
    return f"bad or missing id {value!r} (letters, digits, . _ - ; at most 128)"


def seconds(value: object, name: str) -> float | None:
    """A ``start``/``end`` field (a number, or text holding one) in seconds; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    try:
        out = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(out) or out < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return out


def check_segment(start: float | None, end: float | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValueError(f"segment end {end:g} s is not after its start {start:g} s")


class CorpusFormat(ABC):
    """One way of laying out a corpus. Subclasses set ``name`` (via :func:`corpus_format`),
    ``description``, the ``options`` they take, and whether they are ``timed``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[tuple[str, ...]] = ()  # keyword options of the constructor
    timed: ClassVar[bool] = False  # entries can carry exact word times (read_timed)

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            takes = ", ".join(self.options) if self.options else "none"
            raise OptionError(f"the {self.name} corpus format has no option {', '.join(unknown)} "
                              f"(its options: {takes})")
        self.settings = dict(options)

    @classmethod
    @abstractmethod
    def detect(cls, path: Path) -> bool:
        """Whether ``path`` looks like a corpus of this format (cheap: names, not contents)."""

    def check(self, path: Path) -> None:  # noqa: B027 (optional hook)
        """Raise :class:`OptionError` at once when ``path`` cannot be read in this format at all."""

    @abstractmethod
    def entries(self, path: Path) -> Iterator[Entry]:
        """Every entry in corpus order (duplicates included; ``read`` turns them into bad lines)."""

    def read(self, path: str | Path) -> Iterator[Utterance | BadLine]:
        """Stream the corpus's utterances and bad entries, each id once: an entry whose id an
        earlier one took (an utterance, or a bad entry that had a usable id) is a bad entry filed
        under its place id, so a failure record never stands for, nor replaces, an utterance."""
        taken: set[str] = set()
        for place, line, item in self.entries(Path(path)):
            if item.id in taken:
                also = "" if isinstance(item, Utterance) else f"; also: {item.reason}"
                item = BadLine(place, line, f"duplicate id {item.id!r}{also}")
            while isinstance(item, BadLine) and item.id in taken:  # places are unique by construction; never
                item = BadLine(f"{item.id}~", line, item.reason)  # two records in one file all the same
            taken.add(item.id)
            yield item

    def read_timed(self, path: Path) -> Iterator[TimedUtterance]:
        """Utterances with exact word times (alignment benchmark); any bad entry is an error."""
        raise OptionError(f"the {self.name} corpus format has no word times; the alignment benchmark reads "
                          f"{', '.join(n for n in CORPUS_FORMATS if CORPUS_FORMATS.get(n).timed)}")

    def size(self, path: Path) -> int | None:
        """How many entries ``read`` yields, when that is cheap to know; else None."""
        return None

    def note(self, path: Path) -> str | None:
        """A line worth telling the user about how the corpus is read (a split chosen for them...)."""
        return None


CORPUS_FORMATS: Registry[type[CorpusFormat]] = Registry("corpus format")


def list_corpus_formats() -> list[str]:
    return CORPUS_FORMATS.names()


def corpus_format(name: str) -> Callable[[type[CorpusFormat]], type[CorpusFormat]]:
    """Class decorator: name the format and register it."""

    def add(cls: type[CorpusFormat]) -> type[CorpusFormat]:
        cls.name = name
        return CORPUS_FORMATS.register(name)(cls)

    return add


def detect_format(path: str | Path) -> str:
    """The name of the first registered format whose ``detect`` accepts ``path``."""
    path = Path(path)
    for name in CORPUS_FORMATS:
        if CORPUS_FORMATS.get(name).detect(path):
            return name
    what = ("an empty folder" if path.is_dir() and not any(path.iterdir()) else
            "a folder of no known layout" if path.is_dir() else f"a file ending {path.suffix or '(no suffix)'!r}")
    raise OptionError(f"cannot tell the corpus format of {path} ({what}); name it, one of: "
                      f"{', '.join(list_corpus_formats())}")


def open_format(path: str | Path, format: str = "auto", what: str = "manifest",
                **options: Any) -> tuple[Path, CorpusFormat]:
    """The path, checked to exist, and its format made with ``options`` (None values dropped)."""
    path = Path(path)
    if not path.exists():
        raise OptionError(f"{what} not found: {path}")
    name = detect_format(path) if format == "auto" else format
    fmt = CORPUS_FORMATS.get(name)(**{k: v for k, v in options.items() if v is not None})
    fmt.check(path)
    return path, fmt


class Corpus(Iterator[Utterance | BadLine]):
    """A corpus being read: an iterator over its entries (one pass), with what is known about it."""

    def __init__(self, path: Path, fmt: CorpusFormat) -> None:
        self.path = path
        self.format = fmt
        self._entries = fmt.read(path)
        try:  # one entry now: an empty corpus fails before anything else is started
            self._first: list[Utterance | BadLine] = [next(self._entries)]
        except StopIteration:
            raise OptionError(f"manifest {path} has no utterances") from None

    @property
    def name(self) -> str:
        """The format's name."""
        return self.format.name

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.format.settings)

    @property
    def size(self) -> int | None:
        return self.format.size(self.path)

    @property
    def note(self) -> str | None:
        return self.format.note(self.path)

    def __next__(self) -> Utterance | BadLine:
        if self._first:
            return self._first.pop()
        return next(self._entries)


def read_corpus(path: str | Path, format: str = "auto", **format_options: Any) -> Corpus:
    """Open a corpus (a manifest file or a corpus folder) and stream its entries.

    ``format``: a name from :func:`list_corpus_formats`, or "auto" to detect it. Raises
    :class:`OptionError` at once for a missing path, an unknown or undetectable format, an option
    the format does not take, or a corpus with no entries; later problems of single entries come
    back as :class:`BadLine`.
    """
    return Corpus(*open_format(path, format, **format_options))


def read_timed_corpus(path: str | Path, format: str = "auto", **format_options: Any) -> list[TimedUtterance]:
    """Every utterance of an alignment corpus, with exact word times; any bad entry is an error.

    Formats with word times: JSON Lines (``words``), CSV (a ``words`` column holding the same
    JSON), Kaldi (a ``ctm`` file). Word times are read as seconds in the audio file (the
    recording), and shifted to a segment's start for utterances that are segments.
    """
    path, fmt = open_format(path, format, what="alignment manifest", **format_options)
    items: list[TimedUtterance] = []
    seen: set[str] = set()
    for item in fmt.read_timed(path):
        if item.id in seen:
            raise OptionError(f"{path}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise OptionError(f"{path} has no utterances")
    return items


def timed(item: Utterance, words: list[tuple[str, float, float]], where: str) -> TimedUtterance:
    """``item`` with ``words`` (times in its file), shifted to its segment; words outside it are an error."""
    offset = item.start or 0.0
    out = []
    for word, start, end in words:
        if not (math.isfinite(start) and math.isfinite(end)) or end < start or start < 0:
            raise OptionError(f"{where}: word {word!r} has bad times {start:g}-{end:g} s")
        if start < offset - 1e-6 or (item.end is not None and end > item.end + 1e-6):
            raise OptionError(f"{where}: word {word!r} at {start:g}-{end:g} s lies outside the segment "
                              f"{offset:g}-{'end' if item.end is None else f'{item.end:g}'} s of {item.id} "
                              "(word times are seconds in the recording)")
        out.append((word, round(start - offset, 6), round(end - offset, 6)))
    return TimedUtterance(item.id, item.audio, item.reference, item.language, item.task, item.start, item.end,
                          item.data, words=out)
