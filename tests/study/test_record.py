"""The per-utterance record schema (study.record): it matches what analyze writes, and damaged
records are refused with one clear line."""

import ast
import json
import types
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import numpy as np
import pytest

import s2t_explain.study.record as record_module
import s2t_explain.study.runner as runner
import s2t_explain.study.utterance as utterance_module
from s2t_explain.errors import AudioError, ResultError
from s2t_explain.explainers.catalog import new_map
from s2t_explain.files import write_json
from s2t_explain.study import StudyOptions, compare, load_records, run_study
from s2t_explain.study.manifest import Utterance
from s2t_explain.study.record import RECORD_KEYS, Comparison, FailureRecord, UtteranceRecord, check_record
from study.helpers_study import synthetic_explanation


class FakeScorer:
    """Stands in for CurveScorer (no model): the damage is the occluded percentage."""

    def __init__(self, model, features, transcript, how="decode", metric="wer", **kwargs):
        self.n_frames, self.how, self.metric = features.n_frames, how, metric

    def score(self, masks):
        return 100 * masks.reshape(len(masks), -1).mean(axis=1)


@pytest.fixture
def analyze(monkeypatch):
    """The real ``analyze`` (record building, faithfulness curves, text metrics) on a synthetic
    Explanation: only decoding, saliency and curve scoring are faked."""
    result = synthetic_explanation(0)
    n_bins, n_frames = result.features.shape
    prepared = SimpleNamespace(features=SimpleNamespace(values=np.zeros((n_bins, n_frames)), n_frames=n_frames))
    monkeypatch.setattr(utterance_module, "prepare", lambda model, audio, sample_rate=None, name=None: prepared)
    monkeypatch.setattr(Utterance, "load", lambda self, sample_rate=16_000: np.zeros(sample_rate, np.float32))
    monkeypatch.setattr(utterance_module, "explain", lambda model, prepared, **kwargs: result)
    monkeypatch.setattr(utterance_module, "CurveScorer", FakeScorer)
    import s2t_explain.methods.api as methods_module
    from s2t_explain.explainers.catalog import new_map
    from s2t_explain.results.maps import Cost

    def fake_methods(model, prepared, names, **kwargs):  # planted maps: one per-head, one input, one encoder
        planted = {"attention-norm": result.cross_attention, "grad-input": result["spes-input"].values,
                   "grad-encoder": result["spes-encoder"].values}
        return {n: new_map(n, planted[n], Cost(0.5, 1, 1)) for n in names}

    monkeypatch.setattr(methods_module, "explain_methods", fake_methods)
    model = SimpleNamespace(check_task=lambda task, language: None, sample_rate=16_000)

    def run(reference: str | None = "w w w w", faithfulness: str = "both",
            pairs: tuple[str, ...] = ("grad-encoder:SM_H",)) -> dict:
        options = StudyOptions(faithfulness=faithfulness, curve_step=25,
                               methods=("attention-norm", "grad-input", "grad-encoder"), pairs=pairs)
        _, record = utterance_module.analyze(model, Utterance("u0", Path("u0.wav"), reference=reference), options)
        return record

    return run


def written(record: dict, tmp_path: Path, name: str = "u0.json") -> dict:
    """The record as the runner writes it (strict JSON) and the report reads it back."""
    path = tmp_path / name
    write_json(path, record)
    return json.loads(path.read_text(encoding="utf-8"))


def assert_fits(value: Any, hint: Any, where: str = "record") -> None:
    """Every object typed by a TypedDict has exactly its declared keys; values have the declared types."""
    arms = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
    if value is None:
        assert type(None) in arms, f"{where} is null"
        return
    containers = [a for a in arms if is_typeddict(a) or get_origin(a) in (dict, list)]
    if not containers:
        scalars = tuple(t for a in arms for t in ((int, float) if a is float else (a,)))
        assert isinstance(value, scalars) and (bool in arms or not isinstance(value, bool)), \
            f"{where}: {value!r} is not {hint}"
        return
    (hint,) = containers
    if is_typeddict(hint):
        declared = hint.__required_keys__ | hint.__optional_keys__
        assert isinstance(value, dict) and set(value) <= declared, f"{where}: undeclared {set(value) - declared}"
        assert hint.__required_keys__ <= set(value), f"{where}: lacks {hint.__required_keys__ - set(value)}"
        fields = get_type_hints(hint)
        for key, item in value.items():
            assert_fits(item, fields[key], f"{where}.{key}")
    elif get_origin(hint) is dict:
        assert isinstance(value, dict) and value, f"{where} is not a non-empty object"
        for key, item in value.items():
            assert_fits(item, get_args(hint)[1], f"{where}.{key}")
    else:
        assert isinstance(value, list), f"{where} is not a list"
        for k, item in enumerate(value):
            assert_fits(item, get_args(hint)[0], f"{where}[{k}]")


