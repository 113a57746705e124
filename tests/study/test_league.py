"""Other explanation methods scored against SPES: per-utterance comparison (planted maps) and the
run-level tables (hand-made records with known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from s2t_explain.metrics.tokens import row_correlations
from s2t_explain.results.maps import Cost, Map
from s2t_explain.study.league import cheapest_within, indicator_table, league_table, token_tables, worst_token_table
from s2t_explain.study.methods import compare_methods, method_maps, token_analysis
from s2t_explain.study.options import StudyOptions
from s2t_explain.study.utterance import compare, study_maps
from study.helpers_study import synthetic_explanation


@pytest.fixture()
def planted():
    result = synthetic_explanation(n_text=5, t_enc=12)
    options = StudyOptions(statistics=("pearson", "kendall"), methods=())
    maps = study_maps(result, options)
    runs = {
        "copy-ca": Map(result.cross_attention.copy(), "per-head", cost=Cost(0.1, 1, 0)),
        "copy-smh": Map(result["spes-encoder"].values.copy(), "encoder", cost=Cost(0.2, 1, 1)),
        "copy-smx": Map(result["spes-input"].values.copy(), "input", cost=Cost(0.3, 2, 2)),
    }
    return result, options, maps, runs


def test_methods_equal_to_known_maps_score_as_those_maps(planted):
    result, options, maps, runs = planted
    record = compare_methods(result, maps, runs, options)
    ca = compare(result, options, maps)["agreement"]
    same = record["copy-ca"]["agreement"]["SMH"]["pearson"]
    np.testing.assert_allclose(np.array(same["head"], float), np.array(ca["CA-SMH"]["pearson"]["head"], float))
    assert tuple(same["best-head-index"]) == (1, 2)  # the head SM_H was planted in
    assert record["copy-smh"]["agreement"]["SMH"]["pearson"]["all"] == pytest.approx(1.0)
    assert record["copy-smh"]["agreement"]["SMH"]["kendall"]["all"] == pytest.approx(1.0)
    np.testing.assert_allclose(record["copy-smh"]["per_token"]["SMH"], 1.0)
    assert record["copy-smx"]["agreement"]["SMX"]["pearson"]["all"] == pytest.approx(1.0)  # pooled like SM_X
    assert record["copy-smx"]["grain"] == "input" and record["copy-smx"]["cost"] == {"seconds": 0.3, "forward": 2,
                                                                                   "backward": 2}
    assert "head" not in record["copy-smh"]["agreement"]["SMX"]["pearson"]
    shapes = method_maps(result, runs, options)
    assert shapes["copy-ca"]["heads"].shape == (2, 3, 5, 12) and shapes["copy-smx"]["full"].shape == (5, 24, 6)


def test_token_analysis_rows(planted):
    result, options, maps, runs = planted
    tokens = token_analysis(result, maps, method_maps(result, runs, options), options)
    assert tokens["labels"] == [" w"] * 5 and tokens["kinds"][0] == "first"
    np.testing.assert_allclose(tokens["r"]["CA-SMH"], row_correlations(maps["CA"], maps["SMH"]))
    assert len(tokens["entropy"]) == 5 and np.all((tokens["entropy"] >= 0) & (tokens["entropy"] <= 1))


def record(uid: str, deletion: dict[str, float], seconds: dict[str, float], r_smh: dict[str, float],
           token_r: list[float], entropy: list[float]) -> dict:
    """A minimal study record: agreement 'all' values, one scoring's deletion/insertion AUCs, costs."""
    steps = [0.0, 50.0, 100.0]
    curves = {mode: {name: {"curve": [0, auc, 0], "auc": auc} for name, auc in deletion.items()}
              for mode in ("deletion", "insertion")}
    methods = {name: {"grain": "encoder", "cost": {"seconds": s, "forward": 1, "backward": 1},
                      "agreement": {t: {"pearson": {"all": r_smh[name]}} for t in ("SMX", "SMH")},
                      "size": 10.0, "per_token": {}} for name, s in seconds.items()}
    n = len(token_r)
    return {"id": uid, "agreement": {"CA-SMX": {"pearson": {"all": r_smh["CA"]}},
                                     "CA-SMH": {"pearson": {"all": r_smh["CA"]}}, "SMX-SMH": {"pearson": 0.5}},
            "size": {"CA": 5.0, "SMX-pooled": 20.0, "SMX": 30.0, "SMH": 25.0},
            "faithfulness": {"logprob": {"steps": steps, "how": "logprob", "metric": "logprob_drop", **curves}},
            "timings_s": {"explain": 100.0, "faithfulness": 1.0, "total": 101.0},
            "masks": {"input": 64, "encoder": 128},
            "methods": methods,
            "tokens": {"labels": [f" t{k}" for k in range(n)], "kinds": ["word-initial"] * n, "classes": [None] * n,
                       "prob": [0.9] * n, "entropy": entropy, "r": {"CA-SMH": token_r, "CA-SMX": token_r}}}


