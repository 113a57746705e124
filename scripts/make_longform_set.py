"""Build long recordings with exact word times from the bundled alignment clips (long-form benchmark).

Each recording is the English clips of ``src/s2t_explain/data/align/en.jsonl`` cut to their
words (from the first word's first sample to the last word's last sample), repeated in shuffled
order (every clip once per round, a fresh shuffle each round, never the same clip twice in a
row) and joined with pauses of known length: a 0.5 s leading pause, pauses drawn uniformly from
``SHORT_PAUSE_S`` (0.3-2 s) between clips, ``long_pauses(duration)`` of them (one per
``LONG_PAUSE_EVERY_S`` of audio, at least ``MIN_LONG_PAUSES``) replaced by pauses drawn from
``LONG_PAUSE_S`` (5-12 s) at random gaps, and a 0.5 s trailing pause. Clips are added until the
recording reaches the asked length, so it is at most one clip and one pause longer.

Every length is a multiple of 8 samples (0.5 ms at 16 kHz), so the 4 decimals of the manifest
hold every word's start and end exactly. Pauses are digital silence unless ``noise_db`` is given
(white noise of that RMS in dBFS over the whole recording: the words' times do not change).
Everything comes from ``numpy.random.default_rng(seed + minutes-of-the-file)``: the same seed
gives the same files.

Writes ``OUT/long_02min.flac`` (16 kHz mono, 16-bit) etc., ``OUT/longform.jsonl`` (the alignment
manifest format: id, audio relative to the manifest, reference = the clips' sentences joined,
language, task, words with absolute start and end in seconds) and ``OUT/layout.json`` (per file:
duration, clip order, offsets and every pause, for reading errors near long pauses).

Usage: python scripts/make_longform_set.py [--out runs/longform-set] [--durations 2 5 10] [--seed 13]
       [--noise-db -60]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from s2t_explain.study.manifest import TimedUtterance, read_alignment_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
CLIPS = REPO_ROOT / "src" / "s2t_explain" / "data" / "align" / "en.jsonl"
DEFAULT_OUT = Path("runs") / "longform-set"
DEFAULT_MINUTES = (2.0, 5.0, 10.0)
DEFAULT_SEED = 13
RATE = 16_000
GRID = 8  # samples: every length a multiple of 0.5 ms
EDGE_PAUSE_S = 0.5  # before the first and after the last clip
SHORT_PAUSE_S = (0.3, 2.0)  # uniform range of an ordinary pause between clips
LONG_PAUSE_S = (5.0, 12.0)  # uniform range of a long pause
LONG_PAUSE_EVERY_S = 60.0  # one long pause per this much audio ...
MIN_LONG_PAUSES = 2  # ... and at least this many per file
DECIMALS = 4
MANIFEST = "longform.jsonl"
LAYOUT = "layout.json"


@dataclass
class Recording:
    """One built recording: its samples and where every clip and word lies in it."""

    id: str
    audio: np.ndarray  # float32 (samples,)
    reference: str
    words: list[tuple[str, float, float]]  # absolute (word, start s, end s)
    clips: list[dict[str, Any]] = field(default_factory=list)  # {"clip", "start", "end"} in seconds
    pauses: list[float] = field(default_factory=list)  # seconds, between consecutive clips (len(clips) - 1)

    @property
    def duration(self) -> float:
        return self.audio.size / RATE


def _grid(seconds: float) -> int:
    """Seconds as a whole number of samples, rounded to the 8-sample grid."""
    return int(round(seconds * RATE / GRID)) * GRID


def long_pauses(duration_s: float) -> int:
    """How many long pauses a recording of this length gets."""
    return max(MIN_LONG_PAUSES, int(round(duration_s / LONG_PAUSE_EVERY_S)))


def _cut(clip: TimedUtterance) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
    """The clip from its first word's start to its last word's end, and word (start, end) samples in it."""
    audio, rate = sf.read(str(clip.audio), dtype="float32")
    if rate != RATE or audio.ndim != 1:
        raise ValueError(f"{clip.audio}: expected 16 kHz mono, got {rate} Hz with shape {audio.shape}")
    first = int(round(clip.words[0][1] * RATE))
    last = int(round(clip.words[-1][2] * RATE))
    words = [(w, int(round(s * RATE)) - first, int(round(e * RATE)) - first) for w, s, e in clip.words]
    return audio[first:last], words


def _order(n_clips: int, rounds: int, rng: np.random.Generator) -> list[int]:
    """Clip indices: ``rounds`` shuffles of all clips, no clip twice in a row across rounds."""
    order: list[int] = []
    for _ in range(rounds):
        perm = [int(i) for i in rng.permutation(n_clips)]
        if order and n_clips > 1 and perm[0] == order[-1]:
            perm[0], perm[1] = perm[1], perm[0]
        order.extend(perm)
    return order


def build_recording(minutes: float, seed: int = DEFAULT_SEED, clips_manifest: Path = CLIPS,
                    noise_db: float | None = None) -> Recording:
    """A recording of at least ``minutes`` minutes (see the module docstring); deterministic in ``seed``."""
    if minutes <= 0:
        raise ValueError(f"duration must be positive, got {minutes} minutes")
    target = _grid(60.0 * minutes)
    rng = np.random.default_rng(seed + int(round(minutes * 1000)))
    clips = read_alignment_manifest(clips_manifest)
    cut = [_cut(c) for c in clips]
    mean_clip = float(np.mean([a.size for a, _ in cut]))
    rounds = int(target / (mean_clip + _grid(SHORT_PAUSE_S[0]))) // len(clips) + 2  # more than enough
    order = _order(len(clips), rounds, rng)
    n_long = long_pauses(target / RATE)
    long_lengths = [_grid(float(rng.uniform(*LONG_PAUSE_S))) for _ in range(n_long)]
    # clips and short pauses, then long pauses replace short ones at random gaps (lengths drawn
    # above, in order of position), and more clips while the total is short of the target
    edge = _grid(EDGE_PAUSE_S)
    used: list[int] = [order[0]]
    pauses: list[int] = []
    while len(pauses) < n_long or (2 * edge + sum(cut[k][0].size for k in used) + sum(pauses)
                                   + sum(long_lengths) < target):
        pauses.append(_grid(float(rng.uniform(*SHORT_PAUSE_S))))
        used.append(order[len(used)])
    gaps = sorted(int(g) for g in rng.choice(len(pauses), size=n_long, replace=False))
    for g, length in zip(gaps, long_lengths):
        pauses[g] = length
    while 2 * edge + sum(cut[k][0].size for k in used) + sum(pauses) < target:
        pauses.append(_grid(float(rng.uniform(*SHORT_PAUSE_S))))
        used.append(order[len(used)])
    pieces: list[np.ndarray] = [np.zeros(edge, np.float32)]
    offset = edge
    words: list[tuple[str, float, float]] = []
    layout: list[dict[str, Any]] = []
    for n, k in enumerate(used):
        if n:
            pieces.append(np.zeros(pauses[n - 1], np.float32))
            offset += pauses[n - 1]
        audio, clip_words = cut[k]
        pieces.append(audio)
        words.extend((w, round((offset + s) / RATE, DECIMALS), round((offset + e) / RATE, DECIMALS))
                     for w, s, e in clip_words)
        layout.append({"clip": clips[k].id, "start": round(offset / RATE, DECIMALS),
                       "end": round((offset + audio.size) / RATE, DECIMALS)})
        offset += audio.size
    pieces.append(np.zeros(edge, np.float32))
    signal = np.concatenate(pieces)
    if noise_db is not None:
        noise = rng.standard_normal(signal.size).astype(np.float32) * np.float32(10 ** (noise_db / 20))
        signal = np.clip(signal + noise, -1.0, 1.0)
    reference = " ".join(str(clips[k].reference) for k in used)
    name = f"long_{int(minutes):02d}min" if float(minutes).is_integer() else f"long_{minutes:g}min".replace(".", "p")
    return Recording(name, signal, reference, words, layout, [p / RATE for p in pauses])


def make_set(out: str | Path = DEFAULT_OUT, minutes: tuple[float, ...] | list[float] = DEFAULT_MINUTES,
             seed: int = DEFAULT_SEED, noise_db: float | None = None, clips_manifest: Path = CLIPS) -> Path:
    """Write the recordings, ``longform.jsonl`` and ``layout.json`` into ``out``; returns the manifest path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    layout: dict[str, Any] = {"seed": seed, "noise_db": noise_db, "rate": RATE, "files": {}}
    for m in minutes:
        rec = build_recording(m, seed, clips_manifest, noise_db)
        audio_name = f"{rec.id}.flac"
        sf.write(str(out / audio_name), rec.audio, RATE, subtype="PCM_16")
        lines.append(json.dumps({
            "id": rec.id, "audio": audio_name, "reference": rec.reference, "language": "en", "task": "transcribe",
            "words": [{"word": w, "start": s, "end": e} for w, s, e in rec.words],
        }))
        long_gaps = [i for i, p in enumerate(rec.pauses) if p >= LONG_PAUSE_S[0]]
        layout["files"][rec.id] = {
            "duration": round(rec.duration, DECIMALS), "words": len(rec.words), "clips": rec.clips,
            "pauses": [round(p, DECIMALS) for p in rec.pauses],
            "long_pauses": [{"after_clip": i, "start": rec.clips[i]["end"], "length": round(rec.pauses[i], DECIMALS)}
                            for i in long_gaps],
        }
    manifest = out / MANIFEST
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / LAYOUT).write_text(json.dumps(layout, indent=1) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: %(default)s)")
    ap.add_argument("--durations", type=float, nargs="+", default=list(DEFAULT_MINUTES),
                    help="recording lengths in minutes (default: 2 5 10)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--noise-db", type=float, default=None,
                    help="add white noise of this RMS in dBFS (e.g. -60); default: pauses are digital silence")
    args = ap.parse_args()
    manifest = make_set(args.out, args.durations, args.seed, args.noise_db)
    layout = json.loads((manifest.parent / LAYOUT).read_text(encoding="utf-8"))
    for name, info in layout["files"].items():
        longs = ", ".join(f"{p['length']:.1f}" for p in info["long_pauses"])
        print(f"{name}: {info['duration']:.1f} s, {len(info['clips'])} clips, {info['words']} words, "
              f"long pauses (s): {longs}")
    print(f"wrote {manifest}")


if __name__ == "__main__":
    main()
