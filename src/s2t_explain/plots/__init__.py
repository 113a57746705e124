"""Plots (matplotlib is imported lazily, only when something is drawn)."""

from .heatmap import AttentionHeatmap

__all__ = ["AttentionHeatmap"]
