"""Text scores for re-decoded hypotheses: WER (ASR), BLEU and chrF (translation), 0..100.

Texts are compared after a light normalization (lower case, punctuation removed except
apostrophes inside words, whitespace collapsed), the same for hypothesis and reference.
``wer`` is clipped at 100 (method.md); ``bleu`` is sentence BLEU-4 with add-one smoothing of
the 2..4-gram precisions (Lin and Och 2004), so one utterance gets a usable score; ``chrf`` is
chrF2 (character 1..6-grams, recall weighted twice, spaces ignored).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable

import numpy as np

from ..registry import Registry

TextMetric = Callable[[str, str], float]  # (hypothesis, reference) -> score
TEXT_METRICS: Registry[TextMetric] = Registry("text metric")
list_text_metrics = TEXT_METRICS.names
HIGHER_IS_BETTER = {"wer": False, "bleu": True, "chrf": True}

_PUNCT = re.compile(r"[^\w\s']|(?<!\w)'|'(?!\w)")


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_PUNCT.sub(" ", text).split())


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two token lists."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        row = [i]
        for j, y in enumerate(b, start=1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = row
    return prev[-1]


@TEXT_METRICS.register("wer")
def wer(hypothesis: str, reference: str) -> float:
    """Word error rate in percent, clipped at 100; an empty reference gives 0 or 100."""
    hyp, ref = normalize_text(hypothesis).split(), normalize_text(reference).split()
    if not ref:
        return 0.0 if not hyp else 100.0
    return min(100.0, 100.0 * edit_distance(hyp, ref) / len(ref))


def _ngrams(tokens: list[str] | str, n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@TEXT_METRICS.register("bleu")
def bleu(hypothesis: str, reference: str, max_n: int = 4) -> float:
    hyp, ref = normalize_text(hypothesis).split(), normalize_text(reference).split()
    if not hyp or not ref:
        return 100.0 if hyp == ref else 0.0
    log_p = 0.0
    for n in range(1, max_n + 1):
        h, r = _ngrams(hyp, n), _ngrams(ref, n)
        match, total = sum((h & r).values()), max(sum(h.values()), 0)
        if n > 1:  # add-one smoothing
            match, total = match + 1, total + 1
        if match == 0 or total == 0:
            return 0.0
        log_p += math.log(match / total) / max_n
    brevity = min(0.0, 1.0 - len(ref) / len(hyp))
    return 100.0 * math.exp(log_p + brevity)


@TEXT_METRICS.register("chrf")
def chrf(hypothesis: str, reference: str, max_n: int = 6, beta: float = 2.0) -> float:
    hyp, ref = normalize_text(hypothesis).replace(" ", ""), normalize_text(reference).replace(" ", "")
    if not hyp or not ref:
        return 100.0 if hyp == ref else 0.0
    precisions, recalls = [], []
    for n in range(1, max_n + 1):
        h, r = _ngrams(hyp, n), _ngrams(ref, n)
        if not h or not r:
            continue
        match = sum((h & r).values())
        precisions.append(match / sum(h.values()))
        recalls.append(match / sum(r.values()))
    if not precisions:
        return 0.0
    precision, recall = float(np.mean(precisions)), float(np.mean(recalls))
    if precision + recall == 0:
        return 0.0
    return 100.0 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall)
