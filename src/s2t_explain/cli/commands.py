"""Subcommands. Each ``add_*`` declares arguments; each ``run_*`` calls the library."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..attention.heads import HEAD_SETS, resolve_heads
from ..audio import load_audio
from ..decoding import DecodingOptions
from ..errors import OptionError
from ..models import DEFAULT_MODEL, SpeechToTextModel, bundled_names, load_model
from ..models.bundled import BUNDLED
from ..models.loading import DTYPES
from ..pipeline import Prepared, explain, explain_attention, prepare, transcribe
from ..plots.saliency import save_figure
from ..results.explanation import Explanation
from ..results.io import write_json
from ..saliency import ESTIMATORS, PRESETS, SCORERS, SaliencyOptions, preset
from ..saliency.options import with_masks
from .progress import Status


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"bundled name ({', '.join(bundled_names())}), "
                   "CTranslate2/faster-whisper folder, or Hugging Face folder/id (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: %(default)s)")
    p.add_argument("--dtype", default="float32", choices=list(DTYPES), help="(default: %(default)s)")
    p.add_argument("--task", default="transcribe", choices=["transcribe", "translate"])
    p.add_argument("--language", default=None, help="language code, e.g. en, it (default: English for "
                   "English-only models, detected for multilingual ones)")
    p.add_argument("--beam", type=int, default=1, help="beam size; 1 = greedy (default: %(default)s)")
    p.add_argument("--text", default=None, help="force this text instead of decoding")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or timing on stderr")


def _options(args: argparse.Namespace) -> DecodingOptions:
    return DecodingOptions(task=args.task, language=args.language, beam_size=args.beam)


def _load(args: argparse.Namespace, status: Status) -> tuple[SpeechToTextModel, DecodingOptions, Prepared]:
    """Check options and read the audio first (cheap failures), then load the model and encode."""
    options = _options(args)
    with status.step("reading audio"):
        samples = load_audio(args.audio)
    with status.step(f"loading {args.model}"):
        model = load_model(args.model, device=args.device, dtype=args.dtype)
    model.check_task(options.task, options.language)
    with status.step("encoding audio"):
        prepared = prepare(model, samples, name=str(args.audio))
    return model, options, prepared


def add_transcribe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="transcribe or translate one audio file")
    p.add_argument("audio", help="audio file (WAV, FLAC, OGG, MP3)")
    _model_args(p)
    p.add_argument("--json", action="store_true", help="print tokens and log-probs as JSON")
    p.add_argument("--top", type=int, default=0, metavar="K",
                   help="with --json: the K most likely next tokens at every step (full distributions)")
    p.set_defaults(run=run_transcribe)


def run_transcribe(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise OptionError("--top must be >= 0")
    status = Status(args.quiet)
    model, options, prepared = _load(args, status)
    with status.step("decoding" if args.text is None else "scoring forced text"):
        result = transcribe(model, prepared, options, text=args.text, distributions=args.top > 0)
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
    p = sub.add_parser("attention", help="cross-attention of every layer and head (JSON + .npz + PNG)")
    p.add_argument("audio", help="audio file (WAV, FLAC, OGG, MP3)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    _model_args(p)
    p.add_argument("--heads", default="alignment", help=f"head set for the plot: {', '.join(HEAD_SETS.names())}, "
                   "layer:N, head:L,H or [[L,H],...] (default: %(default)s)")
    p.set_defaults(run=run_attention)


def run_attention(args: argparse.Namespace) -> int:
    from ..plots.heatmap import AttentionHeatmap

    status = Status(args.quiet)
    out = _output_folder(args.out)
    model, options, prepared = _load(args, status)
    resolve_heads(args.heads, model.n_layers, model.n_heads, model.alignment_heads)  # before any work
    with status.step("transcribing and capturing cross-attention"):
        result = explain_attention(model, prepared, options, text=args.text)
    stem = Path(args.audio).stem
    with status.step(f"writing {out}/{stem}.{{npz,json,png}}"):
        _write_outputs(out, stem, result, {"": AttentionHeatmap.from_result(result, args.heads).figure()})
    L, H, I, T = result.shape
    status.say(f"cross-attention (L={L}, H={H}, I={I}, T'={T}); transcript:")
    print(result.transcript.text)
    status.done()
    return 0


def _output_folder(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OptionError(f"output {out} exists and is not a folder")
    return out


def _write_outputs(out: Path, stem: str, result: Explanation, figures: dict[str, Any]) -> None:
    """Write STEM.npz, STEM.json and STEM{suffix}.png for each figure; on failure remove them all."""
    written: list[Path] = []
    try:
        written.append(result.save(out / f"{stem}.npz"))
        written.append(out / f"{stem}.json")
        write_json(written[-1], result.meta())
        for suffix, figure in figures.items():
            written.append(save_figure(figure, out / f"{stem}{suffix}.png"))
    except OSError as e:
        for path in written:
            path.unlink(missing_ok=True)
        raise OptionError(f"cannot write results to {out}: {e.strerror or e}") from e


def add_explain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="cross-attention plus saliency (SM_X, SM_H) of one audio file")
    p.add_argument("audio", help="audio file (WAV, FLAC, OGG, MP3)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    _model_args(p)
    p.add_argument("--preset", default="fast", choices=list(PRESETS), help="(default: %(default)s)")
    p.add_argument("--masks", type=int, default=None, help="input-saliency mask budget (default: the preset's)")
    p.add_argument("--encoder-masks", type=int, default=None, help="encoder-saliency mask budget")
    p.add_argument("--target-reliability", type=float, default=None, metavar="R",
                   help="stop each map once its split-half reliability reaches R (within the budget)")
    p.add_argument("--scorer", default=None, choices=SCORERS.names(), help="(default: the preset's, kl)")
    p.add_argument("--estimator", default=None, choices=ESTIMATORS.names(), help="(default: the preset's)")
    p.add_argument("--batch-size", type=int, default=None, help="perturbations per forward pass")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--only", choices=["input", "encoder"], default=None, help="compute one map only")
    p.add_argument("--heads", default="all", help="head set for the comparison figure (default: %(default)s)")
    p.set_defaults(run=run_explain)


def _saliency_options(args: argparse.Namespace) -> SaliencyOptions:
    opts = with_masks(preset(args.preset), args.masks, args.encoder_masks)
    changes = {k: v for k, v in (("target_reliability", args.target_reliability), ("scorer", args.scorer),
                                 ("estimator", args.estimator), ("batch_size", args.batch_size),
                                 ("seed", args.seed)) if v is not None}
    if args.only == "input":
        changes["encoder"] = None
    elif args.only == "encoder":
        changes["input"] = None
    return replace(opts, **changes)


def run_explain(args: argparse.Namespace) -> int:
    from ..plots.heatmap import AttentionHeatmap
    from ..plots.saliency import comparison_figure, input_saliency_figure

    status = Status(args.quiet)
    out = _output_folder(args.out)
    saliency = _saliency_options(args)  # checks options before anything slow
    model, options, prepared = _load(args, status)
    resolve_heads(args.heads, model.n_layers, model.n_heads, model.alignment_heads)
    result = explain(model, prepared, saliency, options, text=args.text, progress=not args.quiet)
    figures = {"": AttentionHeatmap.from_result(result, args.heads).figure(),
               "_compare": comparison_figure(result, args.heads)}
    if result.input_saliency is not None:
        figures["_input_saliency"] = input_saliency_figure(result)
    stem = Path(args.audio).stem
    with status.step(f"writing {out}/{stem}.{{npz,json,png}} and figures"):
        _write_outputs(out, stem, result, figures)
    print(result.transcript.text)
    status.say(result.reliability_report())
    status.done()
    return 0


def add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the bundled models")
    p.set_defaults(run=run_models)


def run_models(args: argparse.Namespace) -> int:
    for name, info in BUNDLED.items():
        print(f"{name:18s} {info.description}")
    return 0
