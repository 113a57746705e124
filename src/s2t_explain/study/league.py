"""Is something cheaper than SPES good enough? Tables over a run's records (no model needed).

- ``league_table``: every explanation (cross-attention, the other methods, SPES maps for
  reference) with its agreement with SPES (SM_X pooled, SM_H; every statistic), its faithfulness
  (deletion / insertion AUC) and size, against its cost; ``cheapest_within`` names the cheapest
  whose deletion AUC is within ``margin`` of pooled SM_X's (ours: 10%).
- ``token_tables``: per-token agreement of cross-attention with SPES by token kind, word class,
  probability and attention entropy; ``worst_token_table``: where they disagree most.
- ``indicator_table``: can a signal computable without SPES (attention entropy, the token's
  probability, agreement of cross-attention with a cheap method) predict low agreement with
  SPES? AUROC per token and per utterance ("low" = below the run's median, ours).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics.stats import bootstrap_mean
from ..metrics.text import HIGHER_IS_BETTER
from ..metrics.tokens import auroc, summarize_by, worst_tokens
from .record import SPES_TARGETS, UtteranceRecord

Row = dict[str, Any]
LEAGUE_MARGIN = 0.10  # (ours) "as faithful as SPES": deletion AUC within 10% of pooled SM_X's
SPES = {study: target for target, study in SPES_TARGETS.items()}  # study map -> the target name methods use


def _mean(values: list[float]) -> dict[str, float]:
    mean, low, high = bootstrap_mean([_num(v) for v in values])  # NaN (and None) left out
    return {"mean": mean, "ci_low": low, "ci_high": high}


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _deletion(record: UtteranceRecord, name: str) -> tuple[str, str, float] | None:
    """(scoring, metric, deletion AUC) of ``name`` in the record's first scoring, if any."""
    for how, curves in record.get("faithfulness", {}).items():
        if name in curves["deletion"]:
            return how, curves["metric"], _num(curves["deletion"][name]["auc"])
    return None


def league_table(records: list[UtteranceRecord], statistic: str = "pearson") -> list[Row]:
    """One row per explanation: agreement with SM_X pooled / SM_H (mean, 95% CI), deletion and
    insertion AUC, size, seconds and passes (mean per utterance)."""
    if not records:
        return []
    rows: list[Row] = []
    names = ["CA", *dict.fromkeys(m for r in records for m in r.get("methods", {})), *SPES]
    for name in names:
        row: Row = {"explanation": name}
        for target in ("SMX", "SMH"):
            values = [_agreement(r, name, target, statistic) for r in records]
            m = _mean(values)
            row[f"r_{target}"], row[f"r_{target}_ci"] = m["mean"], [m["ci_low"], m["ci_high"]]
        for mode in ("deletion", "insertion"):
            aucs = [_num(f[mode][name]["auc"]) for r in records for f in list(r.get("faithfulness", {}).values())[:1]
                    if name in f[mode]]
            row[mode] = _mean(aucs)["mean"]
        row["size"] = _mean([_size(r, name) for r in records])["mean"]
        seconds, passes = _cost(records, name)
        row["seconds"], row["passes"] = seconds, passes
        rows.append(row)
    return rows


def _agreement(record: UtteranceRecord, name: str, target: str, statistic: str) -> float:
    if name == "CA":
        return _num(record["agreement"][f"CA-{target}"][statistic]["all"])  # type: ignore[literal-required]
    if name in SPES:  # a SPES map against itself (1) or against the other one
        return 1.0 if SPES[name] == target else _num(record["agreement"]["SMX-SMH"][statistic])
    method = record.get("methods", {}).get(name)
    return _num(method["agreement"][target][statistic].get("all")) if method else float("nan")


def _size(record: UtteranceRecord, name: str) -> float:
    if name in record["size"]:
        return _num(record["size"][name])
    method = record.get("methods", {}).get(name)
    return _num(method["size"]) if method else float("nan")


