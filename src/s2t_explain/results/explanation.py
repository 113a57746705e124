"""The per-utterance result: tokens, times, log-probs, cross-attention (and later saliency).

File format (``.npz``, one file per utterance, written atomically), format version 1:
- ``meta``: 0-d string array holding JSON: format version, model, audio, durations, transcript
  (text, task, language, tokens with id/text/special/logprob), timings, and ``warnings`` about
  the input when there are any (a truncated file);
- ``token_ids`` (I+1,) int64: the full decoder sequence ``ids`` (prompt + text + end-of-text);
- ``logprobs`` (I,) float32, ``special`` (I,) bool: per predicted token ids[1:];
- ``cross_attention`` (L, H, I, T') float32: cropped to the T' speech encoder frames;
- ``frame_times`` (T',) float64: start time (s) of each encoder frame;
optional (present when computed):
- ``features`` (F, T) float32: the model's input features over the speech frames (for plots);
- ``input_saliency`` (I, T, F) float32: SM_X; ``encoder_saliency`` (I, T') float32: SM_H;
- ``token_saliency`` (I, I) float32: previous-token saliency (lower-triangular); row i is the
  predicted token ids[i+1], column j the *input* token ids[j] (so column j is labelled by
  ``ids[j]``, i.e. row j-1's label);
- ``method:NAME`` float32: the map of explanation method NAME (``s2t_explain.methods``): (L, H, I, T')
  per head, (I, T') or (I, T, F); its cost is in ``meta["saliency"]["methods"]``;
the run's options, masks used and reliabilities are in ``meta["saliency"]``.
Arrays load with plain ``numpy.load``; the JSON is readable without this package.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..attention.heads import HeadSet, aggregate, resolve_heads
from ..decoding.transcript import Transcript
from ..errors import OptionError, ResultError
from ..files import atomic_write
from ..pooling import pool
from ..timebase import seconds_per_encoder_frame

FORMAT_VERSION = 1
SALIENCY_MAPS = ("input", "encoder")  # SM_X (over the spectrogram), SM_H (over the encoder output)
LOW_RELIABILITY = 0.5  # split-half reliability below this: the map is mostly noise (reports, figures)


@dataclass
class Explanation:
    """Everything known about one explained utterance; one ``.npz`` file on disk (see module docs).

    Rows of every per-token array follow ``transcript.targets`` (I predicted tokens, prompt and
    end-of-text included and marked ``transcript.special``); time runs over the T' encoder frames
    that see speech (``frame_times``, ``seconds_per_frame`` apart) or the T feature frames (SM_X).
    Built by :func:`s2t_explain.explain_attention` (cross-attention only) or
    :func:`s2t_explain.explain` (plus saliency); :meth:`load` reads a stored one without torch.
    """

    transcript: Transcript
    cross_attention: np.ndarray  # (L, H, I, T')
    frame_times: np.ndarray  # (T',) seconds
    n_frames: int  # T feature frames of speech
    model: str
    audio: str
    duration: float  # seconds of audio
    alignment_heads: HeadSet | None = None
    timings: dict[str, float] = field(default_factory=dict)
    features: np.ndarray | None = None  # (F, T)
    input_saliency: np.ndarray | None = None  # (I, T, F) SM_X
    encoder_saliency: np.ndarray | None = None  # (I, T') SM_H
    token_saliency: np.ndarray | None = None  # (I, I)
    saliency: dict[str, Any] = field(default_factory=dict)  # options, masks used, reliability
    encoder_stride: int = 2  # feature frames per encoder frame (Whisper 2, Speech2Text 4)
    methods: dict[str, np.ndarray] = field(default_factory=dict)  # other methods' maps (see the module docs)
    warnings: list[str] = field(default_factory=list)  # about the input, e.g. a truncated file (meta, when any)

    OPTIONAL_ARRAYS: ClassVar[tuple[str, ...]] = ("features", "input_saliency", "encoder_saliency", "token_saliency")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(L, H, I, T')."""
        return tuple(self.cross_attention.shape)  # type: ignore[return-value]

    @property
    def seconds_per_frame(self) -> float:
        """Length of one encoder frame in seconds (Whisper 0.02, Speech2Text 0.04)."""
        return seconds_per_encoder_frame(self.encoder_stride)

    def heads(self, spec: str | list = "alignment") -> HeadSet:
        n_layers, n_heads = self.shape[:2]
        return resolve_heads(spec, n_layers, n_heads, self.alignment_heads)

    def text_rows(self, include_eos: bool = False) -> np.ndarray:
        """(I,) bool: the rows of text tokens, plus the end-of-text row if asked for (and present)."""
        return self.transcript.text_rows(include_eos)

    def aggregate(self, heads: str | list = "alignment", text_only: bool = True) -> np.ndarray:
        """Cross-attention averaged over a head set: (I, T'), or only text-token rows."""
        agg = aggregate(self.cross_attention, self.heads(heads))
        return agg[self.text_rows()] if text_only else agg

    def pooled_input_saliency(self, how: str = "max") -> np.ndarray | None:
        """SM_X pooled to encoder frames, (I, T') (``how``: a ``POOLING`` name); None without SM_X."""
        return None if self.input_saliency is None else pool(self.input_saliency, self.encoder_stride, how)

    def saliency_map(self, which: str, pooling: str = "max") -> np.ndarray | None:
        """A saliency map over encoder frames, (I, T'): ``encoder`` = SM_H, ``input`` = SM_X pooled
        with ``pooling``, or a stored method's map (per-head maps averaged over all heads, input maps
        pooled); None when the result does not have it."""
        if which in self.methods:
            values = self.methods[which]
            if values.ndim == 4:  # (L, H, I, T')
                return values.mean(axis=(0, 1))
            return pool(values, self.encoder_stride, pooling) if values.ndim == 3 else values
        if which not in SALIENCY_MAPS:
            known = [*SALIENCY_MAPS, *self.methods]
            raise OptionError(f"unknown saliency map {which!r}; this result has: {', '.join(known)}")
        return self.encoder_saliency if which == "encoder" else self.pooled_input_saliency(pooling)

    def meta(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "model": self.model,
            "audio": self.audio,
            "duration_s": self.duration,
            "n_frames": self.n_frames,
            "n_encoder_frames": int(self.frame_times.shape[0]),
            "encoder_stride": self.encoder_stride,
            "shape": {"L": self.shape[0], "H": self.shape[1], "I": self.shape[2], "T'": self.shape[3]},
            "alignment_heads": self.alignment_heads,
            "transcript": self.transcript.to_dict(),
            "timings_s": self.timings,
            "saliency": self.saliency,
            **({"warnings": self.warnings} if self.warnings else {}),
        }

    def save(self, path: str | Path) -> Path:
        """Write the one-file result (see module docs) atomically; returns the path."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps(self.meta(), ensure_ascii=False)),
            "token_ids": np.asarray(self.transcript.ids, dtype=np.int64),
            "logprobs": self.transcript.logprobs.astype(np.float32),
            "special": self.transcript.special,
            "cross_attention": self.cross_attention.astype(np.float32),
            "frame_times": self.frame_times,
        }
        for name in self.OPTIONAL_ARRAYS:
            value = getattr(self, name)
            if value is not None:
                arrays[name] = np.asarray(value, dtype=np.float32)
        for name, value in self.methods.items():
            arrays[f"method:{name}"] = np.asarray(value, dtype=np.float32)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))  # type: ignore[arg-type]
        return path

    @classmethod
    def load(cls, path: str | Path) -> Explanation:
        path = Path(path)
        if not path.is_file():
            raise ResultError(f"result file not found: {path}")
        not_ours = f"{path} is not a result of s2t-explain"
        if not zipfile.is_zipfile(path):  # numpy would try it as .npy or pickle and advise allow_pickle
            raise ResultError(f"{not_ours} (not an .npz archive, or a truncated one)")
        try:
            with np.load(path, allow_pickle=False) as z:
                if "meta" not in z.files:
                    raise ResultError(f"{not_ours} (an .npz without its meta record)")
                data = {k: z[k] for k in z.files}
            meta = json.loads(str(data["meta"]))
        except ResultError:
            raise
        except Exception as e:
            raise ResultError(f"cannot read result {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
                              ) from e
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            version = meta.get("format_version") if isinstance(meta, dict) else None
            raise ResultError(f"{path} has format version {version}; expected {FORMAT_VERSION}")
        try:
            return cls._from_stored(data, meta)
        except (KeyError, TypeError, ValueError) as e:
            raise ResultError(f"{path} is incomplete or damaged ({type(e).__name__}: {e})") from e

    @classmethod
    def _from_stored(cls, data: dict[str, np.ndarray], meta: dict[str, Any]) -> Explanation:
        transcript = Transcript.from_dict(meta["transcript"], [int(i) for i in data["token_ids"]], data["special"],
                                          data["logprobs"])
        heads = meta.get("alignment_heads")
        return cls(
            transcript=transcript,
            cross_attention=data["cross_attention"],
            frame_times=data["frame_times"],
            n_frames=meta["n_frames"],
            model=meta["model"],
            audio=meta["audio"],
            duration=meta["duration_s"],
            alignment_heads=[(int(l), int(h)) for l, h in heads] if heads else None,
            timings=meta.get("timings_s", {}),
            saliency=meta.get("saliency", {}),
            encoder_stride=int(meta.get("encoder_stride", 2)),
            **{name: data.get(name) for name in cls.OPTIONAL_ARRAYS},
            methods={k.split(":", 1)[1]: v for k, v in data.items() if k.startswith("method:")},
            warnings=[str(w) for w in meta.get("warnings", [])],
        )

    def reliability_report(self) -> str:
        """One line per saliency map: masks used and split-half reliability (noise warning when low)."""
        lines = []
        for name, run in self.saliency.get("maps", {}).items():
            r, rp = run["reliability"], run.get("reliability_pooled")
            if r is None:
                lines.append(f"{name}: {run['n_masks']} masks (reliability not measured)")
                continue
            pooled = f", pooled to encoder frames {rp:.2f}" if rp is not None else ""
            warn = "  (LOW: mostly noise; use more masks)" if not r >= LOW_RELIABILITY else ""  # NaN is low too
            lines.append(f"{name}: {run['n_masks']} masks, split-half reliability {r:.2f}{pooled}{warn}")
        return "\n".join(lines)

    def reliability_note(self, name: str) -> str:
        """Short note for a figure: masks and reliability of map ``name`` ("" if it was not computed)."""
        run = self.saliency.get("maps", {}).get(name)
        if run is None:
            return ""
        if run["reliability"] is None:
            return f"{run['n_masks']} masks"
        low = " - LOW, mostly noise" if not run["reliability"] >= LOW_RELIABILITY else ""
        return f"{run['n_masks']} masks, reliability {run['reliability']:.2f}{low}"

    def plot(self, heads: str | list = "alignment", ax: Any = None) -> Any:
        """Heatmap of aggregated cross-attention (tokens x time); returns the matplotlib Axes."""
        from ..plots.heatmap import AttentionHeatmap

        return AttentionHeatmap.from_result(self, heads).plot(ax=ax)
