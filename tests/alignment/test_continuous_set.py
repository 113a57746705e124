"""The bundled continuous-speech alignment set (data/align/continuous_en.jsonl): well formed, no synthesizer."""

import json
import string
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import s2t_explain
from s2t_explain.study.manifest import read_alignment_manifest

ALIGN_DIR = Path(s2t_explain.__file__).parent / "data" / "align"
MANIFEST = ALIGN_DIR / "continuous_en.jsonl"
RATE = 16000
MARGIN_S = 0.001  # the resampling filter reaches at most this far past a word's edge


@pytest.fixture(scope="module")
def lines() -> list[dict]:
    return [json.loads(line) for line in MANIFEST.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def utterances():
    return read_alignment_manifest(MANIFEST)


def test_manifest_parses(lines, utterances):
    assert [u.id for u in utterances] == [f"cont_en_{i:02d}" for i in range(1, 17)]
    assert all(u.language == "en" for u in utterances)
    assert all(line["task"] == "transcribe" and line["audio"] == f"audio/{line['id']}.flac" for line in lines)
    assert all(set(line) == {"id", "audio", "reference", "language", "task", "words"} for line in lines)


def test_words_are_the_reference_words(utterances):
    for u in utterances:
        expected = [w.strip(string.punctuation) for w in u.reference.split()]
        assert [w for w, _, _ in u.words] == expected, u.id
        assert 7 <= len(expected) <= 12, u.id


def test_times_are_ordered_and_rounded(lines):
    for line in lines:
        times = [t for w in line["words"] for t in (w["start"], w["end"])]
        assert all(a <= b for a, b in zip(times, times[1:])), line["id"]  # in order, never overlapping
        assert all(w["end"] - w["start"] >= 0.03 for w in line["words"]), line["id"]
        assert all(round(t, 4) == t for t in times), line["id"]
        assert 0.2 <= times[0], line["id"]  # the lead-in


def test_audio_is_16k_mono_and_silent_outside_the_words(utterances):
    total = 0
    for u in utterances:
        info = sf.info(u.audio)
        assert (info.samplerate, info.channels, info.format, info.subtype) == (RATE, 1, "FLAC", "PCM_16"), u.id
        total += u.audio.stat().st_size
        audio, _ = sf.read(u.audio, dtype="int16")
        assert u.words[-1][2] + 0.25 <= len(audio) / RATE, u.id  # words inside the audio, then the pause
        # Between words (and before the first, after the last) espeak wrote exact zeros: only the
        # resampling filter's edges may leak into them.
        edges = [0.0, *(t for _, start, end in u.words for t in (start, end)), len(audio) / RATE]
        for end, start in zip(edges[::2], edges[1::2]):
            i, j = int(np.ceil((end + MARGIN_S) * RATE)), int((start - MARGIN_S) * RATE)
            assert not np.any(audio[i:j]), (u.id, end, start)
        for _, start, end in u.words:
            assert np.any(audio[int(start * RATE):int(end * RATE)]), (u.id, start)
    assert total < 820_000
