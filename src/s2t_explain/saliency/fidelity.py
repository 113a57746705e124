"""How close a saliency setting's SM_X is to the paper's map: its fidelity class (torch-free).

The study's figures are the paper's only if SM_X is the paper's quantity: SLIC superpixels at the
paper's granularities, iid masks with p = 0.5, the KL scorer and the mean-over-occluding-masks
estimator. Such a setting is *unbiased*: it differs from the converged paper map only by noise,
so its fidelity (per-token r with the converged map) is about sqrt(pooled split-half
reliability), known from the run itself. Any other setting converges to another map; its
fidelity and the bias it puts into the headline figures can only be measured, against reference
maps at the paper's setting (``benchmarks/fidelity.py``). Settings measured there are listed in
``MEASURED``; the rest are "unmeasured".

Classes (``Fidelity.kind``): ``paper`` (the paper's estimand; meets the target when its pooled
reliability >= TARGET_FIDELITY^2), ``measured`` (another estimand, numbers from the benchmark),
``unmeasured``. Every result records its class (``Fidelity.record``) and every result, report
and explorer page made with a setting below the target says so in one line (``Fidelity.note``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .options import SaliencyOptions

TARGET_FIDELITY = 0.95  # pooled SM_X: per-token r with the converged paper map
TARGET_BIAS = 0.02  # headline agreements (CA-SM_X, CA-SM_H, SM_X-SM_H) vs the paper setting's
PAPER_GRANULARITIES = (2000, 2500, 3000)


@dataclass(frozen=True)
class Measured:
    """A setting's figures from ``benchmarks/fidelity.py`` (mean over the reference clips)."""

    label: str  # what differs, in words
    masks: int
    pooled_r: float  # per-token r of pooled SM_X with the reference, disattenuated
    bias: float  # CA-SM_X agreement (all heads and layers) minus the reference's, typical
    spread: str = ""  # the range measured, in words


# (granularities, estimator) -> figures at the preset's budget, from `python benchmarks/fidelity.py`
# (mean over the reference clips; README, Fidelity). Keys are the SLIC granularities per 500 frames.
MEASURED: dict[tuple[tuple[int, ...], str], Measured] = {
    ((130, 215, 320), "regression"): Measured("coarse segmentation (the fast preset)", 512, 0.70, +0.10,
                                             "+0.04 to +0.15 on 2 reference clips and a 3-utterance study"),
    ((130, 215, 320), "mean"): Measured("coarse segmentation", 512, 0.70, +0.06, "+0.04 to +0.09 on 2 reference clips"),
}


@dataclass(frozen=True)
class Fidelity:
    kind: str  # "paper", "measured", "unmeasured" or "none" (no SM_X)
    meets_target: bool | None  # None: not known (unmeasured, or a paper run without a reliability)
    pooled_fidelity: float | None  # estimated per-token r of pooled SM_X with the converged paper map
    note: str | None  # one line when the target is not met (or not known), else None
    differs: tuple[str, ...] = ()  # how the setting differs from the paper's

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, "meets_target": self.meets_target,
                "pooled_fidelity": None if self.pooled_fidelity is None else round(self.pooled_fidelity, 3),
                "target": TARGET_FIDELITY, "differs": list(self.differs), "note": self.note}


def differences(options: SaliencyOptions) -> tuple[str, ...]:
    """How SM_X's setting differs from the paper's estimand (empty: it is the paper's)."""
    o = options.input
    if o is None:
        return ()
    checks = [
        (o.masks == "superpixels", f"{o.masks} masks"),
        (o.granularities == PAPER_GRANULARITIES, segmentation_label(o.granularities)),
        (o.compactness == 0.1 and o.sigma in (0.0, 1.0), "other SLIC settings"),
        ((o.reference_frames, o.max_scale_frames) == (500, 750), "other segment-count scaling"),
        (options.estimator == "mean", f"{options.estimator} estimator"),
        (o.design == "iid", f"{o.design} masks"),
        (abs(o.p - 0.5) < 1e-9, f"p = {o.p}"),
        (options.scorer == "kl", f"{options.scorer} scorer"),
        (o.baseline == "silence", f"{o.baseline} baseline"),  # the references use the project's own baseline
        (o.p_dec == 0, f"previous tokens masked (p_dec = {o.p_dec})"),  # changes the scores of the same passes
        (options.precision != "float16", "float16 passes"),  # bfloat16: scores r 0.9999 with float32 (measured)
    ]
    return tuple(what for same, what in checks if not same)


def segmentation_label(granularities: tuple[int, ...]) -> str:
    coarse = "coarse " if max(granularities) < min(PAPER_GRANULARITIES) else ""
    return f"{coarse}segmentation {'/'.join(map(str, granularities))}"


def assess(options: SaliencyOptions, reliability_pooled: float | None = None, masks: int | None = None) -> Fidelity:
    """The fidelity class of ``options``; for the paper's estimand, from the run's own pooled
    split-half ``reliability_pooled`` after ``masks`` masks when known."""
    if options.input is None:
        return Fidelity("none", None, None, None)
    differs = differences(options)
    if not differs:
        if reliability_pooled is None:
            return Fidelity("paper", None, None, None)
        if not math.isfinite(reliability_pooled):
            return Fidelity("paper", None, None, "SM_X is the paper's setting but its reliability could not be "
                            "measured (too few masks or a constant map)", differs)
        fid = math.sqrt(max(reliability_pooled, 0.0))
        ok = fid >= TARGET_FIDELITY
        note = None if ok else (
            f"SM_X is the paper's setting but its {masks or 'few'} masks leave it noisy: pooled split-half "
            f"reliability {reliability_pooled:.3f}, about {fid:.3f} fidelity to the converged paper map "
            f"(target {TARGET_FIDELITY}); agreement figures are attenuated by about {1 - fid:.0%}: use more masks")
        return Fidelity("paper", ok, fid, note, differs)
    # measured figures hold only for what was measured: nothing else may differ
    only = set(differs) <= {segmentation_label(options.input.granularities), f"{options.estimator} estimator"}
    found = MEASURED.get((options.input.granularities, options.estimator)) if only else None
    if found is not None and found.pooled_r >= TARGET_FIDELITY and abs(found.bias) <= TARGET_BIAS:
        return Fidelity("measured", True, found.pooled_r, None, differs)
    if found is not None:
        return Fidelity("measured", False, found.pooled_r, (
            f"{found.label}: not the paper's SM_X (pooled r {found.pooled_r:.2f} with the paper's map at "
            f"{found.masks} masks; CA-SM_X agreement off by about {found.bias:+.2f}"
            + (f", {found.spread}," if found.spread else "") + " from the paper setting's; benchmarks/fidelity.py)"),
            differs)
    return Fidelity("unmeasured", None, None, (
        f"SM_X differs from the paper's setting ({', '.join(differs)}): its fidelity to the paper's map "
        "is not measured (benchmarks/fidelity.py)"), differs)
