import json
from pathlib import Path

import pytest

from s2t_explain.errors import OptionError
from s2t_explain.study.manifest import BadLine, Utterance, read_manifest


def test_jsonl_with_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "a", "audio": "a.wav", "reference": "hello", "language": "en"}),
        "{not json",
        json.dumps({"id": "b"}),
        json.dumps({"id": "c", "audio": "/abs/c.wav", "task": "translate"}),
        json.dumps({"id": "a", "audio": "again.wav"}),
        json.dumps({"id": "d", "audio": "d.wav", "task": "summarize"}),
        json.dumps({"id": "../evil", "audio": "e.wav"}),
        json.dumps({"id": "f", "audio": "f.wav", "speaker": "x"}),
        "",
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines))
    items = read_manifest(path)
    assert items[0] == Utterance("a", tmp_path / "a.wav", "hello", "en", None)  # relative to the manifest
    assert isinstance(items[1], BadLine) and items[1].line == 2 and "JSON" in items[1].reason
    assert isinstance(items[2], BadLine) and items[2].id == "b" and "audio" in items[2].reason
    assert items[3] == Utterance("c", Path("/abs/c.wav"), None, None, "translate")  # absolute paths kept
    assert isinstance(items[4], BadLine) and "duplicate" in items[4].reason and items[4].line == 5
    assert isinstance(items[5], BadLine) and "task" in items[5].reason
    assert isinstance(items[6], BadLine) and items[6].id == "_line-7"  # unsafe ids never become file names
    assert isinstance(items[7], BadLine) and "speaker" in items[7].reason
    assert len(items) == 8


def test_tsv(tmp_path):
    path = tmp_path / "m.tsv"
    path.write_text("id\taudio\treference\nx\tx.flac\tsome words\ny\ty.flac\n\nz\tz.flac\tr\textra\n")
    items = read_manifest(path)
    assert items[0] == Utterance("x", tmp_path / "x.flac", "some words")
    assert items[1] == Utterance("y", tmp_path / "y.flac")
    assert isinstance(items[2], BadLine) and items[2].line == 5 and "columns" in items[2].reason


@pytest.mark.parametrize("name,text,message", [
    ("m.tsv", "audio\tid_missing\n", "header"),
    ("m.csv", "id,audio\n", "no utterances"),  # CSV is a corpus format too
    ("m.txt", "id\taudio\n", "cannot tell the corpus format"),
    ("m.jsonl", "\n\n", "no utterances"),
])
def test_unusable_manifests(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(OptionError, match=message):
        read_manifest(path)
    with pytest.raises(OptionError, match="not found"):
        read_manifest(tmp_path / "missing.jsonl")
