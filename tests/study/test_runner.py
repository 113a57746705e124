"""The dataset runner: resume after a crash, failures recorded, report rebuilt from stored files."""

import json

import numpy as np
import pytest
import soundfile as sf

import s2t_explain.study.runner as runner
from helpers import speechlike
from s2t_explain.audio import load_audio
from s2t_explain.errors import OptionError
from s2t_explain.study import StudyOptions, build_report, compare, load_records, run_study
from study.helpers_study import fake_faithfulness, synthetic_explanation


@pytest.fixture
def manifest(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    lines = []
    for k in range(4):
        sf.write(audio / f"u{k}.wav", speechlike(0.5, seed=k), 16_000)
        lines.append(json.dumps({"id": f"u{k}", "audio": f"audio/u{k}.wav", "reference": "w w w w"}))
    lines.insert(2, '{"id": "broken", "audio": ')  # a corrupt line
    lines.append(json.dumps({"id": "gone", "audio": "audio/missing.wav"}))  # a missing file
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


class FakeAnalysis:
    """Stands in for the model work; reads the audio with the real reader, so missing files fail."""

    def __init__(self, crash_at: str | None = None) -> None:
        self.calls: list[str] = []
        self.crash_at = crash_at

    def __call__(self, model, utterance, options, task, language, stage=None):
        load_audio(utterance.audio)
        if utterance.id == self.crash_at:
            raise KeyboardInterrupt  # Ctrl-C (or kill -9) in the middle of an utterance
        self.calls.append(utterance.id)
        seed = int("".join(c for c in utterance.id if c.isdigit()) or 0)
        result = synthetic_explanation(seed)
        record = compare(result, options)
        record.update({"id": utterance.id, "audio": str(utterance.audio), "task": "transcribe", "language": "en",
                       "hypothesis": "w w w w", "reference": utterance.reference, "n_tokens": 4,
                       "duration_s": 0.4, "model": "synthetic", "faithfulness": {"decode": fake_faithfulness(seed)},
                       "reliability": {"input": 0.9, "encoder": 0.8}, "reliability_pooled": {"input": 0.95},
                       "masks": {"input": 8, "encoder": 8},
                       "timings_s": {"explain": 0.5, "faithfulness": 0.5, "total": 1.0}})
        return result, json.loads(json.dumps(record))


class Model:
    name = "synthetic"


def _results(out):
    return sorted(p.name for p in (out / "results").iterdir())


def test_resume_after_crash_and_failures(tmp_path, manifest, monkeypatch):
    out = tmp_path / "run"
    crashing = FakeAnalysis(crash_at="u2")
    monkeypatch.setattr(runner, "analyze", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_study(Model(), manifest, out, StudyOptions(), progress=False)
    assert crashing.calls == ["u0", "u1"]
    assert _results(out) == ["u0.json", "u0.npz", "u1.json", "u1.npz"]
    # a half-written result (crash between the two files) is redone, not trusted
    (out / "results" / "u1.json").unlink()

    resumed = FakeAnalysis()
    monkeypatch.setattr(runner, "analyze", resumed)
    summary = run_study(Model(), manifest, out, StudyOptions(), progress=False)
    assert resumed.calls == ["u1", "u2", "u3"]  # u0 not recomputed
    assert (summary.done, summary.computed, summary.failed, summary.total) == (1, 3, 2, 6)
    assert _results(out) == [f"u{k}.{ext}" for k in range(4) for ext in ("json", "npz")]  # exactly one each
    failures = {p.stem: json.loads(p.read_text()) for p in (out / "failures").iterdir()}
    assert set(failures) == {"_line-3", "gone"}
    assert "JSON" in failures["_line-3"]["reason"]
    assert "not found" in failures["gone"]["reason"] or "No such file" in failures["gone"]["reason"]
    assert not [p for p in out.rglob("*.tmp")]

    # a third run has nothing left to compute
    again = FakeAnalysis()
    monkeypatch.setattr(runner, "analyze", again)
    assert run_study(Model(), manifest, out, StudyOptions(), progress=False).computed == 0
    assert again.calls == []


def test_a_run_of_the_earlier_fast_default_is_told_how_to_resume(tmp_path, manifest, monkeypatch):
    """Folders made when fast was the default: resuming with the new default names --preset fast."""
    from s2t_explain.saliency.options import preset, with_masks

    monkeypatch.setattr(runner, "analyze", FakeAnalysis())
    out = tmp_path / "run"
    fast = StudyOptions(saliency=with_masks(preset("fast"), 384, 1024))
    run_study(Model(), manifest, out, fast, limit=1, progress=False)
    with pytest.raises(OptionError, match="add --preset fast"):
        run_study(Model(), manifest, out, StudyOptions(), limit=1, progress=False)
    assert run_study(Model(), manifest, out, fast, limit=2, progress=False).computed == 1  # its own settings resume
    stored = json.loads((out / "run.json").read_text())
    assert stored["fidelity"]["kind"] == "measured" and stored["fidelity"]["meets_target"] is False


def test_resume_refuses_other_settings(tmp_path, manifest, monkeypatch):
    monkeypatch.setattr(runner, "analyze", FakeAnalysis())
    out = tmp_path / "run"
    run_study(Model(), manifest, out, StudyOptions(), limit=1, progress=False)
    with pytest.raises(OptionError, match="other settings"):
        run_study(Model(), manifest, out, StudyOptions(pooling="mean"), limit=1, progress=False)


def test_report_from_stored_results(tmp_path, manifest, monkeypatch):
    monkeypatch.setattr(runner, "analyze", FakeAnalysis())
    out = tmp_path / "run"
    run_study(Model(), manifest, out, StudyOptions(), progress=False)
    tables = build_report(out)
    names = {p.name for p in (out / "tables").iterdir()}
    for table in ("agreement", "layer_head", "faithfulness", "size", "utterances", "trends"):
        assert {f"{table}.csv", f"{table}.parquet", f"{table}.md"} <= names
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"correlation_per_layer.png", "layer_head_correlation.png", "deletion_insertion.png",
            "example_u0.png"} <= figures
    # the planted head (1, 2) equals SM_H: best head, r = 1, and it is the alignment head
    smh = {r["granularity"]: r for r in tables["agreement"] if r["pair"] == "CA-SMH" and r["statistic"] == "pearson"}
    assert smh["best-head"]["mean"] == pytest.approx(1.0)
    assert smh["alignment"]["mean"] == pytest.approx(1.0)
    assert smh["all"]["n"] == 4
    layer_head = [r for r in tables["layer_head"] if r["pair"] == "CA-SMH" and r["statistic"] == "pearson"]
    assert max(layer_head, key=lambda r: r["mean"])[("layer")] == 1
    import pyarrow.parquet as pq

    back = pq.read_table(out / "tables" / "agreement.parquet").to_pylist()
    assert len(back) == len(tables["agreement"])
    assert np.isclose(back[0]["mean"], tables["agreement"][0]["mean"])
    statuses = {r["id"]: r["status"] for r in tables["utterances"]}
    assert statuses == {"u0": "ok", "u1": "ok", "u2": "ok", "u3": "ok", "_line-3": "failed", "gone": "failed"}
    report = (out / "report.md").read_text()
    assert "Agreement" in report and "trends" in report and "gone" in report
    # report rebuilds without the model, from stored files only, and gives the same tables
    assert build_report(out, figures=False)["agreement"] == tables["agreement"]


@pytest.mark.parametrize("first,second", [('{"id": ', '{"id": "line-1", "audio": "audio/u1.wav"}'),
                                          ('{"id": "line-2", "audio": "audio/u1.wav"}', '{"id": ')])
def test_a_bad_line_and_an_utterance_named_like_it_are_both_recorded(tmp_path, monkeypatch, first, second):
    """Issue 18: a broken line 1 then an utterance with id line-1 deleted the failure record (0 failed
    reported); the other order showed line-2 as both done and failed."""
    (tmp_path / "audio").mkdir()
    sf.write(tmp_path / "audio" / "u1.wav", speechlike(0.5, seed=1), 16_000)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(f"{first}\n{second}\n")
    monkeypatch.setattr(runner, "analyze", FakeAnalysis())
    out = tmp_path / "run"
    summary = run_study(Model(), manifest, out, StudyOptions(), progress=False)
    assert (summary.computed, summary.failed) == (1, 1)
    records, failures = load_records(out)
    assert len(records) == 1 and len(failures) == 1 and records[0]["id"] != failures[0]["id"]
    assert failures[0]["id"].startswith("_line-")


class PairsAnalysis(FakeAnalysis):
    """FakeAnalysis plus the named pair a study with ``pairs`` records (study.pairs)."""

    def __call__(self, model, utterance, options, task, language, stage=None):
        from s2t_explain.study.pairs import compare_pairs

        result, record = super().__call__(model, utterance, options, task, language, stage)
        pairs = compare_pairs(result, options.pairs, result.text_rows(), ("pearson",))
        record["pairs"] = json.loads(json.dumps({k: {"r": v["r"], "per_token": v["per_token"].tolist()}
                                                 for k, v in pairs.items()}))
        return result, record


def test_a_run_with_named_pairs_gets_a_pairs_table_and_resumes_only_with_them(tmp_path, manifest, monkeypatch):
    monkeypatch.setattr(runner, "analyze", PairsAnalysis())
    out = tmp_path / "run"
    options = StudyOptions(pairs=("SM_X:SM_H",))
    run_study(Model(), manifest, out, options, progress=False)
    assert json.loads((out / "run.json").read_text())["pairs"] == ["spes-input:spes-encoder"]
    tables = build_report(out, figures=False)
    (row,) = tables["pairs"]
    smx_smh = next(r for r in tables["agreement"] if r["pair"] == "SMX-SMH" and r["statistic"] == "pearson")
    assert row["pair"] == "spes-input:spes-encoder" and row["n"] == 4
    assert row["mean"] == pytest.approx(smx_smh["mean"])  # the same two maps as the paper's SM_X-SM_H
    assert (out / "tables" / "pairs.csv").is_file()
    with pytest.raises(OptionError, match="pairs differ"):
        run_study(Model(), manifest, out, StudyOptions(), progress=False)
