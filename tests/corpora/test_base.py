"""The registry, detection, read_corpus's errors, streaming, and a format added as one class."""

import json
from pathlib import Path

import pytest

import s2t_explain.corpora.tables as tables
from corpora.helpers_corpora import EXAMPLES, write_lines
from s2t_explain.corpora import (
    CORPUS_FORMATS,
    BadLine,
    Corpus,
    CorpusFormat,
    Utterance,
    detect_format,
    list_corpus_formats,
    read_corpus,
)
from s2t_explain.errors import OptionError


def test_formats_and_detection():
    assert list_corpus_formats() == ["jsonl", "tsv", "csv", "librispeech", "kaldi", "hf-disk"]
    expected = {"librispeech": "librispeech", "kaldi": "kaldi", "hf": "hf-disk", "hf/test": "hf-disk",
                "csv/manifest.csv": "csv", "../eval/tiny.tsv": "tsv", "../eval/tiny.jsonl": "jsonl"}
    for path, name in expected.items():
        assert detect_format(EXAMPLES / path) == name, path
        assert read_corpus(EXAMPLES / path).name == name


@pytest.mark.parametrize("make,format,message", [
    (lambda d: d / "nowhere", "auto", "manifest not found"),
    (lambda d: d, "auto", "cannot tell the corpus format of {d} (an empty folder); name it, one of: jsonl, tsv"),
    (lambda d: write_lines(d / "m.txt", ["x"]), "auto", "(a file ending '.txt')"),
    (lambda d: d, "sphinx", "unknown corpus format 'sphinx'; choose one of: jsonl, tsv, csv, librispeech, kaldi"),
    (lambda d: write_lines(d / "m.jsonl", [""]), "auto", "manifest {d}/m.jsonl has no utterances"),
])
def test_unusable_corpora_fail_at_once(tmp_path, make, format, message):
    with pytest.raises(OptionError) as caught:
        read_corpus(make(tmp_path), format)
    assert message.format(d=tmp_path) in str(caught.value)


def test_options_belong_to_their_format():
    with pytest.raises(OptionError, match=r"the kaldi corpus format has no option split \(its options: none\)"):
        read_corpus(EXAMPLES / "kaldi", split="train")
    assert read_corpus(EXAMPLES / "kaldi", split=None).name == "kaldi"  # unset options are dropped


def test_duplicates_become_bad_lines(tmp_path):
    path = write_lines(tmp_path / "m.jsonl", [json.dumps({"id": "a", "audio": "a.wav"})] * 2)
    assert list(read_corpus(path)) == [Utterance("a", tmp_path / "a.wav"), BadLine("_line-2", 2, "duplicate id 'a'")]


def test_first_entry_without_parsing_the_rest(tmp_path, monkeypatch):
    path = write_lines(tmp_path / "m.jsonl", [json.dumps({"id": f"u{k}", "audio": f"{k}.wav"}) for k in range(2000)])
    parsed = []
    real = tables.parse_record
    monkeypatch.setattr(tables, "parse_record", lambda record, *a: parsed.append(record["id"]) or real(record, *a))
    corpus = read_corpus(path)
    assert isinstance(corpus, Corpus) and parsed == ["u0"]  # opening reads the first entry only
    assert next(corpus).id == "u0" and next(corpus).id == "u1" and parsed == ["u0", "u1"]
    assert sum(1 for _ in corpus) == 1998


def test_a_new_format_is_one_registered_class(tmp_path, monkeypatch):
    class Listing(CorpusFormat):
        """A folder of WAV files, no transcripts."""

        name = "wav-folder"

        @classmethod
        def detect(cls, path: Path) -> bool:
            return path.is_dir() and any(path.glob("*.wav"))

        def entries(self, path):
            for k, wav in enumerate(sorted(path.glob("*.wav"))):
                yield f"file-{k}", k + 1, Utterance(wav.stem, wav)

    monkeypatch.setitem(CORPUS_FORMATS._items, "wav-folder", Listing)
    (tmp_path / "b.wav").touch()
    (tmp_path / "a.wav").touch()
    assert detect_format(tmp_path) == "wav-folder"
    assert [u.id for u in read_corpus(tmp_path)] == ["a", "b"]
    with pytest.raises(OptionError, match="has no word times; the alignment benchmark reads jsonl, tsv, csv, kaldi"):
        from s2t_explain.corpora import read_timed_corpus

        read_timed_corpus(tmp_path)


@pytest.mark.parametrize("lines", [
    ['{"id": ', '{"id": "line-1", "audio": "a.wav"}'],  # a broken line 1, then an utterance named line-1
    ['{"id": "line-2", "audio": "a.wav"}', '{"id": '],  # the other order
])
def test_a_nameless_bad_line_never_takes_an_utterance_id(tmp_path, lines):
    items = list(read_corpus(write_lines(tmp_path / "m.jsonl", lines)))
    bad = next(i for i in items if isinstance(i, BadLine))
    good = next(i for i in items if isinstance(i, Utterance))
    assert bad.id.startswith("_line-") and good.id.startswith("line-") and bad.id != good.id


@pytest.mark.parametrize("lines,reasons", [
    # a bad entry that has a usable id keeps it; a later entry with that id is a duplicate
    (['{"id": "x", "audio": "a.wav", "task": "sing"}', '{"id": "x", "audio": "a.wav"}'],
     {"x": "unknown task 'sing'", "_line-2": "duplicate id 'x'"}),
    # an utterance first: the later bad entry with its id is filed under its place, with both reasons
    (['{"id": "x", "audio": "a.wav"}', '{"id": "x", "audio": "a.wav", "task": "sing"}'],
     {"_line-2": "duplicate id 'x'; also: unknown task 'sing'"}),
])
def test_every_entry_has_its_own_id(tmp_path, lines, reasons):
    items = list(read_corpus(write_lines(tmp_path / "m.jsonl", lines)))
    assert len({i.id for i in items}) == len(items)
    found = {i.id: i.reason for i in items if isinstance(i, BadLine)}
    assert set(found) == set(reasons) and all(found[k].startswith(v) for k, v in reasons.items()), found
