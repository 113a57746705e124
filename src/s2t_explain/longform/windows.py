"""Cutting a long recording into windows the model can take, as a registry of strategies.

A window is the audio [start, end) given to the model, and the stretch [own_start, own_end) of the
file whose words it reports: owned stretches tile the file without overlap, so a word is kept by
exactly one window (the one owning its middle) whatever the neighbours transcribe.
  ``vad``   speech regions packed greedily into windows of at most ``window_seconds``, a window
            ending at any pause longer than ``max_gap``; a region too long for one window is cut
            at its quietest 10 ms within the last 5 s. Pauses are never sent whole to the model,
            so it cannot hallucinate in them, and nothing is cut mid-word except inside speech
            that runs on for longer than a window. Owned stretches meet in the middle of pauses.
  ``fixed`` windows of ``window_seconds`` every ``window_seconds - overlap``: no detector decides
            what the model hears, but words are cut at window edges (the overlap recovers them) and
            silence is decoded. Neighbours pass over in the longest pause inside their overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..registry import Registry
from ..timebase import FRAMES_PER_SECOND
from .options import LongformOptions
from .vad import speech_regions

SEARCH_SECONDS = 5.0  # vad: where to look for the quietest cut in speech too long for one window


@dataclass(frozen=True)
class Window:
    index: int
    start: float  # seconds in the file: the audio given to the model
    end: float
    own_start: float  # this window reports the words whose middle lies in [own_start, own_end)
    own_end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, float | int]:
        return {"index": self.index, "start": round(self.start, 3), "end": round(self.end, 3),
                "own_start": round(self.own_start, 3), "own_end": round(self.own_end, 3)}


class Windowing:
    """Plans windows from the file's duration, its 10 ms level envelope (dB) and speech mask."""

    def plan(self, duration: float, level_db: np.ndarray, speech: np.ndarray,
             options: LongformOptions) -> list[Window]:
        raise NotImplementedError


WINDOWINGS: Registry[type[Windowing]] = Registry("windowing")
list_windowings = WINDOWINGS.names


def _owned(spans: list[tuple[float, float]], duration: float) -> list[Window]:
    """Windows over ``spans`` whose owned stretches meet halfway between neighbours."""
    out = []
    for k, (s, e) in enumerate(spans):
        own_s = 0.0 if k == 0 else (spans[k - 1][1] + s) / 2
        own_e = duration if k == len(spans) - 1 else (e + spans[k + 1][0]) / 2
        out.append(Window(k, s, e, own_s, own_e))
    return out


@WINDOWINGS.register("vad")
class VadWindows(Windowing):
    def plan(self, duration: float, level_db: np.ndarray, speech: np.ndarray,
             options: LongformOptions) -> list[Window]:
        longest = options.window_seconds
        spans: list[tuple[float, float]] = []
        current: tuple[float, float] | None = None
        for s, e in speech_regions(speech, options, duration):
            if current is not None and e - current[0] <= longest and s - current[1] <= options.max_gap:
                current = (current[0], e)
                continue
            if current is not None:
                spans.append(current)
            current = (s, e)
            while current[1] - current[0] > longest:  # speech longer than a window: cut where it is quietest
                cut = _quietest(level_db, current[0] + longest - min(SEARCH_SECONDS, longest / 2),
                                current[0] + longest)
                spans.append((current[0], cut))
                current = (cut, current[1])
        if current is not None:
            spans.append(current)
        return _owned(spans, duration)


def _quietest(level_db: np.ndarray, a: float, b: float) -> float:
    lo, hi = int(a * FRAMES_PER_SECOND), max(int(a * FRAMES_PER_SECOND) + 1, int(b * FRAMES_PER_SECOND))
    part = level_db[lo:hi]
    return float(lo + int(np.argmin(part))) / FRAMES_PER_SECOND if part.size else b


@WINDOWINGS.register("fixed")
class FixedWindows(Windowing):
    def plan(self, duration: float, level_db: np.ndarray, speech: np.ndarray,
             options: LongformOptions) -> list[Window]:
        hop = options.window_seconds - options.overlap
        spans: list[tuple[float, float]] = []
        start = 0.0
        while True:
            end = min(duration, start + options.window_seconds)
            if end >= duration:  # the last window is a full one ending with the file, not a short tail
                spans.append((max(0.0, min(start, duration - options.window_seconds)), duration))
                break
            spans.append((start, end))
            start += hop
        out: list[Window] = []
        for k, (s, e) in enumerate(spans):  # owned stretches meet at the best cut inside each overlap
            own_s = 0.0 if k == 0 else out[-1].own_end
            own_e = duration if k == len(spans) - 1 else cut_point(level_db, speech, spans[k + 1][0], e)
            out.append(Window(k, s, e, own_s, own_e))
        return out


def cut_point(level_db: np.ndarray, speech: np.ndarray, a: float, b: float) -> float:
    """Where to pass from one window to the next inside [a, b): the middle of the longest pause
    there, else the quietest 10 ms. Words are then far from the cut in both windows' timings."""
    lo, hi = int(np.ceil(a * FRAMES_PER_SECOND)), int(b * FRAMES_PER_SECOND)
    quiet = ~speech[lo:hi]
    if quiet.any():
        edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
        starts, ends = edges[::2], edges[1::2]
        k = int(np.argmax(ends - starts))
        return float(lo + (starts[k] + ends[k]) / 2) / FRAMES_PER_SECOND
    return _quietest(level_db, a, b)
