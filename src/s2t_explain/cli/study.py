"""``study`` (run the analysis over a manifest) and ``report`` (rebuild tables and figures)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import OptionError
from ..models import DEFAULT_MODEL, bundled_names, load_model
from ..models.loading import DTYPES
from ..pooling import POOLING
from ..saliency import ESTIMATORS, PRESETS
from .commands import _output_folder, _saliency_options
from .progress import Status


def add_study(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="cross-attention vs saliency over a dataset (tables and figures)")
    p.add_argument("--manifest", required=True, help="JSONL or TSV: id, audio, [reference, language, task]")
    p.add_argument("-o", "--out", required=True, help="run folder (created; an existing one is resumed)")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"bundled name ({', '.join(bundled_names())}), "
                   "CTranslate2/faster-whisper folder, or Hugging Face folder/id (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: %(default)s)")
    p.add_argument("--dtype", default="float32", choices=list(DTYPES))
    p.add_argument("--task", default="transcribe", choices=["transcribe", "translate"],
                   help="for lines without a task (default: %(default)s)")
    p.add_argument("--language", default=None, help="for lines without a language")
    p.add_argument("--limit", type=int, default=None, help="only the first N manifest lines")
    p.add_argument("--preset", default="fast", choices=list(PRESETS), help="saliency preset (default: %(default)s)")
    p.add_argument("--masks", type=int, default=None, help="SM_X mask budget (default: the preset's)")
    p.add_argument("--encoder-masks", type=int, default=None, help="SM_H mask budget")
    p.add_argument("--target-reliability", type=float, default=None, metavar="R")
    p.add_argument("--estimator", default=None, choices=ESTIMATORS.names())
    p.add_argument("--scorer", default=None, choices=["kl", "prob_drop"])
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--pooling", default="max", choices=POOLING.names(), help="SM_X to encoder frames (default: max)")
    p.add_argument("--normalization", default="zscore", choices=["zscore", "minmax"])
    p.add_argument("--include-eos", action="store_true", help="also compare the end-of-text token's maps")
    p.add_argument("--faithfulness", default="decode", choices=["decode", "logprob", "both", "off"],
                   help="deletion/insertion scoring: re-decode (paper), log-prob drop (cheaper), both, off")
    p.add_argument("--against", default="hypothesis", choices=["hypothesis", "reference"],
                   help="re-decoded texts are scored against the clean hypothesis or the reference")
    p.add_argument("--curve-step", type=int, default=5, metavar="PCT",
                   help="deletion/insertion curve step in percent (default: %(default)s, the paper's)")
    p.add_argument("--translation-metric", default="bleu", choices=["bleu", "chrf"])
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(run=run_study_command, only=None)


def run_study_command(args: argparse.Namespace) -> int:
    from ..study import StudyOptions, build_report, run_study

    status = Status(args.quiet)
    if args.limit is not None and args.limit < 1:
        raise OptionError("--limit must be >= 1")
    out = _output_folder(args.out)
    if not Path(args.manifest).is_file():
        raise OptionError(f"manifest not found: {args.manifest}")
    options = StudyOptions(saliency=_saliency_options(args), pooling=args.pooling, normalization=args.normalization,
                           include_eos=args.include_eos, faithfulness=args.faithfulness, against=args.against,
                           translation_metric=args.translation_metric, curve_step=args.curve_step,
                           seed=args.seed if args.seed is not None else 0)
    with status.step(f"loading {args.model}"):
        model = load_model(args.model, device=args.device, dtype=args.dtype)
    try:
        summary = run_study(model, args.manifest, out, options, args.task, args.language, args.limit,
                            progress=not args.quiet)
    except KeyboardInterrupt:
        status.say(f"\ninterrupted; finished utterances are kept in {out}/results. "
                   "Run the same command again to resume.")
        return 130
    status.say(summary.line())
    with status.step(f"writing {out}/tables, {out}/figures and {out}/report.md"):
        build_report(out)
    print((out / "report.md").read_text(encoding="utf-8"))
    status.done()
    return 0 if summary.failed == 0 else 1


def add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="rebuild a study run's tables and figures from its stored results")
    p.add_argument("folder", metavar="RUN", help="run folder written by `s2t-explain study`")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    from ..study import build_report

    status = Status(args.quiet)
    with status.step(f"writing {args.folder}/tables and figures"):
        build_report(args.folder, figures=not args.no_figures)
    print((Path(args.folder) / "report.md").read_text(encoding="utf-8"))
    status.done()
    return 0



