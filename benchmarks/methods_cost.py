"""Cost of each explanation method as a multiple of one teacher-forced pass, side by side in one run.

One teacher-forced pass = encoder + decoder forward over the clip's 30-s window for the whole
token sequence (what cross-attention costs beside decoding). Each method runs on the same clip
and transcript; SPES is measured per mask (SM_X: encoder + decoder per mask; SM_H: decoder only)
and scaled to the paper's budgets (20000 SM_X masks, 2000 SM_H) and to the `fast` preset's.

Usage: python benchmarks/methods_cost.py [--model whisper-tiny.en] [--clip en_1.wav] [--repeats 3]
       [--ig-steps 16] [--token-batch 8]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import s2t_explain as s2t
from s2t_explain.decoding import DecodingOptions, make_transcript
from s2t_explain.methods import MethodOptions, explain_methods, list_methods
from s2t_explain.saliency.options import COARSE_GRANULARITIES

DATA = Path(s2t.__file__).parent / "data"


def one_pass(model: s2t.SpeechToTextModel, prepared: s2t.Prepared, ids: list[int], repeats: int) -> float:
    tokens = torch.tensor([ids[:-1]])
    with torch.no_grad():
        model.decode(tokens, model.encode(prepared.features.values[None]))  # warm-up
        start = time.perf_counter()
        for _ in range(repeats):
            model.decode(tokens, model.encode(prepared.features.values[None]))
    return (time.perf_counter() - start) / repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--clip", default="en_1.wav")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ig-steps", type=int, default=16)
    ap.add_argument("--token-batch", type=int, default=8)
    args = ap.parse_args()
    model = s2t.load_model(args.model)
    prepared = s2t.prepare(model, DATA / "audio" / args.clip)
    transcript = make_transcript(model, prepared.states, DecodingOptions())
    options = MethodOptions(ig_steps=args.ig_steps, token_batch=args.token_batch)
    explain_methods(model, prepared, ["grad-encoder"], transcript=transcript, options=options)  # warm-up
    base = one_pass(model, prepared, transcript.ids, args.repeats)
    n_tok = len(transcript.ids) - 1
    print(f"{args.model}, {args.clip}: {n_tok} tokens; one teacher-forced pass = {base * 1000:.0f} ms")
    print(f"{'method':>22} {'seconds':>8} {'x pass':>8} {'fwd':>4} {'bwd':>4}")
    for name in list_methods():
        runs = [explain_methods(model, prepared, [name], transcript=transcript, options=options)[name]
                for _ in range(args.repeats)]
        run = min(runs, key=lambda r: r.cost.seconds)
        seconds = run.cost.seconds
        print(f"{name:>22} {seconds:8.3f} {seconds / base:8.1f} {run.cost.forward:4d} {run.cost.backward:4d}")
    saliency = s2t.SaliencyOptions(input=s2t.InputSaliencyOptions(n_masks=64, granularities=COARSE_GRANULARITIES),
                                   encoder=s2t.EncoderSaliencyOptions(n_masks=256), estimator="regression")
    result = s2t.explain(model, prepared, saliency=saliency, progress=False)
    per_mask = {m: result[f"spes-{m}"].reliability["seconds"] / result[f"spes-{m}"].reliability["n_masks"]
                for m in ("input", "encoder")}
    for label, n_x, n_h in (("SPES, fast preset (512 + 1024 masks)", 512, 1024),
                            ("SPES, paper (20000 + 2000 masks)", 20_000, 2_000)):
        seconds = n_x * per_mask["input"] + n_h * per_mask["encoder"]
        print(f"{label:>40}: {seconds:9.1f} s = {seconds / base:9.0f} x pass")
    print(f"SPES per mask: SM_X {per_mask['input'] / base:.2f} x pass, SM_H {per_mask['encoder'] / base:.3f} x pass "
          f"(batched {saliency.batch_size})")


if __name__ == "__main__":
    main()
