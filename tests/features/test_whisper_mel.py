import numpy as np
import pytest

from helpers import speechlike
from s2t_explain.features import log_mel_spectrogram, mel_filters
from s2t_explain.timebase import N_FRAMES


def test_filters_are_triangles_with_slaney_area():
    f = mel_filters(80)
    assert f.shape == (80, 201)
    assert np.all(f >= 0)
    # each filter has one peak and is zero far from it
    peaks = f.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0)
    assert mel_filters(128).shape == (128, 201)


def test_shape_and_speech_frames():
    feats = log_mel_spectrogram(speechlike(2.345), n_mels=80)
    assert tuple(feats.values.shape) == (80, N_FRAMES)
    assert feats.n_frames == 234  # 37520 samples // 160
    # dynamic range clipped to 8 log10 units -> 2.0 after (x + 4) / 4
    v = feats.values.numpy()
    assert v.max() - v.min() <= 2.0 + 1e-6


def test_matches_faster_whisper_extractor():
    fw = pytest.importorskip("faster_whisper.feature_extractor")
    audio = speechlike(3.0, seed=3)
    ours = log_mel_spectrogram(audio, n_mels=80).values.numpy()
    theirs = fw.FeatureExtractor(feature_size=80)(audio, padding=480_000)[:, :N_FRAMES]
    assert np.abs(ours - theirs).max() < 1e-4
