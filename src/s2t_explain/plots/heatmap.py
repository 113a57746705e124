"""Token x time heatmaps of cross-attention."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..files import atomic_path

if TYPE_CHECKING:
    from ..results.explanation import Explanation


@dataclass
class AttentionHeatmap:
    values: np.ndarray  # (I, T') rows = tokens
    labels: list[str]  # (I,)
    seconds_per_frame: float
    title: str = ""

    @classmethod
    def from_result(cls, result: Explanation, heads: str | list = "alignment") -> AttentionHeatmap:
        keep = result.text_rows()
        values = result.aggregate(heads, text_only=True)
        labels = [l for l, k in zip(result.transcript.labels, keep) if k]
        step = result.seconds_per_frame
        n_heads = len(result.heads(heads))
        title = f"{result.model}: cross-attention, {heads if isinstance(heads, str) else 'custom'} ({n_heads} heads)"
        return cls(values, labels, step, title)

    def plot(self, ax: Any = None) -> Any:
        """Draw on ``ax`` (a new pyplot figure if None); returns the Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=self.figsize())
        extent = (0.0, self.values.shape[1] * self.seconds_per_frame, len(self.labels) - 0.5, -0.5)
        image = ax.imshow(self.values, aspect="auto", cmap="magma", interpolation="nearest", extent=extent)
        ax.set_yticks(range(len(self.labels)))
        ax.set_yticklabels([repr(l)[1:-1] for l in self.labels], fontsize=8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("token")
        ax.set_title(self.title, fontsize=10)
        ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label="attention weight")
        return ax

    def figsize(self) -> tuple[float, float]:
        return (10.0, max(2.5, 0.28 * len(self.labels) + 1.2))

    def figure(self) -> Any:
        """A standalone matplotlib Figure (no pyplot state)."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=self.figsize())
        self.plot(ax=fig.add_subplot())
        fig.tight_layout()
        return fig

    def save(self, path: str | Path, dpi: int = 120) -> Path:
        """Write a PNG atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            self.figure().savefig(tmp, dpi=dpi, format="png")
        return path
