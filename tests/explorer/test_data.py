"""What an explorer page embeds, checked without a browser: shapes, quantization error, notes for
degenerate results, and a page that names nothing outside itself."""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import replace

import numpy as np
import pytest

from s2t_explain.decoding.transcript import Transcript
from s2t_explain.errors import OptionError
from s2t_explain.explainers.catalog import new_map
from s2t_explain.explorer import PageOptions, utterance_data, utterance_page
from s2t_explain.explorer.data import Packed, downsample, pack
from s2t_explain.explorer.page import audio_uri, render
from s2t_explain.results.explanation import Explanation

LABELS = ["<|notimestamps|>", " Hello", " world", "!", "<|endoftext|>"]
SPECIAL = np.array([True, False, False, False, True])


def make_result(n_frames: int = 300, layers: int = 2, heads: int = 3, saliency: tuple[str, ...] = ("input", "encoder"),
                labels: list[str] = LABELS, special: np.ndarray = SPECIAL, seed: int = 0) -> Explanation:
    """A hand-made result: T = ``n_frames`` feature frames (stride 2), F = 80 bins, random maps."""
    rng = np.random.default_rng(seed)
    n_enc, n_tok = -(-n_frames // 2), len(labels)
    transcript = Transcript(ids=[50257, *range(100, 100 + n_tok)], labels=list(labels), special=special.copy(),
                            logprobs=np.full(n_tok, -0.1), text="".join(t for t, s in zip(labels, special) if not s),
                            task="transcribe", language="en", prompt_length=2, source="decoded")
    attention = rng.random((layers, heads, n_tok, n_enc)).astype(np.float32)
    attention /= attention.sum(-1, keepdims=True)
    values = {"input": rng.random((n_tok, n_frames, 80)), "encoder": rng.random((n_tok, n_enc))}
    options = {"scorer": "kl", "estimator": "mean", "seed": 0}
    maps = {"attention": new_map("attention", attention)} | {
        f"spes-{m}": new_map(m, values[m], reliability={"n_masks": 64, "reliability": 0.7, "curve": [[64, 0.7]]},
                             options=options) for m in saliency}
    return Explanation(
        transcript=transcript, maps=maps, frame_times=np.arange(n_enc) * 0.02, n_frames=n_frames,
        model="whisper-test.en", audio="missing.wav", duration=n_frames / 100, alignment_heads=[(layers - 1, 0)],
        features=rng.normal(size=(80, n_frames)).astype(np.float32),
    )


def test_quantization_error_is_bounded_per_row():
    values = np.random.default_rng(1).normal(size=(4, 50, 7)) * np.array([1, 10, 100, 0.01])[:, None, None]
    packed = pack(values, 4)
    back = packed.unpack()
    assert back.shape == values.shape
    bound = (values.reshape(4, -1).max(1) - values.reshape(4, -1).min(1)) / 510  # half a step of 255
    err = np.abs(back - values).reshape(4, -1).max(1)
    assert np.all(err <= bound * (1 + 1e-9)) and np.all(err > 0)
    np.testing.assert_allclose(packed.lo, values.reshape(4, -1).min(1))
    constant = pack(np.full((2, 3), 5.0), 2).unpack()  # a flat row stays exact (no division by zero)
    np.testing.assert_array_equal(constant, 5.0)
    blob = packed.to_json()
    assert set(blob) == {"shape", "lo", "hi", "data"} and blob["shape"] == [4, 50, 7]


def test_downsample_takes_block_means_with_a_partial_last_block():
    x = np.arange(10, dtype=float)[None]  # (1, 10)
    out, block = downsample(x, 1, 4)  # blocks of 3: [0,1,2] [3,4,5] [6,7,8] [9]
    assert block == 3
    np.testing.assert_allclose(out, [[1.0, 4.0, 7.0, 9.0]])
    same, one = downsample(x, 1, 10)
    assert one == 1 and same is x


def test_utterance_data_shapes_and_limits():
    result = make_result(n_frames=3000)  # a 30-s window: 3000 x 80 input map, 1500 encoder frames
    options = PageOptions(max_columns=500, max_bins=40)
    data = utterance_data(result, options)
    maps = data["maps"]
    n = 3  # text tokens
    assert [t["text"] for t in data["tokens"]] == [" Hello", " world", "!"]
    assert maps["attention"]["shape"] == [2, 3, n, 500] and maps["attention"]["block"] == 3
    assert maps["input"]["shape"] == [n, 500, 40] and maps["input"]["bin_block"] == 2 and maps["input"]["block"] == 6
    assert maps["encoder"]["shape"] == [n, 500] and maps["input_pooled"]["shape"] == [n, 500]
    assert maps["spectrogram"]["shape"] == [1, 500, 40]
    assert len(maps["input"]["lo"]) == n and len(maps["attention"]["lo"]) == 2 * 3 * n
    assert np.array(data["agreement"]["encoder"]).shape == (2, 3)
    assert data["alignment_heads"] == [[1, 0]] and data["notes"] == []
    assert data["time"]["n_encoder_frames"] == 1500 and data["time"]["encoder_seconds"] == pytest.approx(0.02)
    assert set(data["words"]) == {"attention", "spes-input", "spes-encoder"}  # words timed from every map over time
    assert [m["name"] for m in data["map_list"]] == ["attention", "spes-input", "spes-encoder"]
    assert maps["map:spes-input"]["shape"] == [n, 500] and maps["map:attention"]["shape"] == [n, 500]
    assert maps["map:spes-encoder"]["grain"] == "encoder" and maps["map:spes-encoder"]["masks"] == 64
    words = data["words"]["attention"]
    assert [w["tokens"] for w in words] == [[0], [1, 2]]  # "!" joins "world"
    assert all(0 <= w["start"] <= w["end"] <= 30.0 for w in words)
    # the embedded values are the downsampled maps within the quantization bound
    encoder = result["spes-encoder"].values[1:4]
    blob = maps["encoder"]
    packed = Packed(tuple(blob["shape"]), np.array(blob["lo"]), np.array(blob["hi"]), base64.b64decode(blob["data"]))
    expected, _ = downsample(encoder, 1, 500)
    assert np.abs(packed.unpack() - expected).max() <= (expected.max() - expected.min()) / 510 + 1e-12
    assert zlib.decompress(packed.data)  # deflated, as the page expects
    with pytest.raises(OptionError, match="max_columns"):
        PageOptions(max_columns=2)


@pytest.mark.parametrize("saliency,note", [
    ((), "cross-attention only"),
    (("encoder",), "no input saliency"),
    (("input",), "no encoder-output saliency"),
])
def test_degenerate_results_carry_a_note(saliency, note):
    data = utterance_data(make_result(saliency=saliency))
    assert any(note in n for n in data["notes"]), data["notes"]
    assert ("input" in data["maps"]) == ("input" in saliency)
    assert ("encoder" in data["maps"]) == ("encoder" in saliency)
    assert set(data["agreement"]) == set(saliency)
    if not saliency:
        assert set(data["words"]) == {"attention"}


def test_one_token_and_no_token_transcripts():
    one = utterance_data(make_result(labels=["<|notimestamps|>", " Hi", "<|endoftext|>"],
                                     special=np.array([True, False, True])))
    assert len(one["tokens"]) == 1 and any("One token" in n for n in one["notes"])
    assert one["maps"]["encoder"]["shape"][0] == 1
    none = utterance_data(make_result(labels=["<|notimestamps|>", "<|endoftext|>"], special=np.array([True, True])))
    assert none["tokens"] == [] and any("no text tokens" in n for n in none["notes"])


def test_page_is_self_contained(tmp_path):
    result = make_result()
    page = utterance_page(result, tmp_path / "page.html", audio=np.sin(np.linspace(0, 900, 16_000)).astype(np.float32))
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "default-src 'none'" in text  # the page may fetch nothing
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # no external scripts, styles, media
    assert "https://" not in text and "http://" not in text
    payload = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S).group(1))
    assert payload["audio"].startswith("data:audio/") and payload["kind"] == "utterance"
    assert len(payload["colormap"]) == 256 * 6
    missing = json.loads(re.search(r'id="data">(.*?)</script>', render(
        {**utterance_data(result), "audio": None, "audio_note": "x"}, "t"), re.S).group(1))
    assert missing["audio"] is None
    # no audio file: the page says so instead of failing
    page2 = utterance_page(replace(result, audio=str(tmp_path / "gone.wav")), tmp_path / "p2.html")
    assert "was not found" in page2.read_text(encoding="utf-8")


