"""Saliency options with the paper's defaults in one visible block, and named presets.

Paper (SPES, Fucci et al.; Papi et al. 2025) defaults: N = 20000 masks split over three SLIC
granularities (2000, 2500, 3000 segments for 500 frames, scaled by min(T, 750) / 500), occlusion
probability p = 0.5, KL(P_clean || P_perturbed) scorer, mean-over-occluding-masks estimator, no
previous-token saliency (p_dec = 0). Choices marked (ours) are documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..dtypes import PRECISIONS
from ..errors import OptionError
from .masks import ENCODER_MASKS, INPUT_MASKS, check_design


@dataclass(frozen=True)
class InputSaliencyOptions:
    """SM_X: occlusion of regions of the log-mel spectrogram (SLIC superpixels, the paper's).

    Fields marked paper are the paper's settings; (ours) are documented choices. ``masks`` names
    an ``INPUT_MASKS`` family; ``baseline`` an ``INPUT_BASELINES`` entry. Invalid values raise
    :class:`OptionError` when the options are made (frozen: change with ``dataclasses.replace``).
    """

    n_masks: int = 20_000  # paper
    p: float = 0.5  # paper: each segment occluded with probability p
    granularities: tuple[int, ...] = (2000, 2500, 3000)  # paper: SLIC n_segments per 500 frames
    reference_frames: int = 500  # paper: n_segments scale with min(T, max_scale_frames) / 500
    max_scale_frames: int = 750  # paper
    compactness: float = 0.1  # paper (SLIC)
    sigma: float = 0.0  # later SPES configs (the paper era used 1)
    baseline: str = "silence"  # (ours) value of occluded entries; see saliency/perturb.py
    design: str = "iid"  # (ours) "iid" Bernoulli masks (paper); "balanced"; "antithetic"
    masks: str = "superpixels"  # paper: SLIC superpixels; "grid": rectangular patches (ours)
    patch_sizes: tuple[tuple[int, int], ...] = ((20, 8), (10, 4), (40, 16))  # grid: (frames, bins)
    p_dec: float = 0.0  # previous-token saliency: token embeddings zeroed with prob p_dec (off)

    def __post_init__(self) -> None:
        _check_common(self.n_masks, self.p, self.design)
        if not self.granularities or any(g < 1 for g in self.granularities):
            raise OptionError(f"granularities must be positive segment counts, got {self.granularities}")
        if self.reference_frames < 1 or self.max_scale_frames < 1:
            raise OptionError("reference_frames and max_scale_frames must be >= 1")
        if any(len(ps) != 2 or min(ps) < 1 for ps in self.patch_sizes):
            raise OptionError(f"grid patch sizes must be (frames, bins) pairs >= 1, got {self.patch_sizes}")
        INPUT_MASKS.get(self.masks)  # an unknown family fails here, naming the registered ones
        if not 0.0 <= self.p_dec < 1.0:
            raise OptionError(f"p_dec must be in [0, 1), got {self.p_dec}")


@dataclass(frozen=True)
class EncoderSaliencyOptions:
    """SM_H (ours: the paper gives no recipe): occlusion of encoder-output frames.

    ``mode`` names an ``ENCODER_MASKS`` family (``frames``: whole states h_t in blocks of
    ``block_sizes``; ``elements``: single (t, d) entries, averaged over d); ``baseline`` an
    ``ENCODER_BASELINES`` entry. Checked when made, like :class:`InputSaliencyOptions`.
    """

    n_masks: int = 2_000
    p: float = 0.5
    block_sizes: tuple[int, ...] = (1, 2, 4)  # contiguous frame blocks at several scales
    mode: str = "frames"  # "frames" (whole h_t replaced) or "elements" (T' x D entries, reduced over D)
    baseline: str = "silence"  # encoder output of a silent input at the same positions
    design: str = "iid"

    def __post_init__(self) -> None:
        _check_common(self.n_masks, self.p, self.design)
        if not self.block_sizes or any(b < 1 for b in self.block_sizes):
            raise OptionError(f"block sizes must be >= 1, got {self.block_sizes}")
        ENCODER_MASKS.get(self.mode)


# where perturbation scores are summed (SaliencyOptions.accumulate)
ACCUMULATE = ("auto", "device", "host")


@dataclass(frozen=True)
class SaliencyOptions:
    """Everything one saliency run needs: the two maps' options (None = skip that map) and the
    engine's settings shared by both. Defaults are the paper's (20000 SM_X masks, KL, mean);
    ``preset("faithful")`` (the default of explain and study) is the paper's setting at the masks
    it needs, ``preset("fast")`` a quick look that is not the paper's map. ``dataclasses.replace``
    to change a field; names of scorers, estimators and baselines are checked against their
    registries when made.
    """

    input: InputSaliencyOptions | None = field(default_factory=InputSaliencyOptions)
    encoder: EncoderSaliencyOptions | None = field(default_factory=EncoderSaliencyOptions)
    scorer: str = "kl"  # paper: KL(P_clean || P_perturbed) over the vocabulary; "prob_drop" option
    estimator: str = "mean"  # paper: mean score over the masks that occluded an element
    batch_size: int = 8  # perturbations per forward pass (the start of the search with auto_batch)
    auto_batch: bool = False  # (ours) per map, double the batch while masks/s rises and it fits (engine.choose_batch)
    seed: int = 0
    target_reliability: float | None = None  # stop early once split-half reliability reaches it
    check_every: int = 64  # masks between reliability checks (fixed, so stopping ignores batch size)
    precision: str = "float32"  # (ours) perturbation passes under autocast to this dtype ("bfloat16", "float16");
    #                             the clean pass and cross-attention capture keep the model's own dtype; "auto":
    #                             bfloat16 where it is native and faster (see saliency.explain.pass_precision)
    accumulate: str = "auto"  # (ours) where scores are summed: "device" (the model's, copied back at checks),
    #                           "host", or "auto" = the device unless it is the CPU (see ACCUMULATE)
    compile: bool = False  # (ours) torch.compile the perturbation passes (see the README for when it pays)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise OptionError(f"batch size must be >= 1, got {self.batch_size}")
        if self.target_reliability is not None and not 0.0 < self.target_reliability < 1.0:
            raise OptionError(f"target reliability must be in (0, 1), got {self.target_reliability}")
        if self.seed < 0:
            raise OptionError(f"seed must be >= 0, got {self.seed}")
        if self.precision not in PRECISIONS:
            raise OptionError(f"unknown precision {self.precision!r}; use one of: {', '.join(PRECISIONS)}")
        if self.accumulate not in ACCUMULATE:
            raise OptionError(f"unknown accumulate {self.accumulate!r}; use one of: {', '.join(ACCUMULATE)}")
        if self.check_every < 1:
            raise OptionError(f"check_every must be >= 1 mask, got {self.check_every}")
        _check_names(self)
        if self.input is None and self.encoder is None:
            raise OptionError("nothing to compute: enable input or encoder saliency")


def _check_names(options: SaliencyOptions) -> None:
    """Registry names are checked up front, not after minutes of computation."""
    from .catalog import ENCODER_BASELINES, INPUT_BASELINES, SCORERS
    from .estimators import ESTIMATORS, JOINT_FITS

    SCORERS.check(options.scorer)
    ESTIMATORS.check(options.estimator)
    if options.input is not None:
        INPUT_BASELINES.check(options.input.baseline)
    if options.encoder is not None:
        ENCODER_BASELINES.check(options.encoder.baseline)
        if not ENCODER_MASKS.get(options.encoder.mode).supports_joint_fit and options.estimator in JOINT_FITS:
            raise OptionError(
                f"the {options.estimator} estimator cannot fit one effect per encoder entry (mode=elements); "
                "use the mean estimator"
            )


def _check_common(n_masks: int, p: float, design: str) -> None:
    if n_masks < 2:
        raise OptionError(f"need at least 2 masks (two halves for reliability), got {n_masks}")
    if not 0.0 < p < 1.0:
        raise OptionError(f"occlusion probability must be in (0, 1), got {p}")
    check_design(design, p)


# (ours) Coarse SLIC segmentation for a CPU demo: 54 / 121 / 182 segments on the 3.7 s demo clip
# instead of about 1800 per granularity, i.e. regions of roughly 0.1-0.3 s x 5-15 mel bins.
COARSE_GRANULARITIES = (130, 215, 320)

# (ours) SM_X masks of the default preset: the paper's setting needs about this many for pooled
# SM_X fidelity 0.95 to its converged map (split-half reliability 0.9025) on the reference clips;
# see the README's fidelity section (benchmarks/fidelity.py). 20% of the paper's 20000.
FAITHFUL_MASKS = 4096

PRESETS: dict[str, SaliencyOptions] = {
    # (ours) The default: the paper's setting (its segmentation, iid masks, p = 0.5, KL, the mean
    # estimator) with the masks its pooled SM_X needs for fidelity 0.95 (SM_H: as many, 2 minutes),
    # bfloat16 perturbation passes where the hardware computes them natively. About 13 minutes of
    # 2 CPU cores for a 4-second clip with whisper-tiny.en (23 in float32).
    "faithful": SaliencyOptions(
        input=InputSaliencyOptions(n_masks=FAITHFUL_MASKS), encoder=EncoderSaliencyOptions(n_masks=FAITHFUL_MASKS),
        precision="auto",
    ),
    # (ours) A quick look on a 2-core CPU (2.5 minutes for the demo clip): coarse segmentation and the
    # joint regression estimator, which reach split-half reliability 0.8 after about 330 masks, but
    # converge to *another* map than the paper's (pooled SM_X r about 0.66-0.8 with it; every result
    # made with it says so, see saliency.fidelity). For timestamps, long audio and first looks.
    "fast": SaliencyOptions(
        input=InputSaliencyOptions(n_masks=512, granularities=COARSE_GRANULARITIES),
        encoder=EncoderSaliencyOptions(n_masks=1024),
        estimator="regression",
    ),
    # The paper's settings, all 20000 masks (about 2 h of CPU per short utterance with whisper-tiny.en).
    "paper": SaliencyOptions(
        input=InputSaliencyOptions(), encoder=EncoderSaliencyOptions(n_masks=2000)
    ),
}
DEFAULT_PRESET = "faithful"  # explain and study; timestamps, align-bench and long audio use "fast"
QUICK_PRESET = "fast"


def list_presets() -> list[str]:
    return list(PRESETS)


def preset(name: str) -> SaliencyOptions:
    if name not in PRESETS:
        raise OptionError(f"unknown preset {name!r}; use one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def with_masks(options: SaliencyOptions, n_input: int | None = None, n_encoder: int | None = None) -> SaliencyOptions:
    """Copy of ``options`` with other mask budgets."""
    inp = replace(options.input, n_masks=n_input) if options.input and n_input is not None else options.input
    enc = (replace(options.encoder, n_masks=n_encoder) if options.encoder and n_encoder is not None
           else options.encoder)
    return replace(options, input=inp, encoder=enc)
