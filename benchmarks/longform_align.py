"""Long-form word timing against exact truth: our windowed pipeline vs faster-whisper, side by side in one run.

The recordings (``scripts/make_longform_set.py``: the bundled alignment clips repeated in
shuffled order with known pauses, several of 5-12 s) have every word's start and end exact. For
each recording this runs

* ours, ``s2t_explain.longform.run_long``, per ``--windowing`` (vad, fixed) and per source:
  ``attention`` (the model's alignment heads, Whisper's recipe: the baseline) and
  ``spes-encoder`` (SM_H only: the ``fast`` preset's encoder options with ``--encoder-masks``);
* the peer: faster-whisper's own word timestamps (same CT2 weights, ``--peer-beam``, temperature
  0, ``--peer-vad`` off and/or on).

Every run is one fresh worker process (spawned), so its seconds and peak RSS are its own; wall and
CPU seconds exclude loading the model (reported apart), and cost ratios use CPU seconds, which other
jobs on a shared machine disturb less. Hypothesis words are paired with reference words by
``metrics.timing.match_words`` (edit alignment of normalized words; only equal words pair) and
scored on the pairs: matched share of the reference, WER-like counts, MAE of starts / ends / both,
share of boundaries within 50/100/200 ms and over 1 s, start error of the first word after each
long pause and end error of the last word before it, words out of order; drift
(``metrics.timing.drift``): slope of the signed error over the file (ms per minute), its
correlation with time, MAE in the first and last tenth and per minute. Pooled rows join all files.

Writes ``OUT/results.json`` (every number and every run's words) and ``OUT/results.md`` (the
tables, also printed); ``--doc FILE`` writes the Markdown there too. ``--rescore A.json B.json``
runs nothing: it scores saved runs again, together (e.g. the 2 and 5 min files of one invocation
and the 10 min file of another).

Usage: python benchmarks/longform_align.py [--quick] [--durations 2 5 10] [--windowing vad fixed]
       [--sources attention spes-encoder] [--encoder-masks 512] [--peer-beam 1] [--peer-vad off on]
       [--set runs/longform-set] [--out runs/longform-align] [--doc docs/results/longform-tiny-en.md]
       python benchmarks/longform_align.py --rescore RUN1/results.json RUN2/results.json --out DIR [--doc FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from make_longform_set import LAYOUT, make_set  # noqa: E402  (sibling script)

from s2t_explain.metrics.timing import align_words, drift  # noqa: E402
from s2t_explain.study.manifest import TimedUtterance, read_alignment_manifest  # noqa: E402

COLLARS_MS = (50, 100, 200)
GROSS_S = 1.0  # a boundary this far off counts as gross (a word placed in the wrong place)
TENTHS = 10
FINGERPRINTED = ("longform", "alignment", "attention", "saliency", "decoding", "models", "features", "audio",
                 "pipeline.py", "timebase.py")


# --- one run in a fresh process ----------------------------------------------------------------------------------

def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def code_fingerprint() -> str:
    """A hash of the package's sources that shape words and times, as this process reads them (the runs of
    one benchmark must agree: the package is edited while benchmarks run)."""
    import hashlib

    import s2t_explain

    root = Path(s2t_explain.__file__).parent
    h = hashlib.sha256()
    for path in sorted(p for part in FINGERPRINTED for p in ([root / part] if part.endswith(".py")
                                                               else (root / part).rglob("*.py"))):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One method on one recording (in a worker process): words, windows, text, seconds, peak RSS."""
    code = code_fingerprint()
    try:
        return {**_run_job(job), "code": code}
    except Exception as e:  # reported in the tables, the other runs go on
        import traceback

        return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                "peak_rss_mib": _peak_rss_mib(), "code": code}


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    if job["kind"] == "idle":  # the worker's own footprint: Python, NumPy and this module
        return {"peak_rss_mib": _peak_rss_mib()}
    if job["kind"] == "ours":
        return _run_ours(job)
    return _run_peer(job)


def _run_ours(job: dict[str, Any]) -> dict[str, Any]:
    import torch

    import s2t_explain as s2t
    from s2t_explain.longform import LongformOptions, run_long
    from s2t_explain.saliency.options import preset

    torch.set_num_threads(job["threads"])
    t0 = time.perf_counter()
    model = s2t.load_model(job["model"])
    load_s = time.perf_counter() - t0
    saliency = None
    if job["source"] != "attention":
        fast = preset("fast")
        assert fast.encoder is not None
        saliency = replace(fast, input=None, encoder=replace(fast.encoder, n_masks=job["encoder_masks"]))
    t0, c0 = time.perf_counter(), time.process_time()
    long = run_long(model, job["audio"], sources=(job["source"],), saliency=saliency,
                    decoding=s2t.DecodingOptions(), options=LongformOptions(windowing=job["windowing"]),
                    out=None, progress=job["progress"])
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    words = long.words[job["source"]]
    return {"words": [[w.word, float(w.start), float(w.end), float(w.probability)] for w in words],
            "windows": [[float(a), float(b)] for a, b in (_span(w) for w in long.windows)],
            "text": long.text, "seconds": seconds, "cpu_seconds": cpu_seconds, "load_seconds": load_s,
            "peak_rss_mib": _peak_rss_mib()}


