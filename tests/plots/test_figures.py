"""Content of the figures: panels, titles, tick labels, image data, time axes, colour bars, lines.

Fast: every input is a small hand-made ``Explanation`` (or study table) built in code, so each
expected value is known; no model is loaded. Figures are ``matplotlib.figure.Figure`` objects
(no pyplot state) and are inspected without being drawn, except the one PNG written at the end.
"""

from __future__ import annotations

import numpy as np
import pytest

from s2t_explain.decoding.transcript import Transcript
from s2t_explain.explainers.catalog import new_map
from s2t_explain.plots.heatmap import AttentionHeatmap
from s2t_explain.plots.saliency import comparison_figure, input_saliency_figure, save_figure
from s2t_explain.plots.study import curves_figure, head_figure, layer_figure
from s2t_explain.results.explanation import Explanation

MODEL = "whisper-test.en"
# Predicted tokens ids[1:]: one prompt token, three text tokens, end-of-text.
LABELS = ["<|notimestamps|>", " Hello", " world", "!", "<|endoftext|>"]
SPECIAL = np.array([True, False, False, False, True])
TEXT_LABELS = [" Hello", " world", "!"]
TEXT_ROWS = np.flatnonzero(~SPECIAL)
N_MELS = 6
MAPS = {"input": {"n_masks": 64, "reliability": 0.31}, "encoder": {"n_masks": 128, "reliability": 0.82}}


def make_transcript() -> Transcript:
    return Transcript(
        ids=[50257, 50362, 15496, 995, 0, 50256],
        labels=list(LABELS),
        special=SPECIAL.copy(),
        logprobs=np.array([-0.01, -0.5, -0.7, -0.2, -0.05]),
        text="Hello world!",
        task="transcribe",
        language="en",
        prompt_length=2,
        source="decoded",
    )


def planted_maps(rng, n_tok, n_frames, n_enc, saliency, runs):
    """Cross-attention, and SM_X and SM_H with their convergence records (``runs`` by input/encoder)."""
    runs = runs or {}
    maps = {"attention": new_map("attention", rng.random((2, 3, n_tok, n_enc)))}
    if saliency:
        maps["spes-input"] = new_map("SM_X", rng.random((n_tok, n_frames, N_MELS)), reliability=runs.get("input"))
        maps["spes-encoder"] = new_map("SM_H", rng.standard_normal((n_tok, n_enc)), reliability=runs.get("encoder"))
    return maps


