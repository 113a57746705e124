"""Fidelity of SPES settings to the paper's map, measured against the stored reference maps.

For every reference clip (``benchmarks/reference/CLIP.npz``, made by ``reference_maps.py``) and
every setting (segmentation, estimator, mask budget) this compares the setting's maps with the
reference's, all settings side by side in one run, one table per budget:
- per-token r of SM_X at full resolution, of SM_X max-pooled to encoder frames and of SM_H
  (rows z-scored, text tokens; equal to the mean over tokens of each token's Pearson r), each
  also *disattenuated* by the reference's own split-half reliability, r / sqrt(reliability): an
  estimate of the correlation with the converged paper map;
- the bias of the study's headline figures computed from the setting's maps instead of the
  reference's: CA vs pooled SM_X, CA vs SM_H (all heads and layers, each layer: the largest
  |bias|, the best single head) and SM_X vs SM_H (with the reference's other map, so each table
  isolates its own map);
- masks, perturbed forward passes and seconds (masks x the reference recording's seconds per
  mask: bfloat16 autocast on 2 CPU cores for SM_X, float32 for SM_H; a pass costs the same
  whatever the segmentation; the recordings shared the CPU at times, so these are upper bounds).
Settings at the paper's segmentation replay the reference clip's *evaluation pool* (masks the
reference map did not use: a seed-0 run of the library with that budget uses exactly them);
other segmentations are run once per clip (seed 0, scores recorded under
``reference/work/CLIP/``, resumable) and then replayed through every estimator.
The target (issue 20): pooled SM_X disattenuated fidelity >= 0.95 and every headline bias within
0.02, in at most 25% of the masks the paper's setting needs for the same fidelity; the last
table says which settings meet it, at what budget, and what the paper's setting needs
(Spearman-Brown from the reference's own reliability).

Usage: python benchmarks/fidelity.py [--clips en_1 en_2 en_3 it_1] [--budgets 256 512 1024]
       [--encoder-budgets 256 512 1024 2048] [--settings paper fast slic500 ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_maps import CLIPS, HERE, checksum, record, reference, setup  # noqa: E402

from s2t_explain.metrics.agreement import agreement, correlate  # noqa: E402
from s2t_explain.normalization import normalize_rows  # noqa: E402
from s2t_explain.pooling import pool  # noqa: E402
from s2t_explain.saliency import accumulate  # noqa: E402
from s2t_explain.saliency.engine import new_accumulator  # noqa: E402
from s2t_explain.saliency.estimators import ESTIMATORS  # noqa: E402
from s2t_explain.saliency.options import (  # noqa: E402
    COARSE_GRANULARITIES,
    DEFAULT_PRESET,
    InputSaliencyOptions,
    preset,
)
from s2t_explain.saliency.reliability import spearman_brown_masks  # noqa: E402

PAPER_GRANULARITIES = InputSaliencyOptions().granularities
accumulate.MAX_JOINT_UNITS = 20_000  # lifted here: the joint fit at the paper's segmentation (P^2 statistics)
TARGET_FIDELITY, TARGET_BIAS, TARGET_SHARE = 0.95, 0.02, 0.25


@dataclass(frozen=True)
class Setting:
    """One way to compute SM_X: segmentation (SLIC granularities per 500 frames) and estimator."""

    name: str
    granularities: tuple[int, ...]
    estimator: str = "mean"

    @property
    def replayed(self) -> bool:  # the paper's segmentation: the reference's own evaluation pool
        return self.granularities == PAPER_GRANULARITIES

    @property
    def prefix(self) -> str:
        return "input" if self.replayed else "slic" + "-".join(map(str, self.granularities))


SETTINGS = {s.name: s for s in [
    Setting("paper", PAPER_GRANULARITIES),
    Setting("fast", COARSE_GRANULARITIES, "regression"),
    Setting("fast-mean", COARSE_GRANULARITIES),
    Setting("paper-regression", PAPER_GRANULARITIES, "regression"),  # the joint fit, its 3000-unit cap lifted
    Setting("slic1000", (1000, 1250, 1500)),
    Setting("slic1000-regression", (1000, 1250, 1500), "regression"),
    Setting("slic500", (500, 625, 750)),
    Setting("slic500-regression", (500, 625, 750), "regression"),
]}
ENCODER_SETTINGS = ("mean", "regression")  # SM_H: the project's frame blocks (1, 2, 4), replayed


@dataclass
class Reference:
    clip: str
    arrays: dict
    meta: dict
    root: Path  # where it is stored (its work/ folder holds the recorded scores)

    @property
    def rows(self) -> np.ndarray:
        return self.arrays["rows"].astype(bool)

    def seconds_per_mask(self, which: str) -> float:
        """Recording seconds per mask of map ``which`` (a pass costs the same whatever the segmentation)."""
        recorded = self.meta["reference"][which]["masks"] + self.meta["pool"][which]
        return self.meta["seconds"].get(which, float("nan")) / recorded

    def rel(self, key: str) -> float:
        ref = self.meta["reference"]
        return {"full": ref["input"]["reliability"], "pooled": ref["input"]["reliability_pooled"],
                "encoder": ref["encoder"]["reliability"]}[key]


def load(clip: str, root: Path = HERE) -> Reference:
    path = root / f"{clip}.npz"
    if not path.exists():
        raise SystemExit(f"no reference for {clip}: run python benchmarks/reference_maps.py --clips {clip}")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return Reference(clip, arrays, json.loads((root / f"{clip}.json").read_text()), root)


def estimate(family, scores: np.ndarray, estimator: str) -> np.ndarray:
    """``estimator``'s map from the masks [0, len(scores)) of ``family`` with these scores."""
    acc = new_accumulator(family, scores.shape[1], estimator)
    for a in range(0, len(scores), 64):
        ks = list(range(a, min(a + 64, len(scores))))
        acc.add(ks, scores[ks])
    return ESTIMATORS.get(estimator)(acc, (0, 1))


