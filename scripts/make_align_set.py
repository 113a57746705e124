"""Regenerate the word-alignment set in ``src/s2t_explain/data/align``.

Every word is synthesized on its own, trimmed and joined to the others with random, known
pauses of digital silence, so the start and end of every word are known by construction:

* ``audio/en_01.flac`` .. ``audio/en_16.flac``  English, hibari-tts voice "heart", one word at a time
* ``audio/it_01.flac`` .. ``audio/it_08.flac``  Italian, espeak-ng voice "it" at 140 wpm, one word at a time
* ``en.jsonl``    English: one {"id", "audio", "reference", "language", "task", "words"} object a line,
  ``words`` a list of {"word", "start", "end"} (seconds, words without punctuation, in order)
* ``it.jsonl``    the same for Italian
* ``tiny.jsonl``  the first two English lines, for quick tests

``audio`` in a manifest is a path relative to the manifest file. Every clip is 16 kHz mono
16-bit FLAC. How a clip is built (all lengths in samples at 16 kHz):

1. each word is synthesized alone (hibari at 24 kHz, with a final period; espeak-ng at 22050 Hz)
   and resampled to 16 kHz with ``scipy.signal.resample_poly`` (the helpers of
   ``scripts/make_demo_audio.py``);
2. it is trimmed to the samples within ``WORD_MARGIN_S`` (5 ms) of the first and last sample
   louder than ``WORD_SILENCE_DB`` (-35 dB) below the word's peak, and the end is extended by
   up to 7 samples so the length is a multiple of 8 samples (0.5 ms). A faint click at a
   word's edge (a loud stretch whose peak is below -20 dB, more than 80 ms away from the
   rest) does not count: see ``loud_span``;
3. it is peak-normalized to -3 dBFS and faded in and out over the 5 ms margins (raised cosine);
4. the words are joined: a leading pause (uniform 0.2-0.4 s), the words with pauses drawn
   uniformly from 0.05-0.35 s between them, and a 0.3 s trailing pause, every pause a multiple
   of 8 samples of exact zeros. The pauses come from ``numpy.random.default_rng`` seeded per
   clip (``SEEDS[language] + clip number``).

A word's ``start`` is the index of its first sample / 16000 and its ``end`` the index of its
last sample + 1 / 16000. Both are multiples of 0.5 ms, so the 4 decimals of the manifest hold
them exactly. The output is deterministic (hibari is seeded) and nothing is downloaded.
``README.md`` in the output folder is written by hand and is left alone.

Needs: the ``hibari-tts`` Python package (import name ``hibari``), the ``espeak-ng``
program (Debian package ``espeak-ng``), ``soundfile`` and ``scipy``.

Usage: python scripts/make_align_set.py [--out DIR] [--only en|it]
"""

from __future__ import annotations

import argparse
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo_audio import (  # noqa: E402  (sibling script, not an installed module)
    ESPEAK_RATE_HZ,
    normalize,
    resample,
    synth_english,
    synth_italian,
)
from make_eval_set import HIBARI_RATE, RATE, write_jsonl  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "s2t_explain" / "data" / "align"
AUDIO_DIR = "audio"  # relative to the output folder (and so to every manifest)

WORD_SILENCE_DB = -35.0  # below the word's peak: quieter samples count as silence
WORD_MARGIN_S = 0.005  # kept on each side of the first/last loud sample, and faded
ISLAND_GAP_S = 0.08  # loud stretches further apart than this are separate islands
ISLAND_DB = -20.0  # below the word's peak: an island this weak at a word's edge is left out
GRID = 8  # every length is a multiple of 8 samples = 0.5 ms, exact in 4 decimals
LEAD_PAUSE_S = (0.2, 0.4)  # uniform range of the leading pause
GAP_PAUSE_S = (0.05, 0.35)  # uniform range of each pause between two words
TRAIL_PAUSE_S = 0.3
SEEDS = {"en": 1000, "it": 2000}  # clip n of a language uses SEEDS[language] + n
TINY_COUNT = 2
DECIMALS = 4

