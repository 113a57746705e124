"""Saliency engine costs, measured side by side in one run (ratios, not absolute seconds).

1. Engine overhead: time for N masks through the engine (mask drawing, blending, scoring,
   accumulation, reliability checks) / time for N bare batched forward passes (encoder +
   teacher-forced decoder, fast attention kernel) of the same model at the same batch size.
   Goal <= 1.05.
2. SM_H cost per mask / SM_X cost per mask (same model, same clip). Goal <= 0.10.

Usage: python benchmarks/saliency_cost.py [--model whisper-tiny.en] [--masks 64] [--batch-size 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

import s2t_explain as s2t
from s2t_explain.pipeline import explain_attention, prepare
from s2t_explain.saliency.explain import SaliencyJob
from s2t_explain.saliency.options import (
    COARSE_GRANULARITIES,
    EncoderSaliencyOptions,
    InputSaliencyOptions,
    SaliencyOptions,
)

CLIP = Path(s2t.__file__).parent / "data" / "audio" / "en_1.wav"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--masks", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()

    model = s2t.load_model(args.model, device=args.device, dtype=args.dtype)
    prepared = prepare(model, CLIP)
    transcript = explain_attention(model, prepared).transcript
    options = SaliencyOptions(input=InputSaliencyOptions(n_masks=args.masks, granularities=COARSE_GRANULARITIES),
                              encoder=EncoderSaliencyOptions(n_masks=args.masks), batch_size=args.batch_size,
                              check_every=8)
    features, n_frames = prepared.features.values, prepared.features.n_frames
    tokens = torch.tensor([transcript.ids[:-1]], device=model.device).expand(args.batch_size, -1)
    batch = features.to(model.device, model.dtype)[None].expand(args.batch_size, -1, -1).contiguous()
    n_batches = -(-args.masks // args.batch_size)

    def sync() -> None:
        if model.device.type == "cuda":
            torch.cuda.synchronize()

    @torch.no_grad()
    def bare() -> float:
        sync()
        t0 = time.perf_counter()
        for _ in range(n_batches):
            model.decode(tokens, model.encode(batch))
        sync()
        return time.perf_counter() - t0

    def engine(method: str) -> float:
        """Seconds for one saliency map (``input_saliency`` or ``encoder_saliency``) of N masks."""
        job = SaliencyJob(model, features, n_frames, prepared.states, transcript, options, progress=False)
        sync()
        t0 = time.perf_counter()
        getattr(job, method)()
        sync()
        return time.perf_counter() - t0

    bare()  # warm-up
    overhead, ratio_h = [], []
    t_bare, t_x, t_h = [], [], []
    for _ in range(args.rounds):
        a, b, c = bare(), engine("input_saliency"), engine("encoder_saliency")
        t_bare.append(a)
        t_x.append(b)
        t_h.append(c)
        overhead.append(b / a)
        ratio_h.append(c / b)
    med = statistics.median
    print(f"model={model.name} device={model.device} dtype={str(model.dtype).replace('torch.', '')} "
          f"threads={torch.get_num_threads()} masks={args.masks} batch={args.batch_size} rounds={args.rounds} "
          f"tokens I={len(transcript.ids) - 1}")
    print(f"bare forward passes     {med(t_bare):7.2f} s  ({args.masks / med(t_bare):6.1f} masks/s)")
    print(f"engine, input (SM_X)    {med(t_x):7.2f} s  ({args.masks / med(t_x):6.1f} masks/s)")
    print(f"engine, encoder (SM_H)  {med(t_h):7.2f} s  ({args.masks / med(t_h):6.1f} masks/s)")
    print(f"1. engine overhead (SM_X engine / bare passes): {med(overhead):.3f}   goal <= 1.05")
    print(f"2. SM_H cost per mask / SM_X cost per mask:     {med(ratio_h):.3f}   goal <= 0.10")


if __name__ == "__main__":
    main()
