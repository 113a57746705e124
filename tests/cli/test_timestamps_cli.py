"""The timestamps and heads commands on the bundled model."""

import json
from pathlib import Path

import pytest

from helpers import clip_path
from s2t_explain.alignment.subtitles import parse_cues
from s2t_explain.cli.main import main


@pytest.mark.slow
def test_timestamps_from_attention(tmp_path, capsys, clips):
    out = tmp_path / "out"
    assert main(["timestamps", str(clip_path("en_1")), "-o", str(out), "-q"]) == 0
    document = json.loads(capsys.readouterr().out)
    words = document["segments"][0]["words"]
    assert "".join(w["word"] for w in words).strip() == clips["en_1"]["text"]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and words[-1]["end"] <= 3.8
    assert all(w["end"] >= w["start"] and 0 < w["probability"] <= 1 for w in words)
    # the same words come back from the SRT and VTT files
    for ext in ("srt", "vtt"):
        cues = parse_cues((out / f"en_1.{ext}").read_text())
        assert [c[2] for c in cues] == [w["word"].strip() for w in words]
        assert [c[0] for c in cues] == pytest.approx(starts, abs=1e-3)
    # discovered heads: a different head set, still every word timed
    assert main(["timestamps", str(clip_path("en_1")), "--heads", "discovered", "--top", "3", "-q"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["heads"]) == 3 and len(document["segments"][0]["words"]) == len(words)


@pytest.mark.parametrize("argv,message", [
    pytest.param(["--heads", "[[9, 0]]"], "layer 9", marks=pytest.mark.slow),  # loads the bundled model
    pytest.param(["--heads", "nonsense"], "unknown head set", marks=pytest.mark.slow),
    (["--top", "0"], "--top"),
])
def test_timestamps_bad_heads(capsys, argv, message):
    code = main(["timestamps", str(clip_path("en_1")), "-q", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


def test_saliency_from_a_result_without_it(tmp_path, capsys, tiny_whisper):
    from helpers import speechlike
    from s2t_explain import explain_attention

    path = explain_attention(tiny_whisper, speechlike(1.0), text="hello there").save(tmp_path / "r.npz")
    code = main(["timestamps", str(path), "--from", "spes-encoder", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "this result has no spes-encoder map (it has attention)" in err[0]
    code = main(["timestamps", str(path), "--from", "spes-token", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "spes-token is a token map, not a map over time" in err[0]


@pytest.mark.slow
def test_align_bench_on_the_tiny_subset(tmp_path, capsys):
    import s2t_explain

    manifest = Path(s2t_explain.__file__).parent / "data" / "align" / "tiny.jsonl"
    out = tmp_path / "bench"
    code = main(["align-bench", "--manifest", str(manifest), "--methods", "alignment-heads", "all-heads",
                 "discovered-unsupervised", "-o", str(out), "-q"])
    assert code == 0
    table = capsys.readouterr().out
    assert "| alignment-heads |" in table and "| discovered-unsupervised |" in table
    report = json.loads((out / "align_bench.json").read_text())
    baseline = report["methods"]["alignment-heads"]
    assert report["skipped"] == [] and baseline["words"] == 16  # 2 clips, every word timed
    assert 0 < baseline["mae_ms"] < 400  # timings are in the right place, not random (clips are ~5 s)
    assert baseline["within_200ms"] > 0.5
