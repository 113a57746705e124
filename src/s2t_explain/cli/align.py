"""``timestamps``: word timestamps from cross-attention or saliency, as JSON, SRT or WebVTT."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import OptionError
from ..results.io import atomic_write
from .commands import _load, _model_args, _output_folder, _saliency_options
from .progress import Status

FORMATS = ("json", "srt", "vtt")


def add_timestamps(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("timestamps", help="word timestamps (JSON words schema, SRT, WebVTT)")
    p.add_argument("audio", help="audio file, or a result .npz written by `explain`, `attention` or `study`")
    p.add_argument("--from", dest="source", default="attention",
                   choices=["attention", "saliency-input", "saliency-encoder"],
                   help="the map to align: cross-attention (default) or a saliency map")
    p.add_argument("--heads", default="alignment", help="for --from attention: alignment (the model's), all, "
                   "discovered (ranked on this utterance, unsupervised), layer:N, [[L,H],...] or a JSON file")
    p.add_argument("--top", type=int, default=None, help="with --heads discovered: how many heads "
                   "(default: as many as the model's alignment heads)")
    p.add_argument("--format", default="json", choices=FORMATS, help="printed format (default: %(default)s)")
    p.add_argument("-o", "--out", default=None, help="also write STEM.json, STEM.srt and STEM.vtt here")
    _model_args(p)
    p.add_argument("--preset", default="fast", help="saliency preset when a saliency map must be computed")
    p.add_argument("--masks", type=int, default=None)
    p.add_argument("--encoder-masks", type=int, default=None)
    p.set_defaults(run=run_timestamps, target_reliability=None, scorer=None, estimator=None, batch_size=None,
                   seed=None, only=None)


def _heads(spec: str, result, top: int | None):  # type: ignore[no-untyped-def]
    from ..alignment.heads import read_head_file, top_heads, unsupervised_scores

    if spec == "discovered":
        k = top or len(result.alignment_heads or []) or result.shape[1]
        return top_heads(unsupervised_scores(result), k)
    if spec.endswith(".json") or Path(spec).is_file():
        return read_head_file(spec)
    return spec


def run_timestamps(args: argparse.Namespace) -> int:
    from ..alignment.subtitles import to_srt, to_vtt
    from ..alignment.timestamps import to_whisper_json, word_timestamps
    from ..pipeline import explain, explain_attention
    from ..results.explanation import Explanation

    status = Status(args.quiet)
    out = _output_folder(args.out) if args.out else None
    if args.top is not None and args.top < 1:
        raise OptionError("--top must be >= 1")
    if args.audio.endswith(".npz"):
        with status.step("reading result"):
            result = Explanation.load(args.audio)
    else:
        if args.source != "attention":
            args.only = "input" if args.source == "saliency-input" else "encoder"
            saliency = _saliency_options(args)
        model, options, prepared = _load(args, status)
        if args.source == "attention":
            with status.step("transcribing and capturing cross-attention"):
                result = explain_attention(model, prepared, options, text=args.text)
        else:
            result = explain(model, prepared, saliency, options, text=args.text, progress=not args.quiet)
    heads = _heads(args.heads, result, args.top) if args.source == "attention" else None
    words = word_timestamps(result, args.source, heads if heads is not None else "alignment")
    resolved = result.heads(heads) if heads is not None else None
    document = to_whisper_json(result, words, args.source, [list(p) for p in resolved] if resolved else None)
    texts = {"json": json.dumps(document, indent=2, ensure_ascii=False) + "\n", "srt": to_srt(words),
             "vtt": to_vtt(words)}
    if out is not None:
        stem = Path(args.audio).stem
        for fmt, text in texts.items():
            atomic_write(out / f"{stem}.{fmt}", lambda f, t=text: f.write(t.encode("utf-8")))  # type: ignore[misc]
    print(texts[args.format], end="")
    status.done()
    return 0


def add_heads(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("heads", help="rank cross-attention heads for alignment and pick a head set")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--study", help="a study run folder (its stored results, with saliency)")
    src.add_argument("--manifest", help="an alignment manifest with word timings (data/align/*.jsonl)")
    p.add_argument("--method", default=None, choices=["saliency", "unsupervised", "reference"],
                   help="default: saliency for --study, reference for --manifest")
    p.add_argument("--map", default="encoder", choices=["encoder", "input"], help="saliency map to agree with")
    p.add_argument("--top", type=int, default=None,
                   help="heads to pick (default: as many as the model's alignment heads)")
    p.add_argument("-o", "--out", default=None, help="write the head set (JSON) here")
    p.add_argument("--model", default=None, help="with --manifest: the model (default: whisper-tiny.en)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(run=run_heads)


def run_heads(args: argparse.Namespace) -> int:
    import numpy as np

    from ..alignment.bench import read_bench_manifest
    from ..alignment.heads import head_set_document, reference_scores, saliency_scores, unsupervised_scores
    from ..decoding import DecodingOptions
    from ..models import DEFAULT_MODEL, load_model
    from ..pipeline import explain_attention, prepare
    from ..results.explanation import Explanation
    from ..results.io import write_json

    status = Status(args.quiet)
    if args.top is not None and args.top < 1:
        raise OptionError("--top must be >= 1")
    method = args.method or ("saliency" if args.study else "reference")
    if args.study:
        if method == "reference":
            raise OptionError("--method reference needs --manifest with word timings")
        files = sorted((Path(args.study) / "results").glob("*.npz"))
        if not files:
            raise OptionError(f"no stored results in {args.study}/results")
        results = [Explanation.load(f) for f in files]
        references = None
    else:
        if method == "saliency":
            raise OptionError("--method saliency needs --study RUN (stored saliency maps)")
        items = read_bench_manifest(args.manifest)
        with status.step(f"loading {args.model or DEFAULT_MODEL}"):
            model = load_model(args.model or DEFAULT_MODEL, device=args.device, dtype=args.dtype)
        results = []
        for item in items:
            options = DecodingOptions(language=item.language if model.multilingual else None)
            results.append(explain_attention(model, prepare(model, item.audio), options, text=item.reference))
        references = [[(s, e) for _, s, e in item.words] for item in items]
    if method == "saliency":
        scores = np.mean([saliency_scores(r, args.map) for r in results], axis=0)
    elif method == "unsupervised":
        scores = np.mean([unsupervised_scores(r) for r in results], axis=0)
    else:
        scores = np.mean([reference_scores(r, ref) for r, ref in zip(results, references or [])], axis=0)
    k = args.top or len(results[0].alignment_heads or []) or results[0].shape[1]
    document = head_set_document(scores, k, method, len(results))
    if args.out:
        write_json(args.out, document)
    print(json.dumps(document["heads"]))
    status.done()
    return 0


def add_align_bench(sub: argparse._SubParsersAction) -> None:
    from ..alignment.bench import METHODS

    p = sub.add_parser("align-bench", help="word-timing accuracy of every alignment method on exact boundaries")
    p.add_argument("--manifest", default=None, help="alignment manifest (default: the bundled English set)")
    p.add_argument("--model", default=None, help="default: whisper-tiny.en")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--preset", default="fast", help="saliency preset for the saliency-based methods")
    p.add_argument("--masks", type=int, default=None)
    p.add_argument("--encoder-masks", type=int, default=None)
    p.add_argument("--top", type=int, default=None, help="heads per discovered set")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("-o", "--out", default=None, help="write the table (JSON and Markdown) here")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(run=run_align_bench, target_reliability=None, scorer=None, estimator=None, batch_size=None,
                   seed=None, only=None)


def run_align_bench(args: argparse.Namespace) -> int:
    import s2t_explain

    from ..alignment.bench import markdown_table, run_bench
    from ..models import DEFAULT_MODEL, load_model
    from ..results.io import write_json

    status = Status(args.quiet)
    manifest = args.manifest or str(Path(s2t_explain.__file__).parent / "data" / "align" / "en.jsonl")
    if args.limit is not None and args.limit < 1:
        raise OptionError("--limit must be >= 1")
    if args.top is not None and args.top < 1:
        raise OptionError("--top must be >= 1")
    if "saliency-input" not in args.methods:
        args.only = "encoder"  # SM_X is the expensive map: compute it only when a method uses it
    saliency = _saliency_options(args)
    out = _output_folder(args.out) if args.out else None
    with status.step(f"loading {args.model or DEFAULT_MODEL}"):
        model = load_model(args.model or DEFAULT_MODEL, device=args.device, dtype=args.dtype)
    report = run_bench(model, manifest, tuple(args.methods), saliency, args.top, args.limit, progress=not args.quiet)
    table = markdown_table(report)
    if out is not None:
        write_json(out / "align_bench.json", report)
        atomic_write(out / "align_bench.md", lambda f: f.write(table.encode("utf-8")))
    print(f"{report['model']}, {report['utterances']} utterances, forced to the reference text")
    print(table, end="")
    for line in report["skipped"]:
        status.say(f"skipped: {line}")
    status.done()
    return 0
