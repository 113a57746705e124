"""Cost of cross-attention capture relative to a plain teacher-forced pass (goal: <= 1.2x).

Both variants run the same model on the same input in one process, interleaved (A, B, A, B...)
so that machine noise hits both; we report the median of per-round ratios.
- full pass: encoder + teacher-forced decoder (what "explaining one utterance" costs);
- decoder only: the teacher-forced decoder pass on cached encoder states (the strictest view,
  since capture only touches the decoder's cross-attention).

Usage: python benchmarks/attention_capture.py [--model whisper-tiny.en] [--rounds 15] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

import s2t_explain
from s2t_explain.attention import cross_attention
from s2t_explain.pipeline import prepare

CLIP = Path(s2t_explain.__file__).parent / "data" / "audio" / "en_1.wav"


def timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="whisper-tiny.en")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()

    model = s2t_explain.load_model(args.model, device=args.device, dtype=args.dtype)
    prepared = prepare(model, CLIP)
    transcript = s2t_explain.transcribe(model, prepared)
    ids = transcript.ids
    tokens = torch.tensor([ids[:-1]], device=model.device)
    n_enc = model.n_encoder_frames(prepared.features.n_frames)
    mel = prepared.features.values[None]

    @torch.no_grad()
    def plain_full() -> None:
        model.decode(tokens, model.encode(mel))

    @torch.no_grad()
    def capture_full() -> None:
        cross_attention(model, model.encode(mel), ids, n_enc)

    @torch.no_grad()
    def plain_decoder() -> None:
        model.decode(tokens, prepared.states)

    @torch.no_grad()
    def capture_decoder() -> None:
        cross_attention(model, prepared.states, ids, n_enc)

    pairs = {"full pass (encoder + decoder)": (plain_full, capture_full),
             "decoder only (cached encoder states)": (plain_decoder, capture_decoder)}
    for fn in (plain_full, capture_full, plain_decoder, capture_decoder):  # warm-up
        fn()
    print(f"model={model.name} device={model.device} dtype={model.dtype} threads={torch.get_num_threads()} "
          f"clip={CLIP.name} tokens I={len(ids) - 1} encoder frames T'={n_enc} rounds={args.rounds}")
    for label, (plain, capture) in pairs.items():
        ratios, t_plain, t_capture = [], [], []
        for _ in range(args.rounds):
            a = timed(plain, model.device)
            b = timed(capture, model.device)
            t_plain.append(a)
            t_capture.append(b)
            ratios.append(b / a)
        print(f"{label:40s} plain {statistics.median(t_plain) * 1e3:8.2f} ms  capture "
              f"{statistics.median(t_capture) * 1e3:8.2f} ms  ratio (median of rounds) "
              f"{statistics.median(ratios):.3f}  goal <= 1.2")


if __name__ == "__main__":
    main()
