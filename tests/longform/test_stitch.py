"""Stitching: every word of the file exactly once, however overlapping windows place it."""

import numpy as np

from s2t_explain.alignment.timestamps import Word
from s2t_explain.longform import LongformOptions
from s2t_explain.longform.stitch import append, owned, shift
from s2t_explain.longform.vad import speech_frames
from s2t_explain.longform.windows import WINDOWINGS


def timeline(seed=0, n=120):
    """(word, start, end) of a recording: words of 0.2-0.6 s, pauses of 0.1-1.5 s."""
    rng = np.random.default_rng(seed)
    t, out = 0.5, []
    for k in range(n):
        d = rng.uniform(0.2, 0.6)
        out.append((f" w{k}", t, t + d))
        t += d + rng.uniform(0.1, 1.5)
    return out, t + 1.0


def level_of(truth, seconds):
    level = np.full(int(seconds * 100), -90.0, dtype=np.float32)
    for _, s, e in truth:
        level[int(s * 100):int(np.ceil(e * 100))] = -20.0
    return level


def heard(truth, window, jitter, rng):
    """What one window reports: the words inside it, in window time, each edge off by up to ``jitter``."""
    out = []
    for word, s, e in truth:
        if s >= window.start and e <= window.end:
            d = rng.uniform(-jitter, jitter, 2)
            out.append(Word(word, s + d[0] - window.start, max(s + d[0], e + d[1]) - window.start, 0.9))
    return out


def test_every_word_once_with_overlapping_and_vad_windows():
    rng = np.random.default_rng(1)
    for windowing in WINDOWINGS:
        for seed in range(5):
            truth, seconds = timeline(seed)
            opts = LongformOptions(windowing=windowing, window_seconds=12.0, overlap=4.0)
            level = level_of(truth, seconds)
            windows = WINDOWINGS.get(windowing)().plan(seconds, level, speech_frames(level, opts), opts)
            assert len(windows) > 5
            kept: list[Word] = []
            for w in windows:  # two windows hear each word of an overlap, each with its own timing error
                append(kept, owned(shift(heard(truth, w, 0.05, rng), w.start), w))
            assert [w.word for w in kept] == [t[0] for t in truth], windowing


def test_a_word_placed_on_both_sides_of_the_cut_is_kept_once():
    from s2t_explain.longform.windows import Window

    first, second = Window(0, 0.0, 10.0, 0.0, 9.0), Window(1, 8.0, 18.0, 9.0, 18.0)
    kept: list[Word] = []
    append(kept, owned([Word(" hello", 8.5, 9.2, 0.9)], first))  # middle 8.85: the first window's
    append(kept, owned([Word(" Hello,", 8.9, 9.3, 0.9), Word(" there", 9.4, 9.8, 0.9)], second))  # 9.1: second's
    assert [w.word for w in kept] == [" hello", " there"]
    # a real repetition later in time is kept
    append(kept, [Word(" there", 10.0, 10.3, 0.9)])
    assert [w.word for w in kept] == [" hello", " there", " there"]