HOSTILE = ["</script><b>x", "<!--<script>", "<script>window.pwned=1</script>", "a&amp;b", "\u2028\u2029", "]]>-->"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markup_in_text_cannot_break_out_of_the_data_block(hostile):
    result = make_result(labels=["<|notimestamps|>", f" {hostile}", "<|endoftext|>"],
                         special=np.array([True, False, True]))
    text = render({**utterance_data(result), "audio": None, "audio_note": hostile}, "t")
    block = re.search(r'id="data">(.*?)</script>', text, re.S).group(1)
    # nothing the HTML parser acts on inside the block: no <, >, & (so no "</script", "<!--"), no U+2028/9
    assert not set(block) & set("<>&\u2028\u2029")
    data = json.loads(block)
    assert data["tokens"][0]["text"] == f" {hostile}" and data["audio_note"] == hostile


def test_audio_is_compressed():
    samples = np.random.default_rng(0).normal(scale=0.1, size=16_000 * 3).astype(np.float32)
    uri = audio_uri(samples, 16_000)
    mime = uri[5:uri.index(";")]
    assert mime in ("audio/mpeg", "audio/flac", "audio/wav")
    if mime == "audio/mpeg":
        assert len(uri) * 3 / 4 < 16_000 * 3 * 2 / 4  # under a quarter of 16-bit PCM
