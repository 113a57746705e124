"""Manifest files, one utterance per line or row: JSON Lines, TSV and CSV.

Fields: ``id`` (unique), ``audio`` (path; relative paths are relative to the manifest's folder),
optional ``reference`` (text), ``language``, ``task`` (transcribe / translate; default: the run's),
``start`` and ``end`` (seconds: the utterance is that segment of the file), and ``words`` (for the
alignment benchmark: every word's ``word``, ``start`` and ``end`` in seconds of the file; in TSV and
CSV a cell holding that JSON list; ignored by the study). TSV and CSV files start with a header
row naming the columns. A bad line does not stop a run: it comes back as a :class:`BadLine` with
its reason. Files are read line by line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import OptionError
from ..tasks import TASKS
from .base import (
    CorpusFormat,
    Entry,
    bad_id_reason,
    check_segment,
    corpus_format,
    place_id,
    safe_id,
    seconds,
    timed,
)
from .utterance import BadLine, TimedUtterance, Utterance

FIELDS = ("id", "audio", "reference", "language", "task", "start", "end", "words")


def parse_record(record: object, line: int, base: Path) -> Utterance | BadLine:
    """One manifest record (a JSON object, or a row as {column: cell}) as an utterance or a bad line."""
    if not isinstance(record, dict):
        return BadLine(place_id(f"line-{line}"), line, "not an object with id and audio fields")
    uid = record.get("id")
    ident = safe_id(uid) if isinstance(uid, str) else None
    if ident is None:
        return BadLine(place_id(f"line-{line}"), line, bad_id_reason(uid))
    audio = record.get("audio")
    if not isinstance(audio, str) or not audio.strip():
        return BadLine(ident, line, "missing audio path")
    unknown = set(record) - set(FIELDS)
    if unknown:
        return BadLine(ident, line, f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}")
    task = record.get("task") or None
    if task is not None and task not in TASKS:
        return BadLine(ident, line, f"unknown task {task!r}; use one of: {', '.join(TASKS)}")
    for key in ("reference", "language"):
        if record.get(key) is not None and not isinstance(record.get(key), str):
            return BadLine(ident, line, f"{key} must be text")
    try:
        start, end = seconds(record.get("start"), "start"), seconds(record.get("end"), "end")
        check_segment(start, end)
    except ValueError as e:
        return BadLine(ident, line, f"bad segment: {e}")
    path = Path(audio)
    return Utterance(ident, path if path.is_absolute() else base / path, record.get("reference") or None,
                     record.get("language") or None, task, start, end)


def parse_timed(record: Any, words: Any, line: int, base: Path, where: str) -> TimedUtterance:
    """An alignment-manifest record with its words (a list of {word, start, end}); errors raise."""
    try:
        spans = [(str(w["word"]), float(w["start"]), float(w["end"])) for w in words]
        start, end = seconds(record.get("start"), "start"), seconds(record.get("end"), "end")
        check_segment(start, end)
        audio = Path(record["audio"])
        item = Utterance(str(record["id"]), audio if audio.is_absolute() else base / audio, str(record["reference"]),
                         record.get("language") or None, record.get("task") or None, start, end)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise OptionError(f"{where}: not an alignment line with id, audio, reference and words ({e})") from None
    return timed(item, spans, where)


def _is_file(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.is_file() and path.suffix.lower() in suffixes


class _ManifestFile(CorpusFormat):
    suffixes: tuple[str, ...] = ()

    @classmethod
    def detect(cls, path: Path) -> bool:
        return _is_file(path, cls.suffixes)

    def check(self, path: Path) -> None:
        if not path.is_file():
            raise OptionError(f"{path} is a folder; the {self.name} format reads a manifest file")


@corpus_format("jsonl")
class JsonLines(_ManifestFile):
    description = "JSON Lines manifest (.jsonl): an object a line: id, audio, [reference, language, task, start, end]"
    suffixes = (".jsonl", ".json", ".ndjson")
    timed = True

    @staticmethod
    def _lines(path: Path) -> Iterator[tuple[int, str | None]]:
        """(line number, text) of every non-blank line; text None when the line is not UTF-8."""
        with open(path, "rb") as f:
            for n, raw in enumerate(f, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield n, None
                    continue
                if n == 1:
                    text = text.removeprefix("\ufeff")
                if text.strip():
                    yield n, text

    def entries(self, path: Path) -> Iterator[Entry]:
        for n, text in self._lines(path):
            if text is None:
                yield place_id(f"line-{n}"), n, BadLine(place_id(f"line-{n}"), n, "not UTF-8 text")
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as e:
                yield place_id(f"line-{n}"), n, BadLine(place_id(f"line-{n}"), n, f"not valid JSON ({e.msg})")
                continue
            yield place_id(f"line-{n}"), n, parse_record(record, n, path.parent)

    def read_timed(self, path: Path) -> Iterator[TimedUtterance]:
        for n, text in self._lines(path):
            where = f"{path}:{n}"
            try:
                if text is None:
                    raise ValueError("not UTF-8 text")
                record = json.loads(text)
                words = record["words"]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise OptionError(f"{where}: not an alignment line with id, audio, reference and words ({e})") from None
            yield parse_timed(record, words, n, path.parent, where)


class _Delimited(_ManifestFile):
    delimiter = ","
    label = "CSV"

    def _rows(self, path: Path) -> Iterator[tuple[int, list[str], bool]]:
        """(line number, cells, whether the row held bytes that are not UTF-8) of every row."""
        broken: set[int] = set()

        def lines() -> Iterator[str]:
            with open(path, "rb") as f:
                for n, raw in enumerate(f, start=1):
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        text = raw.decode("utf-8", errors="replace")
                        broken.add(n)
                    yield text.removeprefix("\ufeff") if n == 1 else text

        reader = csv.reader(lines(), delimiter=self.delimiter)
        last = 0
        for row in reader:
            n = reader.line_num
            yield n, row, any(k in broken for k in range(last + 1, n + 1))
            last = n

    def _header(self, path: Path) -> list[str]:
        first = next(self._rows(path), None)
        header = [h.strip() for h in first[1]] if first is not None else []
        if "id" not in header or "audio" not in header:
            raise OptionError(f"{path}: a {self.label} manifest starts with a header row naming at least id and audio")
        return header

    def check(self, path: Path) -> None:
        super().check(path)
        self._header(path)

    def _records(self, path: Path) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
        rows = self._rows(path)
        header = self._header(path)
        next(rows)  # the header row
        for n, row, broken in rows:
            if not any(cell.strip() for cell in row):
                continue
            if broken:
                yield n, BadLine(place_id(f"line-{n}"), n, "not UTF-8 text")
            elif len(row) > len(header):
                yield n, BadLine(place_id(f"line-{n}"), n, f"{len(row)} columns but the header has {len(header)}")
            else:
                yield n, {k: v for k, v in zip(header, row) if v != ""}

    def entries(self, path: Path) -> Iterator[Entry]:
        for n, record in self._records(path):
            item = record if isinstance(record, BadLine) else parse_record(record, n, path.parent)
            yield place_id(f"line-{n}"), n, item

    def read_timed(self, path: Path) -> Iterator[TimedUtterance]:
        if "words" not in self._header(path):
            raise OptionError(f"{path}: an alignment {self.label} manifest needs a words column "
                              '(JSON: [{"word": ..., "start": s, "end": s}, ...])')
        for n, record in self._records(path):
            where = f"{path}:{n}"
            if isinstance(record, BadLine):
                raise OptionError(f"{where}: {record.reason}")
            try:
                words = json.loads(record["words"])
            except (KeyError, json.JSONDecodeError) as e:
                raise OptionError(f"{where}: the words cell must hold a JSON list of words with times ({e})") from None
            yield parse_timed(record, words, n, path.parent, where)


@corpus_format("tsv")
class Tsv(_Delimited):
    description = "TSV manifest (.tsv) with a header row: id, audio, [reference, language, task, start, end, words]"
    suffixes = (".tsv",)
    delimiter = "\t"
    label = "TSV"
    timed = True


@corpus_format("csv")
class Csv(_Delimited):
    description = "CSV manifest (.csv) with a header row: id, audio, [reference, language, task, start, end, words]"
    suffixes = (".csv",)
    delimiter = ","
    label = "CSV"
    timed = True
