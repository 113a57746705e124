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
        assert z["map:attention"].shape == result.shape and z["map:attention"].dtype == np.float32
    assert meta["format_version"] == 2 and meta["shape"] == dict(zip(["L", "H", "I", "T'"], result.shape))
    assert meta["maps"]["attention"]["grain"] == "per-head" and meta["maps"]["attention"]["label"] == "CA"
    assert meta["maps"]["attention"]["array"] == "map:attention"


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


def test_maps_by_name_alias_and_reliability_notes():
    from alignment.test_timestamps import planted
    from s2t_explain.errors import OptionError
    from s2t_explain.explainers.catalog import new_map

    result = planted(with_saliency=True)
    assert result["SM_H"] is result["spes-encoder"] is result.maps["spes-encoder"]  # the paper's label is an alias
    assert "saliency-encoder" in result and "spes-input" not in result and result.get("spes-input") is None
    with pytest.raises(OptionError, match=r"no spes-input \(SM_X\) map; it has: attention, spes-encoder"):
        result["SM_X"]
    assert result.map_over_frames("attention", heads="all").shape == result["spes-encoder"].values.shape
    np.testing.assert_allclose(result.map_over_frames("attention", heads=[[1, 0]]), result.cross_attention[1, 0])
    result.maps["spes-encoder"] = new_map("spes-encoder", result["SM_H"].values,
                                          reliability={"n_masks": 64, "reliability": 0.31, "reliability_pooled": None})
    result.maps["spes-input"] = new_map("spes-input", np.ones((6, 60, 3)), reliability={
        "n_masks": 512, "reliability": 0.87, "reliability_pooled": 0.95})
    assert result.reliability_note("SM_H") == "64 masks, reliability 0.31 - LOW, mostly noise"
    assert result.reliability_note("spes-input") == "512 masks, reliability 0.87"
    assert result.reliability_note("grad-input") == result.reliability_note("attention") == ""
    report = result.reliability_report().splitlines()
    assert report[0].startswith("SM_H (spes-encoder): 64 masks") and "LOW" in report[0]
    assert report[1].startswith("SM_X (spes-input)") and "pooled to encoder frames 0.95" in report[1]
    assert "LOW" not in report[1]


def test_every_map_round_trips_with_its_metadata(tmp_path):
    from alignment.test_timestamps import planted
    from s2t_explain.explainers.catalog import new_map
    from s2t_explain.results.maps import Cost

    result = planted(with_saliency=True)
    result.maps["grad-input"] = new_map("grad-input", np.arange(6 * 60 * 2).reshape(6, 60, 2), Cost(1.5, 2, 2),
                                        options={"ig_steps": 8})
    result.maps["spes-token"] = new_map("SM_Y", np.tril(np.ones((6, 6))), reliability={"n_masks": 16})
    back = Explanation.load(result.save(tmp_path / "r.npz"))
    assert list(back.maps) == list(result.maps)
    for name, m in result.maps.items():
        b = back[name]
        assert np.array_equal(b.values, m.values) and b.values.dtype == np.float32, name
        assert (b.grain, b.units, b.label, b.cost, b.reliability, b.options) == \
               (m.grain, m.units, m.label, m.cost, m.reliability, m.options), name
    assert back["grad-input"].cost == Cost(1.5, 2, 2) and back["grad-input"].units.startswith("|log-prob gradient")


V1_FIXTURE = Path(__file__).parent / "data" / "v1_result.npz"
V1_NAMES = {"cross_attention": "attention", "input_saliency": "spes-input", "encoder_saliency": "spes-encoder",
            "token_saliency": "spes-token"}  # format-1 arrays -> map names; ``method:NAME`` -> NAME


