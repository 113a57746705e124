"""Saliency figures: per-token SM_X over the spectrogram, and SM_H / pooled SM_X beside cross-attention.

Every figure prints the masks used and the split-half reliability, so noise is not mistaken for
an explanation. Figures are built with ``matplotlib.figure.Figure`` (no pyplot state).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..files import atomic_path
from ..normalization import normalize_rows
from ..timebase import FRAMES_PER_SECOND

if TYPE_CHECKING:
    from ..results.explanation import Explanation


def input_saliency_figure(result: Explanation, max_tokens: int = 12) -> Any:
    """One panel per text token: the spectrogram with that token's SM_X on top."""
    from matplotlib.figure import Figure

    if "spes-input" not in result or result.features is None:
        raise ValueError("this result has no input saliency")
    rows = np.flatnonzero(result.text_rows())[:max_tokens]
    maps = normalize_rows(result["spes-input"].values[rows], "minmax")  # (k, T, F)
    n = len(rows)
    cols = min(4, n)
    grid_rows = -(-n // cols)
    fig = Figure(figsize=(3.2 * cols, 2.4 * grid_rows + 0.6))
    seconds = result.features.shape[1] / FRAMES_PER_SECOND
    extent = (0.0, seconds, 0, result.features.shape[0])
    for j, row in enumerate(rows):
        ax = fig.add_subplot(grid_rows, cols, j + 1)
        ax.imshow(result.features, origin="lower", aspect="auto", cmap="gray", extent=extent)
        ax.imshow(maps[j].T, origin="lower", aspect="auto", cmap="inferno", alpha=0.6, extent=extent)
        ax.set_title(repr(result.transcript.labels[row])[1:-1], fontsize=9)
        ax.tick_params(labelsize=7)
        if j % cols == 0:
            ax.set_ylabel("mel bin", fontsize=8)
        if j >= n - cols:
            ax.set_xlabel("time (s)", fontsize=8)
    fig.suptitle(f"{result.model}: input saliency SM_X ({result.reliability_note('spes-input')})", fontsize=10)
    fig.tight_layout()
    return fig


def comparison_figure(result: Explanation, heads: str | list = "all") -> Any:
    """Tokens x time heatmaps side by side: cross-attention, pooled SM_X, SM_H (per-token z-scored)."""
    from matplotlib.figure import Figure

    keep = result.text_rows()
    panels = [(f"cross-attention ({heads if isinstance(heads, str) else 'custom'})", result.aggregate(heads), "")]
    if "spes-input" in result:
        panels.append(("input saliency SM_X, max-pooled", result.map_over_frames("spes-input", "max")[keep],
                       result.reliability_note("spes-input")))
    if "spes-encoder" in result:
        panels.append(("encoder saliency SM_H", result["spes-encoder"].values[keep],
                       result.reliability_note("spes-encoder")))
    labels = [repr(label)[1:-1] for label, k in zip(result.transcript.labels, keep) if k]
    fig = Figure(figsize=(4.2 * len(panels), max(2.8, 0.26 * len(labels) + 1.4)))
    step = result.seconds_per_frame
    for j, (title, values, note) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), j + 1)
        extent = (0.0, values.shape[1] * step, len(labels) - 0.5, -0.5)
        ax.imshow(normalize_rows(values), aspect="auto", cmap="magma", interpolation="nearest", extent=extent)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels if j == 0 else [], fontsize=8)
        ax.set_xlabel("time (s)", fontsize=8)
        ax.set_title(title + (f"\n{note}" if note else ""), fontsize=9)
    fig.suptitle(f"{result.model}: {result.transcript.text}", fontsize=10)
    fig.tight_layout()
    return fig


def save_figure(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path
