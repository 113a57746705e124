"""Reader for CTranslate2's ``model.bin`` (format version 6), little-endian.

Layout: u32 version; u16-length-prefixed spec name; u32 revision; u32 variable count; per
variable: u16-length-prefixed NUL-terminated name, u8 rank, rank x u32 dims, u8 dtype code, u32
byte count, raw bytes; then u32 alias count and (alias, target) string pairs. A model may be split
into ``model.bin.part1``, ``model.bin.part2``, ... which are concatenated in numeric order.
Only reading is needed here; the writer used to build tiny CT2 models for round-trip checks lives
in the tests (``tests/ct2_writer.py``).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError

# CTranslate2 dtype codes -> numpy dtypes. bfloat16 has no numpy dtype: read as uint16 bits.
DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),
}
BFLOAT16 = 5
SUPPORTED_VERSIONS = (5, 6)


@dataclass
class CT2Model:
    """Parsed contents of a ``model.bin``: named arrays and aliases (alias -> target name)."""

    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    dtypes: dict[str, int]
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        """The array named ``name`` (following aliases), upcast to float32 when floating."""
        name = self.aliases.get(name, name)
        if name not in self.variables:
            raise ModelError(f"model.bin has no variable {name!r}; is this a Whisper model?")
        arr, code = self.variables[name], self.dtypes[name]
        if code == BFLOAT16:
            return (arr.astype(np.uint32) << 16).view(np.float32)
        if code == 1:
            raise ModelError(
                "int8-quantized CTranslate2 models are not supported; "
                "convert the model again with --quantization float16 or float32"
            )
        return arr.astype(np.float32) if arr.dtype.kind == "f" else arr

    def __contains__(self, name: str) -> bool:
        return self.aliases.get(name, name) in self.variables


def model_bin_parts(folder: Path) -> list[Path]:
    """``model.bin`` or its ``model.bin.partN`` pieces (in numeric order) inside ``folder``."""
    single = folder / "model.bin"
    if single.is_file():
        return [single]
    parts = [p for p in folder.glob("model.bin.part*") if re.fullmatch(r"model\.bin\.part\d+", p.name)]
    return sorted(parts, key=lambda p: int(p.name.rsplit("part", 1)[1]))


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.pos, self.source = memoryview(data), 0, source

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ModelError(
                f"{self.source} is truncated ({len(self.data)} bytes, needed more at byte "
                f"{self.pos}); reinstall or re-download the model"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def string(self) -> str:
        (n,) = self.unpack("H")
        return bytes(self.take(n)).rstrip(b"\0").decode("utf-8")


def read_model_bin(parts: Sequence[Path]) -> CT2Model:
    """Parse a ``model.bin`` given as one file or as its ordered parts."""
    if not parts:
        raise ModelError("no model.bin found")
    source = str(parts[0]) if len(parts) == 1 else f"{parts[0]} (+{len(parts) - 1} parts)"
    try:
        data = b"".join(p.read_bytes() for p in parts)
    except OSError as e:
        raise ModelError(f"cannot read {source}: {e.strerror or e}") from e
    try:
        return _parse(_Reader(data, source), source)
    except (ValueError, UnicodeDecodeError, struct.error) as e:
        raise ModelError(f"{source} is damaged ({e}); reinstall or re-download the model") from e


def _parse(r: _Reader, source: str) -> CT2Model:
    (version,) = r.unpack("I")
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(f"{source}: unsupported CTranslate2 format version {version} (or not a model.bin)")
    spec = r.string()
    (revision,) = r.unpack("I")
    (n_vars,) = r.unpack("I")
    variables: dict[str, np.ndarray] = {}
    dtypes: dict[str, int] = {}
    for _ in range(n_vars):
        name = r.string()
        (rank,) = r.unpack("B")
        shape = r.unpack(f"{rank}I") if rank else ()
        (code,) = r.unpack("B")
        (nbytes,) = r.unpack("I")
        if code not in DTYPES:
            raise ModelError(f"{source}: variable {name!r} has unknown dtype code {code}")
        raw = r.take(nbytes)
        variables[name] = np.frombuffer(raw, dtype=DTYPES[code]).reshape(shape).copy()
        dtypes[name] = code
    aliases: dict[str, str] = {}
    if r.pos < len(r.data):
        (n_alias,) = r.unpack("I")
        for _ in range(n_alias):
            alias = r.string()
            aliases[alias] = r.string()
    return CT2Model(spec, revision, variables, dtypes, aliases)

