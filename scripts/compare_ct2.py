"""Check our CTranslate2 -> PyTorch Whisper conversion against CTranslate2 itself.

For every bundled model and demo clip this runs the same features through

(a) our converted :class:`~s2t_explain.models.whisper_net.WhisperNet` (greedy decode with
    ``s2t_explain.transcribe``), and
(b) the packages' own engine, ``ctranslate2.models.Whisper`` (float32 on the CPU),

and compares: the encoder output, the greedy token ids, and per-token probabilities.

Three probability checks, each like with like:

* ``align``: CTranslate2's ``Whisper.align`` returns the teacher-forced probability of each text
  token, normalised over the *text* vocabulary only (softmax over ids < end-of-text). Our
  ``Transcript.logprobs`` are normalised over the whole vocabulary, so ours are renormalised the
  same way (using ``Transcript.distributions``) before comparing. ``align`` appends
  ``<|notimestamps|>`` itself, so its start sequence is our prompt without that token.
* ``gen``: CTranslate2's greedy ``generate`` with no suppression and ``return_logits_vocab`` gives
  the full-vocabulary logits of every generated step; their log-softmax is compared with our
  ``Transcript.logprobs`` (text tokens and end-of-text) along the common prefix of both sequences,
  and the logits themselves are compared over the whole vocabulary.
* ``total``: the sequence score of CTranslate2's suppressed greedy ``generate`` (sum of log-probs
  under its suppression rules, divided by the number of text tokens) times that number, against
  the same sum computed from our distributions with the same suppression rules
  (config ``suppress_ids`` at every step, ``suppress_ids_begin`` at the first).

Run: ``python scripts/compare_ct2.py`` (needs the ``models`` and ``test`` extras; no network).
Exit status 1 when a sequence differs or a difference exceeds the tolerances below.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import s2t_explain
from s2t_explain import DecodingOptions, Prepared
from s2t_explain.models.bundled import BUNDLED
from s2t_explain.models.ct2_format import model_bin_parts

AUDIO_DIR = Path(s2t_explain.__file__).parent / "data" / "audio"

# Tolerances. Both engines run float32 with the same (float16-stored, exactly upcast) weights, but
# different GEMM kernels, accumulation orders and softmax code, so results agree to rounding only.
# Measured on all 12 cases (ctranslate2 4.8.5, torch 2.13 CPU, 2 threads):
#   |delta log-prob|  worst 6.6e-5 (align, text-vocab normalised), 3.2e-5 (generated steps);
#   |delta logit|     worst 1.1e-4 on logits up to ~30 (relative ~4e-6);
#   encoder           worst max|delta| / max|value| 4.1e-5.
# The log-prob noise is mostly float32 normalisation over 51,864 entries on each side: the
# log-softmax of both engines' logits taken in float64 agrees to < 5e-6. Deliberate small
# conversion mistakes on whisper-tiny.en / en_2 give: one decoder layer's weights rounded to
# bfloat16 6.9e-4 (logit 7e-2); GELU tanh approximation 3.6e-3; LayerNorm eps 1e-6 instead of
# 1e-5 7.6e-3; one zeroed value bias 2.1e-2; one weight +0.01: log-prob 6e-5 but logit 4.0e-3.
# So: log-prob 3e-4 (4.5x the worst noise, below every mistake but the single weight), logit
# 1e-3 (9x the noise, catches the single weight), encoder relative 2e-4 (5x the noise).
LOGPROB_TOL = 3e-4
LOGIT_TOL = 1e-3
ENCODER_REL_TOL = 2e-4  # max |delta| / max |value| of the encoder output


@dataclass(frozen=True)
class Case:
    model: str
    clip: str
    task: str
    language: str | None

    @property
    def id(self) -> str:
        return f"{self.model}-{self.clip}-{self.task}"


@dataclass
class Comparison:
    case: Case
    same_tokens: bool
    ours: list[int]  # generated ids (text tokens, end-of-text if reached)
    theirs: list[int]  # CTranslate2's, same convention
    n_tokens: int  # text tokens compared by align
    align_max: float  # max |delta log p| of teacher-forced text tokens (text-vocab normalised)
    align_mean: float
    align_max_prob: float  # max |delta p|, same tokens
    gen_max: float  # max |delta log p| of generated steps (full vocab), vs Transcript.logprobs
    gen_steps: int
    logit_max: float  # max |delta logit| over the whole vocabulary, generated steps
    total_ours: float  # sum of log-probs under CTranslate2's suppression rules
    total_theirs: float
    text: str

    @property
    def total_delta(self) -> float:
        return abs(self.total_ours - self.total_theirs)

    @property
    def worst_logprob(self) -> float:
        return max(self.align_max, self.gen_max)

    def ok(self) -> bool:
        return self.same_tokens and self.worst_logprob < LOGPROB_TOL and self.logit_max < LOGIT_TOL


def load_clips() -> dict[str, dict]:
    return {c["id"]: c for c in json.loads((AUDIO_DIR / "clips.json").read_text())}


def cases() -> list[Case]:
    """tiny.en: English clips. base: every clip in its language, and Italian -> English."""
    clips = load_clips()
    english = [c for c in clips.values() if c["language"] == "en"]
    out = [Case("whisper-tiny.en", c["id"], "transcribe", None) for c in english]
    out += [Case("whisper-base", c["id"], "transcribe", c["language"]) for c in clips.values()]
    out += [Case("whisper-base", c["id"], "translate", c["language"]) for c in clips.values() if c["language"] != "en"]
    return out


def assemble_ct2_folder(name: str, scratch: Path) -> Path:
    """A folder CTranslate2 can load for bundled model ``name``.

    Single-package models are used in place. A model whose ``model.bin`` is split across packages
    gets a folder in ``scratch`` with links to config/tokenizer/vocabulary and the joined parts.
    """
    folders = BUNDLED[name].folders()
    parts = [p for folder in folders for p in model_bin_parts(folder)]
    if parts == [folders[0] / "model.bin"]:
        return folders[0]
    out = scratch / name
    out.mkdir(parents=True, exist_ok=True)
    for fname in ("config.json", "tokenizer.json", "vocabulary.txt"):
        link = out / fname
        if not link.exists():
            link.symlink_to(folders[0] / fname)
    with open(out / "model.bin", "wb") as dst:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 24)
    return out


def load_ct2(folder: Path):  # -> ctranslate2.models.Whisper
    import ctranslate2

    return ctranslate2.models.Whisper(
        str(folder), device="cpu", compute_type="float32", intra_threads=torch.get_num_threads()
    )


def _storage(array: np.ndarray):
    import ctranslate2

    return ctranslate2.StorageView.from_array(np.ascontiguousarray(array, dtype=np.float32))


def ct2_encode(ct2, prepared: Prepared) -> np.ndarray:
    """CTranslate2's encoder output (1, S, D) for our features."""
    return np.array(ct2.encode(_storage(prepared.features.values[None].numpy()), to_cpu=True))


