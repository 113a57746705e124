"""Per-token analysis: on which tokens does cross-attention fail, and is it enough to explain them?

The utterance-level agreement (``agreement.py``) hides which explained tokens disagree. Here every
one of the I explained text tokens gets its own numbers and labels, so they can be grouped:

``row_correlations``   per-token agreement of two (I, T') maps (cross-attention vs saliency);
``token_kinds``        first / punctuation / word-initial / continuation, from the token texts;
``word_classes``       function vs content word (English), by the word each token belongs to;
``attention_entropy``  how spread out each token's attention is over the T' frames, in [0, 1];
``auroc``              how well one per-token score (say entropy) predicts a boolean label (say
                       "attention disagrees with saliency"): can attention tell us when not to trust it?
``summarize_by``       count, mean and quartiles of a per-token value for each group;
``worst_tokens``       the tokens with the lowest values, to read by hand.

NumPy and SciPy only; labels are the token texts as Whisper decodes them (" The", "house", ",").
"""

from __future__ import annotations

import unicodedata

import numpy as np
from scipy.stats import rankdata

from ..decoding.words import group_words, is_punctuation
from .agreement import CORRELATIONS

TOKEN_KINDS = ("first", "punctuation", "word-initial", "continuation")

# Closed-class English words: articles, pronouns, prepositions, conjunctions, auxiliaries and
# modals, determiners and quantifiers, common particles and their contractions.
ENGLISH_FUNCTION_WORDS = frozenset(
    """
    a an the
    i me my mine myself you your yours yourself yourselves he him his himself she her hers herself
    it its itself we us our ours ourselves they them their theirs themselves
    this that these those who whom whose which what
    about above across after against along among around at before behind below beneath beside
    between beyond by down during except for from in inside into like near of off on onto out
    outside over past since through throughout till to toward towards under until up upon with
    within without
    and but or nor so yet because although though if unless while whereas whether than as
    be am is are was were been being have has had having do does did done
    can could may might must shall should will would ought
    all any both each either every few many much more most neither no none other another some
    such several
    not there here then when where why how just also very too only
    i'm i've i'll i'd you're you've you'll you'd he's he'd she's she'd it's we're we've we'll
    they're they've they'll that's there's what's who's let's
    isn't aren't wasn't weren't don't doesn't didn't haven't hasn't hadn't can't couldn't won't
    wouldn't shouldn't mustn't
    """.split()
)


