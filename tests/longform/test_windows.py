"""Window planning on hand-made level envelopes (10 ms frames): pauses, long speech, owned stretches."""

import numpy as np
import pytest

from s2t_explain.errors import OptionError
from s2t_explain.longform import LongformOptions
from s2t_explain.longform.vad import speech_frames, speech_regions
from s2t_explain.longform.windows import FixedWindows, VadWindows, cut_point


def envelope(spans, seconds, loud=-20.0, quiet=-90.0):
    """(frames,) dB: ``loud`` inside the (start, end) second spans, ``quiet`` elsewhere."""
    level = np.full(int(round(seconds * 100)), quiet, dtype=np.float32)
    for s, e in spans:
        level[int(round(s * 100)):int(round(e * 100))] = loud
    return level


def assert_tiles(windows, duration):
    assert windows[0].own_start == 0.0 and windows[-1].own_end == pytest.approx(duration)
    for a, b in zip(windows, windows[1:]):
        assert a.own_end == b.own_start  # owned stretches meet: no gap, no overlap
        assert a.own_start < a.own_end


def test_speech_frames_close_dips_and_drop_bursts():
    opts = LongformOptions()
    level = envelope([(1.0, 2.0), (2.2, 3.0), (5.0, 5.05)], 6.0)
    speech = speech_frames(level, opts)
    # the 0.2 s dip (< min_silence 0.3) is closed; the 50 ms burst (< min_speech 0.1) dropped
    assert speech[100:300].all() and not speech[:100].any() and not speech[300:].any()
    assert speech_regions(speech, opts, 6.0) == [(pytest.approx(0.9), pytest.approx(3.1))]


def test_vad_windows_end_at_long_pauses_and_never_exceed_the_window():
    opts = LongformOptions(max_gap=2.0, window_seconds=30.0)
    spans = [(1, 5), (6, 10), (20, 24), (24.5, 28), (28.5, 40), (41, 90)]  # a 10 s pause, then speech runs long
    level = envelope(spans, 100.0)
    windows = VadWindows().plan(100.0, level, speech_frames(level, opts), opts)
    assert [round(w.start, 1) for w in windows[:2]] == [0.9, 19.9]  # the 10 s pause ends the first window
    assert windows[0].end == pytest.approx(10.1)
    assert all(w.seconds <= 30.0 + 1e-9 for w in windows)
    assert windows[-1].end == pytest.approx(90.1)
    assert_tiles(windows, 100.0)
    # the pause is owned half by each neighbour; its middle is the boundary
    assert windows[0].own_end == pytest.approx((10.1 + 19.9) / 2)


def test_vad_cuts_speech_longer_than_a_window_at_its_quietest_point():
    opts = LongformOptions()
    level = envelope([(0, 70)], 70.0)
    level[2700:2710] = -45.0  # a dip too short to be a pause, at 27.0 s, inside the search range
    windows = VadWindows().plan(70.0, level, speech_frames(level, opts), opts)
    assert windows[0].end == pytest.approx(27.0)
    assert all(w.seconds <= 30.0 + 1e-9 for w in windows) and windows[-1].end == pytest.approx(70.0)
    assert_tiles(windows, 70.0)


def test_fixed_windows_overlap_pass_over_in_pauses_and_end_with_a_full_window():
    opts = LongformOptions(windowing="fixed", window_seconds=30.0, overlap=5.0)
    level = envelope([(0, 26.0), (27.0, 61.0), (62.0, 66.0)], 66.0)
    windows = FixedWindows().plan(66.0, level, speech_frames(level, opts), opts)
    assert [(w.start, w.end) for w in windows] == [(0.0, 30.0), (25.0, 55.0), (36.0, 66.0)]
    assert windows[0].own_end == pytest.approx(26.5)  # the middle of the 1 s pause inside 25-30 s
    assert_tiles(windows, 66.0)


def test_cut_point_falls_back_to_the_quietest_frame():
    level = envelope([(0, 10)], 10.0)
    level[420] = -40.0
    assert cut_point(level, np.ones(1000, dtype=bool), 4.0, 5.0) == pytest.approx(4.2)


@pytest.mark.parametrize("change", [{"windowing": "sliding"}, {"window_seconds": 45}, {"overlap": 20},
                                    {"max_gap": -1}])
def test_bad_options_fail_at_once(change):
    with pytest.raises(OptionError):
        LongformOptions(**change)
