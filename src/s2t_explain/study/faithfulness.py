"""Scoring deletion / insertion curves with a model: re-decoding, or the fixed hypothesis' log-prob.

``decode`` (the paper's): every perturbed input is re-decoded greedily (batched) and the new text
is scored against the clean hypothesis (ours; or against the reference text) with WER, clipped at
100, for ASR, and BLEU (or chrF) for translation.
``logprob`` (cheaper, one teacher-forced pass per input): the drop of the fixed hypothesis'
mean log-probability per text token, clean minus perturbed (in nats; higher = more damage).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..decoding import DecodingOptions, Transcript, greedy_batch
from ..features.whisper_mel import Features
from ..metrics.faithfulness import CURVE_STEPS, MODES, auc, curve_masks, input_map, random_ranking, ranking
from ..metrics.text import TEXT_METRICS
from ..models.base import SpeechToTextModel
from ..registry import Registry
from ..saliency.perturb import InputPerturber


def max_new_tokens(n_hypothesis: int) -> int:
    """(ours) Re-decoding stops after 3x the clean hypothesis' tokens + 10: heavily occluded inputs
    often make the model repeat itself up to its 224-token limit, and by then the text is already far
    past WER 100 (the clip), so the cap saves most of the cost without changing clipped scores."""
    return 3 * n_hypothesis + 10


class CurveScorer:
    """Scores batches of occlusion masks (S, T, F) of one utterance."""

    def __init__(self, model: SpeechToTextModel, features: Features, transcript: Transcript, how: str = "decode",
                 metric: str = "wer", against: str | None = None, baseline: str = "silence",
                 batch_size: int = 8) -> None:
        self.model, self.n_frames, self.transcript = model, features.n_frames, transcript
        self.how, self.metric, self.batch_size = how, metric, batch_size
        self.perturber = InputPerturber(model, features.values, features.n_frames, transcript.ids, baseline)
        self.against = transcript.text if against is None else against
        self.prompt = transcript.ids[: transcript.prompt_length]
        room = model.max_text_tokens - len(self.prompt)
        n_body = len(transcript.ids) - transcript.prompt_length
        self.decoding = DecodingOptions(task=transcript.task, language=transcript.language,
                                        max_new_tokens=max(1, min(room, max_new_tokens(n_body))))
        rows = np.flatnonzero(transcript.text_rows())
        self.rows = torch.from_numpy(rows).to(model.device)
        self.targets = torch.tensor(transcript.ids[1:], device=model.device)[self.rows]
        self.clean_logprob = float(np.mean(transcript.logprobs[rows])) if rows.size else 0.0

    @torch.no_grad()
    def score(self, masks: np.ndarray) -> np.ndarray:
        """masks (S, T, F) bool, True = occluded -> (S,) scores."""
        out = []
        for start in range(0, masks.shape[0], self.batch_size):
            out.extend(CURVE_SCORINGS.get(self.how)(self, masks[start : start + self.batch_size]))
        return np.asarray(out, dtype=np.float64)


# (scorer, masks (B, T, F)) -> B scores; names are the scorings of study.options.FAITHFULNESS
CURVE_SCORINGS: Registry[Callable[[CurveScorer, np.ndarray], list[float]]] = Registry("curve scoring")


@CURVE_SCORINGS.register("decode")
def decoded_text_scores(scorer: CurveScorer, batch: np.ndarray) -> list[float]:
    """Re-decode each perturbed input greedily and score its text (WER, BLEU or chrF)."""
    score_text = TEXT_METRICS.get(scorer.metric)
    states = scorer.perturber.states(batch)  # (B, S, D)
    out = []
    for ids in greedy_batch(scorer.model, states, scorer.prompt, scorer.decoding):
        body = [t for t in ids if t != scorer.model.eot]
        out.append(score_text(scorer.model.decode_text(body).strip(), scorer.against))
    return out


@CURVE_SCORINGS.register("logprob")
def logprob_drop_scores(scorer: CurveScorer, batch: np.ndarray) -> list[float]:
    """Drop of the fixed hypothesis' mean log-probability per text token (nats), clean minus perturbed."""
    logp = scorer.perturber.logits(batch).float().log_softmax(-1)[:, scorer.rows]  # (B, R, V)
    picked = logp.gather(2, scorer.targets[None, :, None].expand(logp.shape[0], -1, 1))[..., 0]
    return (scorer.clean_logprob - picked.mean(dim=1)).cpu().tolist()


def faithfulness_curves(scorer: CurveScorer, explanations: dict[str, np.ndarray], n_bins: int, stride: int,
                        norm: str = "zscore", steps: np.ndarray | None = None, seed: int = 0) -> dict:
    """Deletion and insertion curves (and AUC) for each explanation plus a random ranking.

    ``explanations`` maps a name to (I, T, F) or (I, T') maps (rows = the explained tokens).
    The all-occluded and nothing-occluded inputs are shared by every ranking and scored once.
    """
    steps = CURVE_STEPS if steps is None else steps
    shape = (scorer.n_frames, n_bins)
    orders = {name: ranking(input_map(maps, *shape, stride, norm), seed) for name, maps in explanations.items()}
    orders["random"] = random_ranking(shape[0] * shape[1], seed)
    inner = [i for i, p in enumerate(steps) if 0 < p < 100]
    ends = scorer.score(np.stack([np.zeros(shape, bool), np.ones(shape, bool)]))  # clean, all occluded
    result: dict = {"steps": [float(s) for s in steps], "how": scorer.how,
                    "metric": scorer.metric if scorer.how == "decode" else "logprob_drop"}
    for mode in MODES:
        result[mode] = {}
        for name, order in orders.items():
            masks = curve_masks(order, shape, mode, steps)
            values = np.empty(len(steps))
            values[inner] = scorer.score(masks[inner])
            for i, p in enumerate(steps):
                if p == 0:
                    values[i] = ends[0] if mode == "deletion" else ends[1]
                elif p == 100:
                    values[i] = ends[1] if mode == "deletion" else ends[0]
            result[mode][name] = {"curve": values.tolist(), "auc": auc(values, steps)}
    return result
