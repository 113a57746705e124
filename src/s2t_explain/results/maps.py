"""One explanation map: its values, its grain, its units and how it was made (no torch needed).

Every explanation method (``s2t_explain.explainers``: cross-attention, SPES, gradients...)
returns a :class:`Map`; an :class:`~s2t_explain.results.Explanation` holds them by name. The
grain says what the axes are (rows are always the transcript's I predicted tokens):

- ``input``    (I, T, F): over the T speech feature frames and F mel bins (SM_X, gradient x input);
- ``encoder``  (I, T'): over the T' speech encoder frames (SM_H, encoder gradients);
- ``per-head`` (L, H, I, T'): one (I, T') map per decoder layer and cross-attention head;
- ``token``    (I, I): over the decoder's input tokens (row i: predicted token i, column j: input
  token ids[j]; lower-triangular, the decoder is causal).

Everything downstream (comparisons, timestamps, head ranking, the explorer) reads maps through
their grain: :meth:`Map.over_frames` brings any frame-grained map to (I, T').
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..attention.heads import HeadSet, aggregate
from ..errors import OptionError
from ..pooling import pool

GRAINS: dict[str, tuple[str, ...]] = {
    "input": ("I", "T", "F"),
    "encoder": ("I", "T'"),
    "per-head": ("L", "H", "I", "T'"),
    "token": ("I", "I"),
}
FRAME_GRAINS = ("input", "encoder", "per-head")  # grains that :meth:`Map.over_frames` brings to (I, T')


@dataclass(frozen=True)
class Cost:
    """What making a map spent: wall time and model passes (one batched call counts once)."""

    seconds: float = 0.0
    forward: int = 0
    backward: int = 0

    def to_dict(self) -> dict[str, float]:
        return {"seconds": round(self.seconds, 3), "forward": self.forward, "backward": self.backward}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Cost:
        d = d or {}
        return cls(float(d.get("seconds", 0.0)), int(d.get("forward", 0)), int(d.get("backward", 0)))


@dataclass(frozen=True, eq=False)  # arrays do not compare with ==
class Map:
    """One explanation of the transcript's tokens.

    ``values`` is float32 with the axes of ``GRAINS[grain]``; ``units`` names what a value is
    (``KL nats``, ``attention weight``, ``|log-prob gradient x input|``...); ``cost`` what it took;
    ``reliability`` the convergence record of sampled maps (SPES: ``n_masks``, ``reliability``,
    ``reliability_pooled``, ``curve``...; None for deterministic methods); ``options`` the settings
    that made it; ``label`` the display name (the paper's ``SM_X``, ``SM_H``...).
    """

    values: np.ndarray
    grain: str
    units: str = ""
    cost: Cost = field(default_factory=Cost)
    reliability: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise ValueError(f"unknown map grain {self.grain!r}; one of {', '.join(GRAINS)}")
        values = np.asarray(self.values)
        if values.ndim != len(GRAINS[self.grain]):
            axes = ", ".join(GRAINS[self.grain])
            raise ValueError(f"a {self.grain} map has axes ({axes}); got shape {values.shape}")
        if values.dtype != np.float32:
            values = values.astype(np.float32)
        object.__setattr__(self, "values", values)

    @property
    def n_tokens(self) -> int:
        return int(self.values.shape[-2] if self.grain == "per-head" else self.values.shape[0])

    @property
    def over_time(self) -> bool:
        """Whether the map has a time axis (every grain but ``token``)."""
        return self.grain in FRAME_GRAINS

    def over_frames(self, encoder_stride: int, pooling: str = "max", heads: HeadSet | None = None) -> np.ndarray:
        """(I, T') over encoder frames: input maps pooled (``pooling``: a ``POOLING`` name) by
        ``encoder_stride`` feature frames, per-head maps averaged over ``heads`` (None: all)."""
        if self.grain == "encoder":
            return self.values
        if self.grain == "input":
            return pool(self.values, encoder_stride, pooling)
        if self.grain == "per-head":
            return self.values.mean(axis=(0, 1)) if heads is None else aggregate(self.values, heads)
        raise OptionError(f"the {self.label or 'token'} map is over tokens, not time; it has no frames")

    def take_rows(self, rows: np.ndarray) -> Map:
        """The same map for some of its tokens (``rows``: indices or a boolean mask over the I rows)."""
        values = self.values[:, :, rows] if self.grain == "per-head" else self.values[rows]
        return replace(self, values=values)

    def meta(self) -> dict[str, Any]:
        """The JSON record of the map (everything but its values)."""
        return {"grain": self.grain, "units": self.units, "label": self.label, "shape": list(self.values.shape),
                "cost": self.cost.to_dict(), "reliability": self.reliability, "options": self.options}

    @classmethod
    def from_meta(cls, values: np.ndarray, meta: dict[str, Any]) -> Map:
        return cls(values, meta["grain"], meta.get("units", ""), Cost.from_dict(meta.get("cost")),
                   meta.get("reliability"), meta.get("options") or {}, meta.get("label", ""))
