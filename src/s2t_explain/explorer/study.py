"""The explorer of a study run: its tables and figures, and a sortable utterance table that links
to one explorer page per utterance (``RUN/report.html``, ``RUN/pages/ID.html``)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioError, ResultError
from ..results import Explanation
from ..study.report import build_report, fidelity_summary, load_records
from .data import PageOptions
from .page import write_page

PAGE = "report.html"
PAGES = "pages"
FIGURE_CAPTIONS = {
    "correlation_per_layer": "Agreement of cross-attention with SM_X (pooled) and SM_H, per decoder layer "
                             "(Pearson r, mean over utterances)",
    "layer_head_correlation": "Agreement per (layer, head), mean over utterances",
    "deletion_insertion": "Deletion and insertion curves (faithfulness), mean over utterances",
}


def study_pages(run: str | Path, options: PageOptions = PageOptions(), figures: bool = True,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``RUN/report.html`` and ``RUN/pages/ID.html`` for every stored result; returns the
    run page's path. Tables and figures are rebuilt from the stored records first (no model)."""
    from . import utterance_page

    run = Path(run)
    records, failures = load_records(run)  # a clear error when RUN is not a run folder
    tables = build_report(run, figures=figures)
    ids = []
    for k, r in enumerate(records):
        npz = run / "results" / f"{r['id']}.npz"
        if npz.exists():
            try:
                utterance_page(Explanation.load(npz), run / PAGES / f"{r['id']}.html", options=options,
                               back=f"../{PAGE}", audio=_segment_audio(r))
            except ResultError:
                continue
            ids.append(r["id"])
        if progress is not None:
            progress(k + 1, len(records))
    data = study_data(run, records, failures, tables, set(ids))
    return write_page(run / PAGE, data, f"s2t-explain study: {run.name}")


def _segment_audio(record: Mapping[str, Any]) -> np.ndarray | None:
    """The samples of an utterance that is a segment of a longer file (None: the page reads the file
    the result names, or says why it cannot)."""
    from ..corpora.utterance import Utterance

    segment = record.get("segment")
    if not segment or not Path(record["audio"]).is_file():
        return None
    try:
        return Utterance(record["id"], Path(record["audio"]), start=segment[0], end=segment[1]).load()
    except AudioError:
        return None


def study_data(run: Path, records: list, failures: list, tables: dict[str, list[dict[str, Any]]],
               linked: set[str]) -> dict[str, Any]:
    """What the study page embeds: summary, tables (rows + columns), figures as data URIs."""
    seconds = sum(r["timings_s"]["total"] for r in records)
    rel = {m: [v for r in records if (v := r["reliability"].get(m)) is not None] for m in ("input", "encoder")}
    summary = (f"{len(records)} utterances ({len(failures)} failed), model {records[0]['model'] if records else '?'}, "
               f"{seconds / 60:.1f} min of computation; mean split-half reliability SM_X "
               f"{_mean(rel['input'])}, SM_H {_mean(rel['encoder'])}")
    notes = [] if records else ["This run has no finished utterances yet."]
    notes += [line.strip().replace("**", "") for line in fidelity_summary(records)]
    main = [r for r in tables["agreement"] if r["statistic"] == "pearson"]
    utterances = []
    for r in records:
        agree = r["agreement"]
        score = r.get("reference_score") or {}
        utterances.append({
            "id": r["id"], "href": f"{PAGES}/{r['id']}.html" if r["id"] in linked else None,
            "CA-SMX r (all)": _stat(agree, "CA-SMX"), "CA-SMH r (all)": _stat(agree, "CA-SMH"),
            "reliability SM_X": r["reliability"].get("input"), "reliability SM_H": r["reliability"].get("encoder"),
            **{k: v for k, v in score.items()}, "tokens": r["n_tokens"], "duration (s)": round(r["duration_s"], 2),
            "hypothesis": r["hypothesis"]})
    columns = list(dict.fromkeys(k for u in utterances for k in u if k != "href"))
    return {
        "kind": "study", "name": run.name, "summary": summary, "notes": notes,
        "tables": [
            _table("Utterances", utterances, columns, "Click a column to sort; click an id to open its page.",
                   sortable=True, id="utterances"),
            _table("Agreement (Pearson r, mean over utterances, 95% bootstrap interval)", main,
                   ["pair", "granularity", "mean", "ci_low", "ci_high", "n"]),
            _table("The paper's trends on this run", tables["trends"], ["trend", "holds", "evidence", "paper"]),
            _table("Faithfulness (AUC / 100 of deletion and insertion curves)", tables["faithfulness"],
                   ["scoring", "metric", "curve", "explanation", "mean", "ci_low", "ci_high", "n"]),
            _table("Size (compactness, percent; lower = more compact)", tables["size"],
                   ["explanation", "mean", "ci_low", "ci_high"]),
            _table("Cheaper explanations scored against SPES (Pearson r, mean over utterances)",
                   tables.get("league", []), ["explanation", "r_SMX", "r_SMH", "deletion", "insertion", "size",
                                              "seconds", "passes"], _verdict(tables, records), sortable=True,
                   id="league"),
            _table("Per-token agreement of cross-attention with SPES", tables.get("tokens", []),
                   ["grouping", "group", "pair", "n", "mean", "median", "q25", "q75"]),
            _table("Tokens where cross-attention and SM_H disagree most", tables.get("worst_tokens", []),
                   ["id", "token", "kind", "r_CA_SMH", "r_CA_SMX", "prob", "entropy"]),
            _table("Is cross-attention enough here? SPES-free signals predicting low agreement (AUROC; 0.5 = chance)",
                   tables.get("indicators", []), ["level", "target", "signal", "n", "auroc"]),
            _table("Failures", [{"id": f["id"], "reason": f.get("reason", "")} for f in failures], ["id", "reason"]),
        ],
        "figures": _figures(run / "figures"),
    }


def _verdict(tables: dict[str, list[dict[str, Any]]], records: list) -> str:
    from ..study.league import cheapest_within

    return str(cheapest_within(tables["league"], records)["verdict"]) if tables.get("league") else ""


def _table(title: str, rows: list[dict[str, Any]], columns: list[str], caption: str = "", sortable: bool = False,
           id: str | None = None) -> dict[str, Any]:
    clean = [{k: _json(v) for k, v in r.items()} for r in rows]
    return {"title": title, "rows": clean, "columns": columns, "caption": caption, "sortable": sortable, "id": id}


def _json(v: Any) -> Any:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, (int, np.integer)):
        return int(v)
    return v if v is None or isinstance(v, str) else str(v)


def _stat(agreement: dict, pair: str) -> float | None:
    value = ((agreement.get(pair) or {}).get("pearson") or {}).get("all")
    return value if isinstance(value, (int, float)) else None


def _mean(values: list[float]) -> str:
    return f"{np.mean(values):.2f}" if values else "n/a"


def _figures(folder: Path) -> list[dict[str, str]]:
    out = []
    for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
        caption = FIGURE_CAPTIONS.get(path.stem) or (
            f"Example utterance {path.stem[len('example_'):]}: cross-attention, pooled SM_X and SM_H"
            if path.stem.startswith("example_") else path.stem)
        out.append({"src": "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii"),
                    "caption": caption})
    return out
