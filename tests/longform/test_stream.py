"""Reading long audio in pieces gives the same samples as reading it whole."""

import numpy as np
import pytest
import soundfile as sf

from helpers import speechlike
from s2t_explain.audio import load_audio
from s2t_explain.errors import AudioError
from s2t_explain.longform import AudioStream


@pytest.mark.parametrize("rate", [16_000, 22_050, 44_100])
def test_pieces_equal_the_whole(tmp_path, rate):
    path = tmp_path / f"x{rate}.wav"
    sf.write(path, np.stack([speechlike(8.0, rate, seed=1), speechlike(8.0, rate, seed=2)], axis=1), rate)
    whole = load_audio(path)
    stream = AudioStream(path)
    assert stream.duration == pytest.approx(8.0)
    piece = stream.read(2.5, 5.25)
    assert piece.shape == (44_000,)
    # resampled pieces differ from the whole only by the filter's tail beyond the margin
    np.testing.assert_allclose(piece, whole[40_000:84_000], atol=1e-6 if rate == 16_000 else 2e-3)


def test_envelope_levels(tmp_path):
    x = np.concatenate([np.zeros(16_000), 0.1 * np.ones(16_000)]).astype(np.float32)
    path = tmp_path / "step.wav"
    sf.write(path, x, 16_000)
    level = AudioStream(path).envelope()
    assert level.shape == (200,)
    np.testing.assert_allclose(level[:100], -120.0)  # digital silence: the floor
    np.testing.assert_allclose(level[100:], -20.0, atol=0.01)  # 0.1 full scale (16-bit PCM)


def test_bad_files(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        AudioStream(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="cannot read"):
        AudioStream(tmp_path / "junk.wav")