def test_schema_matches_what_analyze_writes(analyze, tmp_path):
    record = written(analyze(), tmp_path)
    # every declared key is written (with a reference, the optional one too), in the declared order
    # ("warnings" only when the input file had something to warn about: a truncated WAV)
    assert list(record) == [k for k in get_type_hints(UtteranceRecord) if k != "warnings"]
    assert RECORD_KEYS == UtteranceRecord.__required_keys__
    assert UtteranceRecord.__optional_keys__ == {"reference_score", "methods", "tokens", "pairs", "warnings",
                                                 "fidelity"}
    assert record["fidelity"]["kind"] == "paper" and record["fidelity"]["target"] == 0.95  # the default preset
    # the asked pair: grad-encoder was planted as a copy of SM_H, so they agree exactly
    assert list(record["pairs"]) == ["grad-encoder:spes-encoder"]
    assert record["pairs"]["grad-encoder:spes-encoder"]["r"]["pearson"] == pytest.approx(1.0)
    assert_fits(record, UtteranceRecord)
    # nested parts, spelled out
    assert set(record["agreement"]) == {"CA-SMX", "CA-SMH", "SMX-SMH"}
    assert set(record["agreement"]["CA-SMX"]) == {"pearson", "spearman", "kendall"}
    head = record["agreement"]["CA-SMH"]["pearson"]
    assert np.asarray(head["head"]).shape == (2, 3) and len(head["layer"]) == 2  # (L, H), (L,)
    assert head["best-head-index"] == [1, 2] and head["best-head"] == pytest.approx(1.0)  # the planted head
    assert set(record["faithfulness"]) == {"decode", "logprob"}
    assert record["faithfulness"]["logprob"]["metric"] == "logprob_drop"
    assert record["faithfulness"]["decode"]["steps"] == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert set(record["faithfulness"]["decode"]["deletion"]) == {"CA", "SMX-pooled", "SMX", "SMH", "attention-norm",
                                                                 "grad-input", "grad-encoder", "random"}
    assert record["methods"]["grad-encoder"]["agreement"]["SMH"]["pearson"]["all"] == pytest.approx(1.0)
    assert record["methods"]["attention-norm"]["agreement"]["SMH"]["pearson"]["best-head-index"] == [1, 2]
    assert record["tokens"]["kinds"] == ["first", "word-initial", "word-initial", "word-initial"]
    assert set(record["size"]) == {"CA", "SMX-pooled", "SMX", "SMH"}
    assert record["reference_score"] == {"wer": pytest.approx(0.0)}
    assert check_record(record, "u0.json") is record


def test_schema_without_reference_or_faithfulness(analyze, tmp_path):
    record = written(analyze(reference=None, faithfulness="off", pairs=()), tmp_path)
    assert set(record) == RECORD_KEYS | {"methods", "tokens", "fidelity"}  # no reference_score, no pairs asked for
    assert record["faithfulness"] == {} and record["reference"] is None
    check_record(record, "u0.json")


def test_compare_fits_its_schema_and_nulls_are_allowed(tmp_path):
    result = synthetic_explanation(1)
    result.alignment_heads = []  # no alignment heads: "alignment" is null
    result.maps["spes-encoder"] = new_map("SM_H", np.ones_like(result["SM_H"].values))  # constant: NaN r -> null
    comparison = written(compare(result, StudyOptions()), tmp_path)
    assert set(comparison) == Comparison.__required_keys__ | Comparison.__optional_keys__
    assert comparison["agreement"]["CA-SMH"]["pearson"]["all"] is None
    assert comparison["agreement"]["CA-SMX"]["pearson"]["alignment"] is None
    assert_fits(comparison["agreement"], get_type_hints(Comparison)["agreement"])


