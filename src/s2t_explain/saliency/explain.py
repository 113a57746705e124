"""Input saliency SM_X (I, T, F), encoder-output saliency SM_H (I, T') and token saliency (I, I).

All scores come from teacher-forced passes over one fixed token sequence: the clean pass gives
P_i for every predicted token; every perturbed pass gives P~_i; the scorer compares them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..decoding.scoring import score
from ..decoding.transcript import Transcript
from ..dtypes import cpu_has_bfloat16
from ..executors.base import Executor, WorkerPool
from ..models.base import SpeechToTextModel
from ..pooling import pool
from .accumulate import Accumulator
from .device_accumulate import staging_on
from .engine import (
    AUTO_BATCH_LIMIT,
    Elsewhere,
    EngineSettings,
    Evaluate,
    InProcess,
    MapRun,
    batches,
    choose_batch,
    new_accumulator,
    run,
)
from .estimators import ESTIMATORS
from .masks import ENCODER_MASKS, INPUT_MASKS, ElementMasks, MaskFamily
from .options import SaliencyOptions
from .perturb import DeviceMasks, InputPerturber, StatePerturber
from .scorers import SCORERS


@dataclass
class MapPlan:
    """One map's masks and how to score them: everything the engine (or a worker) needs."""

    family: MaskFamily
    evaluate: Evaluate  # mask indices -> scores (B, I)
    extras: list[MaskFamily]  # families updated from the same scores (token masks)
    settings: EngineSettings
    pool: Callable[[np.ndarray], np.ndarray] | None = None


