"""Studies at scale: worker processes, Ray, a worker killed mid-run, shards sharing a run folder.

Every distributed run must leave what a local run leaves: the same per-utterance arrays and the
same tables, each utterance exactly once.
"""

from __future__ import annotations

import csv
import fcntl
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers import speechlike
from s2t_explain.corpora import read_corpus
from s2t_explain.errors import OptionError
from s2t_explain.executors import ProcessExecutor, RayExecutor
from s2t_explain.results import Explanation
from s2t_explain.saliency.options import EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions
from s2t_explain.study import StudyOptions, build_report, run_study
from s2t_explain.study.runner import StudyRun, parse_shard
from scale_helpers import DieOnceAnalysis

IDS = ["u0", "u1", "u2"]
OPTIONS = StudyOptions(saliency=SaliencyOptions(input=InputSaliencyOptions(n_masks=16, granularities=(30,)),
                                                encoder=EncoderSaliencyOptions(n_masks=16), batch_size=8),
                       faithfulness="logprob", curve_step=25)
TABLES = ("agreement", "layer_head", "faithfulness", "size")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    lines = []
    for k, uid in enumerate(IDS):
        sf.write(folder / f"{uid}.wav", speechlike(0.5, seed=k), 16_000)
        lines.append(json.dumps({"id": uid, "audio": f"{uid}.wav", "reference": "w"}))
    (folder / "m.jsonl").write_text("\n".join(lines) + "\n")
    return folder / "m.jsonl"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, manifest, tiny_whisper) -> Path:
    out = tmp_path_factory.mktemp("local")
    summary = run_study(tiny_whisper, manifest, out, OPTIONS, progress=False)
    assert summary.computed == 3 and summary.failed == 0
    build_report(out, figures=False)
    return out


def assert_same_run(a: Path, b: Path) -> None:
    assert sorted(p.name for p in (b / "results").iterdir()) == sorted(p.name for p in (a / "results").iterdir())
    assert not list((b / "failures").iterdir())
    for uid in IDS:
        x, y = Explanation.load(a / "results" / f"{uid}.npz"), Explanation.load(b / "results" / f"{uid}.npz")
        assert x.transcript.ids == y.transcript.ids
        for name in ("attention", "spes-input", "spes-encoder"):
            assert np.allclose(x[name].values, y[name].values, rtol=1e-4, atol=1e-6), (uid, name)
    build_report(b, figures=False)
    for table in TABLES:
        rows_a = list(csv.DictReader((a / "tables" / f"{table}.csv").open()))
        rows_b = list(csv.DictReader((b / "tables" / f"{table}.csv").open()))
        assert len(rows_a) == len(rows_b) > 0, table
        for ra, rb in zip(rows_a, rows_b):
            for key, va in ra.items():
                try:
                    assert np.allclose(float(va), float(rb[key]), rtol=1e-3, atol=1e-4, equal_nan=True), (table, key)
                except ValueError:
                    if not va.startswith("["):  # text columns equal; list columns (mean curves) checked by AUC
                        assert va == rb[key], (table, key)


@pytest.mark.slow  # worker processes and a 3-utterance local run: minutes
def test_two_worker_processes_equal_the_local_run(tmp_path, manifest, local_run, tiny_whisper):
    summary = run_study(tiny_whisper, manifest, tmp_path, OPTIONS, progress=False, executor=ProcessExecutor(2))
    assert (summary.computed, summary.failed, summary.total) == (3, 0, 3)
    assert_same_run(local_run, tmp_path)


@pytest.mark.slow  # worker processes and a 3-utterance local run: minutes
def test_a_killed_worker_leaves_every_utterance_exactly_once(tmp_path, manifest, local_run, tiny_whisper):
    out, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    run = StudyRun(tiny_whisper, read_corpus(manifest), out, OPTIONS, analyze=DieOnceAnalysis("u1", str(scratch)))
    summary = run.run(progress=False, executor=ProcessExecutor(2))
    assert (summary.computed, summary.failed) == (3, 0)  # three utterances written, each once
    assert (scratch / "died-u1").exists()  # the worker really died on u1
    # a local pool restarts all its workers: what was in flight on the other one is computed again
    assert set((scratch / "calls.log").read_text().split()) == set(IDS)
    assert_same_run(local_run, out)


