"""align-bench and heads read alignment corpora in every format with word times (here: a Kaldi ctm)."""

import json

import pytest

import s2t_explain.cli.align as align_cli
from corpora.helpers_corpora import EXAMPLES
from s2t_explain.cli.main import main


@pytest.fixture
def tiny(monkeypatch, tiny_whisper):
    monkeypatch.setattr(align_cli, "load", lambda args, status: tiny_whisper)
    return tiny_whisper


def test_align_bench_on_a_kaldi_folder(tmp_path, capsys, tiny):
    argv = ["align-bench", "--manifest", str(EXAMPLES / "kaldi"), "--methods", "alignment-heads", "--limit", "1",
            "-o", str(tmp_path), "-q"]
    assert main(argv) == 0
    assert "tiny-random, 1 utterances, forced to the reference text" in capsys.readouterr().out
    assert json.loads((tmp_path / "align_bench.json").read_text())["methods"]["alignment-heads"]["words"] == 6


def test_heads_from_a_kaldi_folder(capsys, tiny):
    assert main(["heads", "--manifest", str(EXAMPLES / "kaldi"), "--format", "kaldi", "--top", "2", "-q"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


@pytest.mark.parametrize("argv,message", [
    (["align-bench", "--manifest", str(EXAMPLES / "librispeech")], "the librispeech corpus format has no word times"),
    (["align-bench", "--manifest", str(EXAMPLES / "kaldi"), "--format", "csv"], "is a folder; the csv format reads"),
    (["heads", "--manifest", str(EXAMPLES / "hf")], "the hf-disk corpus format has no word times"),
])
def test_corpora_without_word_times(capsys, tiny, argv, message):
    assert main([*argv, "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
