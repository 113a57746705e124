"""``timestamps`` (word timestamps as JSON, SRT or WebVTT), ``heads`` (head discovery) and
``align-bench`` (every alignment method against exact word boundaries)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..alignment.checks import with_confidence
from ..alignment.heads import HEAD_RANKINGS, discover_heads, head_spec
from ..alignment.timestamps import list_timestamp_sources, timestamp_source, to_whisper_json, word_timestamps
from ..errors import OptionError
from ..explainers.catalog import needs_spes
from ..files import write_json, write_text
from ..results.explanation import Explanation
from ..saliency.options import QUICK_PRESET
from .common import (
    add_model_args,
    add_saliency_args,
    load,
    output_folder,
    positive,
    refuse_overwrite,
    saliency_options,
)
from .longform import (
    add_longform_args,
    longform_options,
    open_inputs,
    report_failures,
    timestamp_texts,
    write_texts,
)
from .progress import Status

FORMATS = ("json", "srt", "vtt")


def add_timestamps(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("timestamps", help="word timestamps (JSON words schema, SRT, WebVTT)")
    p.add_argument("audio", help="audio file, or a result .npz written by `explain`, `attention` or `study`")
    p.add_argument("--from", dest="source", default="attention", metavar="MAP",
                   help=f"the map to align, any map over time: {', '.join(list_timestamp_sources())} "
                   "(default: %(default)s); from a stored result, any map it holds")
    p.add_argument("--heads", default="alignment", help="for --from attention: alignment (the model's), all, "
                   "discovered (ranked on this utterance, unsupervised), layer:N, [[L,H],...] or a JSON file")
    p.add_argument("--top", type=int, default=None, help="with --heads discovered: how many heads "
                   "(default: as many as the model's alignment heads)")
    p.add_argument("--format", default="json", choices=FORMATS, help="printed format (default: %(default)s)")
    p.add_argument("-o", "--out", default=None, help="also write STEM.json, STEM.srt and STEM.vtt here")
    add_model_args(p)
    add_saliency_args(p, tuning=False, default=QUICK_PRESET)
    add_longform_args(p)
    p.set_defaults(run=run_timestamps)


def run_timestamps(args: argparse.Namespace) -> int:
    status = Status(args.quiet)
    out = output_folder(args.out) if args.out else None
    positive(args.top, "--top")
    source = timestamp_source(args.source)  # an unknown name or a map without time fails here
    if args.audio.endswith(".npz"):
        with status.step("reading result"):
            result = Explanation.load(args.audio)
    else:  # model work: the stored-result path above loads no torch
        result_or_code = _explain_for_timestamps(args, status, source.map, out)
        if isinstance(result_or_code, int):
            return result_or_code
        result = result_or_code
    attention = source.map == "attention"
    heads = head_spec(args.heads, result, args.top) if attention else "alignment"
    words = word_timestamps(result, source.map, heads)
    if not attention:  # how far two explanations agree on each word's place
        words = with_confidence(words, word_timestamps(result, "attention", "alignment"))
    resolved = [list(p) for p in result.heads(heads)] if attention else None
    document = to_whisper_json(result, words, source.map, resolved)
    texts = timestamp_texts(document, words)
    if out is not None:
        write_texts(out, Path(args.audio).stem, texts)
    print(texts[args.format], end="")
    status.done()
    return 0


def _explain_for_timestamps(args: argparse.Namespace, status: Status, name: str, out: Path | None
                            ) -> Explanation | int:
    """The audio explained with cross-attention and map ``name`` (a long recording: timed and
    printed here, returning the exit code)."""
    from ..pipeline import explain, explain_attention

    saliency = saliency_options(args) if needs_spes([name]) else None  # checked before the model loads
    model, decoding, prepared, stream = open_inputs(args, status)
    if prepared is None:
        return _long_timestamps(args, status, model, decoding, stream, saliency, out, name)
    if name == "attention":
        with status.step("transcribing and capturing cross-attention"):
            return explain_attention(model, prepared, decoding=decoding, text=args.text)
    with status.step(f"transcribing, capturing cross-attention and {name}"):
        return explain(model, prepared, maps=[name], saliency=saliency or "fast", decoding=decoding, text=args.text,
                       progress=not args.quiet)


def _long_timestamps(args: argparse.Namespace, status: Status, model: Any, decoding: Any, stream: Any,
                     saliency: Any, out: Path | None, name: str) -> int:
    """Word timestamps over a recording longer than one window (``s2t_explain.longform``)."""
    from ..longform import run_long

    sources = ("attention",) if name == "attention" else ("attention", name)
    if saliency is not None:  # the map timed, alone (as on one clip): no SM_X per window for SM_H timing
        saliency = replace(saliency, input=saliency.input if name == "spes-input" else None,
                           encoder=saliency.encoder if name == "spes-encoder" else None)
    long = run_long(model, stream.name, sources=sources, saliency=saliency, decoding=decoding,
                    options=longform_options(args, model, heads=args.heads, top=args.top), progress=not args.quiet)
    texts = timestamp_texts(long.to_whisper_json(name, args.heads if name == "attention" else None),
                            long.words[name])
    if out is not None:
        write_texts(out, Path(args.audio).stem, texts)
    print(texts[args.format], end="")
    code = report_failures(long, status)
    status.done()
    return code


def add_heads(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("heads", help="rank cross-attention heads for alignment and pick a head set")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--study", help="a study run folder (its stored results, with saliency)")
    src.add_argument("--manifest", help="an alignment corpus with word timings (data/align/*.jsonl; CSV/TSV with "
                     "a words column; a Kaldi folder with a ctm)")
    p.add_argument("--format", default="auto", metavar="FORMAT",
                   help="the --manifest's corpus format: auto, jsonl, csv, tsv or kaldi (default: %(default)s)")
    p.add_argument("--method", default=None, choices=HEAD_RANKINGS.names(),
                   help="default: saliency for --study, reference for --manifest")
    p.add_argument("--map", default="spes-encoder", metavar="MAP",
                   help="for --method saliency, the map to agree with: any map over time the results hold, e.g. "
                   "spes-input, or a method's map (study --methods; grad-encoder is a cheap stand-in for SM_H) "
                   "(default: %(default)s)")
    p.add_argument("--top", type=int, default=None,
                   help="heads to pick (default: as many as the model's alignment heads)")
    p.add_argument("-o", "--out", default=None, help="write the head set (JSON) here")
    add_model_args(p, decoding=False)
    p.set_defaults(run=run_heads)


def run_heads(args: argparse.Namespace) -> int:
    from ..study import explain_timed, load_explanations, read_alignment_manifest

    status = Status(args.quiet)
    positive(args.top, "--top")
    method = args.method or ("saliency" if args.study else "reference")
    if args.out:
        refuse_overwrite(args.out, args.manifest)
    ranking = HEAD_RANKINGS.get(method)
    which = timestamp_source(args.map).map  # any map over time (aliases understood); checked before any work
    references = None
    if args.study:
        if ranking.needs_reference:
            raise OptionError(f"--method {method} needs --manifest with word timings")
        results = load_explanations(args.study)
    else:
        if ranking.needs_map:
            raise OptionError(f"--method {method} needs --study RUN (stored saliency maps)")
        items = read_alignment_manifest(args.manifest, args.format)
        model = load(args, status)
        results = explain_timed(model, items, progress=not args.quiet)
        references = [item.spans for item in items]
    document = discover_heads(results, method, args.top, references, which)
    if args.out:
        write_json(args.out, document)
    print(json.dumps(document["heads"]))
    status.done()
    return 0


def add_align_bench(sub: argparse._SubParsersAction) -> None:
    from ..study.alignment_methods import ALIGNMENT_METHODS

    p = sub.add_parser("align-bench", help="word-timing accuracy of every alignment method on exact boundaries")
    p.add_argument("--manifest", default=None, help="alignment corpus with exact word times: JSONL (words), CSV/TSV "
                   "(a words column) or a Kaldi folder (ctm) (default: the bundled English set)")
    p.add_argument("--format", default="auto", metavar="FORMAT",
                   help="the --manifest's corpus format: auto, jsonl, csv, tsv or kaldi (default: %(default)s)")
    p.add_argument("--methods", nargs="+", default=ALIGNMENT_METHODS.names(), choices=ALIGNMENT_METHODS.names())
    p.add_argument("--top", type=int, default=None, help="heads per discovered set")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("-o", "--out", default=None, help="a run folder: each utterance's result (results/ID.npz, so an "
                   "interrupted run resumes), failures/ and the table (align_bench.json, align_bench.md)")
    add_model_args(p, decoding=False)
    add_saliency_args(p, tuning=False, default=QUICK_PRESET)
    p.set_defaults(run=run_align_bench)


def run_align_bench(args: argparse.Namespace) -> int:
    import s2t_explain

    from ..study.alignment import markdown_table, run_bench
    from ..study.manifest import read_alignment_manifest

    status = Status(args.quiet)
    manifest = args.manifest or str(Path(s2t_explain.__file__).parent / "data" / "align" / "en.jsonl")
    positive(args.limit, "--limit")
    positive(args.top, "--top")
    saliency = saliency_options(args)  # run_bench computes only the maps its methods use
    out = output_folder(args.out) if args.out else None
    items = read_alignment_manifest(manifest, args.format)  # a bad corpus fails before the model loads
    model = load(args, status)
    report = run_bench(model, items, args.methods, saliency, args.top, args.limit, progress=not args.quiet, out=out)
    table = markdown_table(report)
    if out is not None:
        write_json(out / "align_bench.json", report)
        write_text(out / "align_bench.md", table)
    print(f"{report['model']}, {report['utterances']} utterances, forced to the reference text")
    print(table, end="")
    for line in report["skipped"]:
        status.say(f"skipped: {line}")
    for line in report["failed"]:
        status.say(f"failed: {line}")
    status.done()
    return 1 if report["failed"] else 0
