"""LibriSpeech folders: SPEAKER/CHAPTER/SPEAKER-CHAPTER-NNNN.flac beside SPEAKER-CHAPTER.trans.txt.

Each transcript line is ``ID TEXT`` (LibriSpeech writes upper case, no punctuation). The path may
be a subset (``dev-clean/``), a root holding several subsets, or a single speaker or chapter
folder. Folders are walked lazily, depth first, in sorted order (numeric names by number), so the
first utterance comes at once whatever the corpus's size. A transcript line without its audio
file, an audio file without a transcript line, and a line without text are bad entries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import OptionError
from .base import CorpusFormat, Entry, bad_id_reason, corpus_format, place_id, safe_id
from .utterance import BadLine, Utterance

TRANSCRIPT = ".trans.txt"
AUDIO = (".flac", ".wav")
MAX_DEPTH = 4  # root / LibriSpeech / subset / speaker / chapter


def _order(name: str) -> tuple[int, int, str]:
    return (0, int(name), name) if name.isdigit() else (1, 0, name)


def _listdir(folder: Path) -> list[os.DirEntry]:
    """The folder's entries, sorted (one call per folder visited: tests count them)."""
    with os.scandir(folder) as it:
        return sorted((e for e in it if not e.name.startswith(".")), key=lambda e: _order(e.name))


def _chapters(folder: Path, depth: int = 0) -> Iterator[tuple[Path, list[os.DirEntry]]]:
    """(folder, its files) of every folder holding transcripts or audio, depth first, lazily."""
    entries = _listdir(folder)
    files = [e for e in entries if e.is_file()]
    if any(e.name.endswith(TRANSCRIPT) or e.name.lower().endswith(AUDIO) for e in files):
        yield folder, files
    if depth < MAX_DEPTH:
        for e in entries:
            if e.is_dir():
                yield from _chapters(Path(e.path), depth + 1)


@corpus_format("librispeech")
class LibriSpeech(CorpusFormat):
    description = "LibriSpeech folder: SPEAKER/CHAPTER/*.flac with SPEAKER-CHAPTER.trans.txt (a subset or a root)"

    @classmethod
    def detect(cls, path: Path) -> bool:
        if not path.is_dir():
            return False
        return any(any(f.name.endswith(TRANSCRIPT) for f in files) for _, files in _chapters(path))

    def check(self, path: Path) -> None:
        if not self.detect(path):
            raise OptionError(f"no LibriSpeech transcripts (SPEAKER-CHAPTER{TRANSCRIPT}) in the folders under {path}")

    def entries(self, path: Path) -> Iterator[Entry]:
        for folder, files in _chapters(path):
            audio = {f.name[: -len(Path(f.name).suffix)]: Path(f.path) for f in files
                     if f.name.lower().endswith(AUDIO)}
            transcribed: set[str] = set()
            for transcript in (f for f in files if f.name.endswith(TRANSCRIPT)):
                stem = transcript.name[: -len(TRANSCRIPT)]
                with open(transcript.path, encoding="utf-8", errors="replace") as lines:
                    for n, line in enumerate(lines, start=1):
                        if not line.strip():
                            continue
                        uid, _, text = line.strip().partition(" ")
                        position = place_id(f"{stem}-line-{n}")
                        where = f"{transcript.name} line {n}"
                        ident = safe_id(uid)
                        if ident is None:
                            yield position, n, BadLine(position, n, f"{where}: {bad_id_reason(uid)}")
                            continue
                        transcribed.add(ident)
                        if "\ufffd" in line:
                            yield position, n, BadLine(ident, n, f"{where}: not UTF-8 text")
                        elif not text.strip():
                            yield position, n, BadLine(ident, n, f"{where}: no transcript text")
                        elif ident not in audio:
                            yield position, n, BadLine(ident, n, f"{where}: no audio file {ident}.flac in {folder}")
                        else:
                            yield position, n, Utterance(ident, audio[ident], text.strip())
            for k, (uid, file) in enumerate(audio.items(), start=1):
                if uid not in transcribed:
                    ident = safe_id(uid) or place_id(f"{folder.name}-untranscribed-{k}")
                    yield ident, 0, BadLine(ident, 0, f"missing transcript: {file} has no line in a "
                                                      f"{TRANSCRIPT} file beside it")
