"""What several subcommands share: model and saliency arguments, loading inputs, output folders.

Every choice list comes from the library's registries or constants, so the CLI offers exactly
what the library accepts.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..decoding import DecodingOptions
from ..dtypes import DTYPE_NAMES, PRECISIONS
from ..errors import OptionError
from ..executors import Executor, executor_for
from ..files import write_json
from ..models import DEFAULT_MODEL, bundled_names
from ..plots.saliency import save_figure
from ..results.explanation import Explanation
from ..saliency.catalog import SCORERS
from ..saliency.estimators import ESTIMATORS
from ..saliency.options import ACCUMULATE, DEFAULT_PRESET, PRESETS, QUICK_PRESET, SaliencyOptions, preset, with_masks
from ..tasks import TASKS
from .progress import Status

if TYPE_CHECKING:
    from ..models import SpeechToTextModel


def add_model_args(p: argparse.ArgumentParser, decoding: bool = True) -> None:
    """--model, --device, --dtype and -q; with ``decoding``: --task, --language, --beam, --text."""
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"bundled name ({', '.join(bundled_names())}), "
                   "CTranslate2/faster-whisper folder, or Hugging Face folder/id (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: %(default)s)")
    p.add_argument("--dtype", default="float32", choices=list(DTYPE_NAMES), help="(default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or timing on stderr")
    if not decoding:
        return
    p.add_argument("--task", default="transcribe", choices=list(TASKS))
    p.add_argument("--language", default=None, help="language code, e.g. en, it (default: English for "
                   "English-only models, detected for multilingual ones)")
    p.add_argument("--beam", type=int, default=1, help="beam size; 1 = greedy (default: %(default)s)")
    p.add_argument("--text", default=None, help="force this text instead of decoding")


def audio_command(sub: argparse._SubParsersAction, name: str, help: str, out: bool = True) -> argparse.ArgumentParser:
    """A subcommand on one audio file: AUDIO, -o OUT (when it writes files) and the model arguments."""
    p = sub.add_parser(name, help=help)
    p.add_argument("audio", help="audio file (WAV, FLAC, OGG, MP3)")
    if out:
        p.add_argument("-o", "--out", required=True, help="output folder")
    add_model_args(p)
    return p


def add_maps_args(p: argparse.ArgumentParser) -> None:
    """``--maps`` (which explanation maps to compute), with the older ``--only`` and ``--methods``."""
    from ..explainers.catalog import GROUPS, list_maps

    p.add_argument("--maps", nargs="+", default=None, metavar="MAP",
                   help=f"maps to compute, any of {', '.join(list_maps())}, or a group: {', '.join(GROUPS)} "
                   "(default: default = attention spes-input spes-encoder; attention always comes)")
    p.add_argument("--only", choices=("input", "encoder"), default=None,
                   help="(older spelling) one SPES map only: --maps spes-input or --maps spes-encoder")
    p.add_argument("--methods", nargs="+", default=(), metavar="METHOD",
                   help="(older spelling) add methods' maps to the default: --maps default METHOD ...")


def chosen_maps(args: argparse.Namespace, saliency: SaliencyOptions) -> tuple[str, ...]:
    """The map names of ``--maps`` (or ``--only`` / ``--methods``), checked before any work."""
    from ..pipeline import requested_maps

    if args.maps and args.only:
        raise OptionError("give --maps or --only, not both")
    spec = args.maps or ([f"spes-{args.only}"] if args.only else ["default"])
    return requested_maps([*spec, *args.methods], saliency)


def add_saliency_args(p: argparse.ArgumentParser, tuning: bool = True, default: str = DEFAULT_PRESET,
                      long_audio_default: bool = False) -> None:
    """--preset, --masks, --encoder-masks; with ``tuning`` also the engine's settings. ``default``:
    the command's preset; ``long_audio_default``: the command switches to ``fast`` on long audio."""
    long_audio = f"; {QUICK_PRESET} for long audio" if long_audio_default else ""
    p.add_argument("--preset", default=None, choices=list(PRESETS),
                   help=f"saliency preset (default: {default}{long_audio})")
    p.set_defaults(default_preset=default)
    p.add_argument("--masks", type=int, default=None, help="input-saliency (SM_X) mask budget (default: the preset's)")
    p.add_argument("--encoder-masks", type=int, default=None, help="encoder-saliency (SM_H) mask budget")
    if not tuning:
        return
    p.add_argument("--target-reliability", type=float, default=None, metavar="R",
                   help="stop each map once its split-half reliability reaches R (within the budget)")
    p.add_argument("--scorer", default=None, choices=SCORERS.names(), help="(default: the preset's, kl)")
    p.add_argument("--estimator", default=None, choices=ESTIMATORS.names(), help="(default: the preset's)")
    p.add_argument("--batch-size", type=_batch_size, default=None, metavar="B|auto",
                   help="perturbations per forward pass; auto: double from 8 while masks/s rises and it fits")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--perturb-dtype", dest="precision", default=None, choices=list(PRECISIONS),
                   help="run the perturbation passes in this precision (autocast; auto: bfloat16 where "
                   "the hardware has it); the clean pass and the "
                   "cross-attention capture stay in --dtype (default: float32)")
    p.add_argument("--accumulate", default=None, choices=list(ACCUMULATE),
                   help="where perturbation scores are summed: on the model's device (copied back at "
                   "reliability checks) or the host; auto: the device unless it is the CPU (default: auto)")
    p.add_argument("--compile", action="store_const", const=True, default=None,
                   help="torch.compile the perturbation passes (compiling takes about a minute; pays on "
                   "long runs only, see the README)")


