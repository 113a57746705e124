"""Input saliency SM_X (I, T, F), encoder-output saliency SM_H (I, T') and token saliency (I, I).

All scores come from teacher-forced passes over one fixed token sequence: the clean pass gives
P_i for every predicted token; every perturbed pass gives P~_i; the scorer compares them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from ..decoding.scoring import score
from ..decoding.transcript import Transcript
from ..models.base import SpeechToTextModel
from ..pooling import pool
from .accumulate import Accumulator
from .engine import EngineSettings, MapRun, run
from .estimators import ESTIMATORS, NEEDS_SCORES, NEEDS_SECOND_ORDER
from .masks import ENCODER_MASKS, INPUT_MASKS, ElementMasks, MaskFamily
from .options import SaliencyOptions
from .perturb import InputPerturber, StatePerturber
from .scorers import SCORERS


class SaliencyJob:
    """Everything fixed for one utterance: clean distributions, targets, rows that count."""

    def __init__(self, model: SpeechToTextModel, features: torch.Tensor, n_frames: int, states: torch.Tensor,
                 transcript: Transcript, options: SaliencyOptions, progress: bool = True) -> None:
        self.model, self.features, self.n_frames, self.states = model, features, n_frames, states
        self.transcript, self.options, self.progress = transcript, options, progress
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

    def settings(self, n_masks: int, label: str) -> EngineSettings:
        o = self.options
        return EngineSettings(n_masks, o.batch_size, o.estimator, o.target_reliability, o.check_every,
                              label if self.progress else None)

    def _scores(self, logits: torch.Tensor) -> np.ndarray:
        return self.scorer(self.clean_logp, logits, self.targets).double().cpu().numpy()  # (B, I)

    def input_saliency(self) -> tuple[MapRun, MapRun | None]:
        """SM_X (I, T, F) and, if p_dec > 0, token saliency (I, I)."""
        o = self.options.input
        assert o is not None
        spectrogram = self.features[:, : self.n_frames].T.float().cpu().numpy()  # (T, F)
        family: MaskFamily = INPUT_MASKS.get(o.masks).from_options(spectrogram, o, self.options.seed)
        perturber = InputPerturber(self.model, self.features, self.n_frames, self.transcript.ids, o.baseline)
        tokens: MaskFamily | None = None
        extra: list[Accumulator] = []
        if o.p_dec > 0:
            tokens = ElementMasks((1, self.n_rows), o.p_dec, "iid", self.options.seed)
            est = self.options.estimator
            extra.append(Accumulator(tokens, self.n_rows, second_order=est in NEEDS_SECOND_ORDER,
                                     keep_scores=est in NEEDS_SCORES))

        def evaluate(ks: list[int]) -> np.ndarray:
            masks = np.stack([family.element_mask(k) for k in ks])  # (B, T, F)
            token_masks = None if tokens is None else np.stack([tokens.element_mask(k)[0] for k in ks])  # (B, I)
            return self._scores(perturber.logits(masks, token_masks))

        stride = self.model.encoder_stride
        result, _ = run(family, evaluate, self.n_rows, self.settings(o.n_masks, "input saliency"), self.rows,
                        pool=lambda m: pool(m, stride, "max"), extra=extra)
        token_run = None
        if tokens is not None:
            values = ESTIMATORS.get(self.options.estimator)(extra[0], (0, 1))[:, 0]  # (I, I)
            values = np.tril(values)  # row i only sees input tokens 0..i (causal decoder)
            token_run = MapRun(values, result.n_masks, None, None, seconds=result.seconds,
                               groups={"tokens": self.n_rows})
        return result, token_run

    def encoder_saliency(self) -> MapRun:
        """SM_H (I, T'): occlusion of encoder frames (or entries, reduced over D)."""
        o = self.options.encoder
        assert o is not None
        n_enc = self.model.n_encoder_frames(self.n_frames)
        perturber = StatePerturber(self.model, self.features, self.states, self.n_frames, self.transcript.ids,
                                   o.baseline)
        shape = (n_enc, int(self.states.shape[-1]))  # (T', D)
        family: MaskFamily = ENCODER_MASKS.get(o.mode).from_options(shape, o, self.options.seed)

        def evaluate(ks: list[int]) -> np.ndarray:
            masks = np.stack([family.element_mask(k) for k in ks])  # (B, T') or (B, T', D)
            return self._scores(perturber.logits(masks))

        result, _ = run(family, evaluate, self.n_rows, self.settings(o.n_masks, "encoder saliency"), self.rows)
        result.values = family.reported(result.values)  # element-wise masks: (I, T', D) -> (I, T')
        return result


def saliency_meta(options: SaliencyOptions, runs: dict[str, MapRun | None], model: SpeechToTextModel) -> dict[str, Any]:
    """What ran, exactly: options, seed, device, and per map masks used and reliability."""
    return {
        "options": asdict(options),
        "device": str(model.device),
        "dtype": str(model.dtype).replace("torch.", ""),
        "maps": {name: r.summary() for name, r in runs.items() if r is not None},
    }
