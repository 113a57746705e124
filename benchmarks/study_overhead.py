"""Study overhead: everything except the model's forward passes, as a share of the study's time.

Runs ``run_study`` + ``build_report`` on the bundled tiny evaluation subset and times, with
forward hooks, every pass through the encoder and decoder networks. Overhead = (total - time in
forward passes) / total; it covers audio reading, features, mask drawing, blending, scoring,
accumulation, estimators, reliability checks, pooling, correlations, curve masks, text metrics,
file writing, tables and figures. Goal: < 10%.

Usage: python benchmarks/study_overhead.py [--limit 2] [--masks 128] [--encoder-masks 256]
       [--faithfulness decode] [--estimator regression-robust]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import s2t_explain as s2t
from s2t_explain.saliency.options import preset, with_masks
from s2t_explain.study import StudyOptions, build_report, run_study

SUBSET = Path(s2t.__file__).parent / "data" / "eval" / "tiny.jsonl"


class ForwardTimer:
    """Accumulates wall time spent inside the hooked modules' forward calls."""

    def __init__(self, *modules) -> None:  # type: ignore[no-untyped-def]
        self.seconds, self.calls, self._start = 0.0, 0, 0.0
        for m in modules:
            m.register_forward_pre_hook(self._enter)
            m.register_forward_hook(self._leave)

    def _enter(self, *_):  # type: ignore[no-untyped-def]
        self._start = time.perf_counter()

    def _leave(self, *_):  # type: ignore[no-untyped-def]
        self.seconds += time.perf_counter() - self._start
        self.calls += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--limit", type=int, default=2)
    ap.add_argument("--masks", type=int, default=128)
    ap.add_argument("--encoder-masks", type=int, default=256)
    ap.add_argument("--estimator", default="regression")
    ap.add_argument("--faithfulness", default="decode")
    args = ap.parse_args()

    model = s2t.load_model(args.model)
    timer = ForwardTimer(model.net.encoder, model.net.decoder)  # type: ignore[attr-defined]
    saliency = replace(with_masks(preset("fast"), args.masks, args.encoder_masks), estimator=args.estimator)
    options = StudyOptions(saliency=saliency, faithfulness=args.faithfulness)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        summary = run_study(model, SUBSET, out, options, limit=args.limit, progress=False)
        build_report(out)
        total = time.perf_counter() - t0
    overhead = total - timer.seconds
    print(f"model={args.model} utterances={summary.computed} masks={args.masks}/{args.encoder_masks} "
          f"estimator={args.estimator} faithfulness={args.faithfulness}")
    print(f"total {total:.1f} s, in encoder/decoder forward passes {timer.seconds:.1f} s ({timer.calls} calls)")
    print(f"overhead ratio (everything else / total): {overhead / total:.3f}   goal < 0.10")


if __name__ == "__main__":
    main()
