"""The data an explorer page embeds: an Explanation made small enough to inline, NumPy only.

Maps are shown, not recomputed, so they are stored for display:
- **downsampled** on the time axis to at most ``max_columns`` columns each (block means; the
  input map and the spectrogram also to at most ``max_bins`` mel bins), so a 30-s utterance is
  drawn at about the resolution a laptop screen shows (a 3-s clip keeps every frame);
- **quantized** to 8 bits per value, linearly between each row's own minimum and maximum (one
  row = one token's map, or the spectrogram), so every value is within (max - min) / 510 of the
  downsampled original;
- **deflated** (zlib) and base64-encoded; the page inflates them with the browser's own
  ``DecompressionStream`` (no library).
Correlations shown on the page are computed by the page from these display rows; the per-head
agreement grid comes from :func:`s2t_explain.metrics.agreement` at full resolution.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..alignment.timestamps import word_timestamps
from ..decoding.words import group_words
from ..errors import OptionError
from ..explainers.catalog import KINDS
from ..metrics.agreement import agreement
from ..results import Explanation

MAX_COLUMNS = 600  # (ours) time columns per map on the page
MAX_BINS = 40  # (ours) mel bins of the input map and the spectrogram on the page
FEATURE_SECONDS = 0.01  # Whisper feature hop: 10 ms


@dataclass(frozen=True)
class Packed:
    """A quantized array: values ~= lo + q * (hi - lo) / 255, per row (axis 0 after reshaping)."""

    shape: tuple[int, ...]
    lo: np.ndarray  # (rows,)
    hi: np.ndarray  # (rows,)
    data: bytes  # uint8, C order, deflated

    def to_json(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "lo": [float(x) for x in self.lo], "hi": [float(x) for x in self.hi],
                "data": base64.b64encode(self.data).decode("ascii")}

    def unpack(self) -> np.ndarray:
        """The dequantized array (what the page draws), float64 of ``shape``."""
        q = np.frombuffer(zlib.decompress(self.data), dtype=np.uint8).reshape(len(self.lo), -1).astype(np.float64)
        values = self.lo[:, None] + q * ((self.hi - self.lo)[:, None] / 255.0)
        return values.reshape(self.shape)


def pack(values: np.ndarray, rows: int) -> Packed:
    """Quantize ``values`` to 8 bits per value with one (lo, hi) per each of ``rows`` leading rows."""
    flat = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0).reshape(rows, -1)
    lo, hi = flat.min(axis=1), flat.max(axis=1)
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.rint((flat - lo[:, None]) / span[:, None] * 255.0).astype(np.uint8)
    return Packed(tuple(values.shape), lo, hi, zlib.compress(q.tobytes(), 9))


def downsample(values: np.ndarray, axis: int, limit: int) -> tuple[np.ndarray, int]:
    """Block means along ``axis`` so it has at most ``limit`` entries; returns (values, block size).
    The last block may be partial (its mean is over the entries it has)."""
    n = values.shape[axis]
    block = max(1, -(-n // limit))
    if block == 1:
        return values, 1
    m = -(-n // block)
    moved = np.moveaxis(values.astype(np.float64), axis, -1)
    padded = np.full((*moved.shape[:-1], m * block), np.nan)
    padded[..., :n] = moved
    with np.errstate(invalid="ignore"):
        out = np.nanmean(padded.reshape(*moved.shape[:-1], m, block), axis=-1)
    return np.moveaxis(out, -1, axis), block


@dataclass(frozen=True)
class PageOptions:
    """How an explorer page draws an explanation."""

    max_columns: int = MAX_COLUMNS
    max_bins: int = MAX_BINS
    pooling: str = "max"  # SM_X -> encoder frames for correlations (the paper's choice)

    def __post_init__(self) -> None:
        if self.max_columns < 8 or self.max_bins < 4:
            raise OptionError(f"max_columns must be >= 8 and max_bins >= 4, got {self.max_columns}, {self.max_bins}")


def utterance_data(result: Explanation, options: PageOptions = PageOptions()) -> dict[str, Any]:
    """Everything one utterance page shows, as JSON-ready values (no audio: see ``page.audio_uri``).

    Rows are the transcript's text tokens (prompt and end-of-text left out); ``notes`` says what is
    missing (no saliency, only one map, one token) so the page can say it instead of breaking.
    """
    rows = np.flatnonzero(result.text_rows())  # (n,) rows of the shown tokens
    labels = [result.transcript.labels[i] for i in rows]
    n_layers, n_heads, _, n_enc = result.shape
    notes: list[str] = []
    if len(rows) == 0:
        notes.append("The transcript has no text tokens: there is nothing to explain.")
    data: dict[str, Any] = {
        "kind": "utterance",
        "meta": _meta(result),
        "tokens": [{"text": t, "row": int(i), "prob": float(np.exp(result.transcript.logprobs[i]))}
                   for t, i in zip(labels, rows)],
        "time": {"duration": result.duration, "encoder_seconds": result.seconds_per_frame,
                 "n_encoder_frames": int(n_enc), "n_frames": int(result.n_frames),
                 "feature_seconds": FEATURE_SECONDS},
        "layers": int(n_layers), "heads": int(n_heads),
        "alignment_heads": [list(map(int, h)) for h in (result.alignment_heads or [])],
        "maps": {}, "agreement": {}, "words": {}, "notes": notes,
    }
    if len(rows) == 0:
        return data
    # every map over time on the shown rows and encoder frames, (n, T'), computed once for the page
    frames = {name: result.map_over_frames(name, options.pooling)[rows] for name, m in result.maps.items()
              if m.over_time}
    data["maps"] = {**_fixed_maps(result, rows, frames, options), **_chosen_maps(result, rows, frames, options)}
    data["map_list"] = [_describe(result, name) for name in result.maps]
    notes.extend(_notes(result, rows))
    for key, name in (("encoder", "spes-encoder"), ("input", "spes-input")):
        if name in frames:
            a = agreement(result.cross_attention[:, :, rows], frames[name], result.alignment_heads)
            data["agreement"][key] = [[_finite(v) for v in line] for line in a["head"]]
    data["words"] = _words(result, labels)
    return data


def _fixed_maps(result: Explanation, rows: np.ndarray, frames: dict[str, np.ndarray],
                options: PageOptions) -> dict[str, Any]:
    """The page's fixed panels: cross-attention per head, the spectrogram, SM_X (and pooled), SM_H."""
    n_layers, n_heads = result.shape[:2]
    maps: dict[str, Any] = {}
    ca, block = downsample(result.cross_attention[:, :, rows], 3, options.max_columns)  # (L, H, n, T')
    maps["attention"] = {**pack(ca, n_layers * n_heads * len(rows)).to_json(), "block": block,
                         "units": "attention weight", "label": "cross-attention"}
    if result.features is not None:
        spec, tb = downsample(result.features.T, 0, options.max_columns)  # (T, F)
        spec, fb = downsample(spec, 1, options.max_bins)
        maps["spectrogram"] = {**pack(spec[None], 1).to_json(), "block": tb, "bin_block": fb,
                               "units": "log-mel (Whisper scale)", "label": "spectrogram"}
    if "spes-input" in result:
        m = result["spes-input"]
        x, tb = downsample(m.values[rows], 1, options.max_columns)
        x, fb = downsample(x, 2, options.max_bins)
        maps["input"] = {**pack(x, len(rows)).to_json(), "block": tb, "bin_block": fb, "units": m.units,
                         "label": "SM_X (input saliency)", **_run_info(result, "spes-input")}
        p, pb = downsample(frames["spes-input"], 1, options.max_columns)
        maps["input_pooled"] = {**pack(p, len(rows)).to_json(), "block": pb, "units": m.units,
                                "label": f"SM_X pooled ({options.pooling}) to encoder frames"}
    if "spes-encoder" in result:
        m = result["spes-encoder"]
        h, hb = downsample(m.values[rows], 1, options.max_columns)
        maps["encoder"] = {**pack(h, len(rows)).to_json(), "block": hb, "units": m.units,
                           "label": "SM_H (encoder-output saliency)", **_run_info(result, "spes-encoder")}
    return maps


