"""Split-half reliability against masks for each mask design and estimator, on one demo clip.

For every design the engine runs once (N masks, scores recorded); since masks are regenerated
exactly from the seed, the recorded scores are then replayed through the package's own
accumulator and every estimator, so all estimators are compared on the same masks. Printed:
reliability at each mask count (full-resolution SM_X and max-pooled to encoder frames), masks
needed for 0.8 and 0.9 (Spearman-Brown from the last measured point below the target; "*" marks an extrapolation
beyond the measured range), CPU seconds per mask, peak memory, and each estimator's agreement (Pearson r, per-token
z-scored) with the paper's estimator on its own design at N masks, also corrected for the two
maps' own unreliability (r / sqrt(rel_a * rel_b)).
With ``--reference-masks R``, R further masks (independent of the first N) give a reference map
(the paper's estimator on them); each estimator's map at every mask count is then correlated with
it and corrected for the reference's own unreliability: an accuracy curve. Split-half
reliability measures only consistency, and an estimator that smooths (biased) can be consistent
yet wrong; the accuracy curve shows that bias.

Usage: python benchmarks/saliency_convergence.py [--masks 1536] [--designs iid antithetic]
       [--estimators mean regression] [--granularities 130 215 320] [--reference-masks R]
       [--save DIR] [--load DIR]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

import s2t_explain as s2t
from s2t_explain.normalization import normalize_rows
from s2t_explain.pipeline import explain_attention, prepare
from s2t_explain.pooling import pool
from s2t_explain.saliency.accumulate import Accumulator
from s2t_explain.saliency.engine import EngineSettings, InProcess, run
from s2t_explain.saliency.estimators import ESTIMATORS, NEEDS_SCORES, NEEDS_SECOND_ORDER, occlusion_mean
from s2t_explain.saliency.explain import SaliencyJob
from s2t_explain.saliency.masks import SuperpixelMasks
from s2t_explain.saliency.options import InputSaliencyOptions, SaliencyOptions
from s2t_explain.saliency.perturb import InputPerturber
from s2t_explain.saliency.reliability import spearman_brown_masks, split_half

AUDIO = Path(s2t.__file__).parent / "data" / "audio"


def record(job: SaliencyJob, family: SuperpixelMasks, perturber: InputPerturber, n: int, batch: int) -> np.ndarray:
    scores: list[np.ndarray] = []

    def evaluate(ks: list[int]) -> np.ndarray:
        masks = np.stack([family.element_mask(k) for k in ks])
        return job._scores(perturber.logits(masks))

    run(family, InProcess(evaluate, on_batch=lambda ks, s: scores.append(s)), job.n_rows,
        EngineSettings(n, batch, check_every=10**9, progress=f"{family.design}"))
    return np.concatenate(scores)  # (n, I)


def replay(family: SuperpixelMasks, scores: np.ndarray, estimator: str, n: int) -> Accumulator:
    acc = Accumulator(family, scores.shape[1], second_order=estimator in NEEDS_SECOND_ORDER,
                      keep_scores=estimator in NEEDS_SCORES)
    acc.add(list(range(n)), scores[:n])
    return acc


def masks_for(curve: list[tuple[int, float]], target: float) -> float:
    """Masks to reach ``target``: Spearman-Brown from the last measured point below it."""
    below = [(n, r) for n, r in curve if r < target]
    if not below:
        return float(curve[0][0])  # reached at the first point already
    n, r = below[-1]
    return spearman_brown_masks(r, n, target)


def label(masks: float, curve: list[tuple[int, float]]) -> str:
    return f"{masks:.0f}" + ("" if masks <= curve[-1][0] else "*")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--masks", type=int, default=1536)
    ap.add_argument("--designs", nargs="+", default=["iid", "antithetic"])
    ap.add_argument("--estimators", nargs="+", default=["mean", "regression"])
    ap.add_argument("--granularities", type=int, nargs="+", default=[130, 215, 320])
    ap.add_argument("--p", type=float, default=0.5)
    ap.add_argument("--clip", default="en_1.wav")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--reference-masks", type=int, default=0, help="extra independent masks for an accuracy curve")
    ap.add_argument("--save", type=Path, default=None, help="folder to store recorded scores")
    ap.add_argument("--load", type=Path, default=None, help="folder with recorded scores (skips the model runs)")
    args = ap.parse_args()

    model = s2t.load_model("whisper-tiny.en")
    prepared = prepare(model, AUDIO / args.clip)
    transcript = explain_attention(model, prepared).transcript
    rows = ~transcript.special
    spectrogram = prepared.features.values[:, : prepared.features.n_frames].T.numpy()
    grid = [n for n in (96, 192, 384, 768, 1536, 3072, 6144) if n <= args.masks]
    print(f"clip={args.clip} tokens={int(rows.sum())} granularities={args.granularities} p={args.p} N={args.masks}")
    full_maps: dict[tuple[str, str], np.ndarray] = {}
    reliabilities: dict[tuple[str, str], float] = {}
    need: dict[tuple[str, str], tuple[float, float]] = {}
    for design in args.designs:
        total = args.masks + args.reference_masks
        opts = SaliencyOptions(input=InputSaliencyOptions(n_masks=total, p=args.p, design=design,
                                                          granularities=tuple(args.granularities)), encoder=None)
        job = SaliencyJob(model, prepared.features.values, prepared.features.n_frames, prepared.states,
                          transcript, opts, progress=False)
        family = SuperpixelMasks(spectrogram, opts.input.granularities, args.p, design)
        stored = args.load / f"{design}.npy" if args.load else None
        t0 = time.perf_counter()
        if stored is not None and stored.exists():
            scores = np.load(stored)[:total]
            per_mask = float("nan")
            if len(scores) < total:
                raise SystemExit(f"{stored} holds {len(scores)} masks; {total} needed")
        else:
            perturber = InputPerturber(model, prepared.features.values, prepared.features.n_frames, transcript.ids)
            scores = record(job, family, perturber, total, args.batch_size)
            per_mask = (time.perf_counter() - t0) / total
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                np.save(args.save / f"{design}.npy", scores)
        print(f"\ndesign={design} units per group={[g.n_units for g in family.groups]} "
              f"CPU s/mask={per_mask:.3f}")
        reference = None
        if args.reference_masks:
            ref_acc = Accumulator(family, scores.shape[1])
            ref_acc.add(list(range(args.masks, total)), scores[args.masks : total])
            ref_rel = split_half(occlusion_mean(ref_acc, (0,))[rows], occlusion_mean(ref_acc, (1,))[rows])
            reference = (normalize_rows(occlusion_mean(ref_acc, (0, 1))[rows]).ravel(), ref_rel)
            print(f"reference: the paper's estimator on {args.reference_masks} other masks, "
                  f"split-half reliability {ref_rel:.3f}")
        print(f"{'estimator':18s} " + " ".join(f"{n:>6d}" for n in grid) + "   (pooled)   for 0.8  for 0.9")
        for name in args.estimators:
            estimator = ESTIMATORS.get(name)
            curve, pooled = [], []
            for n in grid:
                acc = replay(family, scores, name, n)
                a, b = estimator(acc, (0,))[rows], estimator(acc, (1,))[rows]
                curve.append((n, split_half(a, b)))
                pooled.append(split_half(pool(a, 2, "max"), pool(b, 2, "max")))
            full_maps[(design, name)] = estimator(replay(family, scores, name, args.masks), (0, 1))[rows]
            reliabilities[(design, name)] = curve[-1][1]
            need[(design, name)] = (masks_for(curve, 0.8), masks_for(curve, 0.9))
            print(f"{name:18s} " + " ".join(f"{r:6.3f}" for _, r in curve) + f"   ({pooled[-1]:.3f})"
                  f"   {label(need[(design, name)][0], curve):>7s}  {label(need[(design, name)][1], curve):>7s}")
            if reference is not None:
                accuracy = []
                for n in grid:
                    values = normalize_rows(estimator(replay(family, scores, name, n), (0, 1))[rows]).ravel()
                    accuracy.append(float(np.corrcoef(values, reference[0])[0, 1]) / np.sqrt(reference[1]))
                print(f"{'  accuracy':18s} " + " ".join(f"{a:6.3f}" for a in accuracy)
                      + "   (r with the reference / sqrt(its reliability))")
    reference = ("iid", "mean") if ("iid", "mean") in full_maps else next(iter(full_maps))
    print(f"\nagreement with {reference[1]} on {reference[0]} masks at N={args.masks} (Pearson r, per-token z-scored):")
    ref = normalize_rows(full_maps[reference]).ravel()
    for key, values in full_maps.items():
        r = float(np.corrcoef(ref, normalize_rows(values).ravel())[0, 1])
        ceiling = np.sqrt(max(reliabilities[key], 1e-9) * max(reliabilities[reference], 1e-9))
        print(f"  {key[0]:11s} {key[1]:11s} r = {r:.3f}   corrected for unreliability: {min(r / ceiling, 1.0):.3f}")
    print("masks needed (Spearman-Brown from the last point below the target; * = beyond the measured range),"
          f" as a ratio to {reference[1]} on {reference[0]}:")
    for key, (n8, n9) in need.items():
        ratio8, ratio9 = need[reference][0] / n8, need[reference][1] / n9
        print(f"  {key[0]:11s} {key[1]:18s} 0.8: {ratio8:5.2f}x   0.9: {ratio9:5.2f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
