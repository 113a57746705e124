"""Long recordings in the one-file commands (``transcribe``, ``timestamps``, ``attention``, ``explain``).

Audio longer than the model's window (or than ``--window-seconds``) goes through
``s2t_explain.longform.run_long``: windows, each handled as a clip, words stitched into one
timeline. Shorter audio takes the one-clip path, unchanged.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..alignment.subtitles import to_srt, to_vtt
from ..alignment.timestamps import Word
from ..decoding import DecodingOptions
from ..errors import OptionError
from ..files import write_text
from ..longform import LongformOptions, list_windowings
from ..longform.stream import AudioStream
from .common import decoding_options, load
from .progress import Status

if TYPE_CHECKING:  # model code loads when a command runs, not for --help
    from ..longform import LongResult
    from ..models import SpeechToTextModel
    from ..pipeline import Prepared


def add_longform_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("long recordings (audio longer than the model's 30-s window)")
    g.add_argument("--windowing", default="vad", choices=list_windowings(),
                   help="vad: windows cut inside pauses (default); fixed: fixed windows with --overlap")
    g.add_argument("--window-seconds", type=float, default=None, metavar="S",
                   help="longest window; audio longer than this is cut (default: the model's window, 30 s)")
    g.add_argument("--overlap", type=float, default=5.0, metavar="S", help="fixed windows: overlap (default: 5)")
    g.add_argument("--no-snap", dest="snap", action="store_false",
                   help="keep word edges where the aligner put them, even inside detected silence")


def longform_options(args: argparse.Namespace, model: SpeechToTextModel, **timing: Any) -> LongformOptions:
    """The long-form options of the command line; ``timing``: heads, top, maps (LongformOptions fields)."""
    seconds = args.window_seconds or min(model.max_seconds or 30.0, 30.0)
    return LongformOptions(windowing=args.windowing, window_seconds=seconds, overlap=args.overlap, snap=args.snap,
                           **timing)


def open_inputs(args: argparse.Namespace, status: Status, longform: bool = True) -> tuple[
        SpeechToTextModel, DecodingOptions, Prepared | None, AudioStream]:
    """Check the audio file (cheap), load the model, then either encode the clip or, for a long
    recording, return no ``Prepared`` (the caller takes the long-form path). Without ``longform``
    (commands on one clip only) long audio fails in ``prepare`` with the model's limit."""
    decoding = decoding_options(args)
    with status.step("reading audio"):
        stream = AudioStream(args.audio)
    model = load(args, status)
    model.check_task(decoding.task, decoding.language)
    limit = args.window_seconds or model.max_seconds if longform else None
    if limit is not None and stream.duration > limit + 1e-6:
        if args.text is not None:
            raise OptionError("--text forces a text on one clip; a recording longer than the window is "
                              "transcribed window by window (cut it, or drop --text)")
        options = longform_options(args, model)  # checked before any work
        status.say(f"{stream.duration:.1f} s of audio: long-form, {args.windowing} windows of at most "
                   f"{options.window_seconds:g} s")
        return model, decoding, None, stream
    from ..pipeline import prepare

    with status.step("encoding audio"):
        prepared = prepare(model, args.audio)
    return model, decoding, prepared, stream


def timestamp_texts(document: dict[str, Any], words: list[Word]) -> dict[str, str]:
    """The printable forms of timed words: the Whisper-tools JSON ``document``, SRT and WebVTT."""
    return {"json": json.dumps(document, indent=2, ensure_ascii=False) + "\n", "srt": to_srt(words),
            "vtt": to_vtt(words)}


def write_window_pages(long: LongResult, folder: Path, stream: AudioStream) -> list[Path]:
    """``windows/wNNNN.html``: the explorer of every explained window, with that window's audio."""
    from ..explorer import utterance_page
    from ..results import Explanation

    pages = []
    for w in long.windows:
        file = folder / "windows" / f"w{w.index:04d}.npz"
        if file.exists():
            result = Explanation.load(file)
            pages.append(utterance_page(result, file.with_suffix(".html"), audio=stream.read(w.start, w.end),
                                        ))
    return pages


def report_failures(long: LongResult, status: Status) -> int:
    """Exit code: 1 when a window failed (each named on stderr), else 0."""
    for f in long.failures:
        status.say(f"window {f['window']} ({f['start']:.1f}-{f['end']:.1f} s) failed: {f['reason']}")
    if long.failures:
        status.say(f"{len(long.failures)} of {len(long.windows)} windows failed; their words are missing")
    return 1 if long.failures else 0


def write_texts(out: Path, stem: str, texts: dict[str, str]) -> None:
    for fmt, text in texts.items():
        write_text(out / f"{stem}.{fmt}", text)
