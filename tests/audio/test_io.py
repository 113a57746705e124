import numpy as np
import pytest
import soundfile as sf

from helpers import clip_path, speechlike
from s2t_explain.audio import header_warnings, load_audio
from s2t_explain.audio.io import resample
from s2t_explain.errors import AudioError


def test_resample_keeps_a_tone_and_length():
    rate = 22_050
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = resample(tone, rate, 16_000)
    assert out.shape == (16_000,)
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins over one second


def test_resample_removes_content_above_new_nyquist():
    rate = 48_000
    t = np.arange(rate) / rate
    high = np.sin(2 * np.pi * 12_000 * t).astype(np.float32)  # above 8 kHz: must not alias
    out = resample(high, rate, 16_000)
    assert np.sqrt(np.mean(out**2)) < 0.01


def test_stereo_44k_file_is_mono_16k(tmp_path):
    audio = load_audio(clip_path("en_stereo"))
    ref = load_audio(clip_path("en_1"))
    assert audio.ndim == 1 and audio.dtype == np.float32
    assert abs(audio.shape[0] - ref.shape[0]) <= 2


@pytest.mark.parametrize("fmt,ext", [("WAV", "wav"), ("FLAC", "flac"), ("OGG", "ogg")])
def test_formats(tmp_path, fmt, ext):
    path = tmp_path / f"x.{ext}"
    sf.write(path, speechlike(1.0, 24_000), 24_000, format=fmt)
    audio = load_audio(path)
    assert abs(audio.shape[0] - 16_000) <= 1


def test_mp3_if_supported(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    path = tmp_path / "x.mp3"
    sf.write(path, speechlike(1.0), 16_000, format="MP3")
    assert abs(load_audio(path).shape[0] - 16_000) < 2000  # MP3 adds codec padding


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "nope.wav")


def test_corrupt_file(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x00\x00garbage" * 10)
    with pytest.raises(AudioError, match="cannot read audio"):
        load_audio(path)


def test_zero_length(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, np.float32), 16_000)
    with pytest.raises(AudioError, match="zero-length"):
        load_audio(path)


def test_silence(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(16_000, np.float32), 16_000)
    with pytest.raises(AudioError, match="silent"):
        load_audio(path)


def test_array_input_channels_last_or_first():
    x = speechlike(0.5)
    both = np.stack([x, x])  # (channels, samples)
    assert np.allclose(load_audio(both), x)
    assert np.allclose(load_audio(both.T), x)


def _truncated_wav(path, seconds=4.0, keep=0.5):
    """A 16-bit WAV whose header declares ``seconds`` but whose data stops after ``keep`` of them."""
    sf.write(path, speechlike(seconds), 16_000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: 44 + int((len(data) - 44) * keep) // 2 * 2])
    return path


def test_a_truncated_wav_is_named_with_both_lengths(tmp_path):
    path = _truncated_wav(tmp_path / "cut.wav")
    assert header_warnings(path) == [f"{path} is truncated: its header says 4.0 s of audio but the file holds "
                                     "2.0 s; only those 2.0 s are used"]
    assert load_audio(path).shape == (32_000,)  # read as far as it goes
    whole = tmp_path / "whole.wav"
    sf.write(whole, speechlike(1.0), 16_000, subtype="PCM_16")
    assert header_warnings(whole) == []
    streamed = bytearray(whole.read_bytes())  # a streaming writer's "unknown length" header
    streamed[40:44] = b"\xff\xff\xff\xff"
    (tmp_path / "streamed.wav").write_bytes(bytes(streamed))
    assert header_warnings(tmp_path / "streamed.wav") == []
    sf.write(tmp_path / "x.flac", speechlike(1.0), 16_000)
    assert header_warnings(tmp_path / "x.flac") == [] and header_warnings(tmp_path / "nowhere.wav") == []


def test_a_truncated_flac_fails_to_decode_in_one_line(tmp_path):
    sf.write(tmp_path / "x.flac", speechlike(4.0), 16_000)
    data = (tmp_path / "x.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="cannot read audio"):
        load_audio(tmp_path / "cut.flac")


def test_a_truncated_file_warns_and_the_result_says_so(tmp_path, tiny_whisper):
    from s2t_explain import Explanation, explain_attention
    from s2t_explain.audio import AudioWarning

    path = _truncated_wav(tmp_path / "cut.wav", seconds=2.0)
    with pytest.warns(AudioWarning, match="cut.wav is truncated: its header says 2.0 s"):
        result = explain_attention(tiny_whisper, path, text="hello there")
    assert result.duration == pytest.approx(1.0) and len(result.warnings) == 1
    assert Explanation.load(result.save(tmp_path / "r.npz")).warnings == result.warnings
    assert "warnings" not in explain_attention(tiny_whisper, speechlike(1.0), text="hi").meta()  # none: no key
