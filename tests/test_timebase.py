import numpy as np

from s2t_explain import timebase as tb


def test_constants_derive():
    assert tb.FRAMES_PER_SECOND == 100
    assert tb.N_FRAMES == 3000
    assert tb.n_encoder_frames(3000) == 1500
    assert tb.n_encoder_frames(371) == 186


def test_conversions_round_trip():
    assert tb.frames_to_seconds(150) == 1.5
    assert tb.frames_to_seconds(75, stride=2) == 1.5
    assert tb.seconds_to_frames(1.5, stride=2) == 75
    assert tb.seconds_to_frames(1.519, stride=2) == 75
    assert np.allclose(tb.frame_times(3, stride=2), [0.0, 0.02, 0.04])
