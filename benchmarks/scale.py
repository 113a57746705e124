"""Scaling, measured side by side in one run (ratios, not absolute seconds).

1. Study throughput: utterances per minute of ``run_study`` on the bundled English evaluation set,
   in this process vs over ``--workers`` local worker processes (the same utterances, masks and
   options; each worker holds one model copy and gets cpu_count / workers torch threads).
2. One utterance split: SM_X masks per second for one clip in this process vs its mask budget
   split over ``--workers`` processes, and the largest difference between the two maps (they must
   be equal within float rounding).
3. ``--sweep`` (for a GPU: ``--device cuda``): masks/s of SM_X and SM_H for each ``--dtypes`` x
   ``--batches``, with each map's Pearson r against the float32 map of the same masks.
4. ``--passes``: for one clip on ``--device``, masks/s with scores summed on the host vs on the
   model's device (``accumulate``), and eager vs ``torch.compile``d perturbation passes (``compile``:
   the first compiled run includes compiling, the second shows the steady state), with the break-even
   mask count and each map's Pearson r against the eager, host-accumulated map.

Usage: python benchmarks/scale.py [--model whisper-tiny.en] [--utterances 4] [--masks 64]
       [--encoder-masks 128] [--workers 2] [--split-masks 256] [--sweep --device cuda
       --dtypes float32 bfloat16 float16 --batches 8 32 128] [--passes --device cuda --batches 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

import s2t_explain as s2t
from s2t_explain.executors import ProcessExecutor
from s2t_explain.saliency.options import COARSE_GRANULARITIES, EncoderSaliencyOptions, InputSaliencyOptions
from s2t_explain.study import StudyOptions, run_study

DATA = Path(s2t.__file__).parent / "data"


def study_throughput(model: s2t.SpeechToTextModel, args: argparse.Namespace) -> None:
    options = StudyOptions(saliency=s2t.SaliencyOptions(
        input=InputSaliencyOptions(n_masks=args.masks, granularities=COARSE_GRANULARITIES),
        encoder=EncoderSaliencyOptions(n_masks=args.encoder_masks), estimator="regression"),
        faithfulness="logprob", curve_step=10)
    rates = {}
    for label, executor in (("1 process", None), (f"{args.workers} workers", ProcessExecutor(args.workers))):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            summary = run_study(model, DATA / "eval" / "en.jsonl", out, options, limit=args.utterances,
                                progress=False, executor=executor)
            seconds = time.perf_counter() - t0
        assert summary.computed == args.utterances and summary.failed == 0
        rates[label] = 60 * summary.computed / seconds
        print(f"study, {label:>10}: {summary.computed} utterances in {seconds:6.1f} s = {rates[label]:.2f} utt/min")
    one, many = rates.values()
    print(f"study speed-up with {args.workers} workers: {many / one:.2f}x")


def split_utterance(model: s2t.SpeechToTextModel, args: argparse.Namespace) -> None:
    saliency = s2t.SaliencyOptions(input=InputSaliencyOptions(n_masks=args.split_masks,
                                                              granularities=COARSE_GRANULARITIES),
                                   encoder=None, estimator="regression")
    prepared = s2t.prepare(model, DATA / "audio" / "en_1.wav")
    maps, rates = [], []
    for label, executor in (("1 process", None), (f"{args.workers} workers", ProcessExecutor(args.workers))):
        t0 = time.perf_counter()
        result = s2t.explain(model, prepared, saliency=saliency, progress=False, executor=executor)
        seconds = time.perf_counter() - t0
        maps.append(result["spes-input"].values)
        rates.append(args.split_masks / seconds)
        note = "" if executor is None else " (starting the workers included)"
        print(f"one utterance, {label:>10}: {args.split_masks} SM_X masks in {seconds:6.1f} s = "
              f"{rates[-1]:.1f} masks/s{note}")
    diff = float(np.max(np.abs(maps[0] - maps[1])) / np.max(np.abs(maps[0])))
    print(f"split speed-up with {args.workers} workers: {rates[1] / rates[0]:.2f}x; "
          f"largest map difference {diff:.1e} of the map's range")


def sweep(args: argparse.Namespace) -> None:
    reference: dict[str, np.ndarray] = {}
    for dtype in args.dtypes:
        model = s2t.load_model(args.model, device=args.device, dtype=dtype)
        prepared = s2t.prepare(model, DATA / "audio" / "en_1.wav")
        for batch in args.batches:
            saliency = s2t.SaliencyOptions(
                input=InputSaliencyOptions(n_masks=args.split_masks, granularities=COARSE_GRANULARITIES),
                encoder=EncoderSaliencyOptions(n_masks=4 * args.split_masks), batch_size=batch, estimator="regression")
            result = s2t.explain(model, prepared, saliency=saliency, progress=False)
            line = [f"{dtype:>8} batch {batch:4d}:"]
            for which in ("input", "encoder"):
                values, run = result[f"spes-{which}"].values, result[f"spes-{which}"].reliability
                key = f"{which}-{batch}"
                reference.setdefault(key, values)
                r = float(np.corrcoef(reference[key].ravel(), values.ravel())[0, 1])
                line.append(f"{which} {run['masks_per_second']:8.1f} masks/s (r vs float32 {r:.4f})")
            print("  ".join(line))


def passes(args: argparse.Namespace) -> None:
    model = s2t.load_model(args.model, device=args.device)
    prepared = s2t.prepare(model, DATA / "audio" / "en_1.wav")
    base = s2t.SaliencyOptions(
        input=InputSaliencyOptions(n_masks=args.split_masks, granularities=COARSE_GRANULARITIES),
        encoder=EncoderSaliencyOptions(n_masks=4 * args.split_masks), batch_size=args.batches[0],
        estimator="regression", accumulate="host")
    runs = [("eager, host sums", base), ("eager, device sums", replace(base, accumulate="device")),
            ("compiled, 1st run", replace(base, compile=True)), ("compiled, 2nd run", replace(base, compile=True))]
    reference, seconds = None, {}
    for label, saliency in runs:
        t0 = time.perf_counter()
        result = s2t.explain(model, prepared, saliency=saliency, progress=False)
        seconds[label] = time.perf_counter() - t0
        reference = reference or result
        line = [f"{label:>18}: {seconds[label]:6.1f} s"]
        for which in ("input", "encoder"):
            values, rate = result[f"spes-{which}"].values, result[f"spes-{which}"].reliability["masks_per_second"]
            r = float(np.corrcoef(reference[f"spes-{which}"].values.ravel(), values.ravel())[0, 1])
            line.append(f"{which} {rate:7.1f} masks/s (r {r:.6f})")
        print("  ".join(line))
    eager, device = seconds["eager, host sums"], seconds["eager, device sums"]
    first, steady = seconds["compiled, 1st run"], seconds["compiled, 2nd run"]
    print(f"device sums / host sums: {eager / device:.2f}x the speed")
    print(f"compiled / eager: {eager / steady:.2f}x the speed once compiled; compiling costs {first - steady:.0f} s")
    if steady < eager:
        per_mask = (eager - steady) / (5 * args.split_masks)  # SM_X + SM_H masks of one run
        print(f"compiling pays after about {(first - steady) / per_mask:.0f} masks of this clip")
    else:
        print("compiling does not pay here")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--utterances", type=int, default=4)
    ap.add_argument("--masks", type=int, default=64)
    ap.add_argument("--encoder-masks", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--split-masks", type=int, default=256)
    ap.add_argument("--sweep", action="store_true", help="masks/s over dtypes and batch sizes instead")
    ap.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16", "float16"])
    ap.add_argument("--batches", nargs="+", type=int, default=[8, 32, 128])
    ap.add_argument("--passes", action="store_true", help="host vs device sums, eager vs compiled, instead")
    args = ap.parse_args()
    if args.sweep:
        sweep(args)
        return
    if args.passes:
        passes(args)
        return
    model = s2t.load_model(args.model, device=args.device)
    split_utterance(model, args)
    study_throughput(model, args)


if __name__ == "__main__":  # worker processes (spawn) import this module again
    main()
