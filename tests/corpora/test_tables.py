"""Manifest files: JSON Lines, TSV and CSV, with segments and word times."""

import json
from pathlib import Path

import numpy as np
import pytest

from corpora.helpers_corpora import EXAMPLES, clip, ramp, write_audio
from s2t_explain.corpora import BadLine, Utterance, read_corpus, read_timed_corpus
from s2t_explain.errors import OptionError


def test_csv_example_segments_of_one_file():
    items = list(read_corpus(EXAMPLES / "csv" / "manifest.csv"))
    audio = EXAMPLES / "csv" / "long.flac"
    assert [(u.id, u.audio, u.language, u.task) for u in items] == [("long-0", audio, "en", "transcribe"),
                                                                     ("long-1", audio, "en", "transcribe")]
    assert items[0].reference == "It started raining just as we left the house."
    assert [u.segment for u in items] == [(0.4, 3.1695), (3.8695, 6.647625)]
    for item, clip_id in zip(items, ("en_03", "en_11")):  # each segment is its clip, sample for sample
        assert np.array_equal(item.load(), clip("eval", clip_id))


def test_jsonl_segments_words_and_encoding(tmp_path):
    lines = [
        json.dumps({"id": "a", "audio": "x.wav", "start": 1.5, "end": 2}),
        json.dumps({"id": "b", "audio": "x.wav", "start": "0.25"}),  # numbers as text are fine
        json.dumps({"id": "c", "audio": "x.wav", "start": 2, "end": 1}),
        json.dumps({"id": "d", "audio": "x.wav", "end": -1}),
        json.dumps({"id": "e", "audio": "x.wav", "start": True}),
        json.dumps({"id": "f", "audio": "x.wav", "words": [{"word": "hi", "start": 0, "end": 1}]}),  # study ignores
    ]
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n{\"id\": \"g\xff\"}\n")  # BOM; bad UTF-8
    items = list(read_corpus(path))
    assert items[0] == Utterance("a", tmp_path / "x.wav", start=1.5, end=2.0)
    assert items[1].start == 0.25 and items[1].end is None
    for k in (2, 3, 4):
        assert isinstance(items[k], BadLine) and "bad segment" in items[k].reason
    assert "not after its start" in items[2].reason and ">= 0" in items[3].reason
    assert isinstance(items[5], Utterance)
    assert items[6] == BadLine("_line-7", 7, "not UTF-8 text")


def test_tsv_and_csv_rows(tmp_path):
    tsv = tmp_path / "m.tsv"
    tsv.write_text("id\taudio\tstart\tend\nx\tx.flac\t0.5\t1.5\ny\ty.flac\tsoon\t\n")
    x, y = read_corpus(tsv)
    assert x == Utterance("x", tmp_path / "x.flac", start=0.5, end=1.5)
    assert isinstance(y, BadLine) and y.id == "y" and "start must be a number" in y.reason
    csv = tmp_path / "m.csv"
    csv.write_bytes('\ufeffid,audio,reference\nq,q.wav,"Hello, ""quoted""\nworld"\nz,z.wav,a,b\nw,w\xe9.wav,t\n'
                    .encode("utf-8").replace("w\xe9".encode(), b"w\xe9"))
    q, z, w = read_corpus(csv)
    assert q == Utterance("q", tmp_path / "q.wav", 'Hello, "quoted"\nworld')  # quoted cells span lines
    assert isinstance(z, BadLine) and z.line == 4 and "4 columns but the header has 3" in z.reason
    assert isinstance(w, BadLine) and w.line == 5 and w.reason == "not UTF-8 text"


@pytest.mark.parametrize("name,text,message", [
    ("m.csv", "audio,reference\n", "a CSV manifest starts with a header row naming at least id and audio"),
    ("m.tsv", "", "a TSV manifest starts with a header row"),
    ("m.csv", "id,audio\n\n", "has no utterances"),
])
def test_unusable_tables(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(OptionError, match=message):
        read_corpus(tmp_path / name)


def test_timed_csv_and_jsonl_shift_segments(tmp_path):
    write_audio(tmp_path / "r.wav", ramp(4.0))
    words = [{"word": "two", "start": 2.1, "end": 2.4}, {"word": "three", "start": 2.5, "end": 2.9}]
    csv = tmp_path / "m.csv"
    csv.write_text("id,audio,reference,start,end,words\n"
                   f"s,r.wav,two three,2.0,3.0,\"{json.dumps(words).replace(chr(34), chr(34) * 2)}\"\n")
    (item,) = read_timed_corpus(csv)
    assert item.segment == (2.0, 3.0)
    assert item.words == [("two", 0.1, 0.4), ("three", 0.5, 0.9)]  # seconds in the segment's own audio
    assert item.load().shape == (16_000,)
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text(json.dumps({"id": "s", "audio": "r.wav", "reference": "two three", "start": 2.0, "end": 3.0,
                                 "words": words}) + "\n")
    assert read_timed_corpus(jsonl) == [item]
    words[1]["end"] = 3.2  # past the segment's end
    jsonl.write_text(json.dumps({"id": "s", "audio": "r.wav", "reference": "x", "start": 2.0, "end": 3.0,
                                 "words": words}) + "\n")
    with pytest.raises(OptionError, match=r"m.jsonl:1: word 'three' at 2.5-3.2 s lies outside the segment 2-3 s"):
        read_timed_corpus(jsonl)


def test_timed_needs_words(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("id,audio,reference\na,a.wav,x\n")
    with pytest.raises(OptionError, match="needs a words column"):
        read_timed_corpus(csv)
    csv.write_text("id,audio,reference,words\na,a.wav,x,[oops\n")
    with pytest.raises(OptionError, match=r"m.csv:2: the words cell must hold a JSON list"):
        read_timed_corpus(csv)
    dup = tmp_path / "d.jsonl"
    line = json.dumps({"id": "a", "audio": "a.wav", "reference": "x", "words": []})
    dup.write_text(line + "\n" + line + "\n")
    with pytest.raises(OptionError, match="duplicate id 'a'"):
        read_timed_corpus(dup)
    with pytest.raises(OptionError, match="librispeech corpus format has no word times"):
        read_timed_corpus(EXAMPLES / "librispeech")


def test_bundled_alignment_set_reads_as_before():
    items = read_timed_corpus(Path(EXAMPLES.parent / "align" / "en.jsonl"))
    assert len(items) == 16 and items[0].words[0] == ("The", 0.3225, 0.6805) and items[0].segment is None
