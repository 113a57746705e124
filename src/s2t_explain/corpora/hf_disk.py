"""Hugging Face ``datasets`` folders written by ``save_to_disk``, read with pyarrow alone.

A ``Dataset`` folder holds ``state.json``, ``dataset_info.json`` and Arrow files
(``data-00000-of-0000N.arrow``, Arrow IPC streams); a ``DatasetDict`` folder holds
``dataset_dict.json`` (``{"splits": [...]}``) and one such folder per split. Options:

- ``split``: the split of a DatasetDict (default: the only one; with several, the first, and
  :meth:`HuggingFaceDisk.note` says so);
- ``audio_column``: default ``audio``, else the first column shaped like an ``Audio`` feature
  (a struct of ``bytes`` and ``path``: the embedded file, or its path when there are no bytes);
  a column of paths also works;
- ``text_column``: default the first of :data:`TEXT_COLUMNS` present (no such column: no references);
- ``id_column``: default ``id`` when present, else the row's index (``SPLIT-N`` or ``row-N``, from 0).

Rows are read record batch by record batch from memory-mapped files; the encoded audio of a row
is copied out only when its row is reached and decoded only by :meth:`Utterance.load`. The
``datasets`` package is not needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import OptionError
from .base import CorpusFormat, Entry, bad_id_reason, corpus_format, place_id, safe_id
from .utterance import BadLine, Utterance

TEXT_COLUMNS = ("text", "sentence", "transcription", "transcript", "normalized_text", "raw_text",
                "raw_transcription", "sentences", "reference")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise OptionError(f"cannot read {path}: {e}") from None


def _batches(file: Path) -> Iterator[Any]:
    """The record batches of one Arrow file (IPC stream, as datasets writes, or IPC file), lazily."""
    import pyarrow as pa

    try:
        with pa.memory_map(str(file)) as source:
            try:
                reader = pa.ipc.open_stream(source)
            except pa.ArrowInvalid:
                source.seek(0)
                archive = pa.ipc.open_file(source)
                for k in range(archive.num_record_batches):
                    yield archive.get_batch(k)
                return
            yield from reader
    except (OSError, pa.ArrowException) as e:
        raise OptionError(f"cannot read the Arrow file {file}: {str(e).splitlines()[0] if str(e) else e}") from None


def _schema(file: Path) -> Any:
    import pyarrow as pa

    try:
        with pa.memory_map(str(file)) as source:
            try:
                return pa.ipc.open_stream(source).schema
            except pa.ArrowInvalid:
                source.seek(0)
                return pa.ipc.open_file(source).schema
    except (OSError, pa.ArrowException) as e:
        raise OptionError(f"cannot read the Arrow file {file}: {str(e).splitlines()[0] if str(e) else e}") from None


def _audio_kind(kind: Any) -> str | None:
    """"struct" (bytes and/or path), "path" (text), "bytes" (binary), or None: not audio."""
    import pyarrow as pa

    if pa.types.is_struct(kind):
        names = {kind.field(k).name for k in range(kind.num_fields)}
        return "struct" if names & {"bytes", "path"} else None
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "path"
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return "bytes"
    return None


@corpus_format("hf-disk")
class HuggingFaceDisk(CorpusFormat):
    description = "Hugging Face datasets folder written by save_to_disk (a Dataset, or a DatasetDict's split)"
    options = ("split", "text_column", "audio_column", "id_column")

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and ((path / "dataset_dict.json").is_file() or
                                  ((path / "state.json").is_file() and (path / "dataset_info.json").is_file()))

    def _split(self, path: Path) -> tuple[Path, str | None, str | None]:
        """(the dataset's folder, its split, a note when a split was chosen for the user)."""
        wanted = self.settings.get("split")
        if (path / "dataset_dict.json").is_file():
            splits = _json(path / "dataset_dict.json").get("splits")
            if not isinstance(splits, list) or not splits or not all(isinstance(s, str) for s in splits):
                raise OptionError(f"{path / 'dataset_dict.json'} lists no splits")
            if wanted is not None:
                if wanted not in splits:
                    raise OptionError(f"{path} has no split {wanted!r}; its splits: {', '.join(splits)}")
                return path / wanted, wanted, None
            note = (None if len(splits) == 1 else
                    f"{path} has splits {', '.join(splits)}: reading {splits[0]!r} (choose one with the split option)")
            return path / splits[0], splits[0], note
        if not (path / "state.json").is_file():
            raise OptionError(f"{path} is not a Hugging Face datasets folder (save_to_disk): it has neither "
                              "dataset_dict.json nor state.json")
        split = _json(path / "state.json").get("_split")
        if wanted is not None and wanted != split:
            raise OptionError(f"{path} holds one dataset, not a DatasetDict with splits; drop the split option")
        return path, split if isinstance(split, str) else None, None

    def _files(self, folder: Path) -> list[Path]:
        state = _json(folder / "state.json") if (folder / "state.json").is_file() else {}
        listed = state.get("_data_files") if isinstance(state, dict) else None
        if isinstance(listed, list) and listed:
            files = [folder / str(f.get("filename")) for f in listed if isinstance(f, dict)]
        else:
            files = sorted(folder.glob("*.arrow"))
        missing = [f for f in files if not f.is_file()]
        if not files or missing:
            raise OptionError(f"{folder} has no Arrow data file{f' ({missing[0].name} is missing)' if missing else ''}")
        return files

    def _columns(self, folder: Path, files: list[Path]) -> tuple[str, str, str | None, str | None]:
        """(audio column, its kind, text column or None, id column or None), checked against the schema."""
        schema = _schema(files[0])
        names = list(schema.names)

        def named(option: str) -> str | None:
            column = self.settings.get(option)
            if column is not None and column not in names:
                raise OptionError(f"{folder} has no column {column!r} ({option}); its columns: {', '.join(names)}")
            return column

        audio = named("audio_column")
        if audio is None:
            audio = "audio" if "audio" in names else next(
                (n for n in names if _audio_kind(schema.field(n).type) == "struct"), None)
            if audio is None:
                raise OptionError(f"{folder} has no audio column (a struct of bytes and path, as the Audio feature "
                                  f"stores); its columns: {', '.join(names)}; name one with the audio_column option")
        kind = _audio_kind(schema.field(audio).type)
        if kind is None:
            raise OptionError(f"column {audio!r} of {folder} holds {schema.field(audio).type}, not audio "
                              "(a struct of bytes and path, a path, or bytes)")
        text = named("text_column") or next((n for n in TEXT_COLUMNS if n in names), None)
        uid = named("id_column") or ("id" if "id" in names else None)
        return audio, kind, text, uid

    def check(self, path: Path) -> None:
        folder, _, _ = self._split(path)
        self._columns(folder, self._files(folder))

    def note(self, path: Path) -> str | None:
        folder, _, note = self._split(path)
        _, _, text, _ = self._columns(folder, self._files(folder))
        if text is None:
            missing = (f"{folder} has no text column ({', '.join(TEXT_COLUMNS)}): utterances have no reference; "
                       "name one with the text_column option")
            note = f"{note}; {missing}" if note else missing
        return note

    def entries(self, path: Path) -> Iterator[Entry]:
        folder, split, _ = self._split(path)
        files = self._files(folder)
        audio_column, kind, text_column, id_column = self._columns(folder, files)
        row = 0
        for file in files:
            for batch in _batches(file):
                names = batch.schema.names
                audio = batch.column(names.index(audio_column))
                texts = batch.column(names.index(text_column)).to_pylist() if text_column else None
                ids = batch.column(names.index(id_column)).to_pylist() if id_column else None
                valid = audio.is_valid().to_pylist()
                fields = {audio.type.field(k).name for k in range(audio.type.num_fields)} if kind == "struct" else set()
                blobs = audio.field("bytes") if "bytes" in fields else (audio if kind == "bytes" else None)
                paths = audio.field("path") if "path" in fields else (audio if kind == "path" else None)
                for r in range(batch.num_rows):
                    position = f"{split}-{row}" if split and safe_id(f"{split}-{row}") else f"row-{row}"
                    yield place_id(position), row + 1, self._row(folder, position, row, ids[r] if ids else None,
                                                       texts[r] if texts else None, valid[r],
                                                       blobs[r].as_py() if blobs is not None and valid[r] else None,
                                                       paths[r].as_py() if paths is not None and valid[r] else None)
                    row += 1

    @staticmethod
    def _row(folder: Path, position: str, row: int, uid: object, text: object, valid: bool, blob: bytes | None,
             name: str | None) -> Utterance | BadLine:
        ident = position if uid is None else safe_id(uid)
        if ident is None:
            return BadLine(place_id(position), row + 1, f"row {row}: {bad_id_reason(uid)}")
        if not valid or (blob is None and not name):
            return BadLine(ident, row + 1, f"row {row} has no audio (neither bytes nor a path)")
        reference = None if text is None else str(text).strip() or None
        if blob is not None:
            return Utterance(ident, Path(name or ident), reference, data=blob)
        path = Path(str(name))
        return Utterance(ident, path if path.is_absolute() else folder / path, reference)
