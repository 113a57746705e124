"""The perturbation engine shared by every saliency family.

Masks are evaluated in batches (``batch_size`` perturbations per forward pass, one teacher-forced
pass per mask for all I tokens); scores are accumulated online per group and half; every
``check_every`` masks the split-half reliability is computed, and the run stops early once it
reaches ``target_reliability``. Masks are drawn per fixed-size chunk and batches are cut at the
check points, so the masks used, the checks and the stopping point do not depend on the batch
size (values agree within float tolerance) and everything is reproducible from the seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .accumulate import Accumulator
from .estimators import ESTIMATORS, NEEDS_SCORES, NEEDS_SECOND_ORDER
from .masks import MaskFamily
from .reliability import split_half

# mask indices -> scores (B, I): a NumPy array, or a tensor on the model's device when staged there
Evaluate = Callable[[list[int]], Any]
# host accumulator -> an empty twin elsewhere (the model's device) whose statistics() are host arrays
Staging = Callable[[Accumulator], Accumulator]


@dataclass
class MapRun:
    """One saliency map and how it was obtained."""

    values: np.ndarray  # (I, *elements) estimate from all masks
    n_masks: int
    reliability: float | None  # split-half (Spearman-Brown), per-token normalised, selected rows
    reliability_pooled: float | None  # the same after pooling to encoder frames (input maps)
    curve: list[tuple[int, float]] = field(default_factory=list)  # (masks, reliability) per check
    seconds: float = 0.0
    groups: dict[str, int] = field(default_factory=dict)  # group name -> units
    stopped_early: bool = False
    batch_size: int = 0  # perturbations per forward pass used

    def summary(self) -> dict:
        out = {
            "n_masks": self.n_masks,
            "reliability": None if self.reliability is None else round(self.reliability, 4),
            "reliability_pooled": None if self.reliability_pooled is None else round(self.reliability_pooled, 4),
            "seconds": round(self.seconds, 2),
            "masks_per_second": round(self.n_masks / self.seconds, 2) if self.seconds else None,
            "groups": self.groups,
            "stopped_early": self.stopped_early,
            "batch_size": self.batch_size,
            "curve": [[n, round(r, 4)] for n, r in self.curve],
        }
        return out


@dataclass
class EngineSettings:
    """How one map is computed: mask budget, batch, estimator, early stop and progress label."""

    n_masks: int
    batch_size: int = 8
    estimator: str = "mean"
    target_reliability: float | None = None
    check_every: int = 64  # masks between reliability checks
    progress: str | None = None  # progress bar label; None = no bar


# mask ranges [(start, stop), ...] -> per range, the statistics of the main accumulator and of every
# extra one over those masks alone (``Accumulator.statistics``), computed elsewhere (workers)
Segments = Callable[[list[tuple[int, int]]], list[list[dict]]]


def new_accumulator(family: MaskFamily, n_rows: int, estimator: str) -> Accumulator:
    """An empty accumulator that keeps what ``estimator`` needs."""
    return Accumulator(family, n_rows, second_order=estimator in NEEDS_SECOND_ORDER,
                       keep_scores=estimator in NEEDS_SCORES)


def batches(start: int, stop: int, settings: EngineSettings) -> Iterator[list[int]]:
    """Mask indices of [start, stop) in batches of ``batch_size``, cut at reliability checks, so the
    batches (and so the scores) do not depend on where a run was split."""
    done = start
    while done < stop:
        next_check = (done // settings.check_every + 1) * settings.check_every
        ks = list(range(done, min(done + settings.batch_size, next_check, stop)))
        yield ks
        done += len(ks)


@dataclass(frozen=True)
class InProcess:
    """Execution mode: masks scored in this process. ``evaluate(ks)`` runs the model on masks ``ks``
    (indices into the family's seeded stream) and returns their scores (B, I); ``on_batch(ks,
    scores)`` sees every batch; with ``staging`` (see ``device_accumulate``), scores are added to
    accumulators on the model's device and merged into the host ones only at each reliability check
    and at the end."""

    evaluate: Evaluate
    on_batch: Callable[[list[int], np.ndarray], None] | None = None
    staging: Staging | None = None

    def steps(self, est: _Estimate, settings: EngineSettings) -> Iterator[int]:
        """Score every batch into the accumulators; yields the masks added, a check point at a time
        at most (``batches`` cuts there)."""
        staged = None if self.staging is None else [self.staging(a) for a in est.accumulators]
        est.flush = lambda: _merge_staged(est.accumulators, staged or [])

        def scored() -> Iterator[int]:
            for ks in batches(0, settings.n_masks, settings):
                scores = self.evaluate(ks)
                for target in staged or est.accumulators:
                    target.add(ks, scores)
                if self.on_batch is not None:
                    self.on_batch(ks, scores.cpu().numpy() if hasattr(scores, "cpu") else scores)
                yield len(ks)

        return scored()


@dataclass(frozen=True)
class Elsewhere:
    """Execution mode: masks scored by workers. ``segments(ranges)`` gives each range's statistics;
    ``width`` check intervals are asked for at a time (one per worker) and merged in order, with the
    same checks after each interval, so the map, the reliability curve and the stopping point equal
    an in-process run (within float rounding)."""

    segments: Segments
    width: int = 1

    def steps(self, est: _Estimate, settings: EngineSettings) -> Iterator[int]:
        step, at = settings.check_every, 0
        while at < settings.n_masks:
            ranges = [(a, min(a + step, settings.n_masks)) for a in range(at, settings.n_masks, step)]
            for (a, b), parts in zip(ranges[: max(1, self.width)], self.segments(ranges[: max(1, self.width)])):
                for acc, part in zip(est.accumulators, parts):
                    acc.merge(part)
                at = b
                yield b - a  # merged up to a check point: the caller checks before the next merge


def _merge_staged(hosts: list[Accumulator], staged: list[Accumulator]) -> None:
    """Staged statistics -> host: one copy per statistic, at checks only."""
    for host, stage in zip(hosts, staged):
        if stage.n_masks:
            host.merge(stage.statistics())
            stage.reset()


class _Estimate:
    """The accumulators of one map (the main one, then ``extra``) and its split-half reliability."""

    def __init__(self, family: MaskFamily, n_rows: int, estimator: str, rows: np.ndarray | None,
                 pool: Callable[[np.ndarray], np.ndarray] | None, extra: list[Accumulator]) -> None:
        self.estimator = ESTIMATORS.get(estimator)
        self.acc = new_accumulator(family, n_rows, estimator)
        self.accumulators = [self.acc, *extra]
        self.keep = np.ones(n_rows, dtype=bool) if rows is None else rows
        self.pool = pool
        self.flush: Callable[[], None] = lambda: None  # staged statistics -> host (set by the mode)

    def reliability(self) -> tuple[float, float | None]:
        a, b = self.estimator(self.acc, (0,))[self.keep], self.estimator(self.acc, (1,))[self.keep]
        return split_half(a, b), (split_half(self.pool(a), self.pool(b)) if self.pool is not None else None)


def run(
    family: MaskFamily,
    mode: InProcess | Elsewhere | Evaluate,
    n_rows: int,
    settings: EngineSettings,
    rows: np.ndarray | None = None,  # (I,) bool: rows that count for reliability (text tokens)
    pool: Callable[[np.ndarray], np.ndarray] | None = None,  # map -> pooled map, for a 2nd reliability
    extra: list[Accumulator] | None = None,  # other families updated from the same scores
) -> tuple[MapRun, Accumulator]:
    """Draw ``settings.n_masks`` masks of ``family``, score them, and estimate one saliency map.

    ``mode`` says where masks are scored: :class:`InProcess` (a plain ``evaluate`` function is one),
    or :class:`Elsewhere` (workers). Scores go into an :class:`Accumulator` (and every accumulator in
    ``extra``, e.g. token masks drawn alongside). Every ``settings.check_every`` masks the
    split-half reliability over ``rows`` is computed and recorded, and the run stops once it
    reaches ``settings.target_reliability``; ``pool`` adds a second reliability after pooling
    (input maps: to encoder frames).

    Returns the :class:`MapRun` (values (I, *element_shape) from all masks, masks used, reliability,
    its curve, seconds) and the accumulator (for replays and further estimators).
    """
    mode = mode if isinstance(mode, InProcess | Elsewhere) else InProcess(mode)
    est = _Estimate(family, n_rows, settings.estimator, rows, pool, list(extra or []))
    start = time.perf_counter()
    done, curve, stopped = _checked_steps(est, mode.steps(est, settings), settings)
    est.flush()
    seconds = time.perf_counter() - start
    r, r_pooled = est.reliability()
    if not curve or curve[-1][0] != done:
        curve.append((done, r))
    result = MapRun(values=est.estimator(est.acc, (0, 1)), n_masks=done, reliability=r, reliability_pooled=r_pooled,
                    curve=curve, seconds=seconds, groups={g.name: g.n_units for g in family.groups},
                    stopped_early=stopped, batch_size=settings.batch_size)
    return result, est.acc


def _checked_steps(est: _Estimate, steps: Iterator[int], settings: EngineSettings
                   ) -> tuple[int, list[tuple[int, float]], bool]:
    """Run ``steps`` with the progress bar, checking reliability at every check point (and
    stopping at the target); returns masks done, the reliability curve and whether it stopped early."""
    bar = _bar(settings)
    done, curve = 0, []
    try:
        for added in steps:
            done += added
            if bar is not None:
                bar.update(added)
            if done % settings.check_every == 0 and done < settings.n_masks:
                est.flush()
                r, _ = est.reliability()
                curve.append((done, r))
                if bar is not None:
                    bar.set_postfix(reliability=f"{r:.3f}")
                if settings.target_reliability is not None and r >= settings.target_reliability:
                    return done, curve, True
    finally:
        if bar is not None:
            bar.close()
    return done, curve, False


AUTO_BATCH_LIMIT = 512  # (ours) the largest batch the search tries
AUTO_BATCH_GAIN = 1.1  # (ours) a doubled batch is kept only if masks/s rises by at least 10%


def choose_batch(probe: Callable[[int], float | None], start: int = 8, limit: int = AUTO_BATCH_LIMIT,
                 gain: float = AUTO_BATCH_GAIN) -> int:
    """The batch size for ``--batch-size auto``: from ``start``, double while the doubled batch fits
    and its throughput ``probe(b)`` (masks/s, None when it does not fit in memory) beats the current
    one by ``gain``. Results do not depend on the batch size, only the speed does."""
    batch, rate = start, probe(start)
    while rate is None and batch > 1:  # even the start does not fit: halve
        batch //= 2
        rate = probe(batch)
    if rate is None:
        raise MemoryError("not even one perturbation fits in memory; use a smaller model or another device")
    while batch * 2 <= limit:
        doubled = probe(batch * 2)
        if doubled is None or doubled < rate * gain:
            break
        batch, rate = batch * 2, doubled
    return batch


def _bar(settings: EngineSettings):  # type: ignore[no-untyped-def]
    if settings.progress is None:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=settings.n_masks, desc=settings.progress, unit="mask", dynamic_ncols=True, leave=True)
