"""Synthetic study inputs: an Explanation with planted maps, and fake per-utterance analysis."""

from __future__ import annotations

import numpy as np

from s2t_explain.decoding.transcript import Transcript
from s2t_explain.explainers.catalog import new_map
from s2t_explain.results.explanation import Explanation
from s2t_explain.saliency.fidelity import assess
from s2t_explain.saliency.options import DEFAULT_PRESET, preset


def synthetic_explanation(seed: int = 0, n_text: int = 4, t_enc: int = 10, n_bins: int = 6,
                          layers: int = 2, heads: int = 3) -> Explanation:
    """Prompt token + ``n_text`` text tokens + end-of-text; SM_H planted into head (1, 2)."""
    rng = np.random.default_rng(seed)
    i = n_text + 1  # predicted rows: text tokens and end-of-text (prompt length 1)
    special = np.array([False] * n_text + [True])
    smh = rng.random((i, t_enc))
    attention = rng.random((layers, heads, i, t_enc))
    attention[1, 2] = smh
    smx = np.repeat(smh, 2, axis=1)[:, :, None] * rng.random((1, 1, n_bins)) + 0.1 * rng.random((i, 2 * t_enc, n_bins))
    transcript = Transcript(ids=[1] + [2] * n_text + [0], labels=[" w"] * n_text + ["<|endoftext|>"],
                            special=special, logprobs=np.zeros(i), text="w " * n_text, task="transcribe",
                            language="en", prompt_length=1, source="decoded")
    fidelity = assess(preset(DEFAULT_PRESET), 0.95, 8).record()  # what explainers.spes records with SM_X
    maps = {"attention": new_map("attention", attention),
            "spes-input": new_map("SM_X", smx, reliability={"n_masks": 8, "reliability": 0.9,
                                                            "reliability_pooled": 0.95, "fidelity": fidelity}),
            "spes-encoder": new_map("SM_H", smh, reliability={"n_masks": 8, "reliability": 0.8})}
    return Explanation(transcript=transcript, maps=maps, frame_times=np.arange(t_enc) * 0.02, n_frames=2 * t_enc,
                       model="synthetic", audio="x.wav", duration=0.4, alignment_heads=[(1, 2)],
                       features=rng.random((n_bins, 2 * t_enc)))


def fake_faithfulness(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    steps = list(range(0, 101, 5))
    out: dict = {"steps": steps, "how": "decode", "metric": "wer"}
    for mode in ("deletion", "insertion"):
        out[mode] = {}
        for k, name in enumerate(("CA", "SMX-pooled", "SMX", "SMH", "random")):
            curve = np.clip(np.sort(rng.random(21)) * 100 * (0.5 + 0.1 * k), 0, 100)
            out[mode][name] = {"curve": curve.tolist(), "auc": float(np.trapezoid(curve, steps) / 100)}
    return out
