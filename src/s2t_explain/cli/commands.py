"""Subcommands on one utterance and the model list. Each ``add_*`` declares arguments; each
``run_*`` calls the library."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..attention.heads import HEAD_SETS, resolve_heads
from ..errors import OptionError
from ..models.bundled import BUNDLED
from .common import (
    add_html_arg,
    add_maps_args,
    add_saliency_args,
    add_scale_args,
    audio_command,
    chosen_maps,
    executor,
    output_folder,
    refuse_overwrite,
    saliency_options,
    write_outputs,
)
from .longform import (
    add_longform_args,
    longform_options,
    open_inputs,
    report_failures,
    timestamp_texts,
    write_texts,
    write_window_pages,
)
from .progress import Status


def add_transcribe(sub: argparse._SubParsersAction) -> None:
    p = audio_command(sub, "transcribe", "transcribe or translate one audio file", out=False)
    p.add_argument("--json", action="store_true", help="print tokens and log-probs as JSON")
    p.add_argument("--top", type=int, default=0, metavar="K",
                   help="with --json: the K most likely next tokens at every step (full distributions)")
    add_longform_args(p)
    p.set_defaults(run=run_transcribe)


def run_transcribe(args: argparse.Namespace) -> int:
    from ..pipeline import transcribe

    if args.top < 0:
        raise OptionError("--top must be >= 0")
    status = Status(args.quiet)
    model, decoding, prepared, stream = open_inputs(args, status)
    if prepared is None:  # a long recording: window by window, words stitched
        from ..longform import run_long

        long = run_long(model, stream.name, decoding=decoding, options=longform_options(args, model),
                        progress=not args.quiet)
        print(json.dumps(long.to_whisper_json("attention", "alignment"), indent=2, ensure_ascii=False)
              if args.json else long.text)
        code = report_failures(long, status)
        status.done()
        return code
    with status.step("decoding" if args.text is None else "scoring forced text"):
        result = transcribe(model, prepared, decoding=decoding, text=args.text, distributions=args.top > 0)
    if result.n_text_tokens == 0:
        status.say("warning: the model produced an empty transcript for this audio")
    if not args.json:
        print(result.text)
    else:
        data = result.to_dict()
        if args.top > 0:
            for token, alternatives in zip(data["tokens"], result.top_alternatives(args.top)):
                token["top"] = [{"id": i, "text": model.token_text(i), "logprob": lp} for i, lp in alternatives]
        print(json.dumps(data, indent=2, ensure_ascii=False))
    status.done()
    return 0


def add_attention(sub: argparse._SubParsersAction) -> None:
    p = audio_command(sub, "attention", "cross-attention of every layer and head (JSON + .npz + PNG)")
    p.add_argument("--heads", default="alignment", help=f"head set for the plot: {', '.join(HEAD_SETS.names())}, "
                   "layer:N, head:L,H or [[L,H],...] (default: %(default)s)")
    add_html_arg(p)
    add_longform_args(p)
    p.set_defaults(run=run_attention)


def run_attention(args: argparse.Namespace) -> int:
    from ..pipeline import explain_attention
    from ..plots.heatmap import AttentionHeatmap

    status = Status(args.quiet)
    out = output_folder(args.out)
    model, decoding, prepared, stream = open_inputs(args, status)
    resolve_heads(args.heads, model.n_layers, model.n_heads, model.alignment_heads)  # before any work
    if prepared is None:
        return _run_long(args, status, (model, decoding, stream), out, None, ("attention",))
    with status.step("transcribing and capturing cross-attention"):
        result = explain_attention(model, prepared, decoding=decoding, text=args.text)
    stem = Path(args.audio).stem
    with status.step(f"writing {out}/{stem}.{{npz,json,png{',html' if args.html else ''}}}"):
        write_outputs(out, stem, result, {"": AttentionHeatmap.from_result(result, args.heads).figure()},
                      html_audio=args.audio if args.html else None)
    L, H, I, T = result.shape
    status.say(f"cross-attention (L={L}, H={H}, I={I}, T'={T}); transcript:")
    print(result.transcript.text)
    status.done()
    return 0


def add_explain(sub: argparse._SubParsersAction) -> None:
    p = audio_command(sub, "explain", "cross-attention plus saliency (SM_X, SM_H) of one audio file")
    add_saliency_args(p, long_audio_default=True)
    add_maps_args(p)
    add_scale_args(p, "each map's masks")
    p.add_argument("--heads", default="all", help="head set for the comparison figure (default: %(default)s)")
    add_html_arg(p)
    add_longform_args(p)
    p.set_defaults(run=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from ..pipeline import explain
    from ..plots.heatmap import AttentionHeatmap
    from ..plots.saliency import comparison_figure, input_saliency_figure

    status = Status(args.quiet)
    out = output_folder(args.out)
    saliency = saliency_options(args)  # checks options before anything slow
    maps = chosen_maps(args, saliency)
    workers = executor(args)
    model, decoding, prepared, stream = open_inputs(args, status)
    resolve_heads(args.heads, model.n_layers, model.n_heads, model.alignment_heads)
    if prepared is None:
        if workers is not None:
            raise OptionError("--workers/--ray spread one clip's masks; for a long recording run it without "
                              "them (its windows run one after another)")
        sources = ("attention", *(m for m in ("spes-encoder", "spes-input") if m in maps))
        saliency = saliency_options(args, long_audio=True)  # fast unless --preset says otherwise
        return _run_long(args, status, (model, decoding, stream), out, saliency, sources, maps)
    if workers is not None:
        status.say(f"saliency masks on {workers.describe()}")
    result = explain(model, prepared, maps=maps, saliency=saliency, decoding=decoding, text=args.text,
                     progress=not args.quiet, executor=workers)
    figures = {"": AttentionHeatmap.from_result(result, args.heads).figure(),
               "_compare": comparison_figure(result, args.heads)}
    if "spes-input" in result:
        figures["_input_saliency"] = input_saliency_figure(result)
    stem = Path(args.audio).stem
    with status.step(f"writing {out}/{stem}.{{npz,json,png{',html' if args.html else ''}}} and figures"):
        write_outputs(out, stem, result, figures, html_audio=args.audio if args.html else None)
    print(result.transcript.text)
    status.say(result.reliability_report())
    status.done()
    return 0


def _run_long(args: argparse.Namespace, status: Status, inputs: tuple[Any, Any, Any], out: Path,
              saliency: Any, sources: tuple[str, ...], maps: tuple[str, ...] = ()) -> int:
    """``attention`` / ``explain`` on a long recording (``inputs``: model, decoding options, audio
    stream): OUT/STEM/ holds one result per window (windows/wNNNN.npz, with --html wNNNN.html) and
    index.json (windows, stitched words, failures); STEM.json / .srt / .vtt beside it time the
    words over the whole file."""
    from ..longform import run_long

    model, decoding, stream = inputs
    stem = Path(args.audio).stem
    folder = out / stem
    heads = args.heads if args.heads != "all" else "alignment"
    long = run_long(model, stream.name, sources=sources, saliency=saliency, decoding=decoding,
                    options=longform_options(args, model, heads=heads, maps=maps), out=folder,
                    progress=not args.quiet)
    source = sources[1] if len(sources) > 1 else sources[0]  # saliency timing when there is saliency
    write_texts(out, stem, timestamp_texts(long.to_whisper_json(source, "alignment"), long.words[source]))
    if args.html:
        with status.step(f"writing {folder}/windows/*.html"):
            write_window_pages(long, folder, stream)
    status.say(f"{len(long.windows)} windows in {folder}/ (index.json), words from {source} in "
               f"{out}/{stem}.{{json,srt,vtt}}")
    print(long.text)
    code = report_failures(long, status)
    status.done()
    return code


def add_methods(sub: argparse._SubParsersAction) -> None:
    from ..methods import list_methods

    p = audio_command(sub, "methods", "other explanation methods (attention variants, gradients) and their cost")
    p.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                   help=f"any of {', '.join(list_methods())} (default: all)")
    p.add_argument("--ig-steps", type=int, default=16, help="Integrated Gradients steps (default: %(default)s)")
    p.add_argument("--token-batch", type=int, default=8, help="tokens per batched backward pass (default: %(default)s)")
    p.set_defaults(run=run_methods)


def run_methods(args: argparse.Namespace) -> int:
    import numpy as np

    from ..files import atomic_write, write_json
    from ..methods import MethodOptions, explain_methods, list_methods
    from ..methods.catalog import method_name

    status = Status(args.quiet)
    out = output_folder(args.out)
    names = [method_name(name) for name in args.methods or list_methods()]  # checked before any work
    options = MethodOptions(ig_steps=args.ig_steps, token_batch=args.token_batch)
    model, decoding, prepared, _ = open_inputs(args, status, longform=False)
    assert prepared is not None  # no long-form path here
    with status.step("decoding"):
        from ..decoding.scoring import make_transcript

        transcript = make_transcript(model, prepared.states, decoding, text=args.text)
    runs = {}
    for name in names:
        with status.step(name):
            runs.update(explain_methods(model, prepared, [name], options=options, transcript=transcript))
    stem = Path(args.audio).stem
    with status.step(f"writing {out}/{stem}_methods.{{npz,json}}"):
        arrays: dict[str, Any] = {name.replace("-", "_"): run.values.astype(np.float32) for name, run in runs.items()}
        atomic_write(out / f"{stem}_methods.npz", lambda f: np.savez_compressed(f, **arrays))
        write_json(out / f"{stem}_methods.json", {
            "audio": str(args.audio), "model": model.name, "transcript": transcript.to_dict(),
            "options": {"ig_steps": options.ig_steps, "token_batch": options.token_batch, "absolute": options.absolute},
            "methods": {name: {"grain": run.grain, "shape": list(run.values.shape), "array": name.replace("-", "_"),
                               "cost": run.cost.to_dict()} for name, run in runs.items()}})
    print(f"{'method':>22} {'grain':>8} {'seconds':>8} {'forward':>8} {'backward':>8}  shape")
    for name, run in runs.items():
        c = run.cost
        print(f"{name:>22} {run.grain:>8} {c.seconds:8.2f} {c.forward:8d} {c.backward:8d}  {tuple(run.values.shape)}")
    status.done()
    return 0


def add_html(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("html", help="write the interactive explorer of a stored result (no model needed)")
    p.add_argument("result", metavar="RESULT.npz", help="a result written by explain, attention or study")
    p.add_argument("-o", "--out", default=None, metavar="PAGE.html", help="(default: RESULT.html beside it)")
    p.add_argument("--audio", default=None, help="audio file to embed (default: the file the result names)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(run=run_html)


def run_html(args: argparse.Namespace) -> int:
    from ..explorer import utterance_page
    from ..results import Explanation

    status = Status(args.quiet)
    out = Path(args.out) if args.out else Path(args.result).with_suffix(".html")
    refuse_overwrite(out, args.result, args.audio)
    result = Explanation.load(args.result)
    if args.audio is not None and not Path(args.audio).is_file():
        raise OptionError(f"audio file {args.audio} not found")
    with status.step(f"writing {out}"):
        try:
            page = utterance_page(result, out, audio=args.audio)
        except OSError as e:
            raise OptionError(f"cannot write {out}: {e.strerror or e}") from e
    status.say(f"{page} ({page.stat().st_size / 1024:.0f} KB)")
    status.done()
    return 0


def add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the bundled models")
    p.set_defaults(run=run_models)


def run_models(args: argparse.Namespace) -> int:
    for name, info in BUNDLED.items():
        print(f"{name:18s} {info.description}")
    return 0