@pytest.mark.slow  # worker processes and a 3-utterance local run: minutes
def test_two_shards_in_one_folder_equal_one_run(tmp_path, manifest, local_run, tiny_whisper):
    first = run_study(tiny_whisper, manifest, tmp_path, OPTIONS, progress=False, shard=(1, 2))
    second = run_study(tiny_whisper, manifest, tmp_path, OPTIONS, progress=False, shard=(2, 2))
    assert (first.total, second.total) == (2, 1)  # lines 1, 3 and line 2
    assert_same_run(local_run, tmp_path)


@pytest.mark.slow  # worker processes and a 3-utterance local run: minutes
def test_the_same_shard_twice_is_refused(tmp_path, manifest, tiny_whisper):
    (tmp_path / "locks").mkdir()
    with open(tmp_path / "locks" / "run.lock", "a") as run, open(tmp_path / "locks" / "shard-1-of-2.lock", "a") as held:
        fcntl.flock(run, fcntl.LOCK_SH | fcntl.LOCK_NB)  # what another process running shard 1/2 holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(OptionError, match="another process is writing shard 1/2 of this run folder"):
            run_study(tiny_whisper, manifest, tmp_path, OPTIONS, progress=False, shard=(1, 2))
        with pytest.raises(OptionError, match="another process is writing this run folder"):
            run_study(tiny_whisper, manifest, tmp_path, OPTIONS, progress=False)
        other = run_study(tiny_whisper, manifest, tmp_path, OPTIONS, progress=False, shard=(2, 2))  # may run beside
    assert other.computed == 1 and sorted(p.name for p in (tmp_path / "results").iterdir()) == ["u1.json", "u1.npz"]


def test_parse_shard():
    assert parse_shard("2/8") == (2, 8)
    for bad in ("0/2", "3/2", "2", "a/b"):
        with pytest.raises(OptionError, match="bad shard"):
            parse_shard(bad)


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    yield ray
    if ray.is_initialized():
        ray.shutdown()


@pytest.mark.slow  # worker processes and a 3-utterance local run: minutes
def test_a_ray_study_with_two_workers_equals_the_local_run(tmp_path, manifest, local_run, tiny_whisper, ray_local):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    run = StudyRun(tiny_whisper, read_corpus(manifest), tmp_path / "run", OPTIONS,
                   analyze=DieOnceAnalysis("u2", str(scratch)))
    summary = run.run(progress=False, executor=RayExecutor(workers=2))
    assert (summary.computed, summary.failed) == (3, 0)
    assert (scratch / "died-u2").exists()  # a Ray worker process died mid-run and was replaced
    assert sorted((scratch / "calls.log").read_text().split()) == IDS
    assert_same_run(local_run, tmp_path / "run")


def test_a_truncated_file_in_a_study_is_warned_about_and_recorded(tmp_path, tiny_whisper):
    from s2t_explain.audio import AudioWarning

    sf.write(tmp_path / "cut.wav", speechlike(1.0), 16_000, subtype="PCM_16")
    data = (tmp_path / "cut.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: 44 + (len(data) - 44) // 4 * 2])
    (tmp_path / "m.jsonl").write_text(json.dumps({"id": "cut", "audio": "cut.wav", "reference": "w"}) + "\n")
    with pytest.warns(AudioWarning, match="cut.wav is truncated"):
        run_study(tiny_whisper, tmp_path / "m.jsonl", tmp_path / "run", OPTIONS, progress=False)
    record = json.loads((tmp_path / "run" / "results" / "cut.json").read_text())
    assert len(record["warnings"]) == 1 and "holds 0.5 s" in record["warnings"][0]
    assert Explanation.load(tmp_path / "run" / "results" / "cut.npz").warnings == record["warnings"]