def test_check_record_rejects_damage(analyze, tmp_path):
    good = written(analyze(), tmp_path)
    path = tmp_path / "results" / "u7.json"

    def error(record: object) -> str:
        with pytest.raises(ResultError) as e:
            check_record(record, path)
        message = str(e.value)
        assert str(path) in message and "\n" not in message
        return message

    missing = {k: v for k, v in good.items() if k not in ("size", "timings_s")}
    assert "missing key(s) size, timings_s" in error(missing)
    assert "agreement is a list, expected an object" in error(good | {"agreement": []})
    assert "n_tokens is a string, expected an integer" in error(good | {"n_tokens": "4"})
    assert "expected an object" in error([good])
    deep = json.loads(json.dumps(good))
    del deep["agreement"]["CA-SMX"]["pearson"]["best-head"]
    assert "agreement.CA-SMX.pearson lacks key(s) best-head" in error(deep)
    deep = json.loads(json.dumps(good))
    deep["faithfulness"]["decode"]["deletion"]["CA"]["curve"][1] = "x"
    assert "faithfulness.decode.deletion.CA.curve[1] is a string, expected a number or null" in error(deep)
    deep = json.loads(json.dumps(good))
    deep["agreement"]["CA-SMH"]["spearman"]["head"][0][0] = True
    assert "head[0][0] is true or false" in error(deep)
    # nulls where numbers may be non-finite, and keys the schema does not know, are fine
    fine = json.loads(json.dumps(good)) | {"note": "added by hand"}
    fine["agreement"]["SMX-SMH"]["pearson"] = None
    fine["agreement"]["CA-SMX"]["pearson"]["head"][0][1] = None
    fine["size"]["SMX"] = None
    assert check_record(fine, path) is fine


def test_load_records_refuses_a_damaged_record(analyze, tmp_path):
    run = tmp_path / "run"
    good = analyze()
    write_json(run / "results" / "u0.json", good)
    write_json(run / "results" / "u1.json", {k: v for k, v in good.items() if k != "agreement"})
    with pytest.raises(ResultError) as e:
        load_records(run)
    message = str(e.value)
    assert "\n" not in message and str(run / "results" / "u1.json") in message and "agreement" in message
    (run / "results" / "u1.json").write_text(json.dumps(good | {"agreement": "damaged"}))
    with pytest.raises(ResultError, match="u1.json is not a valid study record: agreement is a string"):
        load_records(run)
    (run / "results" / "u1.json").unlink()
    records, failures = load_records(run)
    assert [r["id"] for r in records] == ["u0"] and failures == []


def test_failure_records(tmp_path, monkeypatch):
    audio = tmp_path / "a.wav"
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"id": "u0", "audio": "a.wav"}\n{"id": \n')

    def fail(model, utterance, options, task, language, stage=None):
        raise AudioError(f"{audio} not found")

    monkeypatch.setattr(runner, "analyze", fail)
    run = tmp_path / "run"
    run_study(SimpleNamespace(name="synthetic"), manifest, run, StudyOptions(), progress=False)
    (run / "failures" / "junk.json").write_text('["not", "a", "failure"]')
    _, failures = load_records(run)
    by_id = {f["id"]: f for f in failures}
    assert set(by_id) == {"u0", "_line-2", "junk"}
    assert list(by_id["u0"]) == ["id", "audio", "reason"] and list(by_id["_line-2"]) == ["id", "line", "reason"]
    assert by_id["junk"] == {"id": "junk", "reason": "unreadable failure record"}
    for failure in failures:
        assert_fits(failure, FailureRecord, failure["id"])


def test_record_module_is_lightweight():
    tree = ast.parse(Path(record_module.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    relative = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level}
    assert imported <= {"types", "functools", "pathlib", "typing"}
    assert relative <= {"errors"}
