"""Regenerate the bundled evaluation set in ``src/s2t_explain/data/eval``.

The set backs the cross-attention versus saliency study on the Whisper models:

* ``audio/en_01.flac`` .. ``audio/en_20.flac``  English, hibari-tts voice "heart"
* ``audio/it_01.flac`` .. ``audio/it_10.flac``  Italian, espeak-ng voice "it" at 140 wpm
* ``en.jsonl``     English ASR: one {"id", "audio", "reference", "language", "task"} object a line
* ``it.jsonl``     Italian ASR (reference: the Italian text)
* ``it_en.jsonl``  Italian -> English speech translation of the same audio (reference: English)
* ``tiny.jsonl``   the first three English lines, for quick tests
* ``tiny.tsv``     the same three lines as TSV with a header row

``audio`` in a manifest is a path relative to the manifest file. Every clip is 16 kHz mono
16-bit FLAC, trimmed to at most ~0.3 s of leading/trailing silence and peak-normalized to
-3 dBFS; synthesis, trimming, normalization and resampling are the helpers of
``scripts/make_demo_audio.py``, so the set sounds like the demo clips. The output is
deterministic (hibari is seeded) and nothing is downloaded. ``README.md`` in the output
folder is written by hand and is left alone.

Needs: the ``hibari-tts`` Python package (import name ``hibari``), the ``espeak-ng``
program (Debian package ``espeak-ng``), ``soundfile`` and ``scipy``.

Usage: python scripts/make_eval_set.py [--out DIR] [--only en|it]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_demo_audio import (  # noqa: E402  (sibling script, not an installed module)
    ESPEAK_RATE_HZ,
    normalize,
    resample,
    synth_english,
    synth_italian,
    trim_silence,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "s2t_explain" / "data" / "eval"
AUDIO_DIR = "audio"  # relative to the output folder (and so to every manifest)

RATE = 16000  # Whisper's input rate: the files need no resampling when loaded
HIBARI_RATE = 24000  # hibari-tts output rate
EN_DURATION_S = (2.0, 5.0)  # wanted range for the English clips; outside it is reported
TINY_COUNT = 3
TSV_COLUMNS = ("id", "audio", "reference", "language", "task")

# 6-14 words each, everyday content, no digits or spelling variants (so WER needs no
# number or British/American normalization), none of them among the demo clips.
EN_TEXTS = [
    "My brother bought a new bicycle last weekend.",
    "Can you pass me the salt, please?",
    "It started raining just as we left the house.",
    "She reads a book every night before going to sleep.",
    "The train to London was late again this morning.",
    "I need to buy milk, bread and eggs.",
    "Our friends are having a party on Saturday evening.",
    "The children played football in the park after school.",
    "Please turn off the lights when you leave the room.",
    "He forgot his umbrella at the restaurant yesterday.",
    "We are planning a trip to the mountains next summer.",
    "The doctor told me to drink more water.",
    "This soup tastes much better with a little pepper.",
    "My phone battery died in the middle of the call.",
    "The museum is closed on Mondays and public holidays.",
    "Let's meet at the station after lunch.",
    "The cat is sleeping in the warm sunshine.",
    "I usually walk to work when the weather is nice.",
    "Could you help me carry these boxes upstairs?",
    "The coffee shop on the corner opens very early.",
]

# (Italian text, English translation): 5-10 common words each. espeak's Italian is robotic and
# whisper-base mishears many everyday sentences (initial "il" as "e", b as m, ...), so these
# were picked from a larger pool for being transcribed (and mostly translated) well.
IT_TEXTS = [
    ("Mi piace molto la pizza.", "I really like pizza."),
    ("Questo caffè è molto caldo.", "This coffee is very hot."),
    ("Ci vediamo domani alla stazione.", "See you tomorrow at the station."),
    ("La musica è molto bella.", "The music is very beautiful."),
    ("Io parlo italiano molto bene.", "I speak Italian very well."),
    ("Questa città è molto grande.", "This city is very big."),
    ("Abbiamo bisogno di più tempo.", "We need more time."),
    ("Domani andiamo in montagna con gli amici.", "Tomorrow we are going to the mountains with our friends."),
    ("Non ho capito che cosa hai detto.", "I didn't understand what you said."),
    ("La stazione è molto lontana.", "The station is very far away."),
]


@dataclass(frozen=True)
class Clip:
    id: str  # also the file stem
    language: str
    text: str  # what is spoken
    translation: str | None = None  # English translation (Italian clips only)

    @property
    def audio(self) -> str:
        """Path of the FLAC file relative to the output folder."""
        return f"{AUDIO_DIR}/{self.id}.flac"


EN_CLIPS = [Clip(f"en_{i:02d}", "en", text) for i, text in enumerate(EN_TEXTS, 1)]
IT_CLIPS = [Clip(f"it_{i:02d}", "it", text, en) for i, (text, en) in enumerate(IT_TEXTS, 1)]


def entry(clip: Clip, task: str = "transcribe") -> dict[str, str]:
    """One manifest line; translation lines get an ``_en`` id suffix and the English reference."""
    if task == "translate":
        if clip.translation is None:
            raise ValueError(f"{clip.id} has no translation")
        return {"id": f"{clip.id}_en", "audio": clip.audio, "reference": clip.translation,
                "language": clip.language, "task": task}
    return {"id": clip.id, "audio": clip.audio, "reference": clip.text, "language": clip.language, "task": task}


def write_jsonl(path: Path, entries: Sequence[dict[str, str]]) -> None:
    lines = [json.dumps(e, ensure_ascii=False) for e in entries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_tsv(path: Path, entries: Sequence[dict[str, str]]) -> None:
    rows = ["\t".join(TSV_COLUMNS)]
    for e in entries:
        fields = [e[c] for c in TSV_COLUMNS]
        if any("\t" in f or "\n" in f for f in fields):
            raise ValueError(f"{e['id']}: a field holds a tab or newline")
        rows.append("\t".join(fields))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_audio(out: Path, clip: Clip, audio: np.ndarray) -> float:
    """Write 16 kHz mono 16-bit FLAC; returns the duration in seconds."""
    sf.write(out / clip.audio, audio, RATE, format="FLAC", subtype="PCM_16")
    return len(audio) / RATE


def make_english(out: Path) -> dict[str, float]:
    durations = {}
    raw = synth_english([c.text for c in EN_CLIPS])
    for clip, audio in zip(EN_CLIPS, raw, strict=True):
        audio = normalize(resample(trim_silence(audio, HIBARI_RATE), HIBARI_RATE, RATE))
        durations[clip.id] = write_audio(out, clip, audio)
    entries = [entry(c) for c in EN_CLIPS]
    write_jsonl(out / "en.jsonl", entries)
    write_jsonl(out / "tiny.jsonl", entries[:TINY_COUNT])
    write_tsv(out / "tiny.tsv", entries[:TINY_COUNT])
    return durations


def make_italian(out: Path) -> dict[str, float]:
    durations = {}
    for clip in IT_CLIPS:
        audio = trim_silence(synth_italian(clip.text), ESPEAK_RATE_HZ)
        durations[clip.id] = write_audio(out, clip, normalize(resample(audio, ESPEAK_RATE_HZ, RATE)))
    write_jsonl(out / "it.jsonl", [entry(c) for c in IT_CLIPS])
    write_jsonl(out / "it_en.jsonl", [entry(c, "translate") for c in IT_CLIPS])
    return durations


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--only", choices=("en", "it"), help="regenerate one language only (default: both)")
    args = parser.parse_args(argv)
    out: Path = args.out
    (out / AUDIO_DIR).mkdir(parents=True, exist_ok=True)

    durations: dict[str, float] = {}
    if args.only in (None, "en"):
        durations.update(make_english(out))
    if args.only in (None, "it"):
        durations.update(make_italian(out))

    lo, hi = EN_DURATION_S
    for clip_id, seconds in durations.items():
        size_kb = (out / AUDIO_DIR / f"{clip_id}.flac").stat().st_size / 1024
        note = "  (outside the wanted range)" if clip_id.startswith("en_") and not lo <= seconds <= hi else ""
        print(f"{clip_id}.flac {seconds:5.2f} s {size_kb:6.1f} KiB{note}")


if __name__ == "__main__":
    main()
