"""Record every mask and score of an input-saliency run, for offline estimator studies.

Saves an .npz with, per group g: ``units_g`` (n_g, U_g) bool occlusions, ``scores_g`` (n_g, I),
``index_g`` (n_g,) mask indices, ``labels_g`` (T, F); plus ``rows`` (I,) text-token flags.
Usage: python benchmarks/record_masks.py OUT.npz [--masks 1500] [--design iid] [--p 0.5]
       [--granularities 130 215 320] [--clip en_1.wav]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import s2t_explain as s2t
from s2t_explain.pipeline import explain_attention, prepare
from s2t_explain.saliency.engine import EngineSettings, run
from s2t_explain.saliency.explain import SaliencyJob
from s2t_explain.saliency.masks import SuperpixelMasks
from s2t_explain.saliency.options import InputSaliencyOptions, SaliencyOptions
from s2t_explain.saliency.perturb import InputPerturber

AUDIO = Path(s2t.__file__).parent / "data" / "audio"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--masks", type=int, default=1500)
    ap.add_argument("--design", default="iid")
    ap.add_argument("--p", type=float, default=0.5)
    ap.add_argument("--granularities", type=int, nargs="+", default=[130, 215, 320])
    ap.add_argument("--clip", default="en_1.wav")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    model = s2t.load_model("whisper-tiny.en")
    prepared = prepare(model, AUDIO / args.clip)
    result = explain_attention(model, prepared)
    opts = SaliencyOptions(input=InputSaliencyOptions(n_masks=args.masks, p=args.p, design=args.design,
                                                      granularities=tuple(args.granularities)),
                           encoder=None, batch_size=args.batch_size, seed=args.seed)
    job = SaliencyJob(model, prepared.features.values, prepared.features.n_frames, prepared.states,
                      result.transcript, opts)
    o = opts.input
    spectrogram = prepared.features.values[:, : prepared.features.n_frames].T.numpy()
    family = SuperpixelMasks(spectrogram, o.granularities, o.p, o.design, args.seed, o.compactness, o.sigma)
    perturber = InputPerturber(model, prepared.features.values, prepared.features.n_frames, result.transcript.ids)
    records: dict[int, list] = {g: [] for g in range(len(family.groups))}

    def evaluate(ks: list[int]) -> np.ndarray:
        masks = np.stack([family.element_mask(k) for k in ks])
        return job._scores(perturber.logits(masks))

    def keep(ks: list[int], scores: np.ndarray) -> None:
        for k, sc in zip(ks, scores):
            records[family.group_of(k)].append((k, family.unit_mask(k).copy(), sc))

    t0 = time.perf_counter()
    run(family, evaluate, job.n_rows, EngineSettings(args.masks, args.batch_size, progress="recording"),
        job.rows, on_batch=keep)
    arrays = {"rows": job.rows, "seconds": np.array(time.perf_counter() - t0)}
    for g, group in enumerate(family.groups):
        arrays[f"labels_{g}"] = group.labels
        arrays[f"index_{g}"] = np.array([r[0] for r in records[g]])
        arrays[f"units_{g}"] = np.stack([r[1] for r in records[g]])
        arrays[f"scores_{g}"] = np.stack([r[2] for r in records[g]])
    np.savez_compressed(args.out, **arrays)
    print(f"{args.out}: {args.masks} masks, groups {[g.n_units for g in family.groups]}, "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
