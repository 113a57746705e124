"""Words of overlapping windows into one timeline, each word exactly once.

Each window reports only the words whose middle lies in the stretch it owns (``windows.Window``);
owned stretches tile the file and meet inside pauses, so a word that two windows both heard is
kept by one of them. Should two windows still place one word on both sides of their cut (timings
that differ by more than the pause), the later copy is dropped: it repeats the last kept word's
text at an overlapping time.
"""

from __future__ import annotations

from dataclasses import replace

from ..alignment.timestamps import Word
from ..metrics.timing import normalize_word
from .windows import Window


def shift(words: list[Word], seconds: float) -> list[Word]:
    """Window-relative times to file times."""
    return [replace(w, start=w.start + seconds, end=w.end + seconds) for w in words]


def owned(words: list[Word], window: Window) -> list[Word]:
    """The words (file times) whose middle lies in the window's owned stretch."""
    return [w for w in words if window.own_start <= (w.start + w.end) / 2 < window.own_end]


def append(kept: list[Word], words: list[Word]) -> None:
    """Add a window's owned words to ``kept``, dropping a first word that repeats the last kept one
    at an overlapping time."""
    if kept and words and words[0].start < kept[-1].end and \
            normalize_word(kept[-1].word) == normalize_word(words[0].word):
        words = words[1:]
    kept.extend(words)