def encoder_difference(ours: Prepared, theirs: np.ndarray) -> tuple[float, float]:
    """(max |delta|, max |delta| / max |value|) between our encoder states and CTranslate2's."""
    states = ours.states.detach().float().cpu().numpy()
    diff = float(np.abs(states - theirs).max())
    return diff, diff / float(np.abs(theirs).max())


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def _logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def compare_case(model, ct2, prepared: Prepared, encoded: np.ndarray, case: Case) -> Comparison:
    """Greedy-decode ``case`` with both engines and compare ids and probabilities."""
    options = DecodingOptions(task=case.task, language=case.language, beam_size=1)
    tr = s2t_explain.transcribe(model, prepared, decoding=options, distributions=True)
    P, eot = tr.prompt_length, model.eot
    prompt, body = tr.ids[:P], tr.ids[P:]
    assert tr.distributions is not None
    dist = tr.distributions.astype(np.float64)  # (I, V): row P-1+k predicts body[k]
    memory = _storage(encoded)  # generate/align accept encoder output as well as features

    # 1) greedy ids with CTranslate2's own suppression rules (config lists), as faster-whisper runs it
    res = ct2.generate(
        memory,
        [prompt],
        beam_size=1,
        suppress_blank=True,
        suppress_tokens=[-1],
        max_length=448,
        return_scores=True,
    )[0]
    theirs = list(res.sequences_ids[0])
    theirs_full = theirs + [eot] if len(theirs) < options.max_new_tokens else theirs
    same = body == theirs_full

    # total log-prob under CTranslate2's rules: its score is sum / len(text ids) (length penalty 1)
    total_theirs = float(res.scores[0]) * max(len(theirs), 1)
    suppress, begin = model.suppressed_tokens(), model.suppressed_at_begin()
    total_ours = 0.0
    for k, token in enumerate(body):
        row = dist[P - 1 + k].copy()
        row[suppress] = -np.inf
        if k == 0:
            row[begin] = -np.inf
        total_ours += float(row[token] - _logsumexp(row))

    # 2) generated steps, full vocabulary: no suppression so the logits are CTranslate2's raw ones
    raw = ct2.generate(
        memory,
        [prompt],
        beam_size=1,
        suppress_blank=False,
        suppress_tokens=[],
        max_length=448,
        return_logits_vocab=True,
    )[0]
    raw_ids = list(raw.sequences_ids[0]) + [eot]
    steps = 0  # compare along the common prefix (identical inputs to both decoders)
    while steps < min(len(body), len(raw_ids)) and body[steps] == raw_ids[steps]:
        steps += 1
    steps = min(steps + 1, len(body), len(raw.logits[0]))  # the first differing step is still comparable
    their_logits = np.stack([np.array(raw.logits[0][k]).ravel() for k in range(steps)])
    their_lp = _log_softmax(their_logits)
    picked = np.array(body[:steps])
    gen_delta = np.abs(tr.logprobs[P - 1 : P - 1 + steps] - their_lp[np.arange(steps), picked])
    # logits are only defined up to a constant by log-softmax; ours come from the same pass
    with torch.no_grad():
        our_logits = (
            model.decode(torch.tensor([tr.ids[: P - 1 + steps]]), prepared.states)
            .logits[0, P - 1 :]
            .float()
            .cpu()
            .numpy()
        )
    logit_max = float(np.abs(our_logits - their_logits).max())

    # 3) teacher-forced text tokens with align (probabilities normalised over ids < eot)
    text = [t for t in body if t < eot]
    if text:
        al = ct2.align(memory, prompt[:-1], [text], prepared.features.n_frames, median_filter_width=7)[0]
        their_p = np.array(al.text_token_probs, dtype=np.float64)
        rows = np.arange(P - 1, P - 1 + len(text))
        ours_lp = tr.logprobs[rows].astype(np.float64) - _logsumexp(dist[rows, :eot])
        delta = np.abs(ours_lp - np.log(their_p))
        dprob = np.abs(np.exp(ours_lp) - their_p)
        align_max, align_mean, align_max_prob = float(delta.max()), float(delta.mean()), float(dprob.max())
    else:
        align_max = align_mean = align_max_prob = 0.0

    return Comparison(
        case=case,
        same_tokens=same,
        ours=body,
        theirs=theirs_full,
        n_tokens=len(text),
        align_max=align_max,
        align_mean=align_mean,
        align_max_prob=align_max_prob,
        gen_max=float(gen_delta.max()),
        gen_steps=steps,
        logit_max=logit_max,
        total_ours=total_ours,
        total_theirs=total_theirs,
        text=tr.text,
    )


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


