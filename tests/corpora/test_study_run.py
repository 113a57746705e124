"""Study runs over corpora: bad entries recorded in failures/, the rest finished, streamed with limit/shard."""

import json

import pytest

import s2t_explain.corpora.tables as tables
import s2t_explain.study.runner as runner
from corpora.helpers_corpora import ramp, write_audio, write_lines
from s2t_explain.study import StudyOptions, compare, load_records, run_study
from study.helpers_study import fake_faithfulness, synthetic_explanation


class Model:
    name = "synthetic"


class LoadingAnalysis:
    """Stands in for the model work, but loads each utterance with the real loader (so bad audio fails)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, model, utterance, options, task, language, stage=None):
        samples = utterance.load(16_000)
        self.calls[utterance.id] = samples.shape[0]
        result = synthetic_explanation(len(self.calls))
        record = compare(result, options)
        record.update({"id": utterance.id, "audio": str(utterance.audio), "task": "transcribe", "language": "en",
                       "hypothesis": "w w w w", "reference": utterance.reference, "n_tokens": 4,
                       "duration_s": samples.shape[0] / 16_000, "model": "synthetic",
                       "faithfulness": {"decode": fake_faithfulness(0)}, "reliability": {"input": 0.9},
                       "reliability_pooled": {"input": 0.95}, "masks": {"input": 8},
                       "timings_s": {"explain": 0.1, "faithfulness": 0.1, "total": 0.2}})
        if utterance.segment is not None:  # as study.utterance.analyze records it
            record["segment"] = [utterance.segment[0], utterance.segment[0] + samples.shape[0] / 16_000]
        return result, json.loads(json.dumps(record))


@pytest.fixture
def kaldi(tmp_path):
    folder = tmp_path / "data"
    write_audio(folder / "rec.flac", ramp(4.0))
    write_lines(folder / "wav.scp", ["rec rec.flac", "piped sox in.sph -t wav - |"])
    write_lines(folder / "segments", ["a rec 0.0 1.0", "b rec 1.0 2.5", "c rec 3.0 9.0", "d piped 0 1", "e rec 2.5 4.0",
                                      "f rec 0 1"])
    write_lines(folder / "text", ["a one", "b two", "c too long", "d piped", "a again", "e five"])
    return folder


def test_bad_entries_are_recorded_and_the_others_finish(tmp_path, kaldi, monkeypatch):
    analysis = LoadingAnalysis()
    monkeypatch.setattr(runner, "analyze", analysis)
    out = tmp_path / "run"
    summary = run_study(Model(), kaldi, out, StudyOptions(), progress=False)
    assert analysis.calls == {"a": 16_000, "b": 24_000, "e": 24_000}  # each segment's own samples
    assert (summary.done, summary.computed, summary.failed, summary.total) == (0, 3, 4, 7)
    failures = {p.stem: json.loads(p.read_text()) for p in (out / "failures").iterdir()}
    assert set(failures) == {"c", "d", "_text-line-5", "f"}
    assert failures["c"]["segment"] == [3.0, 9.0] and "past the end of rec.flac" in failures["c"]["reason"]
    assert failures["c"]["audio"] == str(kaldi / "rec.flac")
    assert "as a command" in failures["d"]["reason"] and failures["d"]["line"] == 4
    assert failures["_text-line-5"]["reason"] == "duplicate id 'a'"
    assert "missing transcript" in failures["f"]["reason"] and "line" not in failures["f"]
    config = json.loads((out / "run.json").read_text())
    assert config["format"] == "kaldi" and config["manifest"] == str(kaldi.resolve())
    records, stored_failures = load_records(out)
    assert sorted(r["id"] for r in records) == ["a", "b", "e"] and len(stored_failures) == 4
    # resuming computes nothing new and tries the failures again
    again = LoadingAnalysis()
    monkeypatch.setattr(runner, "analyze", again)
    summary = run_study(Model(), kaldi, out, StudyOptions(), progress=False)
    assert again.calls == {} and (summary.done, summary.computed, summary.failed) == (3, 0, 4)


def test_explorer_pages_of_segments_embed_the_segment(tmp_path, kaldi, monkeypatch):
    from s2t_explain.explorer import study_pages

    monkeypatch.setattr(runner, "analyze", LoadingAnalysis())
    out = tmp_path / "run"
    run_study(Model(), kaldi, out, StudyOptions(), progress=False)
    study_pages(out, figures=False)
    page = (out / "pages" / "b.html").read_text()
    assert "data:audio/" in page and "Audio not embedded" not in page  # 1.0-2.5 s of rec.flac, not "not found"


def test_limit_and_shards_slice_the_stream(tmp_path, kaldi, monkeypatch):
    analysis = LoadingAnalysis()
    monkeypatch.setattr(runner, "analyze", analysis)
    run_study(Model(), kaldi, tmp_path / "r1", StudyOptions(), progress=False, limit=2)
    assert list(analysis.calls) == ["a", "b"]
    analysis.calls.clear()
    summary = run_study(Model(), kaldi, tmp_path / "r2", StudyOptions(), progress=False, shard=(2, 3))
    assert list(analysis.calls) == ["b"]  # entries 2 and 5 of 7: b, and the duplicate of a
    assert (summary.computed, summary.failed, summary.total) == (1, 1, 2)
    assert [p.name for p in (tmp_path / "r2" / "failures").iterdir()] == ["_text-line-5.json"]


def test_a_large_corpus_starts_at_once(tmp_path, monkeypatch):
    """limit=1 over 2000 entries parses one manifest line."""
    write_audio(tmp_path / "a.wav", ramp(0.5))
    path = write_lines(tmp_path / "m.jsonl", [json.dumps({"id": f"u{k}", "audio": "a.wav"}) for k in range(2000)])
    parsed = []
    real = tables.parse_record
    monkeypatch.setattr(tables, "parse_record", lambda record, *a: parsed.append(record["id"]) or real(record, *a))
    monkeypatch.setattr(runner, "analyze", LoadingAnalysis())
    summary = run_study(Model(), path, tmp_path / "run", StudyOptions(), progress=False, limit=1)
    assert summary.computed == 1 and parsed == ["u0"]


def test_align_bench_over_kaldi_segments(tiny_whisper):
    """The alignment benchmark reads the Kaldi example's ctm and explains each segment alone."""
    from corpora.helpers_corpora import EXAMPLES
    from s2t_explain.study.alignment import run_bench

    report = run_bench(tiny_whisper, EXAMPLES / "kaldi", ["alignment-heads", "all-heads"], progress=False, limit=2)
    assert report["utterances"] == 2 and report["skipped"] == []
    assert report["methods"]["alignment-heads"]["words"] == 6 + 7  # every reference word timed
    assert report["methods"]["all-heads"]["mae_ms"] >= 0
