"""Peak memory of long recordings: bounded by one window, not by the file's length.

Each length runs in a fresh process: a recording of N minutes made by repeating the bundled
alignment clips with pauses (written block by block, never held whole), then ``run_long`` on it
(whisper-tiny.en, cross-attention timing, vad windows), once keeping only the words and once
writing one result per window (``out=``). The peak is the run's own: the process's resident-set
high-water mark (Linux ``VmHWM``) is reset after the model has loaded (``/proc/self/clear_refs``).
Printed: that peak, its ratio to the shortest run's, the size after loading the model, seconds per
minute of audio, and the audio's own size as float32 at 16 kHz for scale. Bounded memory means
ratios near 1 however long the file; holding the audio or the windows' results would grow with it.

Usage: python benchmarks/longform_memory.py [--minutes 1 10 60] [--model whisper-tiny.en] [--keep words|windows|both]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
import s2t_explain as s2t
from s2t_explain.longform import run_long

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB -> MB

path, model_name, out = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
model = s2t.load_model(model_name)
base = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current size: what follows is the run's own peak
t0 = time.perf_counter()
long = run_long(model, path, out=out, progress=False)
print(json.dumps({"peak_mb": status("VmHWM"), "model_mb": base, "seconds": time.perf_counter() - t0,
                  "windows": len(long.windows), "words": len(long.words["attention"]),
                  "failures": len(long.failures)}))
"""


def make_recording(path: Path, minutes: float, seed: int = 0) -> None:
    """Bundled alignment clips in a shuffled cycle with 0.3-2 s pauses (every 9th: 6 s), written block by block."""
    import soundfile as sf

    import s2t_explain
    from s2t_explain.study.manifest import read_alignment_manifest

    items = read_alignment_manifest(Path(s2t_explain.__file__).parent / "data" / "align" / "en.jsonl")
    clips = [sf.read(item.audio, dtype="float32")[0] for item in items]
    rng = np.random.default_rng(seed)
    total, k = int(minutes * 60 * 16_000), 0
    with sf.SoundFile(str(path), "w", 16_000, 1, format="FLAC") as f:
        written = 0
        while written < total:
            pause = 6.0 if k % 9 == 8 else rng.uniform(0.3, 2.0)
            block = np.concatenate([clips[rng.integers(len(clips))], np.zeros(int(pause * 16_000), np.float32)])
            block = block[: total - written]
            f.write(block)
            written += block.size
            k += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--model", default="whisper-tiny.en")
    parser.add_argument("--keep", choices=["words", "windows", "both"], default="both",
                        help="words only, one result written per window, or both runs (default)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in sorted(args.minutes):
            path = Path(tmp) / f"long_{minutes:g}min.flac"
            make_recording(path, minutes)
            for keep in {"words": (False,), "windows": (True,), "both": (False, True)}[args.keep]:
                extra = [str(Path(tmp) / f"out_{minutes:g}")] if keep else []
                done = subprocess.run([sys.executable, "-c", CHILD, str(path), args.model, *extra],
                                      capture_output=True, text=True, check=True)
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append({"minutes": minutes, "results": "written per window" if keep else "words only", **row})
                print(f"{minutes:g} min, {rows[-1]['results']}: peak {row['peak_mb']:.0f} MB "
                      f"(model loaded: {row['model_mb']:.0f} MB), {row['windows']} windows, {row['seconds']:.0f} s",
                      file=sys.stderr)
    print("| audio | results | windows | words | peak RSS | x shortest | after loading the model | "
          "seconds per audio minute | audio as float32 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        first = next(r for r in rows if r["results"] == row["results"])
        print(f"| {row['minutes']:g} min | {row['results']} | {row['windows']} | {row['words']} | "
              f"{row['peak_mb']:.0f} MB | {row['peak_mb'] / first['peak_mb']:.2f} | {row['model_mb']:.0f} MB | "
              f"{row['seconds'] / row['minutes']:.1f} | {row['minutes'] * 60 * 16_000 * 4 / 2**20:.0f} MB |")


if __name__ == "__main__":
    main()
