"""Aggregate a run's per-utterance records into tables (CSV, Parquet, Markdown) and figures.

Only stored files are read (``results/*.json``, checked against the schema of ``study.record``;
one ``.npz`` for the example figure), so
``s2t-explain report RUN`` rebuilds everything without recomputing. Means over utterances come
with 95% percentile-bootstrap intervals.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..errors import ResultError
from ..files import atomic_write, write_json
from ..metrics.stats import bootstrap_mean
from ..metrics.text import HIGHER_IS_BETTER
from ..results.explanation import Explanation
from .league import cheapest_within, indicator_table, league_table, token_tables, worst_token_table
from .pairs import pairs_table
from .record import CURVE_MODES, PAIRS, FailureRecord, UtteranceRecord, check_record

Row = dict[str, Any]
GRANULARITIES = ("best-head", "head-mean", "layer-mean", "all", "alignment")


def load_records(run: str | Path) -> tuple[list[UtteranceRecord], list[FailureRecord]]:
    """(complete records, failure records) of a run folder, sorted by id.

    A record that cannot be read or does not fit the schema (``study.record``) raises
    :class:`ResultError` naming the file; an unusable failure record is listed as unreadable.
    """
    run = Path(run)
    if not (run / "results").is_dir():
        raise ResultError(f"{run} is not a study run folder (no results/ inside)")
    records: list[UtteranceRecord] = []
    failures: list[FailureRecord] = []
    for path in sorted((run / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ResultError(f"cannot read {path}: {e}") from None
        records.append(check_record(data, path))
    for path in sorted((run / "failures").glob("*.json")) if (run / "failures").is_dir() else []:
        try:
            failure = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            failure = None
        if isinstance(failure, dict) and isinstance(failure.get("id"), str):
            failures.append(cast(FailureRecord, failure))
        else:
            failures.append({"id": path.stem, "reason": "unreadable failure record"})
    return records, failures


def load_explanations(run: str | Path) -> list[Explanation]:
    """The stored per-utterance results (``results/*.npz``) of a run folder, sorted by id."""
    run = Path(run)
    files = sorted((run / "results").glob("*.npz"))
    if not files:
        raise ResultError(f"no stored results in {run}/results; is {run} a study run folder?")
    return [Explanation.load(f) for f in files]


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _summary(values: list[float]) -> Row:
    mean, low, high = bootstrap_mean(values)
    return {"mean": mean, "ci_low": low, "ci_high": high, "n": int(np.isfinite(np.asarray(values, float)).sum())}


def agreement_table(records: list[UtteranceRecord]) -> list[Row]:
    """One row per (pair, statistic, granularity): mean over utterances with its interval."""
    rows: list[Row] = []
    if not records:
        return rows
    for pair in PAIRS:
        for stat in records[0]["agreement"][pair]:
            per = [r["agreement"][pair][stat] for r in records]
            values = {
                "best-head": [_num(a["best-head"]) for a in per],
                "head-mean": [float(np.nanmean(np.asarray(a["head"], float))) for a in per],
                "layer-mean": [float(np.nanmean(np.asarray(a["layer"], float))) for a in per],
                "all": [_num(a["all"]) for a in per],
                "alignment": [_num(a["alignment"]) for a in per],
            }
            for g in GRANULARITIES:
                rows.append({"pair": pair, "statistic": stat, "granularity": g, **_summary(values[g])})
            n_layers = len(per[0]["layer"])
            for layer in range(n_layers):
                rows.append({"pair": pair, "statistic": stat, "granularity": f"layer {layer}",
                             **_summary([_num(a["layer"][layer]) for a in per])})
    for stat in records[0]["agreement"]["SMX-SMH"]:
        rows.append({"pair": "SMX-SMH", "statistic": stat, "granularity": "-",
                     **_summary([_num(r["agreement"]["SMX-SMH"][stat]) for r in records])})
    return rows


def head_table(records: list[UtteranceRecord]) -> list[Row]:
    """Mean correlation per (pair, statistic, layer, head)."""
    rows: list[Row] = []
    if not records:
        return rows
    for pair in PAIRS:
        for stat in records[0]["agreement"][pair]:
            grid = np.array([np.asarray(r["agreement"][pair][stat]["head"], float) for r in records])  # (U, L, H)
            mean = np.nanmean(grid, axis=0)
            for layer in range(mean.shape[0]):
                for head in range(mean.shape[1]):
                    rows.append({"pair": pair, "statistic": stat, "layer": layer, "head": head,
                                 "mean": float(mean[layer, head])})
    return rows


def faithfulness_table(records: list[UtteranceRecord]) -> list[Row]:
    """One row per (scoring, curve, explanation): AUC mean with interval, and the mean curve."""
    rows: list[Row] = []
    scorings = sorted({how for r in records for how in r.get("faithfulness", {})})
    for how in scorings:
        have = [r["faithfulness"][how] for r in records if how in r.get("faithfulness", {})]
        metrics = sorted({f["metric"] for f in have})
        for metric in metrics:
            group = [f for f in have if f["metric"] == metric]
            for mode in CURVE_MODES:
                for name in group[0][mode]:
                    curves = np.array([f[mode][name]["curve"] for f in group], float)
                    rows.append({"scoring": how, "metric": metric, "curve": mode, "explanation": name,
                                 **_summary([_num(f[mode][name]["auc"]) for f in group]),
                                 "mean_curve": [round(float(v), 4) for v in curves.mean(axis=0)]})
    return rows


def size_table(records: list[UtteranceRecord]) -> list[Row]:
    if not records:
        return []
    return [{"explanation": name, **_summary([_num(r["size"][name]) for r in records])} for name in records[0]["size"]]


def utterance_table(records: list[UtteranceRecord], failures: list[FailureRecord]) -> list[Row]:
    rows: list[Row] = []
    for r in records:
        score = r.get("reference_score") or {}
        rows.append({"id": r["id"], "status": "ok", "task": r["task"], "language": r["language"],
                     "tokens": r["n_tokens"], "duration_s": round(r["duration_s"], 2),
                     "hypothesis": r["hypothesis"], "reference": r.get("reference") or "",
                     "reference_score": next(iter(score.values()), None),
                     "reliability_SMX": r["reliability"].get("input"),
                     "reliability_SMH": r["reliability"].get("encoder"),
                     "masks_SMX": r["masks"].get("input"), "masks_SMH": r["masks"].get("encoder"),
                     "seconds": round(r["timings_s"]["total"], 1), "reason": ""})
    for f in failures:
        rows.append({"id": f["id"], "status": "failed", "reason": f.get("reason", "")})
    return rows


# What the paper reports for each trend (Papi et al. 2025), shown beside this run's evidence
PAPER_TRENDS = {
    "aggregate": "holds: single heads weak and noisy; all heads and layers r about 0.45-0.64 (SM_X), "
                 "up to 0.52-0.75 (SM_H)",
    "layers": "holds: later decoder layers agree more",
    "smh": "holds: r about 0.52-0.75 (SM_H) vs 0.45-0.64 (SM_X)",
    "deletion": "holds: deletion CA about 41, pooled SM_X about 53-57, full-resolution SM_X about 91",
}


def trends(agreement: list[Row], faithfulness: list[Row]) -> list[Row]:
    """The paper's four trends, checked on this run (``paper``: what the paper found)."""
    def get(pair: str, gran: str) -> float:
        for r in agreement:
            if r["pair"] == pair and r["statistic"] == "pearson" and r["granularity"] == gran:
                return float(r["mean"])
        return float("nan")

    out: list[Row] = []
    for pair in ("CA-SMX", "CA-SMH"):
        single, pooled = get(pair, "head-mean"), get(pair, "all")
        out.append({"trend": f"aggregating heads and layers raises agreement ({pair})",
                    "evidence": f"mean single head r = {single:.3f}, all heads and layers r = {pooled:.3f}",
                    "holds": bool(pooled > single), "paper": PAPER_TRENDS["aggregate"]})
        layers = [float(r["mean"]) for r in agreement if r["pair"] == pair and r["statistic"] == "pearson"
                  and str(r["granularity"]).startswith("layer ")]
        if len(layers) > 1:
            slope = float(np.polyfit(np.arange(len(layers)), layers, 1)[0])
            out.append({"trend": f"later layers agree more ({pair})",
                        "evidence": "per-layer r = " + ", ".join(f"{v:.3f}" for v in layers) + f" (slope {slope:+.3f})",
                        "holds": bool(slope > 0), "paper": PAPER_TRENDS["layers"]})
    smx, smh = get("CA-SMX", "all"), get("CA-SMH", "all")
    out.append({"trend": "CA agrees more with SM_H than with SM_X", "evidence": f"r = {smh:.3f} vs {smx:.3f}",
                "holds": bool(smh > smx), "paper": PAPER_TRENDS["smh"]})
    for r in faithfulness:
        if r["curve"] != "deletion" or r["explanation"] != "CA":
            continue
        higher = HIGHER_IS_BETTER.get(r["metric"], False) is False  # WER / logprob drop: damage rises
        others = {x["explanation"]: x["mean"] for x in faithfulness if x["scoring"] == r["scoring"]
                  and x["metric"] == r["metric"] and x["curve"] == "deletion" and x["explanation"] != "CA"}
        sal = {k: v for k, v in others.items() if k.startswith("SM")}
        if not sal:
            continue
        beats = all((v > r["mean"]) if higher else (v < r["mean"]) for v in sal.values())
        out.append({"trend": f"deletion: saliency is more faithful than CA ({r['scoring']}, {r['metric']})",
                    "evidence": f"AUC CA = {r['mean']:.2f}; " + ", ".join(f"{k} = {v:.2f}" for k, v in others.items()),
                    "holds": bool(beats), "paper": PAPER_TRENDS["deletion"]})
    return out


def _csv(rows: list[Row]) -> str:
    if not rows:
        return ""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
    return buf.getvalue()


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if not np.isfinite(v) else f"{v:.3f}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v).replace("|", "/")


def markdown(rows: list[Row], columns: list[str] | None = None) -> str:
    if not rows:
        return "(none)\n"
    cols = columns or [k for k in rows[0] if not isinstance(rows[0][k], list)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _write_table(folder: Path, name: str, rows: list[Row]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = _csv(rows)
    atomic_write(folder / f"{name}.csv", lambda f: f.write(text.encode("utf-8")))
    if rows:
        keys = list(dict.fromkeys(k for r in rows for k in r))
        table = pa.Table.from_pylist([{k: r.get(k) for k in keys} for r in rows])
        atomic_write(folder / f"{name}.parquet", lambda f: pq.write_table(table, f))
    atomic_write(folder / f"{name}.md", lambda f: f.write(markdown(rows).encode("utf-8")))


def build_report(run: str | Path, figures: bool = True) -> dict[str, Any]:
    """Write tables/ and figures/ for a run folder; returns the tables (as row lists)."""
    run = Path(run)
    records, failures = load_records(run)
    tables = {
        "agreement": agreement_table(records),
        "layer_head": head_table(records),
        "faithfulness": faithfulness_table(records),
        "size": size_table(records),
        "utterances": utterance_table(records, failures),
    }
    tables["trends"] = trends(tables["agreement"], tables["faithfulness"])
    tables["league"] = league_table(records)
    tables["tokens"] = token_tables(records)
    tables["worst_tokens"] = worst_token_table(records)
    tables["indicators"] = indicator_table(records)
    if any("pairs" in r for r in records):  # StudyOptions.pairs: a table only for runs that asked
        tables["pairs"] = pairs_table(cast(list[dict[str, Any]], records))
    out = run / "tables"
    for name, rows in tables.items():
        _write_table(out, name, rows)
    text = summary_markdown(run, records, failures, tables)
    atomic_write(run / "report.md", lambda f: f.write(text.encode("utf-8")))
    write_json(out / "summary.json", {"utterances": len(records), "failures": len(failures),
                                      "trends": tables["trends"],
                                      "cheapest": cheapest_within(tables["league"], records)})
    if figures and records:
        from ..plots.study import study_figures

        study_figures(run, records, tables)
    return tables


def fidelity_summary(records: list[UtteranceRecord]) -> list[str]:
    """One line on SM_X's fidelity to the paper's map (``saliency.fidelity``) when the run misses the
    target (or does not record it: runs made before the fidelity classes); nothing when it meets it."""
    found = [r["fidelity"] for r in records if "fidelity" in r]
    missing = len(records) - len(found)
    lines = [f"Fidelity of SM_X to the paper's map: not recorded for {missing} of {len(records)} utterances "
             "(made before fidelity classes).\n"] if missing else []
    below = [f for f in found if f.get("meets_target") is False]
    unknown = [f for f in found if f.get("meets_target") is None]
    estimates = [v for f in found if (v := f.get("pooled_fidelity")) is not None]
    spread = f" (estimated pooled fidelity {min(estimates):.2f}-{max(estimates):.2f})" if estimates else ""
    for group, what in ((below, "below the target"), (unknown, "not known")):
        notes = list(dict.fromkeys(n for f in group if (n := f.get("note"))))
        if group:
            text = (notes[0] + (f" (and {len(notes) - 1} other notes)" if len(notes) > 1 else "")) if notes else ""
            lines.append(f"**Fidelity: {len(group)} of {len(found)} utterances {what}{spread}**: {text}\n")
    return lines


def summary_markdown(run: Path, records: list[UtteranceRecord], failures: list[FailureRecord],
                     tables: dict[str, list[Row]]) -> str:
    main = [r for r in tables["agreement"]
            if r["statistic"] == "pearson" and not str(r["granularity"]).startswith("layer ")]
    rel_x = [v for r in records if (v := r["reliability"].get("input")) is not None]
    rel_h = [v for r in records if (v := r["reliability"].get("encoder")) is not None]
    seconds = sum(r["timings_s"]["total"] for r in records)
    mean_x = np.mean(rel_x) if rel_x else float("nan")
    mean_h = np.mean(rel_h) if rel_h else float("nan")
    model = records[0]["model"] if records else "?"
    masks = records[0]["masks"] if records else {}
    parts = [
        f"# Study report: {run.name}\n",
        f"{len(records)} utterances ({len(failures)} failed), model {model}, masks {masks}, "
        f"{seconds / 60:.1f} min of computation. Split-half reliability: SM_X mean "
        f"{mean_x:.2f}, SM_H mean {mean_h:.2f}.\n",
        *fidelity_summary(records),
        "## Agreement (Pearson r, mean over utterances, 95% bootstrap interval)\n",
        markdown(main, ["pair", "granularity", "mean", "ci_low", "ci_high", "n"]),
        "## Faithfulness (AUC / 100 of the deletion and insertion curves)\n",
        markdown(tables["faithfulness"],
                 ["scoring", "metric", "curve", "explanation", "mean", "ci_low", "ci_high", "n"]),
        "## Size (compactness, percent; lower = more compact)\n",
        markdown(tables["size"], ["explanation", "mean", "ci_low", "ci_high"]),
        "## The paper's trends on this run\n",
        markdown(tables["trends"], ["trend", "holds", "evidence", "paper"]),
    ]
    if tables.get("league"):
        verdict = cheapest_within(tables["league"], records)["verdict"]
        parts += ["## Cheaper explanations scored against SPES (Pearson r, mean over utterances)\n",
                  markdown(tables["league"], ["explanation", "r_SMX", "r_SMH", "deletion", "insertion", "size",
                                              "seconds", "passes"]),
                  f"{verdict}.\n"]
    if tables.get("tokens"):
        parts += ["## Per-token agreement of cross-attention with SPES\n",
                  markdown(tables["tokens"], ["grouping", "group", "pair", "n", "mean", "median", "q25", "q75"]),
                  "### Tokens where cross-attention and SM_H disagree most\n",
                  markdown(tables["worst_tokens"]),
                  "### Is cross-attention enough here? SPES-free signals predicting low agreement (AUROC)\n",
                  markdown(tables["indicators"])]
    if failures:
        parts += ["## Failures\n", markdown([{"id": f["id"], "reason": f.get("reason", "")} for f in failures])]
    return "\n".join(parts)