def make_result(
    n_frames: int = 8,
    stride: int = 2,
    saliency: bool = True,
    maps: dict | None = MAPS,
    seed: int = 0,
) -> Explanation:
    """A result with distinct random values everywhere: L=2 layers, H=3 heads, I=5 tokens."""
    rng = np.random.default_rng(seed)
    n_enc = -(-n_frames // stride)
    n_tok = len(LABELS)
    return Explanation(
        transcript=make_transcript(),
        maps=planted_maps(rng, n_tok, n_frames, n_enc, saliency, maps),
        frame_times=np.arange(n_enc) * stride / 100,
        n_frames=n_frames,
        model=MODEL,
        audio="hand-made.wav",
        duration=n_frames / 100,
        alignment_heads=[(1, 0), (1, 2)],
        features=rng.standard_normal((N_MELS, n_frames)).astype(np.float32) if saliency else None,
        encoder_stride=stride,
    )


# --- expected values, computed here independently of the package --------------------------------


def zscore(rows: np.ndarray) -> np.ndarray:
    """Per row: mean 0, standard deviation 1 (a constant row becomes 0)."""
    rows = rows.astype(np.float64)
    sd = rows.std(1, keepdims=True)
    return np.divide(rows - rows.mean(1, keepdims=True), sd, out=np.zeros_like(rows), where=sd > 0)


def minmax(values: np.ndarray) -> np.ndarray:
    """Scaled to [0, 1] over the whole array (one token's map)."""
    values = values.astype(np.float64)
    return (values - values.min()) / (values.max() - values.min())


def max_pooled(sm_x: np.ndarray, stride: int) -> np.ndarray:
    """(I, T, F) -> (I, ceil(T / stride)): max over each window of ``stride`` frames x all bins."""
    n_enc = -(-sm_x.shape[1] // stride)
    return np.stack([sm_x[:, j * stride : (j + 1) * stride].max(axis=(1, 2)) for j in range(n_enc)], axis=1)


def mean_heads(result: Explanation, heads: list[tuple[int, int]]) -> np.ndarray:
    return np.mean([result.cross_attention[l, h] for l, h in heads], axis=0)[TEXT_ROWS]


def ytick_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def image_axes(fig) -> list:
    """The axes holding a plot (colour-bar axes left out), in the order they were added."""
    colorbar_axes = {im.colorbar.ax for ax in fig.axes for im in ax.get_images() if im.colorbar is not None}
    return [ax for ax in fig.axes if ax not in colorbar_axes]


def assert_time_extent(image, n_encoder_frames: int, seconds_per_frame: float, n_rows: int) -> None:
    left, right, bottom, top = image.get_extent()
    assert left == 0.0
    assert right == pytest.approx(n_encoder_frames * seconds_per_frame)
    assert (bottom, top) == (n_rows - 0.5, -0.5)  # one row per text token, first token at the top


# --- AttentionHeatmap ---------------------------------------------------------------------------


def test_heatmap_from_result_alignment_heads():
    result = make_result()
    heatmap = AttentionHeatmap.from_result(result, "alignment")
    expected = mean_heads(result, [(1, 0), (1, 2)])
    np.testing.assert_allclose(heatmap.values, expected, rtol=1e-6)
    assert heatmap.labels == TEXT_LABELS
    assert heatmap.seconds_per_frame == pytest.approx(0.02)
    assert heatmap.title == f"{MODEL}: cross-attention, alignment (2 heads)"

    fig = heatmap.figure()
    [ax] = image_axes(fig)
    [image] = ax.get_images()
    np.testing.assert_allclose(image.get_array(), expected, rtol=1e-6)  # raw weights, not normalised
    assert_time_extent(image, n_encoder_frames=4, seconds_per_frame=0.02, n_rows=3)
    assert ytick_texts(ax) == TEXT_LABELS
    assert ax.get_title() == heatmap.title
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (s)", "token")
    assert image.colorbar is not None and image.colorbar.ax in fig.axes
    assert image.colorbar.ax.get_ylabel() == "attention weight"
    assert len(fig.axes) == 2  # the heatmap and its colour bar


def test_heatmap_custom_head_list():
    result = make_result()
    heatmap = AttentionHeatmap.from_result(result, [[0, 1], [1, 1], [0, 2]])
    np.testing.assert_allclose(heatmap.values, mean_heads(result, [(0, 1), (1, 1), (0, 2)]), rtol=1e-6)
    assert heatmap.title == f"{MODEL}: cross-attention, custom (3 heads)"
    [image] = image_axes(heatmap.figure())[0].get_images()
    np.testing.assert_allclose(image.get_array(), heatmap.values)


def test_heatmap_stride_4_time_axis():
    """Speech2Text-like encoder: 4 feature frames (40 ms) per encoder frame; 14 frames -> 4."""
    result = make_result(n_frames=14, stride=4)
    heatmap = AttentionHeatmap.from_result(result, "all")
    assert heatmap.seconds_per_frame == pytest.approx(0.04)
    [image] = image_axes(heatmap.figure())[0].get_images()
    assert_time_extent(image, n_encoder_frames=4, seconds_per_frame=0.04, n_rows=3)


def test_heatmap_stride_4_single_encoder_frame():
    """One encoder frame leaves no frame_times step to measure: the step must come from the stride."""
    result = make_result(n_frames=3, stride=4)
    assert result.cross_attention.shape[-1] == 1
    heatmap = AttentionHeatmap.from_result(result, "all")
    [image] = image_axes(heatmap.figure())[0].get_images()
    assert_time_extent(image, n_encoder_frames=1, seconds_per_frame=0.04, n_rows=3)


# --- comparison_figure --------------------------------------------------------------------------


@pytest.mark.parametrize("n_frames, stride", [(8, 2), (7, 2), (14, 4), (3, 4)])
def test_comparison_panels_data_and_time_axis(n_frames, stride):
    result = make_result(n_frames=n_frames, stride=stride)
    n_enc = -(-n_frames // stride)
    fig = comparison_figure(result, heads="all")
    axes = image_axes(fig)
    assert len(axes) == 3
    expected = [
        zscore(mean_heads(result, [(l, h) for l in range(2) for h in range(3)])),
        zscore(max_pooled(result["spes-input"].values[TEXT_ROWS], stride)),
        zscore(result["spes-encoder"].values[TEXT_ROWS]),
    ]
    for ax, values in zip(axes, expected):
        [image] = ax.get_images()
        np.testing.assert_allclose(image.get_array(), values, rtol=1e-5, atol=1e-6)
        assert_time_extent(image, n_encoder_frames=n_enc, seconds_per_frame=stride / 100, n_rows=3)
        assert ax.get_xlabel() == "time (s)"
    # token labels on the first panel only (the rows are shared)
    assert ytick_texts(axes[0]) == TEXT_LABELS
    assert all(t == "" for ax in axes[1:] for t in ytick_texts(ax))


def test_comparison_titles_carry_masks_and_reliability():
    fig = comparison_figure(make_result(), heads="alignment")
    ca, smx, smh = (ax.get_title() for ax in image_axes(fig))
    assert ca == "cross-attention (alignment)"
    assert smx.startswith("input saliency SM_X, max-pooled\n")
    assert "64 masks" in smx and "reliability 0.31" in smx and "LOW" in smx  # 0.31 < 0.5: noise warning
    assert smh.startswith("encoder saliency SM_H\n")
    assert "128 masks" in smh and "reliability 0.82" in smh and "LOW" not in smh
    assert fig._suptitle is not None
    assert fig._suptitle.get_text() == f"{MODEL}: Hello world!"


def test_comparison_alignment_heads_data():
    result = make_result()
    fig = comparison_figure(result, heads="alignment")
    [image] = image_axes(fig)[0].get_images()
    np.testing.assert_allclose(image.get_array(), zscore(mean_heads(result, [(1, 0), (1, 2)])), rtol=1e-5, atol=1e-6)


def test_comparison_without_saliency_is_attention_only():
    fig = comparison_figure(make_result(saliency=False, maps=None), heads=[[0, 0]])
    [ax] = image_axes(fig)
    assert ax.get_title() == "cross-attention (custom)"
    assert ytick_texts(ax) == TEXT_LABELS


def test_comparison_unmeasured_reliability_names_masks_only():
    maps = {"input": {"n_masks": 32, "reliability": None}}
    fig = comparison_figure(make_result(maps=maps))
    _, smx, smh = (ax.get_title() for ax in image_axes(fig))
    assert smx == "input saliency SM_X, max-pooled\n32 masks"
    assert smh == "encoder saliency SM_H"  # no record of this map: no note


# --- input_saliency_figure ----------------------------------------------------------------------


@pytest.mark.parametrize("n_frames, stride", [(8, 2), (14, 4)])
def test_input_saliency_panels(n_frames, stride):
    result = make_result(n_frames=n_frames, stride=stride)
    fig = input_saliency_figure(result)
    axes = fig.axes
    assert len(axes) == 3  # one panel per text token, special tokens left out
    assert [ax.get_title() for ax in axes] == TEXT_LABELS
    for ax, row in zip(axes, TEXT_ROWS):
        spectrogram, overlay = ax.get_images()
        np.testing.assert_allclose(spectrogram.get_array(), result.features)
        expected = minmax(result["spes-input"].values[row]).T
        np.testing.assert_allclose(overlay.get_array(), expected, rtol=1e-6, atol=1e-7)
        for image in (spectrogram, overlay):
            # feature frames: 10 ms each, whatever the encoder stride
            assert image.get_extent() == pytest.approx([0.0, n_frames / 100, 0, N_MELS])
    assert axes[0].get_ylabel() == "mel bin"
    assert all(ax.get_xlabel() == "time (s)" for ax in axes)
    title = fig._suptitle.get_text()
    assert title.startswith(f"{MODEL}: input saliency SM_X (")
    assert "64 masks" in title and "reliability 0.31" in title and "LOW" in title


def test_input_saliency_max_tokens_and_reliable_note():
    result = make_result()
    fig = input_saliency_figure(result, max_tokens=2)
    assert [ax.get_title() for ax in fig.axes] == TEXT_LABELS[:2]
    maps = {"input": {"n_masks": 500, "reliability": 0.93}}
    title = input_saliency_figure(make_result(maps=maps))._suptitle.get_text()
    assert "500 masks, reliability 0.93" in title and "LOW" not in title


def test_input_saliency_needs_saliency():
    with pytest.raises(ValueError, match="no input saliency"):
        input_saliency_figure(make_result(saliency=False))


# --- study figures ------------------------------------------------------------------------------

LAYER_MEANS = {"CA-SMX": [0.12, 0.25, 0.41, 0.38], "CA-SMH": [0.30, 0.44, 0.52, 0.61]}
WHOLE = {("CA-SMX", "all"): 0.47, ("CA-SMX", "alignment"): 0.50, ("CA-SMH", "all"): 0.66,
         ("CA-SMH", "alignment"): float("nan")}


def agreement_rows() -> list[dict]:
    """Rows as ``study.report.agreement_table`` writes them, with distractors the figure must skip."""
    rows = []
    for pair, means in LAYER_MEANS.items():
        for stat, shift in (("pearson", 0.0), ("spearman", 0.3)):
            for gran in ("best-head", "head-mean", "layer-mean", "all", "alignment"):
                mean = WHOLE.get((pair, gran), 0.9) + shift
                rows.append({"pair": pair, "statistic": stat, "granularity": gran, "mean": mean,
                             "ci_low": mean - 0.1, "ci_high": mean + 0.1, "n": 5})
            for layer, mean in enumerate(means):
                rows.append({"pair": pair, "statistic": stat, "granularity": f"layer {layer}", "mean": mean + shift,
                             "ci_low": mean + shift - 0.05 - 0.01 * layer, "ci_high": mean + shift + 0.07, "n": 5})
    rows.append({"pair": "SMX-SMH", "statistic": "pearson", "granularity": "-", "mean": 0.2,
                 "ci_low": 0.1, "ci_high": 0.3, "n": 5})
    return rows


def test_layer_figure_plots_table_means():
    fig = layer_figure(agreement_rows(), n_utt=5)
    [ax] = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    for pair, label in (("CA-SMX", "CA vs pooled SM_X"), ("CA-SMH", "CA vs SM_H")):
        np.testing.assert_allclose(lines[label].get_ydata(), LAYER_MEANS[pair])
        np.testing.assert_array_equal(lines[label].get_xdata(), np.arange(4))
    # whole-model values as horizontal lines; a NaN value draws no line
    np.testing.assert_allclose(lines["CA vs pooled SM_X, all heads"].get_ydata(), [0.47, 0.47])
    np.testing.assert_allclose(lines["CA vs pooled SM_X, alignment heads"].get_ydata(), [0.50, 0.50])
    np.testing.assert_allclose(lines["CA vs SM_H, all heads"].get_ydata(), [0.66, 0.66])
    assert "CA vs SM_H, alignment heads" not in lines
    assert len(lines) == 5
    # the confidence bands: one per pair, spanning the table's ci_low .. ci_high
    bands = ax.collections
    assert len(bands) == 2
    for band, pair in zip(bands, LAYER_MEANS):
        rows = [r for r in agreement_rows() if r["pair"] == pair and r["statistic"] == "pearson"
                and r["granularity"].startswith("layer ")]
        y = band.get_paths()[0].vertices[:, 1]
        assert y.min() == pytest.approx(min(r["ci_low"] for r in rows))
        assert y.max() == pytest.approx(max(r["ci_high"] for r in rows))
    assert "5 utterances" in ax.get_title()
    assert ax.get_ylabel() == "Pearson r"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "CA vs pooled SM_X" and "CA vs SM_H" in legend


def head_rows() -> tuple[list[dict], dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    rows: list[dict] = []
    grids: dict[str, np.ndarray] = {}
    for pair in ("CA-SMX", "CA-SMH"):
        grids[pair] = rng.uniform(-1, 1, (4, 6))
        for stat, shift in (("pearson", 0.0), ("spearman", 5.0)):
            for layer in range(4):
                for head in range(6):
                    rows.append({"pair": pair, "statistic": stat, "layer": layer, "head": head,
                                 "mean": float(grids[pair][layer, head] + shift)})
    return rows, grids


def test_head_figure_grid_equals_table():
    rows, grids = head_rows()
    fig = head_figure(rows)
    axes = image_axes(fig)
    assert len(axes) == 2
    assert len(fig.axes) == 4  # each grid with its colour bar
    for ax, (pair, title) in zip(axes, (("CA-SMX", "CA vs pooled SM_X"), ("CA-SMH", "CA vs SM_H"))):
        [image] = ax.get_images()
        np.testing.assert_allclose(image.get_array(), grids[pair])  # (layer, head), Pearson rows only
        assert image.origin == "lower"  # layer 0 at the bottom
        assert ax.get_title() == f"{title} (Pearson r)"
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("head", "layer")
        assert image.colorbar is not None and image.colorbar.ax in fig.axes


def test_head_figure_one_pair_and_missing_cells():
    rows, grids = head_rows()
    rows = [r for r in rows if r["pair"] == "CA-SMH" and not (r["layer"] == 2 and r["head"] == 5)]
    [ax] = image_axes(head_figure(rows))
    data = ax.get_images()[0].get_array()
    expected = grids["CA-SMH"].copy()
    expected[2, 5] = np.nan
    np.testing.assert_allclose(np.ma.filled(data.astype(float), np.nan), expected)


STEPS = [0.0, 10.0, 20.0, 50.0, 100.0]


def faithfulness_rows() -> list[dict]:
    """Rows as ``study.report.faithfulness_table`` writes them: two (scoring, metric) groups."""
    rows = []
    rng = np.random.default_rng(4)
    for how, metric in (("forced", "logprob"), ("free", "wer")):
        for mode in ("deletion", "insertion"):
            for name in ("CA", "SMX", "SMH", "random"):
                curve = [round(float(v), 4) for v in np.sort(rng.random(len(STEPS)))]
                auc = float(rng.uniform(0, 100))
                rows.append({"scoring": how, "metric": metric, "curve": mode, "explanation": name, "mean": auc,
                             "ci_low": auc - 1, "ci_high": auc + 1, "n": 3, "mean_curve": curve})
    return rows


def test_curves_figure_lines_and_aucs():
    rows = faithfulness_rows()
    fig = curves_figure(rows, STEPS)
    axes = fig.axes
    assert len(axes) == 4  # (forced, logprob) and (free, wer), each deletion | insertion
    panels = [(how, metric, mode) for how, metric in (("forced", "logprob"), ("free", "wer"))
              for mode in ("deletion", "insertion")]
    for ax, (how, metric, mode) in zip(axes, panels):
        assert ax.get_title() == f"{mode} ({how})"
        assert ax.get_ylabel() == metric
        assert ax.get_xlabel() == f"% of input elements {'occluded' if mode == 'deletion' else 'kept'}"
        mine = [r for r in rows if (r["scoring"], r["metric"], r["curve"]) == (how, metric, mode)]
        lines = ax.get_lines()
        assert len(lines) == len(mine) == 4
        for line, r in zip(lines, mine):
            np.testing.assert_allclose(line.get_xdata(), STEPS)
            np.testing.assert_allclose(line.get_ydata(), r["mean_curve"])
            assert line.get_label() == f"{r['explanation']} (AUC {r['mean']:.1f})"
            assert line.get_linestyle() == ("--" if r["explanation"] == "random" else "-")
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == [f"{r['explanation']} (AUC {r['mean']:.1f})" for r in mine]


def test_curves_figure_empty_table():
    assert curves_figure([], STEPS) is None


# --- saving -------------------------------------------------------------------------------------


def test_save_figure_writes_a_png_with_content(tmp_path):
    from matplotlib.image import imread

    path = save_figure(comparison_figure(make_result()), tmp_path / "sub" / "comparison.png", dpi=40)
    assert path == tmp_path / "sub" / "comparison.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 10  # heatmaps and text, not one flat colour
    assert [p.name for p in path.parent.iterdir()] == ["comparison.png"]  # written atomically: no leftovers