def _span(window: Any) -> tuple[float, float]:
    """(start, end) of a window, whether a pair or an object with start and end."""
    if isinstance(window, (tuple, list)):
        return float(window[0]), float(window[1])
    return float(window.start), float(window.end)


def _run_peer(job: dict[str, Any]) -> dict[str, Any]:
    from _peers import faster_whisper_words

    run = faster_whisper_words(job["audio"], beam_size=job["beam"], vad_filter=job["vad"],
                               cpu_threads=job["threads"])
    return {"words": [[w.word, w.start, w.end, w.probability] for w in run.words],
            "windows": [list(w) for w in run.windows], "text": run.text, "seconds": run.seconds - run.load_seconds,
            "cpu_seconds": run.cpu_seconds, "load_seconds": run.load_seconds, "peak_rss_mib": _peak_rss_mib(),
            "settings": run.settings}


def in_fresh_process(job: dict[str, Any]) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run_job, job).result()


# --- scoring -----------------------------------------------------------------------------------------------------

def score(words: list[list[Any]], utt: TimedUtterance, duration: float, long_pauses: list[dict[str, Any]]
          ) -> dict[str, Any]:
    """Accuracy and drift of one run's words against the recording's reference words."""
    ref = utt.words
    al = align_words([str(w[0]) for w in words], [w for w, _, _ in ref])
    pairs = al.pairs
    out: dict[str, Any] = {
        "reference_words": al.reference_words, "hypothesis_words": al.hypothesis_words, "matched": len(pairs),
        "matched_share": len(pairs) / max(al.reference_words, 1), "substitutions": al.substitutions,
        "insertions": al.insertions, "deletions": al.deletions, "wer": al.wer,
        "out_of_order": int(sum(1 for a, b in zip(words, words[1:]) if float(b[1]) < float(a[1]) - 1e-6)),
    }
    if not pairs:
        return out
    start_err = np.array([float(words[i][1]) - ref[j][1] for i, j in pairs])
    end_err = np.array([float(words[i][2]) - ref[j][2] for i, j in pairs])
    both = np.abs(np.concatenate([start_err, end_err]))
    out.update({"mae_start_ms": 1000 * float(np.abs(start_err).mean()),
                "mae_end_ms": 1000 * float(np.abs(end_err).mean()), "mae_ms": 1000 * float(both.mean()),
                "mean_start_ms": 1000 * float(start_err.mean()), "mean_end_ms": 1000 * float(end_err.mean()),
                "gross_share": float((both > GROSS_S).mean())})
    for c in COLLARS_MS:
        out[f"within_{c}ms"] = float((both <= c / 1000).mean())
    # drift: each start error at its reference start, each end error at its reference end
    errors = np.concatenate([start_err, end_err])
    times = np.concatenate([[ref[j][1] for _, j in pairs], [ref[j][2] for _, j in pairs]])
    tenth = drift(errors, times, bins=TENTHS, duration_s=duration)
    minutes = drift(errors, times, bins=list(np.arange(0.0, math.ceil(duration / 60) * 60 + 1, 60.0)))
    out["drift"] = {k: tenth[k] for k in ("slope_ms_per_min", "intercept_ms", "correlation")}
    out["drift"].update({"mae_first_tenth_ms": tenth["mae_first_ms"], "mae_last_tenth_ms": tenth["mae_last_ms"],
                         "mae_per_minute_ms": [b["mae_ms"] for b in minutes["bins"]],
                         "mean_per_minute_ms": [b["mean_ms"] for b in minutes["bins"]]})
    # words next to a long pause: the first word after it (start) and the last before it (end)
    by_ref = dict((j, i) for i, j in pairs)
    ref_starts = np.array([s for _, s, _ in ref])
    after, before = [], []
    for p in long_pauses:
        j = int(np.searchsorted(ref_starts, p["start"]))  # first word starting after the pause begins
        if j < len(ref) and j in by_ref:
            after.append(abs(float(words[by_ref[j]][1]) - ref[j][1]))
        if j - 1 >= 0 and j - 1 in by_ref:
            before.append(abs(float(words[by_ref[j - 1]][2]) - ref[j - 1][2]))
    out["long_pause"] = {"n": len(long_pauses),
                         "mae_start_after_ms": 1000 * float(np.mean(after)) if after else float("nan"),
                         "mae_end_before_ms": 1000 * float(np.mean(before)) if before else float("nan")}
    out["_errors"] = (start_err.tolist(), end_err.tolist())
    return out


