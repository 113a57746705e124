"""Utterance.load: only the segment is read, mono, resampled, and one-line errors for bad audio."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from corpora.helpers_corpora import ramp, write_audio
from s2t_explain.audio import load_audio
from s2t_explain.corpora import Utterance
from s2t_explain.errors import AudioError


@pytest.fixture
def wav(tmp_path) -> Path:
    return write_audio(tmp_path / "long.wav", ramp(3.0))


def test_whole_file_is_load_audio(wav):
    assert np.array_equal(Utterance("a", wav).load(), load_audio(wav))


def test_segment_is_exactly_its_samples(wav):
    full = load_audio(wav)
    assert np.array_equal(Utterance("a", wav, start=1.0, end=2.0).load(), full[16_000:32_000])
    assert np.array_equal(Utterance("a", wav, start=2.5).load(), full[40_000:])  # to the end
    assert np.array_equal(Utterance("a", wav, end=0.5).load(), full[:8_000])  # from the start


def test_segment_reads_only_its_frames(wav, monkeypatch):
    reads, seeks = [], []
    real_read, real_seek = sf.SoundFile.read, sf.SoundFile.seek

    def read(self, frames=-1, *args, **kwargs):
        reads.append(frames)
        return real_read(self, frames, *args, **kwargs)

    def seek(self, frames, *args, **kwargs):
        seeks.append(frames)
        return real_seek(self, frames, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", read)
    monkeypatch.setattr(sf.SoundFile, "seek", seek)
    Utterance("a", wav, start=1.25, end=1.5).load()
    assert seeks[0] == 20_000 and reads == [4_000]  # never the 48 000 frames of the file (read seeks too)


def test_stereo_and_other_rates(tmp_path):
    left, right = ramp(2.0, 8_000), -0.5 * ramp(2.0, 8_000)
    path = write_audio(tmp_path / "stereo.wav", np.stack([left, right], axis=1), rate=8_000)
    samples = Utterance("s", path, start=0.5, end=1.5).load(16_000)
    assert samples.dtype == np.float32 and samples.shape == (16_000,)  # 1 s at 16 kHz, mono
    expected = load_audio((left + right)[4_000:12_000] / 2, 16_000, source_rate=8_000)
    assert np.allclose(samples, expected, atol=1e-6)


def test_embedded_bytes(wav):
    data = Path(wav).read_bytes()
    whole = Utterance("e", Path("x.wav"), data=data)
    assert np.array_equal(whole.load(), load_audio(wav))
    segment = Utterance("e", Path("x.wav"), start=1.0, end=1.1, data=data)
    assert np.array_equal(segment.load(), load_audio(wav)[16_000:17_600])
    assert "data" not in repr(whole) and whole.source == "x.wav (embedded)"


def test_sources():
    assert Utterance("a", Path("r.flac")).source == "r.flac"
    assert Utterance("a", Path("r.flac"), start=1, end=2.5).source == "r.flac [1.00-2.50 s]"
    assert Utterance("a", Path("r.flac"), start=3).source == "r.flac [3.00-end s]"
    assert Utterance("a", Path("r.flac"), start=3).segment == (3, None)
    assert Utterance("a", Path("r.flac")).segment is None


def test_overshoot_within_half_a_second_is_cut(wav):
    assert Utterance("a", wav, start=2.0, end=3.4).load().shape == (16_000,)  # Kaldi's max-overshoot


@pytest.mark.parametrize("make,needles", [
    (lambda d: Utterance("a", d / "missing.wav"), ["audio file not found", "missing.wav"]),
    (lambda d: Utterance("a", d / "missing.wav", start=1.0), ["audio file not found"]),
    (lambda d: Utterance("a", d), ["is a folder"]),
    (lambda d: Utterance("a", d / "long.wav", start=2.0, end=2.0), ["end 2.0 s is not after its start 2.0 s"]),
    (lambda d: Utterance("a", d / "long.wav", start=-1.0), ["not a time in the file"]),
    (lambda d: Utterance("a", d / "long.wav", start=3.5), ["starts at 3.50 s, past the end of long.wav (3.00 s)"]),
    (lambda d: Utterance("a", d / "long.wav", start=1.0, end=5.0), ["ends at 5.00 s, past the end of long.wav"]),
    (lambda d: Utterance("a", Path("x.flac"), data=b"not audio at all"), ["cannot read audio", "embedded", "x.flac"]),
    (lambda d: Utterance("a", d / "bad.flac", start=0.5), ["cannot read audio", "bad.flac"]),
    (lambda d: Utterance("a", d / "quiet.wav", start=0.5, end=1.0), ["quiet.wav [0.50-1.00 s] is silent"]),
])
def test_bad_audio_is_one_line(tmp_path, wav, make, needles):
    (tmp_path / "bad.flac").write_bytes(b"fLaC" + bytes(range(256)) * 4)
    write_audio(tmp_path / "quiet.wav", np.zeros(32_000, np.float32))
    with pytest.raises(AudioError) as caught:
        make(tmp_path).load()
    message = str(caught.value)
    assert "\n" not in message and "audio array" not in message
    for needle in needles:
        assert needle in message, message
