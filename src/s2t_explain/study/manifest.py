"""Dataset manifests: JSON Lines or TSV, one utterance per line.

Fields: ``id`` (unique), ``audio`` (path; relative paths are relative to the manifest's folder),
optional ``reference`` (text), ``language``, ``task`` (transcribe / translate; default: the run's).
TSV files start with a header row naming the columns. A bad line does not stop a run: it comes
back as a :class:`BadLine` with its reason, to be recorded as a failure.

Alignment manifests (``data/align/*.jsonl``, for the alignment benchmark and head discovery) are
JSON Lines with ``id``, ``audio``, ``reference``, optional ``language``, and ``words``: every
word's ``word``, ``start`` and ``end`` in seconds; a bad line there is an error (the set is small
and exact).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OptionError
from ..tasks import TASKS

FIELDS = ("id", "audio", "reference", "language", "task")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Utterance:
    id: str
    audio: Path
    reference: str | None = None
    language: str | None = None
    task: str | None = None


@dataclass(frozen=True)
class TimedUtterance(Utterance):
    """An utterance of an alignment manifest: its reference words with exact times."""

    words: list[tuple[str, float, float]] = field(default_factory=list)  # (word, start s, end s)

    @property
    def spans(self) -> list[tuple[float, float]]:
        """(start, end) of every reference word, in seconds."""
        return [(s, e) for _, s, e in self.words]


@dataclass(frozen=True)
class BadLine:
    id: str  # the line's id if it had a usable one, else "line-N"
    line: int
    reason: str


def _parse(record: object, line: int, base: Path) -> Utterance | BadLine:
    if not isinstance(record, dict):
        return BadLine(f"line-{line}", line, "not an object with id and audio fields")
    uid = record.get("id")
    ident = str(uid) if isinstance(uid, str) and _SAFE_ID.match(uid) else f"line-{line}"
    if not isinstance(uid, str) or not _SAFE_ID.match(uid):
        return BadLine(ident, line, f"bad or missing id {uid!r} (letters, digits, . _ - ; at most 128)")
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
    path = Path(audio)
    return Utterance(uid, path if path.is_absolute() else base / path, record.get("reference") or None,
                     record.get("language") or None, task)


def read_manifest(path: str | Path) -> list[Utterance | BadLine]:
    """Parse a .jsonl/.json or .tsv manifest; a later duplicate id is a bad line."""
    path = Path(path)
    if not path.is_file():
        raise OptionError(f"manifest not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise OptionError(f"cannot read manifest {path}: {e}") from None
    base = path.parent
    items: list[tuple[int, Utterance | BadLine]] = []
    if path.suffix.lower() == ".tsv":
        rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
        if not rows or "id" not in rows[0] or "audio" not in rows[0]:
            raise OptionError(f"{path}: a TSV manifest starts with a header row naming at least id and audio")
        header = [h.strip() for h in rows[0]]
        for n, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                items.append((n, BadLine(f"line-{n}", n, f"{len(row)} columns but the header has {len(header)}")))
                continue
            items.append((n, _parse({k: v for k, v in zip(header, row) if v != ""}, n, base)))
    elif path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for n, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as e:
                items.append((n, BadLine(f"line-{n}", n, f"not valid JSON ({e.msg})")))
                continue
            items.append((n, _parse(record, n, base)))
    else:
        raise OptionError(f"manifest {path} must be .jsonl or .tsv")
    seen: set[str] = set()
    out: list[Utterance | BadLine] = []
    for n, item in items:
        if isinstance(item, Utterance) and item.id in seen:
            out.append(BadLine(f"line-{n}", n, f"duplicate id {item.id!r}"))
            continue
        if isinstance(item, Utterance):
            seen.add(item.id)
        out.append(item)
    if not out:
        raise OptionError(f"manifest {path} has no utterances")
    return out


def read_alignment_manifest(path: str | Path) -> list[TimedUtterance]:
    """Parse an alignment manifest (JSON Lines with exact word times); any bad line is an error."""
    path = Path(path)
    if not path.is_file():
        raise OptionError(f"alignment manifest not found: {path}")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            words = [(str(w["word"]), float(w["start"]), float(w["end"])) for w in r["words"]]
            items.append(TimedUtterance(str(r["id"]), path.parent / r["audio"], str(r["reference"]),
                                        r.get("language"), words=words))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise OptionError(f"{path}:{n}: not an alignment line with id, audio, reference and words ({e})") from None
    if not items:
        raise OptionError(f"{path} has no utterances")
    return items