# 6-10 common words each; no digits, commas or apostrophes (so every word is a plain token),
# none of them among the demo clips or the eval set.
EN_TEXTS = [
    "The little dog ran across the green field.",
    "We ate fresh bread with butter for breakfast.",
    "My sister likes to paint pictures of flowers.",
    "The bus stops right outside our front door.",
    "Please close the window because it is cold.",
    "He drinks one cup of tea every morning.",
    "The baby is sleeping in her small bed.",
    "They watched funny movies at home tonight.",
    "I left my keys on the kitchen table.",
    "The birds are singing in the tall trees.",
    "My father reads the newspaper every evening.",
    "Our teacher gave us too much homework.",
    "The shop sells apples and oranges.",
    "We need to clean the house before dinner.",
    "The river was very cold and deep.",
    "Turn left at the end of the road.",
]

# 5-6 common words each, in the style of the eval set's Italian (none of its sentences). espeak's
# Italian spoken one word at a time is hard to follow: these were picked from a pool of about
# 40 sentences for being transcribed well by whisper-base.
IT_TEXTS = [
    "Andiamo al cinema questa sera.",
    "La pasta è molto buona.",
    "Noi andiamo al mare domani.",
    "Questo libro è molto interessante.",
    "La mia casa è molto piccola.",
    "Questa sera mangiamo la pizza.",
    "Ho comprato il pane fresco.",
    "Ho perso le chiavi di casa.",
]

PUNCTUATION = string.punctuation + "«»“”‘’…"


@dataclass(frozen=True)
class Clip:
    id: str  # also the file stem
    language: str
    text: str  # the sentence as written
    seed: int  # seeds the pause lengths

    @property
    def audio(self) -> str:
        """Path of the FLAC file relative to the output folder."""
        return f"{AUDIO_DIR}/{self.id}.flac"

    @property
    def words(self) -> list[str]:
        """The words as written, without punctuation."""
        words = [w.strip(PUNCTUATION) for w in self.text.split()]
        if not all(words) or any(c in PUNCTUATION for w in words for c in w):
            raise ValueError(f"{self.id}: cannot split {self.text!r} into plain words")
        return words


def clips(language: str, texts: Sequence[str]) -> list[Clip]:
    return [Clip(f"{language}_{i:02d}", language, text, SEEDS[language] + i) for i, text in enumerate(texts, 1)]


EN_CLIPS = clips("en", EN_TEXTS)
IT_CLIPS = clips("it", IT_TEXTS)


def to_grid(n_samples: int) -> int:
    """Round a sample count to the nearest multiple of GRID."""
    return int(round(n_samples / GRID)) * GRID


def loud_span(audio: np.ndarray) -> tuple[int, int]:
    """First and last+1 sample louder than WORD_SILENCE_DB below the peak.

    Loud stretches separated by more than ISLAND_GAP_S of quieter samples are islands; weak
    islands (peak below ISLAND_DB) at either edge are left out. hibari ends a few words ("I",
    "us") with such a faint click or noise burst ~0.13 s after the speech; real pauses inside
    a word (Italian double consonants hold ~0.15 s) are followed by loud speech.
    """
    level = np.abs(audio)
    peak = level.max()
    loud = np.flatnonzero(level > peak * 10 ** (WORD_SILENCE_DB / 20))
    breaks = np.flatnonzero(np.diff(loud) > ISLAND_GAP_S * RATE)
    starts = np.r_[loud[0], loud[breaks + 1]]
    stops = np.r_[loud[breaks], loud[-1]] + 1
    strong = [i for i, (a, b) in enumerate(zip(starts, stops)) if level[a:b].max() >= peak * 10 ** (ISLAND_DB / 20)]
    return int(starts[strong[0]]), int(stops[strong[-1]])


def trim_word(audio: np.ndarray) -> np.ndarray:
    """Cut one 16 kHz word to its loud span plus WORD_MARGIN_S, length a multiple of GRID."""
    margin = int(round(WORD_MARGIN_S * RATE))
    audio = np.pad(audio, margin + GRID)  # room for the margins and the extension to the grid
    first, last = loud_span(audio)
    start = first - margin
    stop = last + margin
    stop += -(stop - start) % GRID
    return audio[start:stop]


