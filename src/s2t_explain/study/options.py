"""Study options: how maps are pooled, normalized, compared and judged (paper defaults first)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from ..saliency.options import SaliencyOptions, preset


@dataclass(frozen=True)
class StudyOptions:
    saliency: SaliencyOptions = field(default_factory=lambda: preset("fast"))
    pooling: str = "max"  # paper: 2D max pooling of SM_X to encoder frames
    normalization: str = "zscore"  # paper: per-token z-score; "minmax" option
    statistics: tuple[str, ...] = ("pearson", "spearman")  # paper: Pearson; Spearman second
    include_eos: bool = False  # (ours) end-of-text row excluded from comparisons by default
    faithfulness: str = "decode"  # paper: re-decode ("decode"); "logprob" (cheaper), "both", "off"
    against: str = "hypothesis"  # (ours) re-decoded text scored against the clean hypothesis or "reference"
    translation_metric: str = "bleu"  # paper: BLEU for translation; "chrf" option
    attention_heads: str = "all"  # cross-attention aggregated over these heads for faithfulness
    curve_step: int = 5  # paper: deletion/insertion at 0, 5, ..., 100 percent
    seed: int = 0  # tie-breaking and the random ranking

    def __post_init__(self) -> None:
        from ..metrics.agreement import CORRELATIONS
        from ..pooling import POOLING

        POOLING.get(self.pooling)
        for s in self.statistics:
            CORRELATIONS.get(s)
        if self.normalization not in ("zscore", "minmax"):
            raise OptionError(f"unknown normalization {self.normalization!r}; use zscore or minmax")
        if self.faithfulness not in ("decode", "logprob", "both", "off"):
            raise OptionError(f"unknown faithfulness scoring {self.faithfulness!r}; use decode, logprob, both or off")
        if self.against not in ("hypothesis", "reference"):
            raise OptionError(f"--against must be hypothesis or reference, got {self.against!r}")
        if self.translation_metric not in ("bleu", "chrf"):
            raise OptionError(f"unknown translation metric {self.translation_metric!r}; use bleu or chrf")
        if not 1 <= self.curve_step <= 50 or 100 % self.curve_step:
            raise OptionError(f"curve step must divide 100 and be 1..50 percent, got {self.curve_step}")
        if self.saliency.input is None or self.saliency.encoder is None:
            raise OptionError("the study compares cross-attention with both SM_X and SM_H; enable both maps")

    @property
    def steps(self) -> np.ndarray:
        return np.arange(0, 101, self.curve_step)

    @property
    def scorings(self) -> tuple[str, ...]:
        return {"decode": ("decode",), "logprob": ("logprob",), "both": ("decode", "logprob"), "off": ()}[
            self.faithfulness]