def _cost(records: list[UtteranceRecord], name: str) -> tuple[float, float]:
    """Mean seconds and passes per utterance; SPES: the explain time and its masks (one pass each,
    batched passes counted per mask); CA: free beside decoding (0)."""
    if name == "CA":
        return 0.0, 0.0
    if name in SPES:  # both SPES maps come from one explain run: its time and mask count
        return (float(np.mean([r["timings_s"]["explain"] for r in records])),
                float(np.mean([sum(v or 0 for v in r["masks"].values()) for r in records])))
    costs = [r["methods"][name]["cost"] for r in records if name in r.get("methods", {})]
    if not costs:
        return float("nan"), float("nan")
    return (float(np.mean([c["seconds"] for c in costs])),
            float(np.mean([c["forward"] + c["backward"] for c in costs])))


def cheapest_within(league: list[Row], records: list[UtteranceRecord], margin: float = LEAGUE_MARGIN) -> Row:
    """The cheapest explanation whose mean deletion AUC is within ``margin`` of pooled SM_X's (the
    direction follows the metric: damage rises for WER and log-prob drop, falls for BLEU/chrF)."""
    reference = next((r for r in league if r["explanation"] == "SMX-pooled"), None)
    first = next((d for d in (_deletion(r, "SMX-pooled") for r in records) if d is not None), None)
    if reference is None or first is None or not np.isfinite(reference["deletion"]):
        return {"verdict": "no faithfulness curves in this run: nothing to compare", "explanation": None}
    _, metric, _ = first
    damage_up = not HIGHER_IS_BETTER.get(metric, False)  # logprob_drop and WER rise as evidence is removed
    target = reference["deletion"]
    ok = [r for r in league if r["explanation"] not in SPES and np.isfinite(r["deletion"])
          and (r["deletion"] >= (1 - margin) * target if damage_up else r["deletion"] <= (1 + margin) * target)]
    if not ok:
        best = max((r for r in league if r["explanation"] not in SPES and np.isfinite(r["deletion"])),
                   key=lambda r: r["deletion"] if damage_up else -r["deletion"], default=None)
        return {"verdict": f"no method is within {margin:.0%} of pooled SM_X's deletion AUC ({target:.3f} {metric}); "
                f"the most faithful is {best['explanation'] if best else 'none'}"
                f" ({best['deletion']:.3f})" if best else "", "explanation": None}
    pick = min(ok, key=lambda r: (r["seconds"], r["passes"]))
    return {"verdict": f"{pick['explanation']} is the cheapest within {margin:.0%} of pooled SM_X's deletion AUC "
            f"({pick['deletion']:.3f} vs {target:.3f} {metric}) at {pick['seconds']:.2f} s per utterance "
            f"(SPES: {reference['seconds']:.1f} s)", "explanation": pick["explanation"]}


def _tokens(records: list[UtteranceRecord]) -> dict[str, list[Any]]:
    """All explained tokens of the run, flattened: utterance id, label, kind, class, prob, entropy, r's."""
    out: dict[str, list[Any]] = {"id": [], "label": [], "kind": [], "class": [], "prob": [], "entropy": []}
    pairs = sorted({p for r in records if "tokens" in r for p in r["tokens"]["r"]})
    for p in pairs:
        out[p] = []
    for r in records:
        t = r.get("tokens")
        if not t:
            continue
        n = len(t["labels"])
        out["id"] += [r["id"]] * n
        out["label"] += t["labels"]
        out["kind"] += t["kinds"]
        out["class"] += t["classes"]
        out["prob"] += [_num(v) for v in t["prob"]]
        out["entropy"] += [_num(v) for v in t["entropy"]]
        for p in pairs:
            out[p] += [_num(v) for v in t["r"].get(p, [None] * n)]
    return out