def test_a_format_version_1_file_still_loads_with_identical_arrays():
    """``data/v1_result.npz`` was written by the format-1 code (at the commit that added it) from the tiny
    random Whisper of ``helpers.make_tiny_whisper()`` on ``speechlike(0.3)``, forced "hello there",
    8 + 8 masks (SM_X granularity 10, p_dec 0.5) and every explanation method; it holds every kind
    of map a result had before maps got one type. Later formats must keep loading it."""
    stored = np.load(V1_FIXTURE, allow_pickle=False)
    meta = json.loads(str(stored["meta"]))
    assert meta["format_version"] == 1
    result = Explanation.load(V1_FIXTURE)
    arrays = {"frame_times": result.frame_times, "features": result.features}
    for key in set(stored.files) - {"meta", "token_ids", "logprobs", "special", "frame_times", "features"}:
        name = V1_NAMES.get(key) or key.removeprefix("method:")
        if name == "attention" and key == "method:attention":  # format 1 stored the raw weights twice
            assert np.array_equal(stored[key], stored["cross_attention"])
            continue
        arrays[key] = result[name].values
    for key, values in arrays.items():
        assert values.dtype == stored[key].dtype and np.array_equal(values, stored[key]), key
    assert set(result.maps) == {"attention", "spes-input", "spes-encoder", "spes-token", *s2t_list_methods()}
    assert result.transcript.ids == [int(i) for i in stored["token_ids"]]
    assert np.array_equal(result.transcript.logprobs, stored["logprobs"])
    grains = {name: m.grain for name, m in result.maps.items()}
    assert grains == {"attention": "per-head", "spes-input": "input", "spes-encoder": "encoder", "spes-token": "token",
                      "attention-norm": "per-head", "attention-grad": "per-head", "grad-input": "input",
                      "integrated-gradients": "input", "grad-encoder": "encoder"}
    assert result["spes-input"].reliability["n_masks"] == 8 and result.transcript.text == "hello there"
    assert result["spes-input"].label == "SM_X" and result["spes-input"].units == "KL divergence (nats)"
    assert result.saliency_options["input"]["p_dec"] == 0.5 and result["grad-encoder"].cost.backward > 0


def test_map_grain_is_checked_and_values_become_float32():
    from s2t_explain.results.maps import Map

    m = Map(np.ones((2, 3), dtype=np.float64), "encoder")
    assert m.values.dtype == np.float32 and m.n_tokens == 2 and m.over_time
    with pytest.raises(ValueError, match=r"a per-head map has axes \(L, H, I, T'\); got shape \(2, 3\)"):
        Map(np.ones((2, 3)), "per-head")
    with pytest.raises(ValueError, match="unknown map grain 'pixels'"):
        Map(np.ones((2, 3)), "pixels")


def test_over_frames_pools_input_maps_and_averages_heads():
    from s2t_explain.errors import OptionError
    from s2t_explain.results.maps import Map

    x = np.zeros((1, 4, 2))
    x[0, 1, 0], x[0, 2, 1] = 3.0, 5.0  # frame 1 (bin 0) and frame 2 (bin 1)
    assert Map(x, "input").over_frames(2, "max").tolist() == [[3.0, 5.0]]  # stride 2: frames (0,1), (2,3)
    assert Map(x, "input").over_frames(2, "mean").tolist() == [[0.75, 1.25]]
    heads = np.arange(2 * 2 * 1 * 3, dtype=float).reshape(2, 2, 1, 3)
    assert Map(heads, "per-head").over_frames(2).tolist() == [heads.mean((0, 1))[0].tolist()]
    assert Map(heads, "per-head").take_rows([0]).values.shape == (2, 2, 1, 3)
    with pytest.raises(OptionError, match="over tokens, not time"):
        Map(np.eye(3), "token", label="SM_Y").over_frames(2)


def test_compare_script_finds_v1_and_its_v2_copy_identical_and_a_change_different(tmp_path, capsys):
    import importlib.util

    from s2t_explain.explainers.catalog import new_map

    spec = importlib.util.spec_from_file_location("compare_results", Path(__file__).parents[2] / "scripts"
                                                  / "compare_results.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    copy = Explanation.load(V1_FIXTURE).save(tmp_path / "v2.npz")  # written as format 2
    assert json.loads(str(np.load(copy)["meta"]))["format_version"] == 2
    assert script.main([str(V1_FIXTURE), str(copy)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("identical") and "same  map spes-input" in out and "DIFF" not in out
    changed = Explanation.load(copy)
    values = changed["spes-encoder"].values.copy()
    values[0, 0] = np.nextafter(values[0, 0], np.float32(np.inf))  # one ulp
    changed.maps["spes-encoder"] = new_map("spes-encoder", values, reliability=changed["spes-encoder"].reliability)
    assert script.main([str(V1_FIXTURE), str(changed.save(tmp_path / "changed.npz"))]) == 1
    out = capsys.readouterr().out
    assert "DIFF  map spes-encoder " in out and "at 1 of" in out and "1 of" in out.splitlines()[-1]
    assert script.main([str(V1_FIXTURE), str(tmp_path / "none.npz")]) == 2
