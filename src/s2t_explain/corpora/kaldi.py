"""Kaldi data folders: ``wav.scp`` and ``text``, optional ``segments``, ``utt2lang`` and ``ctm``.

- ``wav.scp``: ``REC PATH`` (relative paths are relative to the data folder). Piped entries
  (``REC sox ... |``) and archive entries (``REC file.ark:123``) are bad entries: decode them to
  audio files first (e.g. ``wav-copy scp:wav.scp ark,scp:...`` or a loop over sox).
- ``text``: ``UTT TRANSCRIPT``; the order of the utterances.
- ``segments``: ``UTT REC START END`` in seconds (END -1: the end of the recording); without it
  every recording is one utterance (UTT = REC).
- ``utt2lang``: ``UTT LANGUAGE`` (a language code), when present.
- ``ctm`` (alignment benchmark only): ``NAME CHANNEL START DUR WORD [CONF]``. Times are seconds in
  the recording, as ``steps/get_ctm.sh`` writes them for segmented data. NAME is an utterance
  (its words) or a recording (then each word goes to the segment holding its midpoint). Words are
  shifted to their segment's start, so they are times in the audio the model hears.

The small index files (wav.scp, segments, utt2lang) are read into dicts; ``text`` is streamed
and no audio is opened. An utterance with no line in ``text``, a text line with no recording, a
bad segment line: bad entries, reported in that order after the text's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import OptionError
from .base import CorpusFormat, Entry, bad_id_reason, check_segment, corpus_format, place_id, safe_id, seconds, timed
from .utterance import BadLine, TimedUtterance, Utterance

_ARCHIVE = re.compile(r"\.ark:\d+$")


def _table(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, first field, the rest) of every non-blank line of a Kaldi index file."""
    with open(path, encoding="utf-8", errors="replace") as lines:
        for n, line in enumerate(lines, start=1):
            key, _, rest = line.strip().partition(" ")
            if key:
                yield n, key, rest.strip()


Segment = tuple[str, float, float | None]  # recording, start, end (None: to the end)