HEADER = [
    "model",
    "clip",
    "task",
    "same ids",
    "n tok",
    "max|Δlp|",
    "mean|Δlp|",
    "max|Δp|",
    "gen max|Δlp|",
    "max|Δlogit|",
    "|Δ total lp|",
    "enc max|Δ|",
]


def format_row(c: Comparison, enc: tuple[float, float]) -> list[str]:
    return [
        c.case.model,
        c.case.clip,
        c.case.task,
        "yes" if c.same_tokens else "NO",
        str(c.n_tokens),
        f"{c.align_max:.2e}",
        f"{c.align_mean:.2e}",
        f"{c.align_max_prob:.2e}",
        f"{c.gen_max:.2e}",
        f"{c.logit_max:.2e}",
        f"{c.total_delta:.2e}",
        f"{enc[0]:.2e}",
    ]


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="compare_ct2_") as d:
        yield Path(d)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(BUNDLED), help="bundled model names")
    parser.add_argument("--verbose", action="store_true", help="print both id sequences per case")
    args = parser.parse_args(argv)
    try:
        import ctranslate2
    except ImportError:
        print("ctranslate2 is not installed: pip install 's2t-explain[test]'", file=sys.stderr)
        return 2

    threads = torch.get_num_threads()
    print(f"ctranslate2 {ctranslate2.__version__}, torch {torch.__version__}, {threads} CPU threads")
    rows: list[list[str]] = []
    results: list[Comparison] = []
    enc_rel: list[float] = []
    clips = load_clips()
    t_start = time.perf_counter()
    with scratch_dir() as scratch:
        for name in args.models:
            model = s2t_explain.load_model(name)
            ct2 = load_ct2(assemble_ct2_folder(name, scratch))
            prepared: dict[str, tuple[Prepared, np.ndarray, tuple[float, float]]] = {}
            for case in (c for c in cases() if c.model == name):
                if case.clip not in prepared:
                    p = s2t_explain.prepare(model, AUDIO_DIR / clips[case.clip]["file"])
                    encoded = ct2_encode(ct2, p)
                    prepared[case.clip] = (p, encoded, encoder_difference(p, encoded))
                p, encoded, enc = prepared[case.clip]
                result = compare_case(model, ct2, p, encoded, case)
                results.append(result)
                enc_rel.append(enc[1])
                rows.append(format_row(result, enc))
                if args.verbose or not result.same_tokens:
                    print(f"{case.id}: ours   {result.ours}\n{case.id}: theirs {result.theirs}")
            del ct2, model
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    print(_row(HEADER, widths))
    print(_row(["-" * w for w in widths], widths))
    for r in rows:
        print(_row(r, widths))
    print()
    for c in results:
        print(f"{c.case.id}: {c.text!r}")
    worst = max(c.worst_logprob for c in results)
    worst_logit = max(c.logit_max for c in results)
    print(
        f"\nworst |Δ log-prob| {worst:.2e} (tolerance {LOGPROB_TOL:.0e}); "
        f"worst |Δ logit| {worst_logit:.2e} (tolerance {LOGIT_TOL:.0e}); "
        f"worst encoder relative |Δ| {max(enc_rel):.2e} (tolerance {ENCODER_REL_TOL:.0e}); "
        f"{time.perf_counter() - t_start:.1f} s"
    )
    failed = [c.case.id for c in results if not c.ok()] + [
        c.case.id for c, e in zip(results, enc_rel, strict=True) if e >= ENCODER_REL_TOL
    ]
    if failed:
        print(f"FAILED: {', '.join(sorted(set(failed)))}")
        return 1
    print("all cases: identical greedy ids, probabilities within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
