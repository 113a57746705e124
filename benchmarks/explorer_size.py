"""Size of the explorer page: a 3-s clip and a 30-s utterance with about 100 tokens.

The 30-s utterance is the bundled evaluation clips joined with short pauses up to about 29 s (one
Whisper window), explained by a bundled model with a small mask budget (the page's size does not
depend on the number of masks). Prints each page's size and what it is made of (maps, audio, the
script and styles), the maps' shapes as drawn, and the time to build the page.

Usage: python benchmarks/explorer_size.py [--model whisper-tiny.en] [--masks 64] [--encoder-masks 128]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np

import s2t_explain as s2t
from s2t_explain.audio import load_audio
from s2t_explain.explorer import utterance_page
from s2t_explain.saliency.options import COARSE_GRANULARITIES

DATA = Path(s2t.__file__).parent / "data"


def long_clip(seconds: float = 29.0) -> np.ndarray:
    parts, total = [], 0
    pause = np.zeros(int(0.25 * 16_000), dtype=np.float32)
    for path in sorted((DATA / "eval" / "audio").glob("en_*.flac")):
        clip = load_audio(path)
        if (total + len(clip) + len(pause)) / 16_000 > seconds:
            break
        parts += [clip, pause]
        total += len(clip) + len(pause)
    return np.concatenate(parts)


def report(label: str, result: s2t.Explanation, audio, folder: Path) -> None:
    t0 = time.perf_counter()
    page = utterance_page(result, folder / f"{label}.html", audio=audio)
    seconds = time.perf_counter() - t0
    text = page.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="data">(.*?)</script>', text, re.S).group(1))
    maps = {k: len(v["data"]) for k, v in data["maps"].items()}
    audio_kb = len(data["audio"] or "") / 1024
    shapes = {k: "x".join(map(str, v["shape"])) for k, v in data["maps"].items()}
    shape = f"L x H = {data['layers']} x {data['heads']}"
    print(f"{label}: {result.duration:.1f} s, {len(data['tokens'])} tokens, {shape}: "
          f"page {len(text) / 1024:.0f} KB (maps {sum(maps.values()) / 1024:.0f} KB, audio {audio_kb:.0f} KB, "
          f"script, styles and the rest {(len(text) - sum(maps.values()) - audio_kb * 1024) / 1024:.0f} KB), "
          f"built in {seconds:.2f} s")
    print("   maps as drawn: " + ", ".join(f"{k} {shapes[k]} ({maps[k] / 1024:.0f} KB)" for k in maps))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--masks", type=int, default=64)
    ap.add_argument("--encoder-masks", type=int, default=128)
    args = ap.parse_args()
    model = s2t.load_model(args.model)
    saliency = s2t.SaliencyOptions(
        input=s2t.InputSaliencyOptions(n_masks=args.masks, granularities=COARSE_GRANULARITIES),
        encoder=s2t.EncoderSaliencyOptions(n_masks=args.encoder_masks), estimator="regression")
    with tempfile.TemporaryDirectory() as out:
        short = DATA / "audio" / "en_1.wav"
        report("3-s clip", s2t.explain(model, short, saliency=saliency, progress=False), short, Path(out))
        samples = long_clip()
        result = s2t.explain(model, samples, saliency=saliency, progress=False)
        report("30-s utterance", result, samples, Path(out))


if __name__ == "__main__":
    main()
