"""Kaldi data folders: segments of one recording, ctm word times, and every kind of bad entry."""

import shutil

import numpy as np
import pytest

from corpora.helpers_corpora import EXAMPLES, align_words, clip, ramp, write_audio, write_lines
from s2t_explain.corpora import BadLine, Utterance, read_corpus, read_timed_corpus
from s2t_explain.errors import AudioError, OptionError

KALDI = EXAMPLES / "kaldi"
CLIPS = ("en_13", "en_15", "en_08")


def test_example_segments_of_one_recording():
    corpus = read_corpus(KALDI)
    assert corpus.name == "kaldi" and corpus.size == 3
    items = list(corpus)
    assert [u.id for u in items] == ["spk1-talk1-000", "spk1-talk1-001", "spk1-talk1-002"]
    assert {u.audio for u in items} == {KALDI / "talk1.flac"}
    assert [u.segment for u in items] == [(0.5, 4.772), (5.572, 9.779), (10.579, 15.733)]
    assert items[0].reference == "The shop sells apples and oranges." and items[0].language == "en"
    for item, clip_id in zip(items, CLIPS):  # each segment is its clip, sample for sample
        assert np.array_equal(item.load(), clip("align", clip_id))


def test_example_ctm_gives_the_clips_word_times():
    items = read_timed_corpus(KALDI)
    assert [u.id for u in items] == ["spk1-talk1-000", "spk1-talk1-001", "spk1-talk1-002"]
    for item, clip_id in zip(items, CLIPS):
        assert item.words == align_words(clip_id)  # shifted back into the segment, exactly


def test_ctm_keyed_by_utterance(tmp_path):
    """The same times, keyed by utterance (still seconds in the recording): the same words."""
    folder = shutil.copytree(KALDI, tmp_path / "k")
    starts = {u.id: u.start for u in read_corpus(KALDI)}
    lines = []
    for item in read_timed_corpus(KALDI):
        lines += [f"{item.id} 1 {s + starts[item.id]:.4f} {e - s:.4f} {w}" for w, s, e in item.words]
    write_lines(folder / "ctm", lines)
    assert [u.words for u in read_timed_corpus(folder)] == [u.words for u in read_timed_corpus(KALDI)]
    write_lines(folder / "ctm", [f"spk1-talk1-000 1 {s:.4f} {e - s:.4f} {w}" for w, s, e in align_words("en_13")])
    with pytest.raises(OptionError, match="lies outside the segment 0.5-4.772 s of spk1-talk1-000"):
        read_timed_corpus(folder)  # utterance-relative times are not what the ctm holds


def test_ctm_problems(tmp_path):
    folder = shutil.copytree(KALDI, tmp_path / "k")
    (folder / "ctm").unlink()
    with pytest.raises(OptionError, match="needs a ctm file"):
        read_timed_corpus(folder)
    write_lines(folder / "ctm", ["talk1 1 0.9 x"])
    with pytest.raises(OptionError, match=r"ctm:1: not a ctm line"):
        read_timed_corpus(folder)
    write_lines(folder / "ctm", ["talk1 1 0.9 0.2 The"])
    with pytest.raises(OptionError, match="no words for utterance spk1-talk1-001"):
        read_timed_corpus(folder)


def test_whole_recordings_without_segments(tmp_path):
    write_audio(tmp_path / "a.wav", ramp(0.5))
    write_lines(tmp_path / "wav.scp", ["a a.wav", f"b {tmp_path / 'a.wav'}"])
    write_lines(tmp_path / "text", ["a hello there", "b general kenobi"])
    a, b = read_corpus(tmp_path)
    assert a == Utterance("a", tmp_path / "a.wav", "hello there")
    assert b == Utterance("b", tmp_path / "a.wav", "general kenobi")  # absolute paths kept


def test_bad_entries(tmp_path):
    write_audio(tmp_path / "rec.flac", ramp(3.0))
    write_lines(tmp_path / "wav.scp", ["rec rec.flac", "piped sph2pipe -f wav -p -c 1 /corpus/x.sph |",
                                       "ark /data/feats.ark:1234"])
    write_lines(tmp_path / "segments", ["ok rec 0.5 1.5", "tail rec 2.0 -1", "late rec 2.5 9.0", "out rec 4.0 5.0",
                                        "p piped 0 1", "k ark 0 1", "gone nowhere 0 1", "silent rec 1 0.5",
                                        "mute rec 0.1 0.2", "short rec 1 2 extra"])
    write_lines(tmp_path / "text", ["ok fine words", "tail the rest", "late too long", "out past the end",
                                    "p piped", "k archived", "gone lost", "silent backwards", "short bad line",
                                    "nosegment words", "ok again", "empty"])
    items = {item.id: item for item in read_corpus(tmp_path)}
    assert items["ok"] == Utterance("ok", tmp_path / "rec.flac", "fine words", start=0.5, end=1.5)
    assert items["tail"].segment == (2.0, None) and items["tail"].load().shape == (16_000,)
    with pytest.raises(AudioError, match="ends at 9.00 s, past the end of rec.flac"):
        items["late"].load()
    with pytest.raises(AudioError, match="starts at 4.00 s, past the end of rec.flac"):
        items["out"].load()
    reasons = {uid: item.reason for uid, item in items.items() if isinstance(item, BadLine)}
    assert "as a command (sph2pipe -f wav -p -c 1 /corpus/x.sph |); decode it" in reasons["p"]
    assert "inside a Kaldi archive" in reasons["k"]
    assert reasons["gone"] == "recording nowhere of utterance gone is not in wav.scp"
    assert "segments line 8 is not a segment" in reasons["silent"] and "not after its start" in reasons["silent"]
    assert "segments line 10 is not a segment" in reasons["short"]
    assert reasons["nosegment"] == "utterance nosegment has no line in segments"
    assert reasons["_text-line-11"] == "duplicate id 'ok'"
    assert reasons["empty"] == "missing transcript: utterance empty has no text in the text file"
    assert reasons["mute"] == "missing transcript: utterance mute has no line in text"
    assert items["mute"].line == 0 and items["_text-line-11"].line == 11


def test_not_a_kaldi_folder(tmp_path):
    write_lines(tmp_path / "wav.scp", ["a a.wav"])
    with pytest.raises(OptionError, match="not a Kaldi data folder: it needs wav.scp and text"):
        read_corpus(tmp_path, "kaldi")
    with pytest.raises(OptionError, match="cannot tell the corpus format"):
        read_corpus(tmp_path)


def test_untranscribed_entries_with_unusable_ids_get_distinct_ids(tmp_path):
    write_audio(tmp_path / "rec.flac", ramp(3.0))
    write_lines(tmp_path / "wav.scp", ["rec rec.flac"])
    write_lines(tmp_path / "segments", ["ok rec 0.5 1.5", "a/1 rec 0 1", "b/2 rec 1 2", "c:3 rec 2 3"])
    write_lines(tmp_path / "text", ["ok fine words"])
    bad = [item for item in read_corpus(tmp_path) if isinstance(item, BadLine)]
    assert len(bad) == 3 and len({b.id for b in bad}) == 3  # was: all three "untranscribed"
    assert all(b.id.startswith("_segments-entry-") and "no line in text" in b.reason for b in bad)
