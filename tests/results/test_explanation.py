import json
from pathlib import Path

import numpy as np
import pytest

from helpers import speechlike
from s2t_explain import Explanation, explain_attention
from s2t_explain import list_methods as s2t_list_methods
from s2t_explain.errors import ResultError
from s2t_explain.plots import AttentionHeatmap


@pytest.fixture(scope="module")
def result(tiny_whisper):
    return explain_attention(tiny_whisper, speechlike(1.2), text="save me please")


def test_save_load_round_trip(result, tmp_path):
    path = result.save(tmp_path / "r.npz")
    back = Explanation.load(path)
    np.testing.assert_array_equal(back.cross_attention, result.cross_attention)
    np.testing.assert_array_equal(back.transcript.logprobs, result.transcript.logprobs.astype(np.float32))
    np.testing.assert_array_equal(back.transcript.special, result.transcript.special)
    np.testing.assert_array_equal(back.frame_times, result.frame_times)
    assert back.transcript.ids == result.transcript.ids
    assert back.transcript.labels == result.transcript.labels
    assert back.transcript.text == "save me please"
    assert back.alignment_heads == result.alignment_heads
    assert back.meta() == result.meta() | {"timings_s": back.timings}
    assert [p.name for p in tmp_path.iterdir()] == ["r.npz"]  # no temporary files left


def test_file_is_plain_numpy_and_json(result, tmp_path):
    path = result.save(tmp_path / "r.npz")
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        assert z["cross_attention"].shape == result.shape
    assert meta["shape"] == dict(zip(["L", "H", "I", "T'"], result.shape))


def test_load_errors(tmp_path):
    with pytest.raises(ResultError, match="not found"):
        Explanation.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ResultError, match="is not a result of s2t-explain .not an .npz archive"):
        Explanation.load(bad)


def test_aggregate_and_times(result):
    L, H, I, T = result.shape
    assert result.aggregate("all", text_only=False).shape == (I, T)
    n_text = int((~result.transcript.special).sum())
    assert result.aggregate("layer:0").shape == (n_text, T)
    assert result.frame_times[1] - result.frame_times[0] == pytest.approx(0.02)
    assert T == 60  # 1.2 s = 120 frames -> 60 encoder frames


def test_heatmap_png(result, tmp_path):
    path = AttentionHeatmap.from_result(result, "all").save(tmp_path / "a.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_seconds_per_frame_follows_the_encoder_stride():
    from alignment.test_timestamps import planted
    from s2t_explain.alignment.timestamps import word_timestamps

    result = planted()
    assert result.seconds_per_frame == pytest.approx(0.02)
    last = word_timestamps(result, "attention", "alignment", edges="contiguous")[-1]
    result.encoder_stride, result.frame_times = 4, result.frame_times * 2  # a Speech2Text-like 40 ms frame
    assert result.seconds_per_frame == pytest.approx(0.04)
    stretched = word_timestamps(result, "attention", "alignment", edges="contiguous")[-1]
    assert stretched.start == pytest.approx(2 * last.start) and stretched.end == pytest.approx(2 * last.end)


def test_saliency_maps_and_reliability_notes():
    from alignment.test_timestamps import planted
    from s2t_explain.errors import OptionError

    result = planted(with_saliency=True)
    assert result.saliency_map("encoder") is result.encoder_saliency and result.saliency_map("input") is None
    with pytest.raises(OptionError, match="unknown saliency map 'both'"):
        result.saliency_map("both")
    result.saliency = {"maps": {"encoder": {"n_masks": 64, "reliability": 0.31, "reliability_pooled": None},
                                "input": {"n_masks": 512, "reliability": 0.87, "reliability_pooled": 0.95}}}
    assert result.reliability_note("encoder") == "64 masks, reliability 0.31 - LOW, mostly noise"
    assert result.reliability_note("input") == "512 masks, reliability 0.87" and result.reliability_note("x") == ""
    report = result.reliability_report().splitlines()
    assert "LOW" in report[0] and "pooled to encoder frames 0.95" in report[1] and "LOW" not in report[1]


V1_FIXTURE = Path(__file__).parent / "data" / "v1_result.npz"


def test_a_format_version_1_file_still_loads_with_identical_arrays():
    """``data/v1_result.npz`` was written by the format-1 code (written at the commit that added it) from the tiny
    random Whisper of ``helpers.make_tiny_whisper()`` on ``speechlike(0.3)``, forced "hello there",
    8 + 8 masks (SM_X granularity 10, p_dec 0.5) and every explanation method; it holds every kind
    of map a result had before maps got one type. Later formats must keep loading it."""
    stored = np.load(V1_FIXTURE, allow_pickle=False)
    meta = json.loads(str(stored["meta"]))
    assert meta["format_version"] == 1
    result = Explanation.load(V1_FIXTURE)
    arrays = {"cross_attention": result.cross_attention, "frame_times": result.frame_times,
              "features": result.features, "input_saliency": result.input_saliency,
              "encoder_saliency": result.encoder_saliency, "token_saliency": result.token_saliency,
              **{f"method:{name}": values for name, values in result.methods.items()}}
    assert set(arrays) == set(stored.files) - {"meta", "token_ids", "logprobs", "special"}
    for name, values in arrays.items():
        assert values.dtype == stored[name].dtype and np.array_equal(values, stored[name]), name
    assert result.transcript.ids == [int(i) for i in stored["token_ids"]]
    assert np.array_equal(result.transcript.logprobs, stored["logprobs"])
    assert sorted(result.methods) == sorted(s2t_list_methods())
    assert result.saliency["maps"]["input"]["n_masks"] == 8 and result.transcript.text == "hello there"
