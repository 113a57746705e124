"""Our SPES input saliency versus captum's KernelShap (and optionally Lime) on the same problem.

Both explain every text token of one utterance (whisper-tiny.en, the bundled en_1.wav) over the
same SLIC segmentation (one granularity, 215 segments per 500 frames: captum takes one feature
mask), with the same number of perturbations N, the same "silence" baseline for occluded
segments and the same batch of 8 perturbations per forward pass.
- ours: one teacher-forced pass per mask scores all I tokens at once; the map of a token is the
  mean score over the masks that occluded an element. Default scorer KL(P_clean || P_perturbed)
  over the vocabulary; also run with ``prob_drop`` (P_clean(y_i) - P_perturbed(y_i)), the
  closer analogue of captum's target output.
- captum: explains one output at a time, so N perturbed passes per text token; the output is
  the log-probability of the explained token (captum's usual target). KernelShap fits one
  coefficient per segment (mapped here to (T, F) elements through the labels); with N close to
  the number of segments that regression is underdetermined, hence N = 256 by default.
Both maps give important segments positive values (occluding them lowers the token's
probability). They are compared per token after z-normalisation: Pearson r over all text rows
flattened, and the median of per-token r.

scikit-learn is not required: captum's sklearn regressions are replaced by a weighted
least-squares fit in torch (min-norm, with intercept): the same fit as KernelShap's
LinearRegression; for Lime it drops the default Lasso penalty (alpha = 0.01).

Usage: pip install -e '.[bench]'; python benchmarks/captum_comparison.py [--samples 256] [--lime]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from captum.attr import KernelShap, Lime
from torch.utils.data import DataLoader

import s2t_explain
from s2t_explain.normalization import normalize_rows
from s2t_explain.pipeline import Prepared, explain, prepare
from s2t_explain.saliency.masks import SuperpixelMasks
from s2t_explain.saliency.options import InputSaliencyOptions, SaliencyOptions
from s2t_explain.saliency.perturb import INPUT_BASELINES

CLIP = Path(s2t_explain.__file__).parent / "data" / "audio" / "en_1.wav"
GRANULARITY = 215


class WeightedLeastSquares:
    """Captum interpretable model: weighted linear regression with intercept (as sklearn's)."""

    def fit(self, train_data: DataLoader) -> None:
        x, y, w = (torch.cat(t).double() for t in zip(*train_data))
        design = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1) * w.sqrt()[:, None]
        solution = torch.linalg.lstsq(design, (y.reshape(-1) * w.sqrt())[:, None], driver="gelsd").solution
        self.coefficients = solution[:-1, 0].float()[None]  # (1, segments), intercept dropped

    def representation(self) -> torch.Tensor:
        return self.coefficients


def run_ours(model: s2t_explain.SpeechToTextModel, prepared: Prepared, n: int, scorer: str) -> dict:
    options = SaliencyOptions(input=InputSaliencyOptions(n_masks=n, granularities=(GRANULARITY,)), encoder=None,
                              batch_size=8, scorer=scorer)
    t0 = time.perf_counter()
    result = explain(model, prepared, saliency=options, progress=False)
    wall = time.perf_counter() - t0
    info = result["spes-input"].reliability
    return {"map": result["spes-input"].values, "seconds": info["seconds"], "wall": wall,
            "reliability": info["reliability"]}


def run_captum(method: type[KernelShap] | type[Lime], model: s2t_explain.SpeechToTextModel, prepared: Prepared,
               ids: list[int], rows: np.ndarray, n: int) -> dict:
    values, t = prepared.features.values, prepared.features.n_frames  # (F, N), T speech frames
    labels = SuperpixelMasks(values[:, :t].T.float().numpy(), (GRANULARITY,), p=0.5).groups[0].labels  # (T, F)
    tokens, targets = torch.tensor([ids[:-1]]), torch.tensor(ids[1:])

    def forward(x: torch.Tensor) -> torch.Tensor:  # (B, F, T) speech features -> (B, I) log P(y_i)
        full = torch.cat([x, values[None, :, t:].expand(len(x), -1, -1)], dim=2)
        logits = model.decode(tokens.expand(len(x), -1), model.encode(full)).logits
        return logits.float().log_softmax(-1).gather(2, targets.expand(len(x), -1)[..., None])[..., 0]

    explainer = method(forward)
    explainer.interpretable_model = WeightedLeastSquares()
    baseline = float(INPUT_BASELINES.get("silence")(values, t))
    feature_mask = torch.from_numpy(labels.T.astype(np.int64))[None]  # (1, F, T)
    out = np.zeros((len(rows), *labels.shape), dtype=np.float32)
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in np.flatnonzero(rows):
            coefs = explainer.attribute(values[None, :, :t], baselines=baseline, target=int(i),
                                        feature_mask=feature_mask, n_samples=n, perturbations_per_eval=8,
                                        return_input_shape=False)
            out[i] = coefs[0].numpy()[labels]  # per-segment coefficients -> (T, F) elements
    return {"map": out, "seconds": time.perf_counter() - t0, "segments": int(labels.max()) + 1}


def agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Pearson r of per-token z-normalised maps (rows flattened), and the median per-token r."""
    za, zb = normalize_rows(a), normalize_rows(b)
    overall = float(np.corrcoef(za.ravel(), zb.ravel())[0, 1])
    per_token = [float(np.corrcoef(x.ravel(), y.ravel())[0, 1]) for x, y in zip(za, zb)]
    return overall, float(np.median(per_token))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256, help="masks (ours) = n_samples (captum), default 256")
    parser.add_argument("--lime", action="store_true", help="also run captum's Lime")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)  # captum draws its samples from torch's generator

    model = s2t_explain.load_model("whisper-tiny.en")
    prepared = prepare(model, CLIP)
    transcript = s2t_explain.explain_attention(model, prepared).transcript
    rows = ~transcript.special
    n = args.samples
    ours = {scorer: run_ours(model, prepared, n, scorer) for scorer in ("kl", "prob_drop")}
    theirs = {"KernelShap": run_captum(KernelShap, model, prepared, transcript.ids, rows, n)}
    if args.lime:
        theirs["Lime"] = run_captum(Lime, model, prepared, transcript.ids, rows, n)

    print(f"clip {CLIP.name}: {transcript.text!r}")
    print(f"N = {n} samples, {int(rows.sum())} text tokens, {theirs['KernelShap']['segments']} SLIC segments, "
          f"{torch.get_num_threads()} threads")
    for scorer, r in ours.items():
        print(f"ours ({scorer:9s}): {r['seconds']:7.1f} s engine, {r['wall']:7.1f} s wall "
              f"(split-half reliability {r['reliability']:.3f})")
    print(f"ours kl vs prob_drop:     r = {agreement(ours['kl']['map'][rows], ours['prob_drop']['map'][rows])[0]:.3f}")
    for name, c in theirs.items():
        print(f"captum {name} (log P(y_i)): {c['seconds']:7.1f} s, "
              f"{c['seconds'] / ours['prob_drop']['seconds']:5.1f}x ours prob_drop, "
              f"{c['seconds'] / ours['kl']['seconds']:5.1f}x ours kl (goal >= 10x)")
        for scorer, r in ours.items():
            overall, median = agreement(c["map"][rows], r["map"][rows])
            print(f"  vs ours {scorer:9s}: Pearson r (z-normalised, text rows) = {overall:.3f}, "
                  f"median per-token r = {median:.3f}")
    print("note: ours-kl scores the whole distribution, captum the explained token's log-prob; "
          "prob_drop is the closer match")


if __name__ == "__main__":
    main()
