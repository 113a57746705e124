"""``study`` (run the analysis over a manifest or corpus folder) and ``report`` (rebuild tables and figures)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..corpora import list_corpus_formats, read_corpus
from ..methods import list_methods
from ..metrics.agreement import list_correlations
from ..normalization import NORMALIZATIONS
from ..pooling import POOLING
from ..study.options import AGAINST, DEFAULT_METHODS, FAITHFULNESS, STATISTICS, TRANSLATION_METRICS
from ..tasks import TASKS
from .common import (
    add_model_args,
    add_saliency_args,
    add_scale_args,
    executor,
    load,
    output_folder,
    positive,
    saliency_options,
)
from .progress import Status


def add_study(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="cross-attention vs saliency over a dataset (tables and figures)")
    p.add_argument("--manifest", required=True, metavar="PATH",
                   help="a manifest file (JSONL, TSV, CSV: id, audio, [reference, language, task, start, end]) "
                   "or a corpus folder (LibriSpeech, Kaldi data folder, Hugging Face save_to_disk)")
    p.add_argument("--format", default="auto", metavar="FORMAT",
                   help=f"corpus format: auto (detect) or one of {', '.join(list_corpus_formats())} "
                   "(default: %(default)s)")
    p.add_argument("--split", default=None, help="hf-disk: the DatasetDict split (default: the only or first one)")
    p.add_argument("--text-column", default=None,
                   help="hf-disk: the transcript column (default: text, sentence, transcription, ...)")
    p.add_argument("--audio-column", default=None, help="hf-disk: the audio column (default: audio)")
    p.add_argument("-o", "--out", required=True, help="run folder (created; an existing one is resumed)")
    add_model_args(p, decoding=False)
    p.add_argument("--task", default="transcribe", choices=list(TASKS),
                   help="for lines without a task (default: %(default)s)")
    p.add_argument("--language", default=None, help="for lines without a language")
    p.add_argument("--limit", type=int, default=None, help="only the first N manifest entries")
    add_saliency_args(p)
    p.add_argument("--pooling", default="max", choices=POOLING.names(), help="SM_X to encoder frames (default: max)")
    p.add_argument("--normalization", default="zscore", choices=NORMALIZATIONS.names())
    p.add_argument("--pairs", nargs="+", default=(), metavar="A:B",
                   help="more map pairs to compare, by map name (e.g. grad-encoder:spes-encoder "
                   "attention-norm:SM_X); the paper's CA-SM_X, CA-SM_H and SM_X-SM_H always come")
    p.add_argument("--statistics", nargs="+", default=None, choices=list_correlations(), metavar="STAT",
                   help=f"agreement statistics, of {', '.join(list_correlations())} (default: all three)")
    p.add_argument("--include-eos", action="store_true", help="also compare the end-of-text token's maps")
    p.add_argument("--faithfulness", default="decode", choices=list(FAITHFULNESS),
                   help="deletion/insertion scoring: re-decode (paper), log-prob drop (cheaper), both, off")
    p.add_argument("--against", default="hypothesis", choices=list(AGAINST),
                   help="re-decoded texts are scored against the clean hypothesis or the reference")
    p.add_argument("--curve-step", type=int, default=5, metavar="PCT",
                   help="deletion/insertion curve step in percent (default: %(default)s, the paper's)")
    p.add_argument("--translation-metric", default="bleu", choices=list(TRANSLATION_METRICS))
    p.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                   help="explanation methods scored against SPES: names from "
                   f"{', '.join(list_methods())}, 'all', or 'none' (default: {' '.join(DEFAULT_METHODS)})")
    p.add_argument("--ig-steps", type=int, default=16, help="Integrated Gradients steps (default: %(default)s)")
    add_scale_args(p, "the utterances")
    p.add_argument("--shard", default=None, metavar="K/N", help="only every N-th manifest entry from the K-th "
                   "(job arrays: N processes share the run folder; `report RUN` once all are done)")
    p.set_defaults(run=run_study_command)


def _methods(names: list[str] | None) -> tuple[str, ...]:
    if names is None:
        return DEFAULT_METHODS
    if names == ["none"]:
        return ()
    if names == ["all"]:
        return tuple(list_methods())
    return tuple(names)  # unknown names fail in StudyOptions with the valid ones listed


def run_study_command(args: argparse.Namespace) -> int:
    from ..study import StudyOptions, build_report, run_study

    status = Status(args.quiet)
    positive(args.limit, "--limit")
    out = output_folder(args.out)
    # the corpus is opened (format, options, first entry) before the model loads
    corpus = read_corpus(args.manifest, args.format, split=args.split, text_column=args.text_column,
                         audio_column=args.audio_column)
    if corpus.note:
        status.say(corpus.note)
    options = StudyOptions(saliency=saliency_options(args), pooling=args.pooling, normalization=args.normalization,
                           include_eos=args.include_eos, faithfulness=args.faithfulness, against=args.against,
                           translation_metric=args.translation_metric, curve_step=args.curve_step,
                           seed=args.seed if args.seed is not None else 0, methods=_methods(args.methods),
                           statistics=tuple(args.statistics) if args.statistics else STATISTICS,
                           ig_steps=args.ig_steps, task=args.task, language=args.language,
                           pairs=tuple(args.pairs))
    from ..study.runner import parse_shard

    shard = parse_shard(args.shard) if args.shard else None
    workers = executor(args)
    model = load(args, status)
    if workers is not None:
        status.say(f"utterances on {workers.describe()}")
    try:
        summary = run_study(model, corpus, out, options, limit=args.limit, shard=shard, progress=not args.quiet,
                            executor=workers)
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
    p.add_argument("--html", action="store_true",
                   help="also write RUN/report.html and RUN/pages/ID.html: interactive, self-contained explorers")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    from ..study import build_report

    status = Status(args.quiet)
    if args.html:
        from ..explorer import study_pages

        with status.step(f"writing {args.folder}/tables, figures, report.html and pages/"):
            page = study_pages(args.folder, figures=not args.no_figures)
        status.say(f"{page} ({page.stat().st_size / 1024:.0f} KB)")
    else:
        with status.step(f"writing {args.folder}/tables and figures"):
            build_report(args.folder, figures=not args.no_figures)
    print((Path(args.folder) / "report.md").read_text(encoding="utf-8"))
    status.done()
    return 0



