"""Agreement between any two maps of one utterance, by map name (``StudyOptions.pairs``).

The paper's pairs (CA-SM_X, CA-SM_H, SM_X-SM_H, at every head/layer granularity) have their own
record keys (``study.record.Comparison``); these are the others a study asks for, written
``A:B`` with map names or aliases (``grad-encoder:SM_H``, ``attention-norm:spes-input``). Both maps
are brought to the same grain first: maps over time to encoder frames (``Explanation.map_over_frames``:
input maps pooled with the study's pooling, per-head maps aggregated over its
``attention_heads``), token maps as they are; a map over time and a token map cannot be compared.
No model and no torch: the comparison reads maps of a result, so it also runs on stored results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import OptionError
from ..explainers.catalog import KINDS, canonical
from ..metrics.agreement import correlate
from ..metrics.stats import bootstrap_mean
from ..metrics.tokens import row_correlations
from ..results.explanation import Explanation
from ..results.maps import FRAME_GRAINS


def parse_pair(text: str) -> tuple[str, str]:
    """``A:B`` -> (map name, map name), checked: known names of compatible grains."""
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) != 2 or not all(parts):
        raise OptionError(f"bad map pair {text!r}; write A:B with two map names, e.g. grad-encoder:spes-encoder")
    a, b = (canonical(p) for p in parts)
    if a == b:
        raise OptionError(f"map pair {text!r} compares {a} with itself")
    over_time = [KINDS[n].grain in FRAME_GRAINS for n in (a, b)]
    if over_time[0] != over_time[1]:
        raise OptionError(f"map pair {text!r}: {a} and {b} have no common grain (one is over time, one over tokens)")
    return a, b


def pair_key(a: str, b: str) -> str:
    return f"{a}:{b}"


def _comparable(result: Explanation, name: str, rows: np.ndarray, pooling: str, heads: str) -> np.ndarray:
    m = result[name]
    values = result.map_over_frames(name, pooling, heads) if m.over_time else m.values
    return values[rows]


def compare_pairs(result: Explanation, pairs: tuple[str, ...], rows: np.ndarray, statistics: tuple[str, ...],
                  pooling: str = "max", heads: str = "all", normalization: str = "zscore") -> dict[str, Any]:
    """``A:B`` -> ``study.record.PairRecord``: ``r`` (statistic -> correlation of the two maps over
    the explained ``rows``, each token's row normalized first) and ``per_token`` (Pearson r of each
    row); a pair whose map the result lacks fails with the maps it has."""
    out: dict[str, Any] = {}
    for text in pairs:
        a, b = parse_pair(text)
        x, y = (_comparable(result, n, rows, pooling, heads) for n in (a, b))
        out[pair_key(a, b)] = {"r": {s: correlate(x, y, s, normalization) for s in statistics},
                               "per_token": row_correlations(x, y)}
    return out


def pairs_table(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (pair, statistic): mean over the utterances that have it, with its interval."""
    rows: list[dict[str, Any]] = []
    names = list(dict.fromkeys(k for r in records for k in r.get("pairs", {})))
    for key in names:
        per = [r["pairs"][key]["r"] for r in records if key in r.get("pairs", {})]
        for stat in per[0]:
            values = [np.nan if p.get(stat) is None else float(p[stat]) for p in per]
            mean, low, high = bootstrap_mean(values)
            rows.append({"pair": key, "statistic": stat, "mean": mean, "ci_low": low, "ci_high": high,
                         "n": int(np.isfinite(values).sum())})
    return rows
