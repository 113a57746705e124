"""Fidelity classes: which settings are the paper's SM_X, and what a result says when it is not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from helpers import clip_path
from s2t_explain.dtypes import cpu_has_bfloat16
from s2t_explain.saliency.explain import pass_precision
from s2t_explain.saliency.fidelity import MEASURED, TARGET_FIDELITY, assess, differences
from s2t_explain.saliency.options import (
    DEFAULT_PRESET,
    EncoderSaliencyOptions,
    InputSaliencyOptions,
    SaliencyOptions,
    preset,
)


def test_the_default_preset_is_the_papers_setting():
    faithful = preset(DEFAULT_PRESET)
    assert differences(faithful) == () and differences(preset("paper")) == ()
    assert faithful.input is not None and faithful.input.n_masks < preset("paper").input.n_masks  # type: ignore[union-attr]
    assert assess(faithful).kind == "paper" and assess(faithful).meets_target is None  # no run yet: not known


def test_a_paper_run_is_judged_by_its_own_pooled_reliability():
    options = preset(DEFAULT_PRESET)
    good = assess(options, reliability_pooled=0.91, masks=4096)
    assert good.meets_target and good.note is None and good.pooled_fidelity == pytest.approx(np.sqrt(0.91))
    noisy = assess(options, reliability_pooled=0.64, masks=1024)
    assert noisy.meets_target is False and noisy.pooled_fidelity == pytest.approx(0.8)
    assert "1024 masks" in noisy.note and "0.800 fidelity" in noisy.note and "\n" not in noisy.note  # type: ignore[operator]
    assert assess(options, reliability_pooled=TARGET_FIDELITY**2 + 1e-9).meets_target


@pytest.mark.parametrize("change,words", [
    (lambda o: replace(o, scorer="prob_drop"), "prob_drop scorer"),
    (lambda o: replace(o, estimator="regression"), "regression estimator"),
    (lambda o: replace(o, input=replace(o.input, design="balanced")), "balanced masks"),
    (lambda o: replace(o, input=replace(o.input, p=0.3)), "p = 0.3"),
    (lambda o: replace(o, input=replace(o.input, granularities=(1000, 1250, 1500))), "segmentation 1000/1250/1500"),
    (lambda o: replace(o, input=replace(o.input, masks="grid")), "grid masks"),
])
def test_every_departure_from_the_papers_estimand_is_named(change, words):
    options = change(preset(DEFAULT_PRESET))
    assert any(words in what for what in differences(options))
    found = assess(options, reliability_pooled=0.99)  # reliable, but of another map
    assert found.kind in ("measured", "unmeasured") and found.note and words in " ".join(found.differs)


def test_the_fast_preset_says_how_far_it_is_from_the_papers_map():
    fast = assess(preset("fast"), reliability_pooled=0.95)
    assert fast.meets_target is False and "coarse segmentation" in fast.note  # type: ignore[operator]
    entry = MEASURED.get((preset("fast").input.granularities, "regression"))  # type: ignore[union-attr]
    assert entry is not None and f"{entry.bias:+.2f}" in fast.note and fast.kind == "measured"  # type: ignore[operator]


def test_no_input_saliency_has_no_class():
    options = SaliencyOptions(input=None, encoder=EncoderSaliencyOptions(n_masks=8))
    assert assess(options).kind == "none" and assess(options).note is None


def test_auto_precision_picks_bfloat16_only_where_native():
    cpu = torch.device("cpu")
    assert pass_precision("float32", cpu, "input") == "float32" and pass_precision("float16", cpu, "input") == "float16"
    assert pass_precision("auto", cpu, "input") == ("bfloat16" if cpu_has_bfloat16() else "float32")
    assert pass_precision("auto", cpu, "encoder") == "float32"  # decoder-only passes: slower in bfloat16 on CPUs


def test_results_say_their_fidelity_in_one_line(tiny_whisper):
    """A result made with a setting below the target carries its class and one line about it."""
    import s2t_explain as s2t

    coarse = SaliencyOptions(input=InputSaliencyOptions(n_masks=16, granularities=(40, 60)),
                             encoder=EncoderSaliencyOptions(n_masks=16), batch_size=8)
    result = s2t.explain(tiny_whisper, clip_path("en_1"), saliency=coarse, text="hello there", progress=False)
    record = result["spes-input"].reliability["fidelity"]  # type: ignore[index]
    assert record["kind"] == "unmeasured" and record["meets_target"] is None
    notes = result.fidelity_notes()
    assert len(notes) == 1
    assert notes[0].startswith("fidelity: SM_X differs from the paper's setting (coarse segmentation 40/60")
    assert notes[0] in result.reliability_report()
    assert result["spes-encoder"].reliability["precision"] == "float32"  # type: ignore[index]


def test_the_study_report_says_how_many_utterances_miss_the_target():
    from s2t_explain.study.report import fidelity_summary

    paper = preset(DEFAULT_PRESET)
    good, noisy = assess(paper, 0.95, 4096).record(), assess(paper, 0.64, 512).record()
    assert fidelity_summary([{"fidelity": good}, {"fidelity": good}]) == []  # type: ignore[list-item]
    (line,) = fidelity_summary([{"fidelity": good}, {"fidelity": noisy}])  # type: ignore[list-item]
    assert line.startswith("**Fidelity: 1 of 2 utterances below the target (estimated pooled fidelity 0.80-0.97)**")
    assert "512 masks" in line
    lines = fidelity_summary([{"fidelity": assess(paper).record()}, {}])  # type: ignore[list-item]
    assert "not recorded for 1 of 2" in lines[0] and "1 of 1 utterances not known" in lines[1]


def test_explorer_pages_show_the_fidelity_line():
    from s2t_explain.explorer.data import utterance_data
    from study.helpers_study import synthetic_explanation

    result = synthetic_explanation(0)
    assert not [n for n in utterance_data(result)["notes"] if n.startswith("fidelity")]  # nothing recorded: no line
    result["spes-input"].reliability["fidelity"] = assess(preset("fast"), 0.9, 512).record()  # type: ignore[index]
    notes = [n for n in utterance_data(result)["notes"] if n.startswith("fidelity")]
    assert notes == [f"fidelity: {assess(preset('fast')).note}"]
