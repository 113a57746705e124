"""Comparing maps and judging explanations.

``agreement``: correlation between cross-attention and saliency at every head/layer granularity;
``faithfulness``: deletion / insertion curves and size; ``text``: WER, BLEU and chrF;
``stats``: bootstrap intervals over utterances.
"""

from .agreement import CORRELATIONS, agreement, correlate, normalize
from .faithfulness import CURVE_STEPS, auc, size_auc
from .stats import bootstrap_mean
from .text import TEXT_METRICS, bleu, chrf, wer

__all__ = [
    "CORRELATIONS", "CURVE_STEPS", "TEXT_METRICS", "agreement", "auc", "bleu", "bootstrap_mean", "chrf",
    "correlate", "normalize", "size_auc", "wer",
]