class SaliencyJob:
    """Everything fixed for one utterance: clean distributions, targets, rows that count.

    ``executor`` (see ``s2t_explain.executors``) spreads each map's masks over workers that each
    hold a copy of this job; the maps equal a single-process run with the same seed. The workers
    start on the first map and serve every map of the job: use the job as a context manager (or
    call :meth:`close`) to stop them.
    """

    def __init__(self, model: SpeechToTextModel, features: torch.Tensor, n_frames: int, states: torch.Tensor,
                 transcript: Transcript, options: SaliencyOptions, progress: bool = True,
                 executor: Executor | None = None) -> None:
        self.model, self.features, self.n_frames, self.states = model, features, n_frames, states
        self.transcript, self.options, self.progress, self.executor = transcript, options, progress, executor
        self.scorer = SCORERS.get(options.scorer)
        ESTIMATORS.get(options.estimator)  # fail fast on a bad name
        ids = transcript.ids
        distributions = transcript.distributions  # the transcript's own clean pass, when it kept them
        if distributions is None:
            _, distributions = score(model, states, ids, distributions=True)
            assert distributions is not None
        self.clean_logp = torch.from_numpy(distributions).to(model.device)  # (I, V) log P_i
        self.targets = torch.tensor(ids[1:], device=model.device)
        self.rows = transcript.text_rows()  # text tokens count for reliability (EOT and prompt do not)
        self.n_rows = len(ids) - 1
        self._plans: dict[str, MapPlan] = {}
        self.batch_sizes: dict[str, int] = {}  # per map, once chosen (a worker's replica: the main job's)
        self._empty: dict[str, list[Accumulator]] = {}  # per map: zeroed accumulators to copy (workers)
        self._workers: WorkerPool | None = None
        on_device = options.accumulate == "device" or (options.accumulate == "auto" and model.device.type != "cpu")
        self.staging = staging_on(model.device) if on_device else None  # scores summed on the model's device
        self.perturbed = model.compiled() if options.compile else model  # the model of the perturbation passes
        # per map, resolved once here ("auto" depends on the hardware; workers get this process's choice)
        self.precisions = {m: pass_precision(options.precision, model.device, m) for m in ("input", "encoder")}

    def __enter__(self) -> SaliencyJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers, if any were started."""
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def settings(self, n_masks: int, label: str) -> EngineSettings:
        o = self.options
        return EngineSettings(n_masks, o.batch_size, o.estimator, o.target_reliability, o.check_every,
                              label if self.progress else None)

    def _precision(self, which: str) -> AbstractContextManager:
        """Perturbation passes of map ``which`` under autocast to their precision (a no-op for float32)."""
        precision = self.precisions[which]
        if precision == "float32":
            return nullcontext()
        return torch.autocast(self.model.device.type, dtype=getattr(torch, precision))

    def _scores(self, logits: torch.Tensor) -> np.ndarray | torch.Tensor:
        """(B, I) float64: a tensor left on the device when accumulated there, else a NumPy array."""
        scores = self.scorer(self.clean_logp, logits, self.targets).double()
        return scores if self.staging is not None else scores.cpu().numpy()

    def plan(self, which: str) -> MapPlan:
        """The masks and scoring of map ``which`` (``input`` or ``encoder``), built once; with
        ``auto_batch`` its batch size is searched here (or taken from ``batch_sizes``, in workers)."""
        if which not in self._plans:
            plan = self._input_plan() if which == "input" else self._encoder_plan()
            if which in self.batch_sizes:
                plan.settings.batch_size = self.batch_sizes[which]
            elif self.options.auto_batch:
                plan.settings.batch_size = choose_batch(lambda b: self._throughput(plan, b), self.options.batch_size,
                                                        limit=min(AUTO_BATCH_LIMIT, plan.settings.n_masks))
                if plan.settings.progress is not None:  # say what was chosen
                    plan.settings.progress += f" (batch {plan.settings.batch_size}, auto)"
            self.batch_sizes[which] = plan.settings.batch_size
            self._plans[which] = plan
        return self._plans[which]

    def _throughput(self, plan: MapPlan, batch: int) -> float | None:
        """Masks/s of one batch of ``batch`` masks (after a warm-up pass), or None when it runs out of memory."""
        try:
            plan.evaluate(list(range(batch)))  # warm-up (allocations, kernels)
            start = time.perf_counter()
            plan.evaluate(list(range(batch)))
            if self.model.device.type == "cuda":
                torch.cuda.synchronize()
            return batch / (time.perf_counter() - start)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            return None

    def _input_plan(self) -> MapPlan:
        o = self.options.input
        assert o is not None
        spectrogram = self.features[:, : self.n_frames].T.float().cpu().numpy()  # (T, F)
        family: MaskFamily = INPUT_MASKS.get(o.masks).from_options(spectrogram, o, self.options.seed)
        perturber = InputPerturber(self.perturbed, self.features, self.n_frames, self.transcript.ids, o.baseline)
        tokens = ElementMasks((1, self.n_rows), o.p_dec, "iid", self.options.seed) if o.p_dec > 0 else None

        masks = DeviceMasks(family, self.model.device)

        def evaluate(ks: list[int]) -> np.ndarray | torch.Tensor:
            token_masks = None if tokens is None else np.stack([tokens.element_mask(k)[0] for k in ks])  # (B, I)
            with self._precision("input"):
                return self._scores(perturber.logits(masks(ks), token_masks))  # masks (B, T, F) on the device

        stride = self.model.encoder_stride
        return MapPlan(family, evaluate, [tokens] if tokens is not None else [],
                       self.settings(o.n_masks, "input saliency"), pool=lambda m: pool(m, stride, "max"))

    def _encoder_plan(self) -> MapPlan:
        o = self.options.encoder
        assert o is not None
        n_enc = self.model.n_encoder_frames(self.n_frames)
        perturber = StatePerturber(self.perturbed, self.features, self.states, self.n_frames, self.transcript.ids,
                                   o.baseline)
        shape = (n_enc, int(self.states.shape[-1]))  # (T', D)
        family: MaskFamily = ENCODER_MASKS.get(o.mode).from_options(shape, o, self.options.seed)

        def evaluate(ks: list[int]) -> np.ndarray | torch.Tensor:
            masks = np.stack([family.element_mask(k) for k in ks])  # (B, T') or (B, T', D)
            with self._precision("encoder"):
                return self._scores(perturber.logits(masks))

        return MapPlan(family, evaluate, [], self.settings(o.n_masks, "encoder saliency"))

    def segment(self, which: str, start: int, stop: int) -> list[dict]:
        """Statistics (main accumulator, then extras) of masks [start, stop) of map ``which`` alone,
        batched as a whole run batches them: what one worker computes."""
        plan = self.plan(which)
        if which not in self._empty:  # built once per map: the joint estimators' overlaps are costly
            self._empty[which] = [new_accumulator(f, self.n_rows, self.options.estimator)
                                  for f in [plan.family, *plan.extras]]
        accs = [acc.empty_like() if self.staging is None else self.staging(acc) for acc in self._empty[which]]
        for ks in batches(start, stop, plan.settings):
            scores = plan.evaluate(ks)
            for acc in accs:
                acc.add(ks, scores)
        return [acc.statistics() for acc in accs]

    def _run(self, which: str) -> tuple[MapRun, list[Accumulator]]:
        plan = self.plan(which)
        extra = [new_accumulator(f, self.n_rows, self.options.estimator) for f in plan.extras]
        if self.executor is None:
            result, _ = run(plan.family, InProcess(plan.evaluate, staging=self.staging), self.n_rows, plan.settings,
                            self.rows, pool=plan.pool, extra=extra)
            return result, extra
        workers = self._start_workers()

        def compute(ranges: list[tuple[int, int]]) -> list[list[dict]]:
            return workers.map(_segment, [(which, a, b) for a, b in ranges])

        result, _ = run(plan.family, Elsewhere(compute, workers.width), self.n_rows, plan.settings, self.rows,
                        pool=plan.pool, extra=extra)
        return result, extra

    def _start_workers(self) -> WorkerPool:
        """The job's workers, started once for all its maps; each holds a copy of the job and batches
        every map as chosen here (so ``auto_batch`` is searched once, in this process)."""
        if self._workers is None:
            assert self.executor is not None
            maps = [m for m in ("input", "encoder") if getattr(self.options, m) is not None]
            payload = {"model": self.model, "features": self.features, "n_frames": self.n_frames,
                       "states": self.states, "transcript": self.transcript, "options": self.options,
                       "batch_sizes": {m: self.plan(m).settings.batch_size for m in maps},
                       "precisions": self.precisions}
            self._workers = self.executor.open(_replica, payload)
        return self._workers

    def input_saliency(self) -> tuple[MapRun, MapRun | None]:
        """SM_X (I, T, F) and, if p_dec > 0, token saliency (I, I)."""
        result, extra = self._run("input")
        token_run = None
        if extra:
            values = ESTIMATORS.get(self.options.estimator)(extra[0], (0, 1))[:, 0]  # (I, I)
            values = np.tril(values)  # row i only sees input tokens 0..i (causal decoder)
            token_run = MapRun(values, result.n_masks, None, None, seconds=result.seconds,
                               groups={"tokens": self.n_rows})
        return result, token_run

    def encoder_saliency(self) -> MapRun:
        """SM_H (I, T'): occlusion of encoder frames (or entries, reduced over D)."""
        result, _ = self._run("encoder")
        result.values = self.plan("encoder").family.reported(result.values)  # (I, T', D) -> (I, T') if element-wise
        return result


def pass_precision(option: str, device: torch.device, which: str) -> str:
    """The precision of map ``which``'s perturbation passes for ``SaliencyOptions.precision``.

    ``auto`` (ours): bfloat16 where the hardware computes it natively: CUDA GPUs that support it,
    and for SM_X on CPUs with AVX512-BF16 or AMX (1.9x the masks/s of float32 on 2 cores, scores
    correlating 0.9999 with float32 ones); float32 elsewhere and for SM_H on the CPU (its
    decoder-only passes were slower in bfloat16, 27 vs 33 masks/s).
    """
    if option != "auto":
        return option
    if device.type == "cuda":  # native from compute capability 8 (Ampere); emulated (slow) before
        return "bfloat16" if torch.cuda.get_device_capability(device)[0] >= 8 else "float32"
    if device.type == "cpu" and which == "input" and cpu_has_bfloat16():
        return "bfloat16"
    return "float32"


def _replica(payload: dict[str, Any]) -> SaliencyJob:
    """A worker's copy of the job (no progress bars, no executor of its own)."""
    payload = dict(payload)  # one payload may serve several replicas (in-process executors)
    sizes, precisions = payload.pop("batch_sizes"), payload.pop("precisions")
    job = SaliencyJob(**payload, progress=False)
    job.batch_sizes.update(sizes)
    job.precisions = precisions  # the main process's choice, whatever this worker's hardware
    return job


def _segment(job: SaliencyJob, item: tuple[str, int, int]) -> list[dict]:
    return job.segment(*item)
