"""The alignment benchmark: word timestamps from every method against exact word boundaries.

The set (``data/align``, made by ``scripts/make_align_set.py``) joins words synthesized one at a
time with known pauses, so every word's start and end is exact. Each utterance is force-decoded
with its reference text (we measure alignment, not recognition), explained once (cross-attention,
and SM_X / SM_H when a method needs saliency), and timed by every method in ``ALIGNMENT_METHODS``:
  ``alignment-heads`` the model's own alignment heads (Whisper's recipe: the baseline);
  ``all-heads``       every head of every layer;
  ``discovered-unsupervised`` top-k heads by agreement with the all-heads consensus (no labels);
  ``discovered-saliency``     top-k heads by agreement with SM_H;
  ``discovered-reference``    top-k heads by their own timing error on the *other* utterances
                              (leave-one-out, so no utterance is timed with heads chosen on it);
  ``saliency-input`` / ``saliency-encoder``: DTW on pooled SM_X / SM_H (maps ``spes-input`` /
                      ``spes-encoder``), word edges trimmed to where the map says something
                      is said (``timestamps``: ``trim``);
  ``alignment-heads-trim``: the baseline with the same trimming (to show what trimming alone does).
Scores are ``metrics.timing.score_words`` over all words.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..alignment.heads import default_head_count, per_result_scores, top_heads
from ..alignment.timestamps import word_timestamps
from ..decoding import DecodingOptions
from ..errors import OptionError, check_type
from ..metrics.timing import score_words
from ..models.base import SpeechToTextModel
from ..pipeline import explain, explain_attention, prepare
from ..results.explanation import Explanation
from ..runfolder import RunFolder, attempt, failure_reason
from ..saliency.options import SaliencyOptions
from .alignment_methods import ALIGNMENT_METHODS, AlignmentMethod
from .manifest import TimedUtterance, read_alignment_manifest


def explain_timed(model: SpeechToTextModel, items: Sequence[TimedUtterance], saliency: SaliencyOptions | None = None,
                  progress: bool = True) -> list[Explanation]:
    """Each utterance forced to its reference text and explained: cross-attention, plus the maps of
    ``saliency`` when given (multilingual models get the manifest's language)."""
    return [explain_one(model, item, saliency) for item in tqdm(items, desc="explaining", unit="utt",
                                                                disable=not progress)]


def explain_one(model: SpeechToTextModel, item: TimedUtterance, saliency: SaliencyOptions | None) -> Explanation:
    """One utterance of an alignment corpus, forced to its reference text and explained."""
    samples = item.load(model.sample_rate)  # only the utterance's segment is read
    prepared = prepare(model, samples, sample_rate=model.sample_rate, name=item.source)
    decoding = DecodingOptions(language=item.language if model.multilingual else None)
    if saliency is not None:
        return explain(model, prepared, saliency=saliency, decoding=decoding, text=item.reference, progress=False)
    return explain_attention(model, prepared, decoding=decoding, text=item.reference)


def _explained(model: SpeechToTextModel, items: Sequence[TimedUtterance], saliency: SaliencyOptions | None,
               folder: RunFolder | None, progress: bool) -> tuple[list[TimedUtterance], list[Explanation], list[str]]:
    """The benchmark's explanations (read back from ``folder``'s ``results/ID.npz`` when a resumed
    run has them), by the run-folder failure rule: an utterance that fails is recorded and left
    out. Returns the utterances explained, their results and one line per failure."""
    kept, results, failed = [], [], []
    for item in tqdm(items, desc="explaining", unit="utt", disable=not progress):
        file = folder.path / "results" / f"{item.id}.npz" if folder is not None else None
        if file is not None and file.exists():
            outcome: Explanation | Exception = attempt(partial(Explanation.load, file))
        else:
            outcome = attempt(partial(explain_one, model, item, saliency))
        if isinstance(outcome, Exception):
            reason = failure_reason(outcome)
            failed.append(f"{item.id}: {reason}")
            if folder is not None:
                folder.failed(item.id, {"id": item.id, "audio": str(item.audio), "reason": reason})
            continue
        if file is not None and not file.exists():
            outcome.save(file)
            folder.succeeded(item.id)  # type: ignore[union-attr]
        kept.append(item)
        results.append(outcome)
    return kept, results, failed


def _chosen_heads(method: AlignmentMethod, scores: list[np.ndarray] | None, u: int | None, k: int) -> str | list:
    """The method's heads for utterance ``u`` (None: the set reported for the whole run), from the
    per-utterance head scores of its ranking."""
    if method.ranking is None or scores is None:
        return method.heads
    keep = [s for v, s in enumerate(scores) if not (method.leave_one_out and v == u)]
    return top_heads(np.mean(keep, axis=0), k) if keep else "alignment"


def run_bench(model: SpeechToTextModel, manifest: str | Path | Sequence[TimedUtterance],
              methods: Sequence[str] | None = None, saliency: SaliencyOptions | None = None, top: int | None = None,
              limit: int | None = None, progress: bool = True, out: str | Path | None = None) -> dict[str, Any]:
    """Time every utterance with every method; returns {"methods": {name: metrics}, "heads": ...,
    "skipped": ..., "failed": ...}.

    ``manifest``: an alignment corpus (``read_alignment_manifest``: JSON Lines, CSV/TSV with
    ``words``, or a Kaldi folder with a ``ctm``; its format detected), or its utterances already
    read. ``out``: a run folder (``runfolder.RunFolder``) keeping each utterance's explanation in
    ``results/ID.npz``, so an interrupted benchmark resumes; a folder made with another model or
    other saliency settings is refused."""
    names = list(methods) if methods is not None else ALIGNMENT_METHODS.names()
    chosen = {name: ALIGNMENT_METHODS.get(name) for name in names}  # unknown names fail here
    maps = set().union(*(m.maps for m in chosen.values()))
    if maps:  # compute only the maps the methods use (SM_X is the expensive one)
        if saliency is None:
            raise OptionError("saliency-based alignment methods need saliency options")
        check_type(saliency, SaliencyOptions, "saliency")
        saliency = replace(saliency, input=saliency.input if "spes-input" in maps else None,
                           encoder=saliency.encoder if "spes-encoder" in maps else None)
    corpus = read_alignment_manifest(manifest) if isinstance(manifest, str | Path) else list(manifest)
    wanted = saliency if maps else None
    config = {"version": 1, "model": model.name, "maps": sorted(maps),
              "saliency": json.loads(json.dumps(asdict(wanted))) if wanted is not None else None}
    with ExitStack() as stack:
        folder = None if out is None else stack.enter_context(RunFolder(out, config, what="a benchmark"))
        items, results, failed = _explained(model, corpus[:limit], wanted, folder, progress)
    if not results:
        raise OptionError("no utterance of the benchmark could be explained: " + "; ".join(failed[:3]))
    report = _score(model, items, results, chosen, top)
    report["failed"] = failed
    return report


def _score(model: SpeechToTextModel, items: list[TimedUtterance], results: list[Explanation],
           chosen: dict[str, AlignmentMethod], top: int | None) -> dict[str, Any]:
    """Every method's word timings against the references, and the heads each used."""
    k = top or default_head_count(results[0])
    references = [item.spans for item in items]
    rankings = {m.ranking for m in chosen.values() if m.ranking is not None}
    scores = {r: per_result_scores(results, r, references) for r in sorted(rankings)}  # each once per utterance
    run_heads = {name: _chosen_heads(m, scores.get(m.ranking or ""), None, k) for name, m in chosen.items()
                 if m.source == "attention"}
    table: dict[str, Any] = {}
    skipped: list[str] = []
    for name, method in chosen.items():
        predicted, truth = [], []
        for u, (result, ref) in enumerate(zip(results, references)):
            heads = (_chosen_heads(method, scores.get(method.ranking or ""), u, k) if method.leave_one_out
                     else run_heads.get(name, "alignment"))
            words = word_timestamps(result, method.source, heads, edges=method.edges)
            if len(words) != len(ref):
                skipped.append(f"{items[u].id} ({name}: {len(words)} words timed, {len(ref)} in the reference)")
                continue
            predicted.append([(w.start, w.end) for w in words])
            truth.append(ref)
        if predicted:
            table[name] = score_words(predicted, truth)
    reported = {name: (h if isinstance(h, str) else [list(p) for p in h]) for name, h in run_heads.items()}
    for name, h in reported.items():
        if isinstance(h, str):  # named sets are reported as the model's pairs, as before
            reported[name] = h if h == "all" else [list(p) for p in results[0].heads(h)]
    return {"model": model.name, "utterances": len(items), "methods": table, "skipped": skipped, "heads": reported}


def markdown_table(report: dict[str, Any]) -> str:
    """The benchmark's table: MAE (ms), share within each collar, F1, and the change against the baseline."""
    cols = ["mae_ms", "mae_start_ms", "mae_end_ms", "within_20ms", "within_50ms", "within_100ms", "within_200ms",
            "f1_50ms", "f1_100ms"]
    base = report["methods"].get("alignment-heads", {}).get("mae_ms")
    lines = ["| method | " + " | ".join(cols) + " | MAE vs alignment heads |", "|---|" + "---|" * (len(cols) + 1)]
    for name, m in report["methods"].items():
        cells = [f"{m[c]:.0f}" if c.endswith("ms") and c.startswith("mae") else f"{m[c]:.2f}" for c in cols]
        change = f"{(m['mae_ms'] / base - 1) * 100:+.0f}%" if base else ""
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {change} |")
    return "\n".join(lines) + "\n"