def per_token_r(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over tokens of each token's Pearson r between two maps (I, ...)."""
    x, y = normalize_rows(a).reshape(len(a), -1), normalize_rows(b).reshape(len(b), -1)
    return float(np.mean((x * y).mean(axis=1)))


def headline(ca: np.ndarray, smx: np.ndarray, smh: np.ndarray) -> dict:
    """The study's figures of one utterance: CA vs pooled SM_X / SM_H (all, per layer, best head), SM_X vs SM_H."""
    out = {}
    for name, target in (("CA-SM_X", smx), ("CA-SM_H", smh)):
        a = agreement(ca, target)
        out[name] = {"all": a["all"], "layer": a["layer"], "best": a["best-head"]}
    out["SM_X-SM_H"] = correlate(smx, smh)
    return out


def converged(figures: dict, rel_x: float, rel_h: float) -> dict:
    """The reference's figures brought to its converged maps: a correlation with a map of split-half
    reliability R is attenuated by sqrt(R) (CA itself has no sampling noise)."""
    sx, sh = 1 / np.sqrt(rel_x), 1 / np.sqrt(rel_h)
    scale = lambda d, s: {k: v * s for k, v in d.items()}  # noqa: E731
    return {"CA-SM_X": scale(figures["CA-SM_X"], sx), "CA-SM_H": scale(figures["CA-SM_H"], sh),
            "SM_X-SM_H": figures["SM_X-SM_H"] * sx * sh}


def bias(cheap: dict, ref: dict, key: str) -> dict:
    """cheap - reference for one pair: all heads and layers, the best head, and per layer (an array:
    averaged over clips before the layer with the largest |bias| is picked, see ``worst_layer``)."""
    return {"all": cheap[key]["all"] - ref[key]["all"], "best": cheap[key]["best"] - ref[key]["best"],
            "layer": np.asarray(cheap[key]["layer"]) - np.asarray(ref[key]["layer"])}


def worst_layer(layers: np.ndarray) -> float:
    return float(layers[np.argmax(np.abs(layers))])


class Clip:
    """One reference clip with its model job (built only when a setting needs fresh passes)."""

    def __init__(self, ref: Reference) -> None:
        self.ref, self._setup = ref, None
        self.rows = ref.rows
        self.ca = ref.arrays["attention"].astype(np.float64)[:, :, self.rows]  # (L, H, I_text, T')
        self.smx_ref = ref.arrays["spes_input_pooled"].astype(np.float64)[self.rows]
        self.smx_full_ref = ref.arrays["spes_input"].astype(np.float64)[self.rows]
        self.smh_ref = ref.arrays["spes_encoder"].astype(np.float64)[self.rows]
        # the study's figures from the reference maps, brought to the converged maps (what a setting's
        # figures should approach; its own noise then shows as a bias, as it does in a study)
        self.reference = converged(headline(self.ca, self.smx_ref, self.smh_ref), ref.rel("pooled"), ref.rel("encoder"))
        self.stride = 2

    def job(self, granularities: tuple[int, ...]):  # type: ignore[no-untyped-def]
        if self._setup is None:
            self._setup = setup(CLIPS[self.ref.clip])
            ids = list(self._setup[2].transcript.ids)
            if ids != self.ref.arrays["ids"].tolist():
                raise SystemExit(f"{self.ref.clip}: the model decodes other tokens than the reference's")
        job = self._setup[3]
        options = replace(job.options, input=replace(job.options.input, granularities=granularities))
        job.options, job._plans = options, {}
        return job

    def input_scores(self, setting: Setting, n: int) -> tuple:
        """(family, scores (n, I), seconds per mask) of ``setting``'s first ``n`` masks."""
        work = self.ref.root / "work" / self.ref.clip
        job = self.job(setting.granularities) if not setting.replayed or self._setup else None
        if setting.replayed:
            pool_size = self.ref.meta["pool"]["input"]
            if n > pool_size:
                raise SystemExit(f"budget {n} > the reference's evaluation pool ({pool_size})")
            scores = self.ref.arrays["input_scores"][:n].astype(np.float64)
            family = job.plan("input").family if job else self._paper_family()
        else:
            raw, _ = record(job, "input", n, work, prefix=setting.prefix)
            scores, family = raw.astype(np.float64), job.plan("input").family
        return family, scores, self.ref.seconds_per_mask("input")

    def _paper_family(self):  # type: ignore[no-untyped-def]
        family = self.job(PAPER_GRANULARITIES).plan("input").family
        if checksum(family) != self.ref.meta["labels_sha1"]:
            raise SystemExit(f"{self.ref.clip}: SLIC segments differ from the reference's (another scikit-image?)")
        return family

    def encoder_family(self):  # type: ignore[no-untyped-def]
        return self.job(PAPER_GRANULARITIES).plan("encoder").family


def input_row(clip: Clip, setting: Setting, n: int) -> dict:
    family, scores, per_mask = clip.input_scores(setting, n)
    full = estimate(family, scores, setting.estimator)[clip.rows]  # (I_text, T, F)
    pooled = pool(full, clip.stride, "max")
    r_full, r_pooled = per_token_r(full, clip.smx_full_ref), per_token_r(pooled, clip.smx_ref)
    cheap = headline(clip.ca, pooled, clip.smh_ref)
    return {
        "masks": n, "passes": n, "seconds": n * per_mask,
        "r_full": r_full, "r_full_dis": r_full / np.sqrt(clip.ref.rel("full")),
        "r_pooled": r_pooled, "r_pooled_dis": r_pooled / np.sqrt(clip.ref.rel("pooled")),
        "bias_CA-SM_X": bias(cheap, clip.reference, "CA-SM_X"),
        "bias_SM_X-SM_H": cheap["SM_X-SM_H"] - clip.reference["SM_X-SM_H"],
    }


def encoder_row(clip: Clip, estimator: str, n: int) -> dict:
    pool_size = clip.ref.meta["pool"]["encoder"]
    if n > pool_size:
        raise SystemExit(f"SM_H budget {n} > the reference's evaluation pool ({pool_size})")
    scores = clip.ref.arrays["encoder_scores"][:n].astype(np.float64)
    smh = estimate(clip.encoder_family(), scores, estimator)[clip.rows]
    r = per_token_r(smh, clip.smh_ref)
    cheap = headline(clip.ca, clip.smx_ref, smh)
    return {"masks": n, "passes": n, "seconds": n * clip.ref.seconds_per_mask("encoder"),
            "r": r, "r_dis": r / np.sqrt(clip.ref.rel("encoder")),
            "bias_CA-SM_H": bias(cheap, clip.reference, "CA-SM_H"),
            "bias_SM_X-SM_H": cheap["SM_X-SM_H"] - clip.reference["SM_X-SM_H"]}


def default_row(clip: Clip) -> dict:
    """The default preset measured directly, at its own budgets: its maps from masks [0, n) against
    references made of every recorded mask after them (independent of the default's masks)."""
    options = preset(DEFAULT_PRESET)
    assert options.input is not None and options.encoder is not None
    nx, nh = options.input.n_masks, options.encoder.n_masks
    family_x, family_h = clip._paper_family(), clip.encoder_family()
    scores_x = clip.ref.arrays["input_scores"].astype(np.float64)
    scores_h = clip.ref.arrays["encoder_scores"].astype(np.float64)
    if len(scores_x) <= nx or len(scores_h) <= nh:
        raise SystemExit(f"{clip.ref.clip}: record more than {nx} SM_X and {nh} SM_H masks for the default's check")
    ref_x = reference(family_x, scores_x, nx, clip.rows, clip.stride)
    ref_h = reference(family_h, scores_h, nh, clip.rows, None)
    smx_full = estimate(family_x, scores_x[:nx], "mean")[clip.rows]
    smx, smh = pool(smx_full, clip.stride, "max"), estimate(family_h, scores_h[:nh], "mean")[clip.rows]
    ref_pooled, ref_smh = ref_x["pooled"][clip.rows], ref_h["map"][clip.rows]
    truth = converged(headline(clip.ca, ref_pooled, ref_smh), ref_x["reliability_pooled"], ref_h["reliability"])
    cheap = headline(clip.ca, smx, smh)
    r_pooled, r_h = per_token_r(smx, ref_pooled), per_token_r(smh, ref_smh)
    return {
        "masks": nx, "encoder_masks": nh, "reference_masks": len(scores_x) - nx,
        "reference_reliability_pooled": ref_x["reliability_pooled"], "reference_reliability_h": ref_h["reliability"],
        "seconds": nx * clip.ref.seconds_per_mask("input") + nh * clip.ref.seconds_per_mask("encoder"),
        "r_pooled": r_pooled, "r_pooled_dis": r_pooled / np.sqrt(ref_x["reliability_pooled"]),
        "r_h": r_h, "r_h_dis": r_h / np.sqrt(ref_h["reliability"]),
        "bias_CA-SM_X": bias(cheap, truth, "CA-SM_X"), "bias_CA-SM_H": bias(cheap, truth, "CA-SM_H"),
        "bias_SM_X-SM_H": cheap["SM_X-SM_H"] - truth["SM_X-SM_H"],
    }


def print_default_table(per_clip: dict[str, dict]) -> None:
    first = next(iter(per_clip.values()))
    print(f"\n### The default ({DEFAULT_PRESET}: SM_X {first['masks']} masks, SM_H {first['encoder_masks']}) against "
          "references from the recorded masks after its own\n")
    print("| clip | reference masks (pooled reliability) | seconds | SM_X pooled r (disatt.) | SM_H r (disatt.) "
          "| CA-SM_X bias all / layer / best | CA-SM_H bias all / layer / best | SM_X-SM_H bias |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in {**per_clip, "mean": mean_rows(list(per_clip.values()))}.items():
        bx, bh = r["bias_CA-SM_X"], r["bias_CA-SM_H"]
        print(f"| {name} | {r['reference_masks']:.0f} ({r['reference_reliability_pooled']:.3f}) | {r['seconds']:.0f} | "
              f"{r['r_pooled']:.3f} ({r['r_pooled_dis']:.3f}) | {r['r_h']:.3f} ({r['r_h_dis']:.3f}) | "
              f"{bx['all']:+.3f} / {worst_layer(bx['layer']):+.3f} / {bx['best']:+.3f} | "
              f"{bh['all']:+.3f} / {worst_layer(bh['layer']):+.3f} / {bh['best']:+.3f} | {r['bias_SM_X-SM_H']:+.3f} |")


def mean_rows(rows: list[dict]) -> dict:
    """Mean over clips of every number (nested dicts averaged key by key)."""
    out: dict = {}
    for key, value in rows[0].items():
        if isinstance(value, dict):
            out[key] = mean_rows([r[key] for r in rows])
        elif isinstance(value, np.ndarray):
            out[key] = np.mean([r[key] for r in rows], axis=0)
        else:
            out[key] = float(np.mean([r[key] for r in rows]))
    return out


def paper_masks_needed(refs: list[Reference]) -> float:
    """Masks the paper's setting needs for pooled disattenuated fidelity TARGET_FIDELITY: the
    masks at which its split-half reliability reaches TARGET_FIDELITY^2 (an unbiased estimator's
    correlation with its limit is sqrt(reliability)), by Spearman-Brown from each reference; the
    mean over clips."""
    return float(np.mean([spearman_brown_masks(r.rel("pooled"), r.meta["reference"]["input"]["masks"],
                                               TARGET_FIDELITY**2) for r in refs]))


def meets(row: dict) -> bool:
    b = row["bias_CA-SM_X"]
    biases = [abs(b["all"]), abs(b["best"]), abs(worst_layer(b["layer"])), abs(row["bias_SM_X-SM_H"])]
    return row["r_pooled_dis"] >= TARGET_FIDELITY and max(biases) <= TARGET_BIAS


def print_input_table(n: int, rows: dict[str, dict]) -> None:
    print(f"\n### SM_X, {n} masks (mean over clips)\n")
    print("| setting | masks | seconds | r full (disatt.) | r pooled (disatt.) | CA-SM_X bias all / layer / best head "
          "| SM_X-SM_H bias | meets target |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        b = r["bias_CA-SM_X"]
        print(f"| {name} | {n} | {r['seconds']:.0f} | {r['r_full']:.3f} ({r['r_full_dis']:.3f}) | "
              f"{r['r_pooled']:.3f} ({r['r_pooled_dis']:.3f}) | "
              f"{b['all']:+.3f} / {worst_layer(b['layer']):+.3f} / {b['best']:+.3f} | "
              f"{r['bias_SM_X-SM_H']:+.3f} | {'yes' if meets(r) else 'no'} |")


def print_encoder_table(n: int, rows: dict[str, dict]) -> None:
    print(f"\n### SM_H, {n} masks (mean over clips)\n")
    print("| estimator | masks | seconds | r (disatt.) | CA-SM_H bias all / layer / best head | SM_X-SM_H bias |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        b = r["bias_CA-SM_H"]
        print(f"| {name} | {n} | {r['seconds']:.0f} | {r['r']:.3f} ({r['r_dis']:.3f}) | "
              f"{b['all']:+.3f} / {worst_layer(b['layer']):+.3f} / {b['best']:+.3f} | {r['bias_SM_X-SM_H']:+.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", default=None, help="default: every stored reference")
    ap.add_argument("--budgets", nargs="+", type=int, default=[256, 512, 1024])
    ap.add_argument("--encoder-budgets", nargs="+", type=int, default=[256, 512, 1024, 2048])
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--references", type=Path, default=HERE, help="folder of the reference maps")
    ap.add_argument("--json", type=Path, default=None, help="also write every number (per clip) here")
    args = ap.parse_args()
    names = args.clips or [c for c in CLIPS if (args.references / f"{c}.npz").exists()]
    if not names:
        raise SystemExit("no reference maps yet: run python benchmarks/reference_maps.py")
    refs = [load(c, args.references) for c in names]
    clips = [Clip(r) for r in refs]
    for r in refs:
        x = r.meta["reference"]["input"]
        print(f"reference {r.clip}: SM_X {x['masks']} masks, split-half reliability {x['reliability']:.3f} "
              f"(pooled {x['reliability_pooled']:.3f}); SM_H {r.meta['reference']['encoder']['masks']} masks, "
              f"{r.rel('encoder'):.3f}")
    everything: dict = {"input": {}, "encoder": {}}
    for n in args.budgets:
        per = {s: [input_row(c, SETTINGS[s], n) for c in clips] for s in args.settings}
        everything["input"][n] = per
        print_input_table(n, {s: mean_rows(v) for s, v in per.items()})
    for n in args.encoder_budgets:
        per = {e: [encoder_row(c, e, n) for c in clips] for e in ENCODER_SETTINGS}
        everything["encoder"][n] = per
        print_encoder_table(n, {e: mean_rows(v) for e, v in per.items()})
    everything["default"] = {c.ref.clip: default_row(c) for c in clips}
    print_default_table(everything["default"])
    needed = paper_masks_needed(refs)
    print(f"\nThe paper's setting needs about {needed:.0f} masks for pooled disattenuated fidelity "
          f"{TARGET_FIDELITY} (Spearman-Brown from the references); the target allows {TARGET_SHARE * needed:.0f}.")
    for s in args.settings:
        ok = [n for n in args.budgets if meets(mean_rows(everything["input"][n][s]))]
        verdict = f"meets it at {min(ok)} masks" if ok else "does not meet it at any budget tried"
        cheap = "within" if ok and min(ok) <= TARGET_SHARE * needed else "outside"
        print(f"- {s}: {verdict}" + (f" ({cheap} 25% of the paper's)" if ok else ""))
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1,
                                        default=lambda v: v.tolist() if isinstance(v, np.ndarray) else float(v)))


if __name__ == "__main__":
    main()
