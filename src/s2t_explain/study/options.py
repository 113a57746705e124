"""Study options: how maps are pooled, normalized, compared and judged (paper defaults first).

The lists of choices live in registries (pooling, normalizations, correlations, text metrics) or
in the constants below; options, the CLI and the report read the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from ..saliency.options import DEFAULT_PRESET, SaliencyOptions, preset

# deletion/insertion scoring: name -> the scorings run ("decode": re-decode, "logprob": log-prob drop)
FAITHFULNESS: dict[str, tuple[str, ...]] = {"decode": ("decode",), "logprob": ("logprob",),
                                            "both": ("decode", "logprob"), "off": ()}
# (ours) explanation methods scored against SPES by default: the cheap ones (Integrated Gradients
# costs ig_steps times grad-input: add it with --methods)
DEFAULT_METHODS = ("attention-norm", "attention-grad", "grad-input", "grad-encoder")
STATISTICS = ("pearson", "spearman", "kendall")  # agreement statistics computed by default
AGAINST = ("hypothesis", "reference")  # what re-decoded texts are scored against
TRANSLATION_METRICS = ("bleu", "chrf")  # text metrics (metrics.text.TEXT_METRICS) for translation


@dataclass(frozen=True)
class StudyOptions:
    """How one study run compares and judges the maps; the paper's defaults unless marked (ours).

    Invalid values raise :class:`OptionError` when the options are made. Stored in ``run.json``:
    a run folder resumes only with the same options.
    """

    saliency: SaliencyOptions = field(default_factory=lambda: preset(DEFAULT_PRESET))
    pooling: str = "max"  # paper: 2D max pooling of SM_X to encoder frames
    normalization: str = "zscore"  # paper: per-token z-score; "minmax" option
    statistics: tuple[str, ...] = STATISTICS  # paper: Pearson; Spearman and Kendall tau beside it (ours)
    include_eos: bool = False  # (ours) end-of-text row excluded from comparisons by default
    faithfulness: str = "decode"  # paper: re-decode ("decode"); "logprob" (cheaper), "both", "off"
    against: str = "hypothesis"  # (ours) re-decoded text scored against the clean hypothesis or "reference"
    translation_metric: str = "bleu"  # paper: BLEU for translation; "chrf" option
    attention_heads: str = "all"  # cross-attention aggregated over these heads for faithfulness
    curve_step: int = 5  # paper: deletion/insertion at 0, 5, ..., 100 percent
    seed: int = 0  # tie-breaking and the random ranking
    methods: tuple[str, ...] = DEFAULT_METHODS  # (ours) other explanation methods scored against SPES
    ig_steps: int = 16  # (ours) Integrated Gradients steps, when it is among the methods
    pairs: tuple[str, ...] = ()  # (ours) more map pairs to compare, "A:B" by map name (study.pairs)
    task: str = "transcribe"  # for utterances whose corpus entry names none
    language: str | None = None  # likewise (None: English for English-only models, detected otherwise)

    def __post_init__(self) -> None:
        from ..metrics.agreement import CORRELATIONS
        from ..normalization import NORMALIZATIONS
        from ..pooling import POOLING

        POOLING.get(self.pooling)
        for s in self.statistics:
            CORRELATIONS.get(s)
        NORMALIZATIONS.get(self.normalization)
        for value, choices, what in ((self.faithfulness, tuple(FAITHFULNESS), "faithfulness scoring"),
                                     (self.against, AGAINST, "text to score against"),
                                     (self.translation_metric, TRANSLATION_METRICS, "translation metric")):
            if value not in choices:
                raise OptionError(f"unknown {what} {value!r}; use one of: {', '.join(choices)}")
        if not 1 <= self.curve_step <= 50 or 100 % self.curve_step:
            raise OptionError(f"curve step must divide 100 and be 1..50 percent, got {self.curve_step}")
        if self.methods:
            from ..methods.catalog import MethodOptions, method_name

            object.__setattr__(self, "methods", tuple(method_name(name) for name in self.methods))  # aliases too
            MethodOptions(ig_steps=self.ig_steps)
        from ..decoding import DecodingOptions

        self._check_pairs()

        DecodingOptions(task=self.task, language=self.language)  # an unknown task or language fails here
        if self.saliency.input is None or self.saliency.encoder is None:
            raise OptionError("the study compares cross-attention with both SM_X and SM_H; enable both maps")

    def _check_pairs(self) -> None:
        """Pairs canonical (``study.pairs.parse_pair``), of maps the study computes."""
        from .pairs import parse_pair

        pairs = tuple(parse_pair(p) for p in self.pairs)
        computed = {"attention", "spes-input", "spes-encoder", *self.methods}
        if self.saliency.input is not None and self.saliency.input.p_dec > 0:
            computed.add("spes-token")
        for a, b in pairs:
            missing = [n for n in (a, b) if n not in computed]
            if missing:
                raise OptionError(f"pair {a}:{b} compares {', '.join(missing)}, which the study does not compute; "
                                  f"add it to the methods, or pair maps among: {', '.join(sorted(computed))}")
        object.__setattr__(self, "pairs", tuple(f"{a}:{b}" for a, b in pairs))

    @property
    def steps(self) -> np.ndarray:
        return np.arange(0, 101, self.curve_step)

    @property
    def method_options(self):  # type: ignore[no-untyped-def]
        from ..methods.catalog import MethodOptions

        return MethodOptions(ig_steps=self.ig_steps, token_batch=self.saliency.batch_size)

    @property
    def scorings(self) -> tuple[str, ...]:
        return FAITHFULNESS[self.faithfulness]
