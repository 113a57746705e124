"""Functions that worker processes (spawn, Ray) run in the scale tests; importable from ``tests/``."""

from __future__ import annotations

import os
from pathlib import Path

from s2t_explain.study.utterance import analyze


def square(state: int, item: int) -> int:
    return state * item * item


def die_once(state: str, item: int) -> int:
    """Kills its worker process the first time it sees item 2 (a marker file remembers)."""
    marker = Path(state) / f"died-{item}"
    if item == 2 and not marker.exists():
        marker.write_text("x")
        os._exit(1)
    return item * 10


def fail_on_odd(state: None, item: int) -> int:
    if item % 2:
        raise ValueError(f"odd {item}")
    return item


class DieOnceAnalysis:
    """The real per-utterance analysis, but the worker dies the first time it meets utterance ``uid``."""

    def __init__(self, uid: str, folder: str) -> None:
        self.uid, self.folder = uid, folder

    def __call__(self, model, utterance, options, task, language, stage=None):  # type: ignore[no-untyped-def]
        marker = Path(self.folder) / f"died-{utterance.id}"
        if utterance.id == self.uid and not marker.exists():
            marker.write_text("x")
            os._exit(1)
        with open(Path(self.folder) / "calls.log", "a") as log:  # one line per completed analysis
            log.write(utterance.id + "\n")
        return analyze(model, utterance, options, task, language)