def fade(audio: np.ndarray) -> np.ndarray:
    """Raised-cosine fade-in and fade-out over the WORD_MARGIN_S edges."""
    n = min(int(round(WORD_MARGIN_S * RATE)), len(audio) // 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    out = audio.copy()
    out[:n] *= ramp
    out[len(out) - n:] *= ramp[::-1]
    return out


def prepare_word(audio: np.ndarray, rate: int) -> np.ndarray:
    """Synthesized word at ``rate`` -> trimmed, normalized, faded 16 kHz word."""
    return fade(normalize(trim_word(resample(audio, rate, RATE))))


def join_words(words: Sequence[np.ndarray], seed: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Concatenate words with seeded random pauses; returns the audio and (start, stop) sample spans."""
    rng = np.random.default_rng(seed)
    lead = to_grid(int(rng.uniform(*LEAD_PAUSE_S) * RATE))
    gaps = [to_grid(int(rng.uniform(*GAP_PAUSE_S) * RATE)) for _ in words[1:]]
    trail = to_grid(int(TRAIL_PAUSE_S * RATE))
    pieces: list[np.ndarray] = [np.zeros(lead)]
    spans: list[tuple[int, int]] = []
    position = lead
    for i, word in enumerate(words):
        if i:
            pieces.append(np.zeros(gaps[i - 1]))
            position += gaps[i - 1]
        pieces.append(word)
        spans.append((position, position + len(word)))
        position += len(word)
    pieces.append(np.zeros(trail))
    return np.concatenate(pieces), spans


def entry(clip: Clip, spans: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """One manifest line."""
    words = [{"word": w, "start": round(a / RATE, DECIMALS), "end": round(b / RATE, DECIMALS)}
             for w, (a, b) in zip(clip.words, spans, strict=True)]
    return {"id": clip.id, "audio": clip.audio, "reference": clip.text, "language": clip.language,
            "task": "transcribe", "words": words}


def make_set(out: Path, clip_list: Sequence[Clip], synth: Callable[[list[str]], list[np.ndarray]],
             rate: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Synthesize, join and write every clip; returns the manifest lines and the durations."""
    vocabulary = sorted({w for c in clip_list for w in c.words})
    prepared = {w: prepare_word(a, rate) for w, a in zip(vocabulary, synth(vocabulary), strict=True)}
    entries, durations = [], {}
    for clip in clip_list:
        audio, spans = join_words([prepared[w] for w in clip.words], clip.seed)
        sf.write(out / clip.audio, audio, RATE, format="FLAC", subtype="PCM_16")
        entries.append(entry(clip, spans))
        durations[clip.id] = len(audio) / RATE
    return entries, durations


def synth_english_words(words: list[str]) -> list[np.ndarray]:
    """hibari-tts, one word a call. A final period makes a complete utterance: without it,
    hibari ends a few short words ("the", "of", "are") with a noise tail above the trim threshold."""
    return synth_english([f"{w}." for w in words])


def synth_italian_words(words: list[str]) -> list[np.ndarray]:
    """espeak-ng, one word a call."""
    return [synth_italian(w) for w in words]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--only", choices=("en", "it"), help="regenerate one language only (default: both)")
    args = parser.parse_args(argv)
    out: Path = args.out
    (out / AUDIO_DIR).mkdir(parents=True, exist_ok=True)

    durations: dict[str, float] = {}
    if args.only in (None, "en"):
        entries, seconds = make_set(out, EN_CLIPS, synth_english_words, HIBARI_RATE)
        write_jsonl(out / "en.jsonl", entries)
        write_jsonl(out / "tiny.jsonl", entries[:TINY_COUNT])
        durations.update(seconds)
    if args.only in (None, "it"):
        entries, seconds = make_set(out, IT_CLIPS, synth_italian_words, ESPEAK_RATE_HZ)
        write_jsonl(out / "it.jsonl", entries)
        durations.update(seconds)

    for clip_id, duration in durations.items():
        size_kb = (out / AUDIO_DIR / f"{clip_id}.flac").stat().st_size / 1024
        print(f"{clip_id}.flac {duration:5.2f} s {size_kb:6.1f} KiB")


if __name__ == "__main__":
    main()