def test_league_table_and_the_cheapest_method_within_the_margin():
    deletion = {"CA": 5.0, "SMX-pooled": 10.0, "SMX": 12.0, "SMH": 9.0, "cheap": 9.5, "dear": 11.0, "poor": 4.0}
    seconds = {"cheap": 1.0, "dear": 5.0, "poor": 0.5}
    r = {"CA": 0.4, "cheap": 0.6, "dear": 0.8, "poor": 0.1}
    records = [record(f"u{k}", deletion, seconds, r, [0.1, 0.5], [0.9, 0.2]) for k in range(3)]
    league = {row["explanation"]: row for row in league_table(records)}
    assert list(league) == ["CA", "cheap", "dear", "poor", "SMX-pooled", "SMH"]
    assert league["cheap"]["r_SMH"] == pytest.approx(0.6) and league["CA"]["r_SMX"] == pytest.approx(0.4)
    assert league["SMX-pooled"]["r_SMX"] == 1.0 and league["SMX-pooled"]["r_SMH"] == pytest.approx(0.5)
    assert league["dear"]["deletion"] == pytest.approx(11.0) and league["SMH"]["passes"] == 192
    assert league["CA"]["seconds"] == 0.0 and league["cheap"]["passes"] == 2
    verdict = cheapest_within(list(league.values()), records)
    assert verdict["explanation"] == "cheap"  # 9.5 >= 0.9 x 10; cheaper than "dear"
    strict = cheapest_within(list(league.values()), records, margin=0.01)
    assert strict["explanation"] == "dear"  # only 11.0 is within 1% (above) of 10
    none = [record("u", {**deletion, "cheap": 2.0, "dear": 3.0}, seconds, r, [0.1], [0.5])]
    verdict = cheapest_within(league_table(none), none)
    assert verdict["explanation"] is None and "no method is within 10%" in verdict["verdict"]


def test_token_tables_and_indicators_on_planted_tokens():
    # tokens with high attention entropy are the ones that disagree: entropy predicts low r perfectly
    records = [record(f"u{k}", {"CA": 1.0, "SMX-pooled": 2.0, "SMX": 2.0, "SMH": 2.0}, {}, {"CA": 0.3},
                      [0.1, 0.2, 0.8, 0.9], [0.9, 0.8, 0.2, 0.1]) for k in range(2)]
    rows = indicator_table(records)
    by = {(r["level"], r["target"], r["signal"]): r for r in rows}
    assert by[("token", "low r(CA-SMH)", "attention entropy")]["auroc"] == pytest.approx(1.0)
    assert by[("token", "low r(CA-SMH)", "attention entropy")]["n"] == 8
    assert by[("token", "low r(CA-SMH)", "1 - probability")]["auroc"] == pytest.approx(0.5)  # constant: chance
    summary = {(r["grouping"], r["group"], r["pair"]): r for r in token_tables(records)}
    assert summary[("all", "all tokens", "CA-SMH")]["n"] == 8
    assert summary[("all", "all tokens", "CA-SMH")]["mean"] == pytest.approx(0.5)
    # the run's entropy terciles (values 0.1, 0.2, 0.8, 0.9, twice) are 0.2 and 0.8: the top band
    # [0.8, 1] holds the tokens with r = 0.2 and 0.1
    assert summary[("entropy", "entropy 0.8-1", "CA-SMH")]["mean"] == pytest.approx(0.15)
    assert summary[("entropy", "entropy 0.8-1", "CA-SMH")]["n"] == 4
    worst = worst_token_table(records, k=3)
    assert [w["r_CA_SMH"] for w in worst] == [0.1, 0.1, 0.2] and worst[0]["token"] == " t0"
