import json

import pytest

from s2t_explain.errors import OptionError
from s2t_explain.metrics.timing import boundary_f1, score_words
from s2t_explain.study.alignment import markdown_table
from s2t_explain.study.manifest import read_alignment_manifest


def test_boundary_f1_one_to_one():
    # two predictions near one reference boundary: only one may match it
    assert boundary_f1([1.00, 1.01], [1.0], collar=0.02) == (1, 2, 1)
    assert boundary_f1([0.5, 1.0], [0.52, 1.2], collar=0.05) == (1, 2, 2)
    # shared boundaries (end of one word = start of the next) count once
    assert boundary_f1([0.0, 0.5, 0.5, 1.0], [0.0, 0.4, 0.6, 1.0], collar=0.02) == (2, 3, 4)


def test_score_words_hand_computed():
    predicted = [[(0.00, 0.50), (0.50, 1.00)]]
    reference = [[(0.01, 0.40), (0.60, 1.00)]]
    m = score_words(predicted, reference)
    assert m["words"] == 2
    assert m["mae_start_ms"] == pytest.approx((10 + 100) / 2)
    assert m["mae_end_ms"] == pytest.approx((100 + 0) / 2)
    assert m["mae_ms"] == pytest.approx((10 + 100 + 100 + 0) / 4)
    assert m["within_20ms"] == pytest.approx(0.5) and m["within_100ms"] == pytest.approx(1.0)
    # 3 predicted boundaries {0, 0.5, 1}, 4 reference {0.01, 0.4, 0.6, 1}: 2 matches within 20 ms
    assert m["f1_20ms"] == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))
    assert markdown_table({"methods": {"x": m}}).splitlines()[2].endswith("|  |")  # no baseline row, no ratio


def test_manifest_errors(tmp_path):
    good = {"id": "a", "audio": "a.flac", "reference": "Hi there.", "words": [{"word": "Hi", "start": 0.1, "end": 0.3}]}
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(good) + "\n")
    assert read_alignment_manifest(path)[0].words == [("Hi", 0.1, 0.3)]
    path.write_text(json.dumps({"id": "a", "audio": "a.flac"}) + "\n")
    with pytest.raises(OptionError, match=":1:"):
        read_alignment_manifest(path)
    with pytest.raises(OptionError, match="not found"):
        read_alignment_manifest(tmp_path / "none.jsonl")


def test_alignment_methods_say_which_maps_they_need():
    from s2t_explain.study.alignment import ALIGNMENT_METHODS

    needs = {name: ALIGNMENT_METHODS.get(name).maps for name in ALIGNMENT_METHODS.names()}
    assert needs == {"alignment-heads": set(), "all-heads": set(), "discovered-unsupervised": set(),
                     "discovered-saliency": {"spes-encoder"}, "discovered-reference": set(),
                     "alignment-heads-trim": set(), "saliency-input": {"spes-input"},
                     "saliency-encoder": {"spes-encoder"}}


def test_bench_needs_saliency_options_only_for_saliency_methods(tiny_whisper):
    from s2t_explain.study.alignment import run_bench

    with pytest.raises(OptionError, match="need saliency options"):
        run_bench(tiny_whisper, "unused.jsonl", ["saliency-encoder"])
    with pytest.raises(OptionError, match="unknown alignment method 'best'"):
        run_bench(tiny_whisper, "unused.jsonl", ["best"])


def test_every_method_runs_on_a_tiny_model(tmp_path, tiny_whisper):
    import soundfile as sf

    from helpers import speechlike
    from s2t_explain.saliency.options import EncoderSaliencyOptions, SaliencyOptions
    from s2t_explain.study.alignment import ALIGNMENT_METHODS, markdown_table, run_bench

    lines = []
    for k in range(3):
        sf.write(tmp_path / f"u{k}.wav", speechlike(1.0, seed=k), 16000)
        words = [{"word": "hello", "start": 0.1, "end": 0.4}, {"word": "there", "start": 0.5, "end": 0.9}]
        lines.append(json.dumps({"id": f"u{k}", "audio": f"u{k}.wav", "reference": "hello there", "words": words}))
    (tmp_path / "m.jsonl").write_text("\n".join(lines) + "\n")
    saliency = SaliencyOptions(encoder=EncoderSaliencyOptions(n_masks=8), batch_size=8)  # input is dropped: unused
    names = [n for n in ALIGNMENT_METHODS.names() if n != "saliency-input"]
    report = run_bench(tiny_whisper, tmp_path / "m.jsonl", names, saliency, top=2, progress=False)
    assert list(report["methods"]) == names and report["skipped"] == [] and report["utterances"] == 3
    assert all(m["words"] == 6 for m in report["methods"].values())
    assert report["heads"]["alignment-heads"] == [[1, 0], [2, 3]] and report["heads"]["all-heads"] == "all"
    assert all(len(report["heads"][n]) == 2 for n in ("discovered-unsupervised", "discovered-saliency",
                                                      "discovered-reference"))
    assert "saliency-encoder" not in report["heads"]  # no heads for saliency methods
    assert markdown_table(report).count("\n") == 2 + len(names)


def test_the_bench_keeps_a_run_folder_resumes_and_records_failures(tmp_path, tiny_whisper, monkeypatch):
    import soundfile as sf

    import s2t_explain.study.alignment as bench
    from helpers import speechlike
    from s2t_explain.study.alignment import run_bench

    words = [{"word": "hello", "start": 0.1, "end": 0.4}, {"word": "there", "start": 0.5, "end": 0.9}]
    lines = []
    for k in range(2):
        sf.write(tmp_path / f"u{k}.wav", speechlike(1.0, seed=k), 16000)
        lines.append(json.dumps({"id": f"u{k}", "audio": f"u{k}.wav", "reference": "hello there", "words": words}))
    lines.append(json.dumps({"id": "gone", "audio": "missing.wav", "reference": "hello there", "words": words}))
    (tmp_path / "m.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    first = run_bench(tiny_whisper, tmp_path / "m.jsonl", ["alignment-heads"], progress=False, out=out)
    assert first["utterances"] == 2 and len(first["failed"]) == 1 and first["failed"][0].startswith("gone: ")
    assert sorted(p.name for p in (out / "results").iterdir()) == ["u0.npz", "u1.npz"]
    assert json.loads((out / "failures" / "gone.json").read_text())["id"] == "gone"
    monkeypatch.setattr(bench, "explain_one", lambda *a: pytest.fail("a stored utterance was explained again"))
    again = run_bench(tiny_whisper, tmp_path / "m.jsonl", ["alignment-heads"], progress=False, out=out,
                      limit=2)  # the two stored ones: read back, not recomputed
    assert again["methods"] == first["methods"] and again["failed"] == []
    from s2t_explain.saliency.options import EncoderSaliencyOptions, SaliencyOptions

    with pytest.raises(OptionError, match="holds a benchmark made with other settings .maps, saliency differ"):
        run_bench(tiny_whisper, tmp_path / "m.jsonl", ["saliency-encoder"], progress=False, out=out,
                  saliency=SaliencyOptions(encoder=EncoderSaliencyOptions(n_masks=8)))