def _bins(values: list[float], edges: tuple[float, ...], label: str) -> list[str | None]:
    out: list[str | None] = []
    for v in values:
        if not np.isfinite(v):
            out.append(None)
            continue
        k = int(np.searchsorted(edges, v, side="right"))
        lo = "0" if k == 0 else f"{edges[k - 1]:g}"
        hi = "1" if k == len(edges) else f"{edges[k]:g}"
        out.append(f"{label} {lo}-{hi}")
    return out


def _terciles(values: list[float]) -> tuple[float, ...]:
    """The run's own tercile edges (ours): a fixed band would put every diffuse attention row in one."""
    finite = np.asarray([v for v in values if np.isfinite(v)], float)
    if len(finite) < 3:
        return (0.5,)
    return tuple(round(float(q), 3) for q in np.quantile(finite, [1 / 3, 2 / 3]))


def token_tables(records: list[UtteranceRecord]) -> list[Row]:
    """Per-token Pearson r of CA with SM_X pooled and SM_H, summarised by grouping (all tokens,
    token kind, English word class, probability bands and the run's attention-entropy terciles)."""
    t = _tokens(records)
    if not t["label"]:
        return []
    groupings: dict[str, list[str | None]] = {
        "all": ["all tokens"] * len(t["label"]),
        "kind": t["kind"],
        "word class": t["class"],
        "probability": _bins(t["prob"], (0.5, 0.9), "p"),
        "entropy": _bins(t["entropy"], _terciles(t["entropy"]), "entropy"),
    }
    rows: list[Row] = []
    for grouping, groups in groupings.items():
        for pair in ("CA-SMX", "CA-SMH"):
            for group, s in summarize_by(np.asarray(t[pair], float), groups).items():
                rows.append({"grouping": grouping, "group": group, "pair": pair, **s})
    return rows


def worst_token_table(records: list[UtteranceRecord], k: int = 10) -> list[Row]:
    """The k tokens of the run whose cross-attention agrees least with SM_H (lowest row r)."""
    t = _tokens(records)
    if not t["label"] or "CA-SMH" not in t:
        return []
    return [{"id": t["id"][i], "token": label, "kind": t["kind"][i], "r_CA_SMH": r, "r_CA_SMX": _num(t["CA-SMX"][i]),
             "prob": t["prob"][i], "entropy": t["entropy"][i]}
            for i, label, r in worst_tokens(np.asarray(t["CA-SMH"], float), t["label"], k)]


def indicator_table(records: list[UtteranceRecord]) -> list[Row]:
    """AUROC of SPES-free signals for "low agreement" (r below the run's median), per token and per
    utterance, for CA vs SM_H and vs SM_X pooled. 0.5 = no better than chance."""
    t = _tokens(records)
    rows: list[Row] = []
    if not t["label"]:
        return rows
    signals = {"attention entropy": np.asarray(t["entropy"], float),
               "1 - probability": 1 - np.asarray(t["prob"], float)}
    for cheap in ("CA-attention-norm", "CA-grad-encoder"):
        if cheap in t:
            signals[f"-r({cheap})"] = -np.asarray(t[cheap], float)
    ids = np.asarray(t["id"])
    for pair in ("CA-SMH", "CA-SMX"):
        target = np.asarray(t[pair], float)
        finite = np.isfinite(target)
        low = target < np.nanmedian(target)
        for name, score in signals.items():
            rows.append({"level": "token", "target": f"low r({pair})", "signal": name, "n": int(finite.sum()),
                         "auroc": auroc(score[finite], low[finite])})
        utterances = sorted(set(ids))
        mean_target = np.array([np.nanmean(target[ids == u]) for u in utterances])
        for name, score in signals.items():
            mean_score = np.array([np.nanmean(score[ids == u]) for u in utterances])
            ok = np.isfinite(mean_target)
            rows.append({"level": "utterance", "target": f"low r({pair})", "signal": name, "n": int(ok.sum()),
                         "auroc": auroc(mean_score[ok], (mean_target < np.nanmedian(mean_target))[ok])})
    return rows
