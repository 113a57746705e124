"""Status lines and timing on stderr (silenced by --quiet)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Status:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Print ``what...`` then its duration when done."""
        if not self.quiet:
            print(f"{what}...", end="", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            yield
        except BaseException:
            if not self.quiet:
                print(" failed", file=sys.stderr, flush=True)
            raise
        if not self.quiet:
            print(f" {time.perf_counter() - t0:.2f} s", file=sys.stderr, flush=True)

    def done(self) -> None:
        self.say(f"done in {time.perf_counter() - self.start:.1f} s")
