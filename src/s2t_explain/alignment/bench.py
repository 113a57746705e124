"""The alignment benchmark: word timestamps from every method against exact word boundaries.

The set (``data/align``, made by ``scripts/make_align_set.py``) joins words synthesized one at a
time with known pauses, so every word's start and end is exact. Each utterance is force-decoded
with its reference text (we measure alignment, not recognition), explained once (cross-attention,
and SM_X / SM_H when a saliency method is asked for), and timed by every method:
  ``alignment-heads`` the model's own alignment heads (Whisper's recipe: the baseline);
  ``all-heads``       every head of every layer;
  ``discovered-unsupervised`` top-k heads by concentration x monotonicity (no labels needed);
  ``discovered-saliency``     top-k heads by agreement with SM_H;
  ``discovered-reference``    top-k heads by their own timing error on the *other* utterances
                              (leave-one-out, so no utterance is timed with heads chosen on it);
  ``saliency-input`` / ``saliency-encoder``: DTW on pooled SM_X / SM_H, word edges trimmed to
                      where the map says something is said (``timestamps``: ``trim``);
  ``alignment-heads-trim``: the baseline with the same trimming (to show what trimming alone does).
Metrics over all words: mean absolute error of starts, of ends, and of both; the share of
boundaries within 20/50/100/200 ms; and F1 at those collars between the predicted and the
reference boundary sets (one-to-one matching; a method that cannot place pauses between words
loses recall there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import OptionError
from ..models.base import SpeechToTextModel
from ..pipeline import explain, explain_attention, prepare
from ..results.explanation import Explanation
from ..saliency.options import SaliencyOptions
from .heads import reference_scores, saliency_scores, top_heads, unsupervised_scores
from .timestamps import word_timestamps

COLLARS = (0.02, 0.05, 0.1, 0.2)
METHODS = ("alignment-heads", "all-heads", "discovered-unsupervised", "discovered-saliency", "discovered-reference",
           "alignment-heads-trim", "saliency-input", "saliency-encoder")
NEEDS_SALIENCY = {"discovered-saliency", "saliency-input", "saliency-encoder"}


@dataclass(frozen=True)
class TimedUtterance:
    id: str
    audio: Path
    reference: str
    language: str | None
    words: list[tuple[str, float, float]]  # (word, start s, end s)


def read_bench_manifest(path: str | Path) -> list[TimedUtterance]:
    path = Path(path)
    if not path.is_file():
        raise OptionError(f"alignment manifest not found: {path}")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            words = [(str(w["word"]), float(w["start"]), float(w["end"])) for w in r["words"]]
            items.append(TimedUtterance(str(r["id"]), path.parent / r["audio"], str(r["reference"]),
                                        r.get("language"), words))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise OptionError(f"{path}:{n}: not an alignment line with id, audio, reference and words ({e})") from None
    if not items:
        raise OptionError(f"{path} has no utterances")
    return items


def boundary_f1(predicted: list[float], reference: list[float], collar: float) -> tuple[int, int, int]:
    """(matches, predicted count, reference count): greedy one-to-one matching by distance within ``collar``."""
    pred = sorted(set(round(p, 4) for p in predicted))
    ref = sorted(reference)
    pairs = sorted((abs(p - r), i, j) for i, p in enumerate(pred) for j, r in enumerate(ref) if abs(p - r) <= collar)
    used_p: set[int] = set()
    used_r: set[int] = set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_r:
            used_p.add(i)
            used_r.add(j)
    return len(used_p), len(pred), len(ref)


def score_words(predicted: list[list[tuple[float, float]]], reference: list[list[tuple[float, float]]]) -> dict:
    """Metrics over utterances; each a list of (start, end) per word, the same words in the same order."""
    starts = np.concatenate([[p[0] - r[0] for p, r in zip(ps, rs)] for ps, rs in zip(predicted, reference)])
    ends = np.concatenate([[p[1] - r[1] for p, r in zip(ps, rs)] for ps, rs in zip(predicted, reference)])
    both = np.abs(np.concatenate([starts, ends]))
    out: dict[str, Any] = {"words": int(starts.size), "mae_start_ms": 1000 * float(np.abs(starts).mean()),
                           "mae_end_ms": 1000 * float(np.abs(ends).mean()), "mae_ms": 1000 * float(both.mean())}
    for c in COLLARS:
        out[f"within_{int(c * 1000)}ms"] = float((both <= c).mean())
        m = p = r = 0
        for ps, rs in zip(predicted, reference):
            dm, dp, dr = boundary_f1([t for w in ps for t in w], [t for w in rs for t in w], c)
            m, p, r = m + dm, p + dp, r + dr
        precision, recall = m / max(p, 1), m / max(r, 1)
        out[f"f1_{int(c * 1000)}ms"] = 2 * precision * recall / (precision + recall) if m else 0.0
    return out


def run_bench(model: SpeechToTextModel, manifest: str | Path, methods: tuple[str, ...] = METHODS,
              saliency: SaliencyOptions | None = None, top: int | None = None, limit: int | None = None,
              progress: bool = True) -> dict[str, Any]:
    """Time every utterance with every method; returns {"methods": {name: metrics}, "heads": ..., "skipped": ...}."""
    for m in methods:
        if m not in METHODS:
            raise OptionError(f"unknown alignment method {m!r}; use {', '.join(METHODS)}")
    if any(m in NEEDS_SALIENCY for m in methods) and saliency is None:
        raise OptionError("saliency-based methods need saliency options")
    items = read_bench_manifest(manifest)[:limit]
    from ..decoding import DecodingOptions

    results: list[Explanation] = []
    for item in tqdm(items, desc="explaining", unit="utt", disable=not progress):
        prepared = prepare(model, item.audio, name=str(item.audio))
        options = DecodingOptions(language=item.language if model.multilingual else None)
        if any(m in NEEDS_SALIENCY for m in methods):
            results.append(explain(model, prepared, saliency, options, text=item.reference,  # type: ignore[arg-type]
                                   progress=False))
        else:
            results.append(explain_attention(model, prepared, options, text=item.reference))
    k = top or len(model.alignment_heads or []) or model.n_heads
    references = [[(s, e) for _, s, e in item.words] for item in items]
    heads: dict[str, Any] = {"alignment-heads": results[0].heads("alignment"), "all-heads": "all",
                             "alignment-heads-trim": results[0].heads("alignment")}
    if "discovered-unsupervised" in methods:
        heads["discovered-unsupervised"] = top_heads(np.mean([unsupervised_scores(r) for r in results], axis=0), k)
    if "discovered-saliency" in methods:
        heads["discovered-saliency"] = top_heads(np.mean([saliency_scores(r) for r in results], axis=0), k)
    per_utt_ref = None
    if "discovered-reference" in methods:
        per_utt_ref = [reference_scores(r, ref) for r, ref in zip(results, references)]
    table: dict[str, Any] = {}
    skipped: list[str] = []
    for method in methods:
        predicted, truth = [], []
        for u, (result, ref) in enumerate(zip(results, references)):
            if method.startswith("saliency-"):
                words = word_timestamps(result, method)
            elif method == "alignment-heads-trim":
                words = word_timestamps(result, "attention", heads[method], edges="trim")
            elif method == "discovered-reference":
                others = [s for v, s in enumerate(per_utt_ref or []) if v != u]
                chosen = top_heads(np.mean(others, axis=0), k) if others else "alignment"
                words = word_timestamps(result, "attention", chosen)
            else:
                words = word_timestamps(result, "attention", heads[method])
            if len(words) != len(ref):
                skipped.append(f"{items[u].id} ({method}: {len(words)} words timed, {len(ref)} in the reference)")
                continue
            predicted.append([(w.start, w.end) for w in words])
            truth.append(ref)
        if predicted:
            table[method] = score_words(predicted, truth)
    if per_utt_ref is not None:
        heads["discovered-reference"] = top_heads(np.mean(per_utt_ref, axis=0), k)  # on all, for reporting
    return {"model": model.name, "utterances": len(items), "methods": table, "skipped": skipped,
            "heads": {m: (h if isinstance(h, str) else [list(p) for p in h]) for m, h in heads.items()}}


def markdown_table(report: dict[str, Any]) -> str:
    cols = ["mae_ms", "mae_start_ms", "mae_end_ms", "within_20ms", "within_50ms", "within_100ms", "within_200ms",
            "f1_50ms", "f1_100ms"]
    base = report["methods"].get("alignment-heads", {}).get("mae_ms")
    lines = ["| method | " + " | ".join(cols) + " | MAE vs alignment heads |", "|---|" + "---|" * (len(cols) + 1)]
    for name, m in report["methods"].items():
        cells = [f"{m[c]:.0f}" if c.endswith("ms") and c.startswith("mae") else f"{m[c]:.2f}" for c in cols]
        change = f"{(m['mae_ms'] / base - 1) * 100:+.0f}%" if base else ""
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {change} |")
    return "\n".join(lines) + "\n"
