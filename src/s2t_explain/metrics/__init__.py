"""Comparing maps and judging explanations.

``agreement``: correlation between cross-attention and saliency at every head/layer granularity;
``faithfulness``: deletion / insertion curves and size; ``text``: WER, BLEU and chrF;
``stats``: bootstrap intervals over utterances; ``timing``: word-boundary accuracy.
"""

from .agreement import CORRELATIONS, agreement, correlate, normalize
from .faithfulness import CURVE_STEPS, auc, size_auc
from .stats import bootstrap_mean
from .text import TEXT_METRICS, bleu, chrf, wer
from .timing import COLLARS, boundary_f1, score_words

__all__ = [
    "COLLARS", "CORRELATIONS", "CURVE_STEPS", "TEXT_METRICS", "agreement", "auc", "bleu", "bootstrap_mean",
    "boundary_f1", "chrf", "correlate", "normalize", "score_words", "size_auc", "wer",
]
