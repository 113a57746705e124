"""LibriSpeech folders: the committed example, a root with subsets, bad entries, lazy walking."""

import numpy as np
import pytest

import s2t_explain.corpora.librispeech as librispeech
from corpora.helpers_corpora import EXAMPLES, clip, ramp, write_audio, write_lines
from s2t_explain.corpora import BadLine, Utterance, detect_format, read_corpus
from s2t_explain.errors import OptionError


def test_example():
    items = list(read_corpus(EXAMPLES / "librispeech"))
    assert [u.id for u in items] == ["1001-20-0000", "1001-20-0001", "1002-31-0000"]
    assert [u.reference for u in items] == ["CAN YOU PASS ME THE SALT PLEASE", "I NEED TO BUY MILK BREAD AND EGGS",
                                            "THE DOCTOR TOLD ME TO DRINK MORE WATER"]
    assert items[0].audio == EXAMPLES / "librispeech" / "1001" / "20" / "1001-20-0000.flac"
    assert all(isinstance(u, Utterance) and u.segment is None for u in items)
    for item, clip_id in zip(items, ("en_02", "en_06", "en_12")):
        assert np.array_equal(item.load(), clip("eval", clip_id))


def test_root_of_subsets_in_numeric_order(tmp_path):
    for subset, speaker, chapter in [("test-clean", 7, 3), ("dev-clean", 84, 121), ("dev-clean", 174, 50)]:
        folder = tmp_path / "LibriSpeech" / subset / str(speaker) / str(chapter)
        uid = f"{speaker}-{chapter}-0000"
        write_audio(folder / f"{uid}.flac", ramp(0.3))
        write_lines(folder / f"{speaker}-{chapter}.trans.txt", [f"{uid} HELLO {speaker}"])
    assert detect_format(tmp_path) == "librispeech"
    ids = [u.id for u in read_corpus(tmp_path, "librispeech")]
    assert ids == ["84-121-0000", "174-50-0000", "7-3-0000"]  # dev-clean before test-clean; 84 before 174


def test_bad_entries(tmp_path):
    folder = tmp_path / "1" / "2"
    write_audio(folder / "1-2-0000.flac", ramp(0.3))
    write_audio(folder / "1-2-0002.flac", ramp(0.3))  # no transcript line
    write_audio(folder / "1-2-0003.flac", ramp(0.3))
    write_lines(folder / "1-2.trans.txt", ["1-2-0000 FINE", "1-2-0001 NO AUDIO", "1-2-0003", "1-2-0000 AGAIN"])
    items = list(read_corpus(tmp_path))
    assert items[0] == Utterance("1-2-0000", folder / "1-2-0000.flac", "FINE")
    assert items[1] == BadLine("1-2-0001", 2, f"1-2.trans.txt line 2: no audio file 1-2-0001.flac in {folder}")
    assert items[2] == BadLine("1-2-0003", 3, "1-2.trans.txt line 3: no transcript text")
    assert items[3] == BadLine("_1-2-line-4", 4, "duplicate id '1-2-0000'")
    assert items[4].id == "1-2-0002" and "missing transcript" in items[4].reason
    assert len(items) == 5


def test_not_librispeech(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(OptionError, match="no LibriSpeech transcripts"):
        read_corpus(tmp_path, "librispeech")
    with pytest.raises(OptionError, match="is a folder; the jsonl format reads a manifest file"):
        read_corpus(EXAMPLES / "librispeech", "jsonl")


def test_first_utterance_without_walking_the_rest(tmp_path, monkeypatch):
    """2000 utterances in 100 chapters: the first comes after a handful of folder listings."""
    for speaker in range(10):
        for chapter in range(10):
            folder = tmp_path / str(speaker) / str(chapter)
            folder.mkdir(parents=True)
            ids = [f"{speaker}-{chapter}-{k:04d}" for k in range(20)]
            for uid in ids:
                (folder / f"{uid}.flac").touch()  # listed, never opened
            write_lines(folder / f"{speaker}-{chapter}.trans.txt", [f"{uid} WORDS" for uid in ids])
    listed = []
    real = librispeech._listdir
    monkeypatch.setattr(librispeech, "_listdir", lambda folder: listed.append(folder) or real(folder))
    corpus = read_corpus(tmp_path)
    first = next(corpus)
    assert first.id == "0-0-0000" and isinstance(first, Utterance)
    assert len(listed) == 9  # root, speaker, chapter (of 111 folders): to detect, to check and to read
    assert sum(1 for _ in corpus) == 1999