def add_html_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--html", action="store_true",
                   help="also write STEM.html: an interactive, self-contained explorer (audio included)")


def add_scale_args(p: argparse.ArgumentParser, what: str) -> None:
    """--workers N and --ray [ADDRESS]: where the work runs (see ``s2t_explain.executors``)."""
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"spread {what} over N local worker processes (default: this process)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help=f"spread {what} over a Ray cluster: auto, HOST:PORT, or nothing for a local instance "
                   "(--workers then sets the number of Ray workers)")


def executor(args: argparse.Namespace) -> Executor | None:
    return executor_for(args.workers, args.ray)


def _batch_size(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}") from None


def saliency_options(args: argparse.Namespace, long_audio: bool = False) -> SaliencyOptions:
    """The preset with the arguments' changes (which maps are computed is ``--maps``); without
    ``--preset``, the command's default (``fast`` for ``long_audio``: one map per 30-s window)."""
    name = args.preset or (QUICK_PRESET if long_audio else getattr(args, "default_preset", DEFAULT_PRESET))
    opts = with_masks(preset(name), args.masks, args.encoder_masks)
    fields = ("target_reliability", "scorer", "estimator", "batch_size", "seed", "precision", "accumulate",
              "compile")
    changes: dict[str, Any] = {k: getattr(args, k, None) for k in fields if getattr(args, k, None) is not None}
    if changes.get("batch_size") == "auto":
        changes["auto_batch"] = True
        del changes["batch_size"]
    return replace(opts, **changes)


def decoding_options(args: argparse.Namespace) -> DecodingOptions:
    return DecodingOptions(task=args.task, language=args.language, beam_size=args.beam)


def positive(value: int | None, flag: str) -> None:
    """Refuse a count below 1 (``--top``, ``--limit``) before any work."""
    if value is not None and value < 1:
        raise OptionError(f"{flag} must be >= 1")


def load(args: argparse.Namespace, status: Status) -> SpeechToTextModel:
    """The model named by ``--model`` on ``--device`` in ``--dtype``."""
    from ..models import load_model

    with status.step(f"loading {args.model}"):
        return load_model(args.model, device=args.device, dtype=args.dtype)


def refuse_overwrite(out: str | Path, *inputs: str | Path | None) -> None:
    """An output path that is one of the command's inputs would destroy it: refuse, in one line."""
    target = Path(out)
    for source in inputs:
        if source is None:
            continue
        same = Path(source).resolve() == target.resolve()
        if not same and target.exists() and Path(source).exists():
            same = os.path.samefile(source, target)  # a hard link (resolve() already follows symlinks)
        if same:
            raise OptionError(f"the output {out} is the input {source}: writing it would destroy the input; "
                              "choose another output path")


def output_folder(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OptionError(f"output {out} exists and is not a folder")
    return out


def write_outputs(out: Path, stem: str, result: Explanation, figures: dict[str, Any],
                  html_audio: str | None = None) -> None:
    """Write STEM.npz, STEM.json and STEM{suffix}.png for each figure (and, given ``html_audio``, the
    explorer STEM.html with that audio); on failure remove them all."""
    written: list[Path] = []
    try:
        written.append(result.save(out / f"{stem}.npz"))
        written.append(out / f"{stem}.json")
        write_json(written[-1], result.meta())
        for suffix, figure in figures.items():
            written.append(save_figure(figure, out / f"{stem}{suffix}.png"))
        if html_audio is not None:
            from ..explorer import utterance_page

            written.append(utterance_page(result, out / f"{stem}.html", audio=html_audio))
    except OSError as e:
        for path in written:
            path.unlink(missing_ok=True)
        raise OptionError(f"cannot write results to {out}: {e.strerror or e}") from e
