"""Reference SPES maps at the paper's setting, for every fidelity benchmark (resumable across days).

For each reference clip (three bundled English clips with whisper-tiny.en, one Italian clip
translated to English with whisper-base) this records the score of every mask of the paper's
setting: SLIC at the paper's granularities (2000/2500/3000 per 500 frames), iid masks with
p = 0.5, KL, the project's baselines (silence), seed 0. SM_H uses the project's frame blocks
(1, 2, 4 frames; the paper gives no recipe). Perturbation passes of SM_X run under bfloat16
autocast (scores correlate 0.9999 with float32 ones on the demo clip); the clean pass is float32.

Masks [0, POOL) are the *evaluation pool*: a run of the library with seed 0 and n <= POOL masks
uses exactly them, so ``benchmarks/fidelity.py`` replays any estimator at any budget on them
with no model pass. The *reference map* is the paper's mean estimator on masks [POOL, N) only
(independent of the pool), with its split-half reliability (full resolution and max-pooled to
encoder frames).

Work goes to ``benchmarks/reference/work/CLIP/`` in chunks of CHUNK masks (each written
atomically, so a killed run resumes at the next chunk); ``--finish`` (or a run that completes)
writes ``benchmarks/reference/CLIP.npz`` (float16 maps, float32 scores of every mask, the CA, the
token ids, segment-label checksums) and ``CLIP.json`` (options, reliabilities, masks, seconds).

Usage: python benchmarks/reference_maps.py [--clips en_1 en_2 en_3 it_1] [--input-masks 7168]
       [--encoder-masks 6144] [--pool 1024] [--encoder-pool 2048] [--finish]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

import s2t_explain as s2t
from s2t_explain.pipeline import explain_attention, prepare
from s2t_explain.pooling import pool
from s2t_explain.saliency.accumulate import Accumulator
from s2t_explain.saliency.estimators import occlusion_mean
from s2t_explain.saliency.explain import SaliencyJob
from s2t_explain.saliency.options import EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions
from s2t_explain.saliency.reliability import split_half

HERE = Path(__file__).resolve().parent / "reference"
AUDIO = Path(s2t.__file__).parent / "data" / "audio"
CHUNK = 256


@dataclass(frozen=True)
class Clip:
    name: str
    file: str
    model: str
    task: str = "transcribe"
    language: str | None = None


CLIPS = {
    "en_1": Clip("en_1", "en_1.wav", "whisper-tiny.en"),
    "en_2": Clip("en_2", "en_2.flac", "whisper-tiny.en"),
    "en_3": Clip("en_3", "en_3.wav", "whisper-tiny.en"),
    "it_1": Clip("it_1", "it_1.wav", "whisper-base", task="translate", language="it"),
}

# the paper's setting (seed 0), with bfloat16 perturbation passes for SM_X
PAPER = SaliencyOptions(input=InputSaliencyOptions(), encoder=EncoderSaliencyOptions(), estimator="mean")


def setup(clip: Clip) -> tuple:
    """(model, prepared audio, explanation with CA, saliency job) of one clip."""
    model = s2t.load_model(clip.model)
    prepared = prepare(model, str(AUDIO / clip.file))
    decoding = s2t.DecodingOptions(task=clip.task, language=clip.language)
    attention = explain_attention(model, prepared, decoding=decoding, distributions=True)
    job = SaliencyJob(model, prepared.features.values, prepared.features.n_frames, prepared.states,
                      attention.transcript, replace(PAPER, precision="bfloat16"), progress=False)
    return model, prepared, attention, job


def _save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


def record(job: SaliencyJob, which: str, n_masks: int, work: Path, prefix: str | None = None
           ) -> tuple[np.ndarray, float]:
    """Scores (n_masks, I) of masks [0, n_masks) of map ``which``, chunk by chunk (resuming);
    chunks are named ``PREFIX_START.npy`` (default prefix: ``which``)."""
    prefix = prefix or which
    plan = job.plan(which)
    if which == "encoder":  # SM_H passes in float32 (decoder only: cheap)
        job.options = replace(job.options, precision="float32")
    work.mkdir(parents=True, exist_ok=True)
    chunks, seconds = [], 0.0
    for start in range(0, n_masks, CHUNK):
        path = work / f"{prefix}_{start:06d}.npy"
        if not path.exists():
            t0 = time.perf_counter()
            ks = list(range(start, min(start + CHUNK, n_masks)))
            scores = np.concatenate([np.asarray(plan.evaluate(ks[i : i + 16])) for i in range(0, len(ks), 16)])
            seconds += time.perf_counter() - t0
            _save(path, scores.astype(np.float32))
            _note_seconds(work, prefix, time.perf_counter() - t0)
            print(f"  {prefix} masks {start + len(ks)}/{n_masks}", flush=True)
        chunks.append(np.load(path))
    job.options = replace(job.options, precision="bfloat16")
    return np.concatenate(chunks)[:n_masks], seconds


def _note_seconds(work: Path, which: str, seconds: float) -> None:
    path = work / "seconds.json"
    done = json.loads(path.read_text()) if path.exists() else {}
    done[which] = done.get(which, 0.0) + seconds
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(done))
    os.replace(tmp, path)


def reference(family, scores: np.ndarray, start: int, rows: np.ndarray, stride: int | None) -> dict:
    """The mean estimator on masks [start, N): map, split-half reliability (full, pooled)."""
    acc = Accumulator(family, scores.shape[1])
    for a in range(start, len(scores), 64):
        ks = list(range(a, min(a + 64, len(scores))))
        acc.add(ks, scores[ks])
    full = occlusion_mean(acc, (0, 1))
    halves = [occlusion_mean(acc, (h,))[rows] for h in (0, 1)]
    out = {"map": full, "masks": len(scores) - start, "reliability": split_half(*halves)}
    if stride is not None:
        out["pooled"] = pool(full, stride, "max")
        out["reliability_pooled"] = split_half(*(pool(h, stride, "max") for h in halves))
    return out


def checksum(family) -> list[str]:
    return [hashlib.sha1(np.ascontiguousarray(g.labels).tobytes()).hexdigest()[:16] for g in family.groups]


def finish(clip: Clip, args: argparse.Namespace) -> None:
    model, prepared, attention, job = setup(clip)
    out = args.out
    work = out / "work" / clip.name
    x_scores, _ = record(job, "input", args.input_masks, work)
    h_scores, _ = record(job, "encoder", args.encoder_masks, work)
    seconds = json.loads((work / "seconds.json").read_text())  # recording time, summed over every session
    rows = attention.transcript.text_rows()
    x = reference(job.plan("input").family, x_scores, args.pool, rows, model.encoder_stride)
    h = reference(job.plan("encoder").family, h_scores, args.encoder_pool, rows, None)
    f16 = np.float16
    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        "ids": np.asarray(attention.transcript.ids), "rows": rows,
        "attention": attention["attention"].values.astype(f16),
        "spes_input": x["map"].astype(f16), "spes_input_pooled": x["pooled"].astype(f16),
        "spes_encoder": h["map"].astype(f16),
        "input_scores": x_scores, "encoder_scores": h_scores,
    }
    tmp = out / f"{clip.name}.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, out / f"{clip.name}.npz")
    meta = {
        "clip": asdict(clip), "text": attention.transcript.text, "n_frames": prepared.features.n_frames,
        "options": asdict(PAPER), "perturbation_precision": {"input": "bfloat16", "encoder": "float32"},
        "pool": {"input": args.pool, "encoder": args.encoder_pool},
        "reference": {
            "input": {"masks": x["masks"], "reliability": round(x["reliability"], 4),
                      "reliability_pooled": round(x["reliability_pooled"], 4)},
            "encoder": {"masks": h["masks"], "reliability": round(h["reliability"], 4)},
        },
        "segments": [g.n_units for g in job.plan("input").family.groups],
        "labels_sha1": checksum(job.plan("input").family),
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "made_by": "benchmarks/reference_maps.py",
        "torch": torch.__version__,
    }
    tmp_json = out / f"{clip.name}.tmp.json"
    tmp_json.write_text(json.dumps(meta, indent=1))
    os.replace(tmp_json, out / f"{clip.name}.json")
    print(f"{clip.name}: SM_X reference {x['masks']} masks, reliability {x['reliability']:.3f} "
          f"(pooled {x['reliability_pooled']:.3f}); SM_H {h['masks']} masks, reliability {h['reliability']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", default=list(CLIPS), choices=list(CLIPS))
    ap.add_argument("--input-masks", type=int, default=7168)
    ap.add_argument("--encoder-masks", type=int, default=6144)
    ap.add_argument("--pool", type=int, default=1024, help="SM_X masks kept out of the reference (evaluation pool)")
    ap.add_argument("--encoder-pool", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=HERE, help="where the references (and work/) go")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for name in args.clips:
        print(f"{name}:", flush=True)
        finish(CLIPS[name], args)


if __name__ == "__main__":
    main()
