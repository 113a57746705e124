"""Agreement between any two maps by name (``StudyOptions.pairs``): known answers from the paper's
pairs, grains checked, a table over records."""

from __future__ import annotations

import numpy as np
import pytest

from s2t_explain.errors import OptionError
from s2t_explain.explainers.catalog import new_map
from s2t_explain.study.options import StudyOptions
from s2t_explain.study.pairs import compare_pairs, pairs_table, parse_pair
from s2t_explain.study.utterance import compare
from study.helpers_study import synthetic_explanation


def test_named_pairs_equal_the_papers_pairs_on_the_same_maps():
    result = synthetic_explanation(3)
    options = StudyOptions(statistics=("pearson", "spearman"), attention_heads="all")
    paper = compare(result, options)["agreement"]
    rows = result.text_rows(options.include_eos)
    named = compare_pairs(result, ("attention:SM_H", "SM_X:spes-encoder", "CA:spes-input"), rows,
                          options.statistics, options.pooling, options.attention_heads, options.normalization)
    assert list(named) == ["attention:spes-encoder", "spes-input:spes-encoder", "attention:spes-input"]
    for stat in options.statistics:
        assert named["attention:spes-encoder"]["r"][stat] == pytest.approx(paper["CA-SMH"][stat]["all"])
        assert named["spes-input:spes-encoder"]["r"][stat] == pytest.approx(paper["SMX-SMH"][stat])
        assert named["attention:spes-input"]["r"][stat] == pytest.approx(paper["CA-SMX"][stat]["all"])
    per_token = named["attention:spes-encoder"]["per_token"]
    assert per_token.shape == (int(rows.sum()),) and np.all(np.abs(per_token) <= 1)


def test_a_method_map_against_spes_and_bad_pairs():
    result = synthetic_explanation(1)
    rows = result.text_rows()
    smh = result["spes-encoder"].values
    result.maps["grad-encoder"] = new_map("grad-encoder", 2 * smh + 1)  # a rescaled copy: r = 1
    out = compare_pairs(result, ("grad-encoder:SM_H",), rows, ("pearson", "kendall"))
    assert out["grad-encoder:spes-encoder"]["r"] == {"pearson": pytest.approx(1.0), "kendall": pytest.approx(1.0)}
    with pytest.raises(OptionError, match="no common grain"):
        parse_pair("spes-token:attention")
    with pytest.raises(OptionError, match="compares spes-encoder with itself"):
        parse_pair("SM_H:spes-encoder")
    with pytest.raises(OptionError, match="bad map pair 'grad-encoder'"):
        parse_pair("grad-encoder")
    with pytest.raises(OptionError, match="unknown explanation map 'smh'"):
        parse_pair("smh:attention")
    with pytest.raises(OptionError, match="no grad-input map"):
        compare_pairs(result, ("grad-input:SM_H",), rows, ("pearson",))
    with pytest.raises(OptionError, match="no common grain"):
        StudyOptions(pairs=("spes-token:SM_H",))


def test_pairs_table_over_records():
    records = [{"pairs": {"a:b": {"r": {"pearson": 0.2}, "per_token": []}}},
               {"pairs": {"a:b": {"r": {"pearson": 0.4}, "per_token": []}}},
               {"pairs": {"a:b": {"r": {"pearson": None}, "per_token": []}}}, {}]
    (row,) = pairs_table(records)
    assert row["pair"] == "a:b" and row["statistic"] == "pearson" and row["n"] == 2
    assert row["mean"] == pytest.approx(0.3) and row["ci_low"] <= 0.3 <= row["ci_high"]
    assert pairs_table([{}]) == []


def test_a_pair_of_a_map_the_study_does_not_compute_is_refused_at_once():
    assert StudyOptions(pairs=("grad-encoder:SM_H",)).pairs == ("grad-encoder:spes-encoder",)  # a default method
    with pytest.raises(OptionError, match="compares integrated-gradients, which the study does not compute"):
        StudyOptions(pairs=("integrated-gradients:SM_H",))
    with pytest.raises(OptionError, match="compares grad-encoder, which the study does not compute"):
        StudyOptions(methods=(), pairs=("grad-encoder:SM_H",))
    assert StudyOptions(methods=("GxH",)).methods == ("grad-encoder",)  # aliases of methods too
    with pytest.raises(OptionError, match="'SM_H' is not an explanation method"):
        StudyOptions(methods=("SM_H",))