def row_correlations(a: np.ndarray, b: np.ndarray, statistic: str = "pearson") -> np.ndarray:
    """Correlation of each token's row ``a[i]`` with ``b[i]``, for maps of shape (I, T'); returns (I,).

    ``statistic`` is any name in ``CORRELATIONS``; constant rows give NaN. No normalization is
    needed: per-row z-score or min-max rescaling does not change a per-row correlation.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"row_correlations needs two (I, T') maps of the same shape, got {a.shape} and {b.shape}")
    stat = CORRELATIONS.get(statistic)
    return np.array([stat(x, y) for x, y in zip(a, b)], dtype=np.float64)


def token_kinds(labels: list[str], language: str | None = None) -> list[str]:
    """One of ``TOKEN_KINDS`` per token text in ``labels`` (I,).

    ``first`` is token 0; ``punctuation`` is a token of punctuation only (spaces aside);
    ``word-initial`` starts a word (as ``group_words`` splits them: a leading space, the first
    word, or any token in one of ``NO_SPACE_LANGUAGES``); ``continuation`` is a later piece.
    An empty label belongs to no word and counts as a continuation.
    """
    initial = set()  # each word's first token that is not punctuation (a word may open with a quote)
    for word in group_words(labels, language=language):
        initial.update([i for i in word.tokens if not is_punctuation(labels[i])][:1])
    kinds = []
    for i, text in enumerate(labels):
        if i == 0:
            kinds.append("first")
        elif is_punctuation(text):
            kinds.append("punctuation")
        else:  # in NO_SPACE_LANGUAGES, group_words makes every such token a word of its own
            kinds.append("word-initial" if i in initial else "continuation")
    return kinds


def _bare_word(text: str) -> str:
    """Lowercased word without surrounding punctuation or spaces; curly apostrophes made straight."""
    text = text.lower().replace("\u2019", "'")
    is_p = [c.isspace() or unicodedata.category(c).startswith("P") for c in text]  # '" The' keeps its space
    start = next((i for i, p in enumerate(is_p) if not p), len(text))
    end = len(text) - next((i for i, p in enumerate(reversed(is_p)) if not p), len(text))
    return text[start:end]


def word_classes(labels: list[str], language: str | None = None) -> list[str | None]:
    """``"function"`` or ``"content"`` per token (I,), by the English word the token belongs to.

    A word is a function word when it is in ``ENGLISH_FUNCTION_WORDS`` (lowercased, surrounding
    punctuation stripped). Punctuation tokens, empty tokens and every token of a language other
    than English (``language`` not ``"en"`` or None) get None.
    """
    classes: list[str | None] = [None] * len(labels)
    if language not in (None, "en"):
        return classes
    for word in group_words(labels, language=language):
        cls = "function" if _bare_word(word.text) in ENGLISH_FUNCTION_WORDS else "content"
        for i in word.tokens:
            if not is_punctuation(labels[i]):
                classes[i] = cls
    return classes


def attention_entropy(attention: np.ndarray) -> np.ndarray:
    """Entropy of each token's row of an (I, T') map, normalized by log(T'); returns (I,) in [0, 1].

    Rows are made distributions first (negatives clipped to 0, then divided by their sum), so a
    uniform row gives 1 and a one-hot row 0; all-zero rows give NaN, and T' = 1 gives 0.
    """
    p = np.clip(np.asarray(attention, dtype=np.float64), 0.0, None)
    if p.ndim != 2:
        raise ValueError(f"attention_entropy needs an (I, T') map, got shape {p.shape}")
    total = p.sum(axis=1, keepdims=True)  # (I, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / total
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)  # (I,)
    h[total[:, 0] <= 0] = np.nan
    n_frames = p.shape[1]
    return h / np.log(n_frames) if n_frames > 1 else np.where(np.isnan(h), np.nan, 0.0)


def auroc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under the ROC curve for predicting boolean ``positives`` (N,) from ``scores`` (N,).

    Higher scores mean "more likely positive". Computed as the Mann-Whitney U with average ranks,
    so ties count one half. NaN scores are dropped; NaN when either class is then empty.
    """
    s, y = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(positives, dtype=bool).ravel()
    if s.shape != y.shape:
        raise ValueError(f"auroc needs as many scores as labels, got {s.size} and {y.size}")
    keep = ~np.isnan(s)
    s, y = s[keep], y[keep]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    u = rankdata(s)[y].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def summarize_by(values: np.ndarray, groups: list[str | None]) -> dict[str, dict]:
    """Count, mean, median and quartiles of per-token ``values`` (I,) in each group of ``groups`` (I,).

    Returns {group: {"n", "mean", "median", "q25", "q75"}} in first-seen order; NaN values are
    left out (a group with none left has n = 0 and NaN statistics), None groups are skipped.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size != len(groups):
        raise ValueError(f"summarize_by needs one group per value, got {v.size} values and {len(groups)} groups")
    out: dict[str, dict] = {}
    for name in dict.fromkeys(g for g in groups if g is not None):
        x = v[[g == name for g in groups]]
        x = x[~np.isnan(x)]
        if x.size == 0:
            out[name] = {"n": 0, "mean": np.nan, "median": np.nan, "q25": np.nan, "q75": np.nan}
            continue
        q25, median, q75 = np.quantile(x, [0.25, 0.5, 0.75])
        out[name] = {"n": int(x.size), "mean": float(x.mean()), "median": float(median),
                     "q25": float(q25), "q75": float(q75)}
    return out


def worst_tokens(values: np.ndarray, labels: list[str], k: int = 5) -> list[tuple[int, str, float]]:
    """The ``k`` tokens with the lowest finite ``values`` (I,), lowest first, as (index, label, value)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size != len(labels):
        raise ValueError(f"worst_tokens needs one label per value, got {v.size} values and {len(labels)} labels")
    finite = np.flatnonzero(np.isfinite(v))
    order = finite[np.argsort(v[finite], kind="stable")][:k]
    return [(int(i), labels[i], float(v[i])) for i in order]