def _chosen_maps(result: Explanation, rows: np.ndarray, frames: dict[str, np.ndarray],
                 options: PageOptions) -> dict[str, Any]:
    """``map:NAME`` for every map the result holds, for the map selector: maps over time brought to
    encoder frames (per-head maps averaged over all heads, input maps pooled), (n, T'_d); token
    maps (n, I) as they are."""
    out: dict[str, Any] = {}
    for name, m in result.maps.items():
        if name in frames:
            values, block = downsample(frames[name], 1, options.max_columns)
        else:
            values, block = m.values[rows], 1
        out[f"map:{name}"] = {**pack(values, len(rows)).to_json(), "block": block, "units": m.units,
                              "label": m.label or name, "grain": m.grain, **_run_info(result, name)}
    return out


def _describe(result: Explanation, name: str) -> dict[str, Any]:
    m = result[name]
    kind = KINDS.get(name)
    return {"name": name, "label": m.label or name, "grain": m.grain, "units": m.units,
            "family": kind.family if kind else "method", "seconds": round(m.cost.seconds, 3)}


def _notes(result: Explanation, rows: np.ndarray) -> list[str]:
    has_x, has_h = "spes-input" in result, "spes-encoder" in result
    notes = []
    if not has_x and not has_h:
        notes.append("This result has cross-attention only (no saliency maps): run explain to compare.")
    elif not has_x:
        notes.append("This result has no input saliency (SM_X): only SM_H is compared.")
    elif not has_h:
        notes.append("This result has no encoder-output saliency (SM_H): only SM_X is compared.")
    if len(rows) == 1:
        notes.append("One token: correlations over tokens are over this token's row alone.")
    notes.extend(result.fidelity_notes())  # a setting below the fidelity target to the paper's map says so
    return notes


def _words(result: Explanation, labels: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Word timestamps from every map over time the result holds, by map name; each word lists its
    tokens (indices into the shown tokens), as ``word_timestamps`` groups them."""
    spans = group_words(labels, language=result.transcript.language)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, m in result.maps.items():
        if not m.over_time:
            continue
        try:
            words = word_timestamps(result, name)
        except (OptionError, ValueError):
            continue  # e.g. no alignment heads in a model that has none: the page shows fewer rows
        if len(words) == len(spans):
            out[name] = [{**w.to_dict(), "tokens": list(span.tokens)} for w, span in zip(words, spans)]
    return out


def _run_info(result: Explanation, name: str) -> dict[str, Any]:
    run = result[name].reliability or {}
    return {"reliability": run.get("reliability"), "masks": run.get("n_masks"), "curve": run.get("curve", [])}


def _meta(result: Explanation) -> dict[str, Any]:
    t = result.transcript
    options = result.saliency_options
    return {"model": result.model, "audio": result.audio, "duration": round(result.duration, 3),
            "task": t.task, "language": t.language, "text": t.text,
            "timings": {k: round(v, 2) for k, v in result.timings.items()},
            "scorer": options.get("scorer"), "estimator": options.get("estimator"), "seed": options.get("seed"),
            "device": result.provenance.get("device"), "options": options or None}


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None
