"""The per-utterance result: the transcript and its explanation maps, by name.

File format (``.npz``, one file per utterance, written atomically), format version 2:
- ``meta``: 0-d string array holding JSON: format version, model, audio, durations, transcript
  (text, task, language, tokens with id/text/special/logprob), timings, provenance (device,
  dtype), ``maps``: for each map its grain, units, label, shape, cost, reliability and options
  (``results.maps.Map.meta``) and the name of its array, and ``warnings`` about the input when
  there are any (a truncated file);
- ``token_ids`` (I+1,) int64: the full decoder sequence ``ids`` (prompt + text + end-of-text);
- ``logprobs`` (I,) float32, ``special`` (I,) bool: per predicted token ids[1:];
- ``frame_times`` (T',) float64: start time (s) of each encoder frame;
- ``map:NAME`` float32: the values of map NAME (``explainers.catalog``), axes by its grain:
  ``attention`` (L, H, I, T') always; ``spes-input`` (I, T, F), ``spes-encoder`` (I, T'),
  ``spes-token`` (I, I), the methods' maps... when computed;
- ``features`` (F, T) float32, optional: the model's input features over the speech frames.
Arrays load with plain ``numpy.load``; the JSON is readable without this package.

Format version 1 (every file written before maps had names) still loads: ``cross_attention``,
``input_saliency``, ``encoder_saliency``, ``token_saliency`` and ``method:NAME`` arrays, with the
SPES run record in ``meta["saliency"]``, become the maps of the same values (``_from_v1``).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..attention.heads import HeadSet, resolve_heads
from ..decoding.transcript import Transcript
from ..errors import OptionError, ResultError
from ..files import atomic_write
from ..saliency.catalog import SCORER_UNITS
from ..timebase import seconds_per_encoder_frame
from .maps import Cost, Map

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
LOW_RELIABILITY = 0.5  # split-half reliability below this: the map is mostly noise (reports, figures)
ARRAY_PREFIX = "map:"


def _catalog() -> Any:
    from ..explainers import catalog  # names and labels only: no torch

    return catalog


@dataclass
class Explanation:
    """Everything known about one explained utterance; one ``.npz`` file on disk (see module docs).

    ``maps`` holds every computed explanation by name (``explainers.catalog``: ``attention``,
    ``spes-input``, ``spes-encoder``...; ``result["spes-encoder"]`` gives one). Rows of every
    map follow ``transcript.targets`` (I predicted tokens, prompt and end-of-text included and
    marked ``transcript.special``); time runs over the T' encoder frames that see speech
    (``frame_times``, ``seconds_per_frame`` apart) or the T feature frames (input maps).
    Built by :func:`s2t_explain.explain_attention` (cross-attention only) or
    :func:`s2t_explain.explain` (plus saliency); :meth:`load` reads a stored one without torch.
    """

    transcript: Transcript
    maps: dict[str, Map]  # name -> map; ``attention`` (L, H, I, T') is always there
    frame_times: np.ndarray  # (T',) seconds
    n_frames: int  # T feature frames of speech
    model: str
    audio: str
    duration: float  # seconds of audio
    alignment_heads: HeadSet | None = None
    timings: dict[str, float] = field(default_factory=dict)
    features: np.ndarray | None = None  # (F, T)
    encoder_stride: int = 2  # feature frames per encoder frame (Whisper 2, Speech2Text 4)
    provenance: dict[str, Any] = field(default_factory=dict)  # device and dtype of the run that made the maps
    warnings: list[str] = field(default_factory=list)  # about the input, e.g. a truncated file (meta, when any)

    def __post_init__(self) -> None:
        if "attention" not in self.maps:
            raise ValueError("an Explanation needs its cross-attention map (maps['attention'])")

    # -- maps by name ------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Map:
        key = self._key(name)
        if key not in self.maps:
            shown = key if key == name else f"{key} ({name})"
            raise OptionError(f"this result has no {shown} map; it has: {', '.join(self.maps)}")
        return self.maps[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self.maps

    def _key(self, name: str) -> str:
        if name in self.maps:
            return name
        try:
            return _catalog().canonical(name)
        except OptionError:
            return name

    def get(self, name: str) -> Map | None:
        """The map ``name`` (aliases such as ``SM_H`` accepted), or None when the result lacks it."""
        return self[name] if name in self else None

    def map_over_frames(self, name: str, pooling: str = "max", heads: str | list | None = None) -> np.ndarray:
        """Map ``name`` over encoder frames, (I, T'): input maps pooled with ``pooling``, per-head maps
        averaged over ``heads`` (a head-set spec; None: all heads)."""
        m = self[name]
        chosen = None if heads is None or m.grain != "per-head" else self.heads(heads)
        return m.over_frames(self.encoder_stride, pooling, chosen)

    @property
    def cross_attention(self) -> np.ndarray:
        """(L, H, I, T'): the ``attention`` map's values."""
        return self.maps["attention"].values

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(L, H, I, T') of the cross-attention."""
        return tuple(self.cross_attention.shape)  # type: ignore[return-value]

    @property
    def seconds_per_frame(self) -> float:
        """Length of one encoder frame in seconds (Whisper 0.02, Speech2Text 0.04)."""
        return seconds_per_encoder_frame(self.encoder_stride)

    @property
    def saliency_options(self) -> dict[str, Any]:
        """The SPES options of the run (from its first SPES map), or {} without one."""
        for m in self.maps.values():
            if m.reliability is not None and "scorer" in m.options:
                return m.options
        return {}

    def heads(self, spec: str | list = "alignment") -> HeadSet:
        n_layers, n_heads = self.shape[:2]
        return resolve_heads(spec, n_layers, n_heads, self.alignment_heads)

    def text_rows(self, include_eos: bool = False) -> np.ndarray:
        """(I,) bool: the rows of text tokens, plus the end-of-text row if asked for (and present)."""
        return self.transcript.text_rows(include_eos)

    def aggregate(self, heads: str | list = "alignment", text_only: bool = True, name: str = "attention"
                  ) -> np.ndarray:
        """A per-head map (default: cross-attention) averaged over a head set: (I, T'), or only
        the text-token rows."""
        m = self[name]
        if m.grain != "per-head":
            raise OptionError(f"{name} is a {m.grain} map; only per-head maps aggregate over heads")
        agg = m.over_frames(self.encoder_stride, heads=self.heads(heads))
        return agg[self.text_rows()] if text_only else agg

    # -- the file ----------------------------------------------------------------------------
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
            "provenance": self.provenance,
            "maps": {name: {**m.meta(), "array": ARRAY_PREFIX + name} for name, m in self.maps.items()},
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
            "frame_times": self.frame_times,
        }
        if self.features is not None:
            arrays["features"] = np.asarray(self.features, dtype=np.float32)
        for name, m in self.maps.items():
            arrays[ARRAY_PREFIX + name] = m.values
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
        version = meta.get("format_version") if isinstance(meta, dict) else None
        if version not in READABLE_VERSIONS:
            readable = " or ".join(str(v) for v in READABLE_VERSIONS)
            raise ResultError(f"{path} has format version {version}; this version reads {readable}")
        try:
            return cls._from_stored(data, meta)
        except (KeyError, TypeError, ValueError) as e:
            raise ResultError(f"{path} is incomplete or damaged ({type(e).__name__}: {e})") from e

    @classmethod
    def _from_stored(cls, data: dict[str, np.ndarray], meta: dict[str, Any]) -> Explanation:
        transcript = Transcript.from_dict(meta["transcript"], [int(i) for i in data["token_ids"]], data["special"],
                                          data["logprobs"])
        heads = meta.get("alignment_heads")
        if meta["format_version"] == 1:
            maps, provenance = _from_v1(data, meta)
        else:
            maps = {name: Map.from_meta(data[m["array"]], m) for name, m in meta["maps"].items()}
            provenance = meta.get("provenance", {})
        return cls(
            transcript=transcript,
            maps=maps,
            frame_times=data["frame_times"],
            n_frames=meta["n_frames"],
            model=meta["model"],
            audio=meta["audio"],
            duration=meta["duration_s"],
            alignment_heads=[(int(l), int(h)) for l, h in heads] if heads else None,
            timings=meta.get("timings_s", {}),
            features=data.get("features"),
            encoder_stride=int(meta.get("encoder_stride", 2)),
            provenance=provenance,
            warnings=[str(w) for w in meta.get("warnings", [])],
        )

    # -- reports -----------------------------------------------------------------------------
    def reliability_report(self) -> str:
        """One line per sampled map: masks used and split-half reliability (noise warning when low)."""
        lines = []
        for name, m in self.maps.items():
            run = m.reliability
            if run is None:
                continue
            r, rp = run.get("reliability"), run.get("reliability_pooled")
            title = f"{m.label or name} ({name})"
            if r is None:
                lines.append(f"{title}: {run['n_masks']} masks (reliability not measured)")
                continue
            pooled = f", pooled to encoder frames {rp:.2f}" if rp is not None else ""
            # maps with a pooled reliability are compared pooled (the study's SM_X): judged by it
            judged = rp if rp is not None else r
            warn = "  (LOW: mostly noise; use more masks)" if not judged >= LOW_RELIABILITY else ""  # NaN is low too
            lines.append(f"{title}: {run['n_masks']} masks, split-half reliability {r:.2f}{pooled}{warn}")
        return "\n".join(lines + self.fidelity_notes())

    def fidelity_notes(self) -> list[str]:
        """One line per map whose setting misses the fidelity target of ``saliency.fidelity`` (not
        the paper's SM_X, or too few masks for it): why, with the measured fidelity and bias."""
        records = [(m.reliability or {}).get("fidelity") or {} for m in self.maps.values()]
        return [f"fidelity: {r['note']}" for r in records if r.get("note")]

    def reliability_note(self, name: str) -> str:
        """Short note for a figure: masks and reliability of map ``name`` ("" if it was not computed)."""
        m = self.get(name)
        run = None if m is None else m.reliability
        if run is None:
            return ""
        if run.get("reliability") is None:
            return f"{run['n_masks']} masks"
        low = " - LOW, mostly noise" if not run["reliability"] >= LOW_RELIABILITY else ""
        return f"{run['n_masks']} masks, reliability {run['reliability']:.2f}{low}"

    def plot(self, heads: str | list = "alignment", ax: Any = None) -> Any:
        """Heatmap of aggregated cross-attention (tokens x time); returns the matplotlib Axes."""
        from ..plots.heatmap import AttentionHeatmap

        return AttentionHeatmap.from_result(self, heads).plot(ax=ax)


V1_ARRAYS = {"cross_attention": ("attention", None), "input_saliency": ("spes-input", "input"),
             "encoder_saliency": ("spes-encoder", "encoder"), "token_saliency": ("spes-token", "tokens")}
V1_GRAINS = {4: "per-head", 3: "input", 2: "encoder"}  # format 1 stored a method's grain only in its array's rank


def _from_v1(data: dict[str, np.ndarray], meta: dict[str, Any]) -> tuple[dict[str, Map], dict[str, Any]]:
    """The maps of a format-1 file (fixed arrays plus ``method:NAME``) and its provenance."""
    catalog = _catalog()
    saliency = meta.get("saliency") or {}
    runs, options = saliency.get("maps") or {}, saliency.get("options") or {}
    units = SCORER_UNITS.get(options.get("scorer", ""), "")
    timings = meta.get("timings_s", {})
    maps: dict[str, Map] = {}
    for array, (name, run) in V1_ARRAYS.items():
        if array not in data:
            continue
        kind = catalog.KINDS[name]
        if run is None:  # cross-attention: one decoder pass
            maps[name] = Map(data[array], kind.grain, kind.units, Cost(timings.get("cross_attention", 0.0), 1),
                             label=kind.label)
        else:
            record = runs.get(run)
            maps[name] = Map(data[array], kind.grain, units, Cost(float((record or {}).get("seconds", 0.0))),
                             record, options, kind.label)
    costs, method_options = saliency.get("methods") or {}, saliency.get("method_options") or {}
    for key in (k for k in data if k.startswith("method:")):
        name = key.split(":", 1)[1]
        if name == "attention":  # the raw weights again: equal to ``cross_attention`` (the same teacher-forced pass)
            continue
        kind = catalog.KINDS.get(name)
        values = data[key]
        maps[name] = Map(values, V1_GRAINS[values.ndim], kind.units if kind else "", Cost.from_dict(costs.get(name)),
                         None, method_options, kind.label if kind else name)
    provenance = {k: saliency[k] for k in ("device", "dtype") if k in saliency}
    return maps, provenance