@corpus_format("kaldi")
class Kaldi(CorpusFormat):
    description = "Kaldi data folder: wav.scp + text [+ segments, utt2lang; ctm for word times]"
    timed = True

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and (path / "wav.scp").is_file() and (path / "text").is_file()

    def check(self, path: Path) -> None:
        if not self.detect(path):
            raise OptionError(f"{path} is not a Kaldi data folder: it needs wav.scp and text files")

    def _recordings(self, path: Path) -> dict[str, Path | str]:
        """REC -> its audio file, or the reason it cannot be read."""
        out: dict[str, Path | str] = {}
        for _, rec, rest in _table(path / "wav.scp"):
            if not rest:
                out[rec] = f"wav.scp gives no audio for recording {rec}"
            elif rest.endswith("|"):
                command = rest if len(rest) <= 60 else rest[:57] + "..."
                out[rec] = (f"wav.scp gives recording {rec} as a command ({command}); decode it to an audio "
                            "file and list that path instead")
            elif _ARCHIVE.search(rest):
                out[rec] = f"wav.scp gives recording {rec} inside a Kaldi archive ({rest}); write it to a file first"
            else:
                audio = Path(rest)
                out[rec] = audio if audio.is_absolute() else path / audio
        return out

    def _segments(self, path: Path) -> dict[str, Segment | str] | None:
        """UTT -> (REC, start, end), or the reason its line is bad; None without a segments file."""
        if not (path / "segments").is_file():
            return None
        out: dict[str, Segment | str] = {}
        for n, utt, rest in _table(path / "segments"):
            fields = rest.split()
            try:
                if len(fields) != 3:
                    raise ValueError("expected UTT REC START END")
                start = seconds(fields[1], "start") or 0.0
                end = None if fields[2] in ("-1", "-1.0") else seconds(fields[2], "end")
                check_segment(start, end)
                out[utt] = (fields[0], start, end)
            except ValueError as e:
                out[utt] = f"segments line {n} is not a segment ({e})"
        return out

    def _languages(self, path: Path) -> dict[str, str]:
        return {utt: rest for _, utt, rest in _table(path / "utt2lang")} if (path / "utt2lang").is_file() else {}

    @staticmethod
    def _locate(utt: str, text: str, segments: dict[str, Segment | str] | None,
                recordings: dict[str, Path | str]) -> tuple[str, Path, float | None, float | None] | str:
        """(recording, audio file, start, end) of an utterance, or why it has none."""
        if "\ufffd" in text:
            return f"the text of utterance {utt} is not UTF-8"
        if not text:
            return f"missing transcript: utterance {utt} has no text in the text file"
        if segments is None:
            rec, start, end = utt, None, None
        else:
            segment = segments.get(utt)
            if segment is None:
                return f"utterance {utt} has no line in segments"
            if isinstance(segment, str):
                return segment
            rec, start, end = segment
        audio = recordings.get(rec)
        if audio is None:
            return f"recording {rec} of utterance {utt} is not in wav.scp"
        if isinstance(audio, str):
            return audio
        return rec, audio, start, end

    def _items(self, path: Path) -> Iterator[tuple[str, int, Utterance | BadLine, str]]:
        """(position, line, entry, recording) of every utterance, in the order of ``text``."""
        recordings, segments, languages = self._recordings(path), self._segments(path), self._languages(path)
        transcribed: set[str] = set()
        for n, utt, text in _table(path / "text"):
            position = place_id(f"text-line-{n}")
            transcribed.add(utt)
            ident = safe_id(utt)
            if ident is None:
                yield position, n, BadLine(position, n, f"text line {n}: {bad_id_reason(utt)}"), ""
                continue
            found = self._locate(ident, text, segments, recordings)
            if isinstance(found, str):
                yield position, n, BadLine(ident, n, found), ""
                continue
            rec, audio, start, end = found
            yield position, n, Utterance(ident, audio, text, languages.get(ident), None, start, end), rec
        untranscribed = segments if segments is not None else recordings
        listing = "segments" if segments is not None else "wav.scp"
        for k, utt in enumerate(untranscribed, start=1):
            if utt not in transcribed:
                ident = safe_id(utt) or place_id(f"{listing}-entry-{k}")
                yield ident, 0, BadLine(ident, 0, f"missing transcript: utterance {utt} has no line in text"), ""

    def entries(self, path: Path) -> Iterator[Entry]:
        for position, n, item, _ in self._items(path):
            yield position, n, item

    def size(self, path: Path) -> int | None:
        keys = [utt for _, utt, _ in _table(path / "text")]
        listed = self._segments(path)
        others = set(listed if listed is not None else self._recordings(path)) - set(keys)
        return len(keys) + len(others)

    def _ctm(self, path: Path) -> dict[str, list[tuple[str, float, float]]]:
        """NAME -> its words (word, start, end) in seconds of the recording, sorted by start."""
        ctm = path / "ctm"
        if not ctm.is_file():
            raise OptionError(f"{path}: the alignment benchmark needs a ctm file beside wav.scp "
                              "(NAME CHANNEL START DUR WORD: the exact word times)")
        out: dict[str, list[tuple[str, float, float]]] = {}
        for n, name, rest in _table(ctm):
            fields = rest.split()
            try:
                start, duration = float(fields[1]), float(fields[2])
                word = fields[3]
            except (IndexError, ValueError):
                raise OptionError(f"{ctm}:{n}: not a ctm line (NAME CHANNEL START DUR WORD [CONF])") from None
            out.setdefault(name, []).append((word, start, start + duration))
        return {name: sorted(words, key=lambda w: w[1]) for name, words in out.items()}

    def read_timed(self, path: Path) -> Iterator[TimedUtterance]:
        words = self._ctm(path)
        for _, n, item, rec in self._items(path):
            if isinstance(item, BadLine):
                raise OptionError(f"{path}: {item.reason}" + (f" (text line {n})" if n else ""))
            if item.id in words:
                mine = words[item.id]
            else:  # recording-keyed: the words whose midpoint lies in the segment
                start, end = item.start or 0.0, item.end if item.end is not None else float("inf")
                mine = [w for w in words.get(rec, []) if start <= (w[1] + w[2]) / 2 < end]
            if not mine:
                raise OptionError(f"{path / 'ctm'}: no words for utterance {item.id} (nor for its recording {rec})")
            yield timed(item, mine, f"{path / 'ctm'} ({item.id})")
