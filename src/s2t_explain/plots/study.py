"""Study figures: correlation per layer, layer x head heatmaps, deletion/insertion curves, examples."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from .saliency import comparison_figure, save_figure

if TYPE_CHECKING:
    from ..study.record import UtteranceRecord

COLORS = {"CA": "tab:blue", "SMX-pooled": "tab:orange", "SMX": "tab:red", "SMH": "tab:green", "random": "tab:gray"}
PAIR_LABELS = {"CA-SMX": "CA vs pooled SM_X", "CA-SMH": "CA vs SM_H"}


def layer_figure(agreement: list[dict[str, Any]], n_utt: int) -> Figure:
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for pair, color in (("CA-SMX", "tab:orange"), ("CA-SMH", "tab:green")):
        rows = [r for r in agreement if r["pair"] == pair and r["statistic"] == "pearson"
                and str(r["granularity"]).startswith("layer ")]
        if not rows:
            continue
        x = np.arange(len(rows))
        mean = np.array([r["mean"] for r in rows])
        ax.plot(x, mean, "o-", color=color, label=PAIR_LABELS[pair])
        ax.fill_between(x, [r["ci_low"] for r in rows], [r["ci_high"] for r in rows], color=color, alpha=0.2)
        for gran, style in (("all", "--"), ("alignment", ":")):
            value = next((r["mean"] for r in agreement if r["pair"] == pair and r["statistic"] == "pearson"
                          and r["granularity"] == gran), None)
            if value is not None and np.isfinite(value):
                ax.axhline(value, color=color, linestyle=style, linewidth=1,
                           label=f"{PAIR_LABELS[pair]}, {'all heads' if gran == 'all' else 'alignment heads'}")
        ax.set_xticks(x)
    ax.set_xlabel("decoder layer (heads averaged)")
    ax.set_ylabel("Pearson r")
    ax.set_title(f"Cross-attention vs saliency per layer ({n_utt} utterances, 95% CI)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def head_figure(heads: list[dict[str, Any]]) -> Figure:
    pairs = [p for p in ("CA-SMX", "CA-SMH") if any(r["pair"] == p for r in heads)]
    fig = Figure(figsize=(4.2 * len(pairs), 3.4), layout="constrained")
    for k, pair in enumerate(pairs):
        rows = [r for r in heads if r["pair"] == pair and r["statistic"] == "pearson"]
        n_l, n_h = max(r["layer"] for r in rows) + 1, max(r["head"] for r in rows) + 1
        grid = np.full((n_l, n_h), np.nan)
        for r in rows:
            grid[r["layer"], r["head"]] = r["mean"]
        ax = fig.add_subplot(1, len(pairs), k + 1)
        im = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
        ax.set_xlabel("head")
        ax.set_ylabel("layer")
        ax.set_title(PAIR_LABELS[pair] + " (Pearson r)", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.9)
    return fig


def curves_figure(faithfulness: list[dict[str, Any]], steps: list[float]) -> Figure | None:
    groups = sorted({(r["scoring"], r["metric"]) for r in faithfulness})
    if not groups:
        return None
    fig = Figure(figsize=(8, 3.2 * len(groups)), layout="constrained")
    for g, (how, metric) in enumerate(groups):
        for m, mode in enumerate(("deletion", "insertion")):
            ax = fig.add_subplot(len(groups), 2, 2 * g + m + 1)
            for r in faithfulness:
                if (r["scoring"], r["metric"], r["curve"]) != (how, metric, mode):
                    continue
                ax.plot(steps, r["mean_curve"], color=COLORS.get(r["explanation"]),
                        linestyle="--" if r["explanation"] == "random" else "-",
                        label=f"{r['explanation']} (AUC {r['mean']:.1f})")
            ax.set_xlabel(f"% of input elements {'occluded' if mode == 'deletion' else 'kept'}")
            ax.set_ylabel(metric)
            ax.set_title(f"{mode} ({how})", fontsize=9)
            ax.legend(fontsize=7)
    return fig


def study_figures(run: Path, records: list[UtteranceRecord], tables: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """Write the run's figures into ``run/figures``; returns their paths."""
    out = run / "figures"
    paths = [save_figure(layer_figure(tables["agreement"], len(records)), out / "correlation_per_layer.png"),
             save_figure(head_figure(tables["layer_head"]), out / "layer_head_correlation.png")]
    steps = next((f["steps"] for r in records for f in r.get("faithfulness", {}).values()), None)
    if steps is not None:
        fig = curves_figure(tables["faithfulness"], steps)
        if fig is not None:
            paths.append(save_figure(fig, out / "deletion_insertion.png"))
    example = run / "results" / f"{records[0]['id']}.npz"
    if example.exists():
        from ..results.explanation import Explanation

        paths.append(save_figure(comparison_figure(Explanation.load(example)), out / f"example_{records[0]['id']}.png"))
    return paths
