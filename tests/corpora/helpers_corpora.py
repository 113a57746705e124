"""Shared bits of the corpus tests: the committed examples and small corpora written on the fly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

import s2t_explain
from s2t_explain.audio import load_audio

DATA = Path(s2t_explain.__file__).parent / "data"
EXAMPLES = DATA / "corpora"


def clip(kind: str, clip_id: str) -> np.ndarray:
    """A bundled clip (kind: "eval" or "align") as the loader returns it."""
    return load_audio(DATA / kind / "audio" / f"{clip_id}.flac")


def align_words(clip_id: str) -> list[tuple[str, float, float]]:
    for line in (DATA / "align" / "en.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["id"] == clip_id:
            return [(w["word"], w["start"], w["end"]) for w in record["words"]]
    raise KeyError(clip_id)


def ramp(seconds: float, rate: int = 16_000) -> np.ndarray:
    """A signal whose every sample tells where it is (so a segment read is checked exactly)."""
    n = int(round(seconds * rate))
    return (0.1 + 0.8 * np.arange(n) / n).astype(np.float32) * np.where(np.arange(n) % 2, 1, -1).astype(np.float32)


def write_audio(path: Path, audio: np.ndarray, rate: int = 16_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate, subtype="PCM_16" if path.suffix == ".flac" else "FLOAT")
    return path


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