def pooled(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy over the words of several recordings (counts summed, errors pooled)."""
    keys = ("reference_words", "hypothesis_words", "matched", "substitutions", "insertions", "deletions",
            "out_of_order")
    out: dict[str, Any] = {k: sum(s[k] for s in scores) for k in keys}
    out["matched_share"] = out["matched"] / max(out["reference_words"], 1)
    out["wer"] = (out["substitutions"] + out["insertions"] + out["deletions"]) / max(out["reference_words"], 1)
    start = np.concatenate([s["_errors"][0] for s in scores if "_errors" in s] or [np.zeros(0)])
    end = np.concatenate([s["_errors"][1] for s in scores if "_errors" in s] or [np.zeros(0)])
    if start.size:
        both = np.abs(np.concatenate([start, end]))
        out.update({"mae_start_ms": 1000 * float(np.abs(start).mean()), "mae_end_ms": 1000 * float(np.abs(end).mean()),
                    "mae_ms": 1000 * float(both.mean()), "gross_share": float((both > GROSS_S).mean())})
        for c in COLLARS_MS:
            out[f"within_{c}ms"] = float((both <= c / 1000).mean())
    return out


# --- tables ------------------------------------------------------------------------------------------------------

def _f(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def tables(rows: list[dict[str, Any]], pooled_rows: list[dict[str, Any]]) -> str:
    lines = ["### Accuracy (matched words; boundaries = starts and ends)", "",
             "| file | method | windows | ref words | matched | WER | S/I/D | MAE start ms | MAE end ms | MAE ms "
             "| ≤50 ms | ≤100 ms | ≤200 ms | >1 s | start after long pause ms | end before long pause ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows + pooled_rows:
        s = r.get("score")
        if s is None:
            lines.append(f"| {r['file']} | {r['method']} | {r['windowing']} | FAILED: {r['error']} |")
            continue
        lp = s.get("long_pause", {})
        lines.append(
            f"| {r['file']} | {r['method']} | {r['windowing']} | {s['reference_words']} | {s['matched_share']:.3f} "
            f"| {s['wer']:.3f} | {s['substitutions']}/{s['insertions']}/{s['deletions']} "
            f"| {_f(s.get('mae_start_ms'))} | {_f(s.get('mae_end_ms'))} | {_f(s.get('mae_ms'))} "
            f"| {_f(s.get('within_50ms'), 2)} | {_f(s.get('within_100ms'), 2)} | {_f(s.get('within_200ms'), 2)} "
            f"| {_f(s.get('gross_share'), 3)} | {_f(lp.get('mae_start_after_ms'))} "
            f"| {_f(lp.get('mae_end_before_ms'))} |")
    lines += ["", "### Drift over the file (signed error = predicted - reference)", "",
              "| file | method | windows | slope ms/min | r | MAE first tenth ms | MAE last tenth ms "
              "| MAE per minute ms |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d = r.get("score", {}).get("drift")
        if not d:
            continue
        per_min = " ".join(_f(x) for x in d["mae_per_minute_ms"])
        lines.append(f"| {r['file']} | {r['method']} | {r['windowing']} | {_f(d['slope_ms_per_min'], 1)} "
                     f"| {_f(d['correlation'], 2)} | {_f(d['mae_first_tenth_ms'])} | {_f(d['mae_last_tenth_ms'])} "
                     f"| {per_min} |")
    lines += ["", "### Cost (one process each, 1 thread; model loading excluded; ratios of CPU seconds, "
              "which other jobs on the machine disturb less than wall seconds)", "",
              "| file | method | windows | windows (ours) / segments (peer) | wall s | CPU s | x realtime (CPU) "
              "| x ours-attention (same windows) | x peer (no VAD) | load s | peak RSS MiB |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "seconds" not in r:
            continue
        cost = r.get("cpu_seconds", r["seconds"])
        base = next((b for b in rows if b["file"] == r["file"] and b["method"] == "ours-attention"
                     and b["windowing"] == r["windowing"] and "seconds" in b), None)
        if not r["method"].startswith("ours-"):
            base = None
        peer = next((b for b in rows if b["file"] == r["file"] and b["method"] == "faster-whisper"
                     and b["windowing"] == "none" and "seconds" in b), None)
        lines.append(
            f"| {r['file']} | {r['method']} | {r['windowing']} | {len(r.get('windows', []))} | {r['seconds']:.1f} "
            f"| {_f(r.get('cpu_seconds'), 1)} | {r['duration'] / cost:.1f} "
            f"| {_f(cost / base.get('cpu_seconds', base['seconds']) if base else None, 2)} "
            f"| {_f(cost / peer.get('cpu_seconds', peer['seconds']) if peer else None, 2)} | {r['load_seconds']:.1f} "
            f"| {r['peak_rss_mib']:.0f} |")
    return "\n".join(lines) + "\n"


# --- main --------------------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one 2-min file, attention only, and the peer")
    ap.add_argument("--durations", type=float, nargs="+", default=[2.0, 5.0, 10.0], help="minutes per recording")
    ap.add_argument("--seed", type=int, default=13, help="the set's seed (make_longform_set.py)")
    ap.add_argument("--windowing", nargs="+", default=["vad", "fixed"], choices=["vad", "fixed"])
    ap.add_argument("--sources", nargs="*", default=["attention", "spes-encoder"],
                    help="our timestamp sources (none: the peer only)")
    ap.add_argument("--encoder-masks", type=int, default=512, help="SM_H masks per window (default: %(default)s)")
    ap.add_argument("--peer-beam", type=int, default=1, help="faster-whisper beam size (1 = greedy, as ours)")
    ap.add_argument("--peer-vad", nargs="*", default=["off", "on"], choices=["off", "on"],
                    help="faster-whisper vad_filter settings to run (none: no peer)")
    ap.add_argument("--model", default="whisper-tiny.en")
    ap.add_argument("--threads", type=int, default=1, help="torch / CTranslate2 threads per run")
    ap.add_argument("--set", default="runs/longform-set", help="where the recordings are written")
    ap.add_argument("--out", default="runs/longform-align", help="results folder")
    ap.add_argument("--doc", default=None, help="also write the Markdown tables to this file")
    ap.add_argument("--quiet", action="store_true", help="no progress bars from our pipeline")
    ap.add_argument("--rescore", nargs="+", default=None, metavar="RESULTS_JSON",
                    help="run nothing: score these saved results again, together, into --out")
    args = ap.parse_args()
    if args.rescore:
        rescore(args.rescore, args.set, Path(args.out), args.doc)
        return
    if args.quick:
        args.durations, args.sources = [2.0], ["attention"]
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    t0 = time.perf_counter()
    manifest = make_set(args.set, args.durations, seed=args.seed)
    layout = json.loads((manifest.parent / LAYOUT).read_text(encoding="utf-8"))
    utterances = read_alignment_manifest(manifest)
    durations = {u.id: float(layout["files"][u.id]["duration"]) for u in utterances}
    listed = ", ".join(f"{u.id} ({durations[u.id]:.0f} s, {len(u.words)} words)" for u in utterances)
    print(f"set: {manifest}: {listed}; made in {time.perf_counter() - t0:.1f} s", flush=True)
    by_id = {u.id: u for u in utterances}

    jobs: list[dict[str, Any]] = []
    for u in utterances:
        for windowing in args.windowing:
            for source in args.sources:
                jobs.append({"kind": "ours", "method": f"ours-{source}", "windowing": windowing, "source": source,
                             "file": u.id, "audio": str(u.audio), "model": args.model, "threads": args.threads,
                             "encoder_masks": args.encoder_masks, "progress": not args.quiet})
        for vad in args.peer_vad:
            jobs.append({"kind": "peer", "method": "faster-whisper", "windowing": "vad" if vad == "on" else "none",
                         "vad": vad == "on", "beam": args.peer_beam, "file": u.id, "audio": str(u.audio),
                         "threads": args.threads})
    idle_rss = in_fresh_process({"kind": "idle"})["peak_rss_mib"]
    rows: list[dict[str, Any]] = []
    for n, job in enumerate(jobs, start=1):
        print(f"[{n}/{len(jobs)}] {job['file']}: {job['method']} ({job['windowing']}) ...", flush=True)
        result = in_fresh_process(job)
        row = {k: job[k] for k in ("file", "method", "windowing")}
        row.update({"duration": durations[job["file"]], **{k: v for k, v in result.items() if k != "traceback"}})
        if "error" in result:
            print(f"  FAILED: {result['error']}\n{result.get('traceback', '')}", flush=True)
        else:
            s = score(result["words"], by_id[job["file"]], durations[job["file"]],
                      layout["files"][job["file"]]["long_pauses"])
            print(f"  {result['seconds']:.1f} s, {s['matched']}/{s['reference_words']} words matched, "
                  f"MAE {_f(s.get('mae_ms'))} ms, drift {_f(s.get('drift', {}).get('slope_ms_per_min'), 1)} ms/min, "
                  f"peak RSS {result['peak_rss_mib']:.0f} MiB", flush=True)
        rows.append(row)
    settings = {"model": args.model, "durations_min": args.durations, "seed": args.seed, "windowing": args.windowing,
                "sources": args.sources, "encoder_masks": args.encoder_masks, "peer_beam": args.peer_beam,
                "peer_vad": args.peer_vad, "threads": args.threads, "decoding": "greedy (DecodingOptions())",
                "cpu_count": os.cpu_count(), "idle_worker_rss_mib": idle_rss}
    report(rows, settings, utterances, layout, Path(args.out), args.doc)


def report(rows: list[dict[str, Any]], settings: dict[str, Any], utterances: list[TimedUtterance],
           layout: dict[str, Any], out: Path, doc: str | None) -> None:
    """Score every run (from its words), pool per method, print and write JSON + Markdown."""
    by_id = {u.id: u for u in utterances}
    for r in rows:
        r.pop("score", None)
        if "error" not in r:
            info = layout["files"][r["file"]]
            r["score"] = score(r["words"], by_id[r["file"]], info["duration"], info["long_pauses"])
    files = list(dict.fromkeys(r["file"] for r in rows))
    pooled_rows = []
    if len(files) > 1:
        for method, windowing in dict.fromkeys((r["method"], r["windowing"]) for r in rows):
            group = [r["score"] for r in rows if (r["method"], r["windowing"]) == (method, windowing) and "score" in r]
            if group:
                pooled_rows.append({"file": "all", "method": method, "windowing": windowing, "score": pooled(group)})
    codes = sorted({str(r["code"]) for r in rows if "code" in r})
    settings["code"] = codes
    listed = ", ".join(f"{f} ({layout['files'][f]['duration']:.0f} s, {len(by_id[f].words)} words)" for f in files)
    warning = ("" if len(codes) <= 1 else
               f"**Warning: the package's sources differ between runs (versions {', '.join(codes)}).**\n\n")
    md = (warning + f"Long-form alignment, {settings['model']}: {listed}; SM_H {settings['encoder_masks']} masks "
          f"per window; peer faster-whisper beam {settings['peer_beam']}, temperature 0; {settings['threads']} "
          f"thread(s) per run; an idle worker process peaks at {settings['idle_worker_rss_mib']:.0f} MiB RSS; "
          f"sources {', '.join(codes)}.\n\n" + tables(rows, pooled_rows))
    print("\n" + md)
    out.mkdir(parents=True, exist_ok=True)
    for r in rows + pooled_rows:
        r.get("score", {}).pop("_errors", None)
    (out / "results.json").write_text(json.dumps({"settings": settings, "runs": rows, "pooled": pooled_rows},
                                                 indent=1, default=float) + "\n", encoding="utf-8")
    (out / "results.md").write_text(md, encoding="utf-8")
    if doc:
        Path(doc).write_text(md, encoding="utf-8")
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}" + (f" and {doc}" if doc else ""))


def rescore(paths: list[str], set_folder: str, out: Path, doc: str | None) -> None:
    """Score saved runs again (e.g. the 2-5 min and the 10 min runs of two invocations, together)."""
    docs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    settings = dict(docs[0]["settings"])
    minutes = sorted({float(m) for d in docs for m in d["settings"]["durations_min"]})
    seeds = {d["settings"]["seed"] for d in docs}
    if len(seeds) != 1:
        raise SystemExit(f"the runs used different sets (seeds {sorted(seeds)})")
    settings["durations_min"] = minutes
    settings["idle_worker_rss_mib"] = max(d["settings"].get("idle_worker_rss_mib", 0.0) for d in docs)
    manifest = make_set(set_folder, minutes, seed=seeds.pop())
    layout = json.loads((manifest.parent / LAYOUT).read_text(encoding="utf-8"))
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in (r for d in docs for r in d["runs"]):
        key = (r["file"], r["method"], r["windowing"])
        if key in latest:
            print(f"note: {' '.join(key)} appears twice; the later file's run is kept")
        latest[key] = r
    rows = list(latest.values())
    order = {u.id: k for k, u in enumerate(read_alignment_manifest(manifest))}
    rows.sort(key=lambda r: order[r["file"]])  # stable: each file's runs keep their order
    report(rows, settings, read_alignment_manifest(manifest), layout, out, doc)


if __name__ == "__main__":
    main()
