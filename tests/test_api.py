"""The library API: keyword-only options checked up front, and every list of choices from its registry."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import s2t_explain as s2t
from helpers import speechlike
from s2t_explain.errors import OptionError


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return speechlike(0.8)


def test_options_after_audio_are_keyword_only(tiny_whisper, audio):
    with pytest.raises(TypeError):
        s2t.transcribe(tiny_whisper, audio, s2t.DecodingOptions())  # type: ignore[misc]
    with pytest.raises(TypeError):
        s2t.explain(tiny_whisper, audio, "fast")  # type: ignore[misc]
    with pytest.raises(TypeError):
        s2t.prepare(tiny_whisper, audio, 16000)  # type: ignore[misc]
    text = s2t.transcribe(tiny_whisper, audio, decoding=s2t.DecodingOptions(max_new_tokens=3)).text
    assert isinstance(text, str)


def test_wrong_option_types_fail_before_any_work(tiny_whisper, audio, monkeypatch):
    import s2t_explain.pipeline as pipeline

    monkeypatch.setattr(pipeline, "make_transcript", lambda *a, **k: pytest.fail("decoding ran before the check"))
    monkeypatch.setattr(pipeline, "prepare", lambda *a, **k: pytest.fail("audio was encoded before the check"))
    with pytest.raises(OptionError, match=r"saliency= takes SaliencyOptions or str, got DecodingOptions"):
        s2t.explain(tiny_whisper, audio, saliency=s2t.DecodingOptions())  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"decoding= takes DecodingOptions, got SaliencyOptions"):
        s2t.explain(tiny_whisper, audio, decoding=s2t.preset("fast"))  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"decoding= takes DecodingOptions"):
        s2t.transcribe(tiny_whisper, audio, decoding="greedy")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"decoding= takes DecodingOptions"):
        s2t.explain_attention(tiny_whisper, audio, decoding={"beam_size": 5})  # type: ignore[arg-type]


def test_model_and_audio_types_are_checked(tiny_whisper):
    with pytest.raises(OptionError, match=r"model= takes SpeechToTextModel, got str; load it with"):
        s2t.prepare("whisper-tiny.en", speechlike(0.5))  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"audio= takes str or Path or ndarray, got list"):
        s2t.transcribe(tiny_whisper, [0.0, 0.1])  # type: ignore[arg-type]


def test_an_explanation_from_the_top_level_api(tiny_whisper, audio):
    options = s2t.SaliencyOptions(input=None, encoder=s2t.EncoderSaliencyOptions(n_masks=8), batch_size=4)
    result = s2t.explain(tiny_whisper, audio, saliency=options, text="hello there", progress=False)
    assert list(result.maps) == ["attention", "spes-encoder"]  # what the options configure
    smh = result["spes-encoder"]
    assert smh.values.shape == result.shape[2:] and smh.grain == "encoder" and smh.reliability["n_masks"] == 8
    assert smh.label == "SM_H" and smh.units == "KL divergence (nats)" and smh.cost.forward == 2  # 8 masks / 4
    assert result.timings["spes-encoder"] == smh.cost.seconds > 0
    words = s2t.word_timestamps(result, "spes-encoder")
    assert [w.word for w in words] == [" hello", " there"]
    chosen = s2t.explain(tiny_whisper, audio, maps="grad-encoder", saliency=options, text="hello there",
                         progress=False)
    assert list(chosen.maps) == ["attention", "grad-encoder"] and chosen.saliency_options == {}
    from s2t_explain.pipeline import requested_maps

    tokens = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=8, p_dec=0.5), encoder=None)
    assert "spes-token" in requested_maps("all", tokens) and "spes-token" in requested_maps("spes-input", tokens)
    assert "spes-token" not in requested_maps("all", options)  # no token masks: the group leaves it out
    with pytest.raises(OptionError, match="unknown explanation map 'smh'"):
        s2t.explain(tiny_whisper, audio, maps="smh", saliency=options, progress=False)


def test_every_list_matches_its_registry():
    from s2t_explain.alignment.heads import HEAD_RANKINGS
    from s2t_explain.attention.heads import HEAD_SETS
    from s2t_explain.explainers.catalog import EXPLAINERS, KINDS
    from s2t_explain.longform.windows import WINDOWINGS
    from s2t_explain.metrics.agreement import CORRELATIONS
    from s2t_explain.metrics.text import TEXT_METRICS
    from s2t_explain.normalization import NORMALIZATIONS
    from s2t_explain.pooling import POOLING
    from s2t_explain.saliency.estimators import ESTIMATORS
    from s2t_explain.saliency.masks import ENCODER_MASKS, INPUT_MASKS
    from s2t_explain.saliency.scorers import SCORERS
    from s2t_explain.study.alignment import ALIGNMENT_METHODS

    assert s2t.list_models() == ["whisper-tiny.en", "whisper-base"]
    assert s2t.list_tasks() == ["transcribe", "translate"]
    assert "it" in s2t.list_languages() and len(s2t.list_languages()) == 100
    assert s2t.list_presets() == ["faithful", "fast", "paper"]
    pairs = [(s2t.list_head_sets, HEAD_SETS), (s2t.list_scorers, SCORERS), (s2t.list_estimators, ESTIMATORS),
             (s2t.list_pooling, POOLING), (s2t.list_normalizations, NORMALIZATIONS),
             (s2t.list_correlations, CORRELATIONS), (s2t.list_text_metrics, TEXT_METRICS),
             (s2t.list_head_rankings, HEAD_RANKINGS), (s2t.list_alignment_methods, ALIGNMENT_METHODS),
             (s2t.list_maps, EXPLAINERS), (s2t.list_windowings, WINDOWINGS)]
    for listed, registry in pairs:
        assert listed() == registry.names() and listed(), registry.kind
    assert s2t.list_maps() == list(KINDS) and s2t.list_methods() == [n for n in KINDS if not n.startswith("spes")]
    assert s2t.list_timestamp_sources() == [n for n, k in KINDS.items() if k.grain != "token"]
    assert s2t.list_mask_families() == {"input": INPUT_MASKS.names(), "encoder": ENCODER_MASKS.names()}
    assert s2t.list_baselines()["input"] == ["silence", "zero", "mean"]


def _choices(parser: argparse.ArgumentParser, command: str, flag: str) -> list[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return list(next(a for a in sub._actions if flag in a.option_strings).choices)


def test_cli_choices_are_the_library_lists():
    from s2t_explain.cli.main import build_parser

    parser = build_parser()
    assert _choices(parser, "study", "--scorer") == s2t.list_scorers()
    assert _choices(parser, "explain", "--scorer") == s2t.list_scorers()
    assert _choices(parser, "study", "--estimator") == s2t.list_estimators()
    assert _choices(parser, "study", "--normalization") == s2t.list_normalizations()
    assert _choices(parser, "study", "--pooling") == s2t.list_pooling()
    assert _choices(parser, "study", "--task") == s2t.list_tasks() == _choices(parser, "transcribe", "--task")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["timestamps"]
    source = next(a for a in sub._actions if "--from" in a.option_strings)  # any map name or alias: checked later
    assert all(name in source.help for name in s2t.list_timestamp_sources()), source.help
    assert _choices(parser, "heads", "--method") == s2t.list_head_rankings()
    assert _choices(parser, "align-bench", "--methods") == s2t.list_alignment_methods()
    assert _choices(parser, "explain", "--preset") == s2t.list_presets()
    from s2t_explain.saliency.options import ACCUMULATE

    assert _choices(parser, "explain", "--accumulate") == list(ACCUMULATE) == _choices(parser, "study", "--accumulate")


def test_a_new_mask_family_is_one_registered_class():
    """Registering a family is all it takes: options accept it and the engine draws from it."""
    from helpers import make_toy_job
    from s2t_explain.saliency.masks import INPUT_MASKS, Group, MaskFamily

    @INPUT_MASKS.register("time-stripes")
    class TimeStripes(MaskFamily):  # whole-frequency stripes of 10 frames
        def __init__(self, spectrogram, p, design, seed):
            t, f = spectrogram.shape
            labels = np.broadcast_to((np.arange(t) // 10)[:, None], (t, f)).astype(np.int32)
            super().__init__([Group(labels, int(labels.max()) + 1, "stripes")], p, design, seed, stream=0)

        @classmethod
        def from_options(cls, spectrogram, o, seed):
            return cls(spectrogram, o.p, o.design, seed)

    try:
        options = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=64, masks="time-stripes"), encoder=None,
                                      batch_size=16)
        run, _ = make_toy_job(options).input_saliency()
        assert run.groups == {"stripes": 12}
        per_stripe = run.values[1].mean(axis=1)[::10]  # (12,): the toy model listens to input frames 40-59 only
        assert set(np.argsort(-per_stripe)[:2]) == {4, 5}
    finally:
        INPUT_MASKS._items.pop("time-stripes")
    with pytest.raises(OptionError, match="unknown input mask family 'time-stripes'; choose one of: superpixels, grid"):
        s2t.InputSaliencyOptions(masks="time-stripes")


def test_each_command_defaults_to_its_preset():
    """explain and study default to the faithful preset; timestamps, align-bench and long audio to fast."""
    from s2t_explain.cli.common import saliency_options
    from s2t_explain.cli.main import build_parser

    parser = build_parser()
    for argv, long_audio, name in [
        (["explain", "a.wav", "-o", "out"], False, "faithful"),
        (["explain", "a.wav", "-o", "out"], True, "fast"),
        (["study", "--manifest", "m.jsonl", "-o", "run"], False, "faithful"),
        (["timestamps", "a.wav"], False, "fast"),
        (["align-bench", "--manifest", "m.jsonl"], False, "fast"),
        (["explain", "a.wav", "-o", "out", "--preset", "paper"], True, "paper"),  # an explicit preset wins
    ]:
        assert saliency_options(parser.parse_args(argv), long_audio=long_audio) == s2t.preset(name), argv
    masks = saliency_options(parser.parse_args(["explain", "a.wav", "-o", "o", "--masks", "64", "--perturb-dtype",
                                                "float32"]))
    assert masks.input.n_masks == 64 and masks.precision == "float32"  # type: ignore[union-attr]
