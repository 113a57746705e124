"""Build the small example corpora in ``src/s2t_explain/data/corpora/`` from the bundled clips.

    python scripts/make_corpus_examples.py              # every example (hf/ needs `datasets`)
    python scripts/make_corpus_examples.py --skip-hf    # all but hf/

The examples, each in a corpus format of its own (``s2t_explain.corpora``):
  librispeech/  LibriSpeech layout: SPEAKER/CHAPTER/SPEAKER-CHAPTER-NNNN.flac and
                SPEAKER-CHAPTER.trans.txt (upper case, no punctuation); 2 speakers, 3 utterances
                (evaluation clips en_02, en_06, en_12).
  kaldi/        a Kaldi data folder: ONE recording (talk1.flac: alignment clips en_13, en_15,
                en_08 joined with pauses of digital silence) cut into 3 utterances by
                ``segments``; wav.scp, text, utt2spk, spk2utt, utt2lang, and a ``ctm`` with every
                word's exact time (the clips' word times from data/align/en.jsonl, offset by
                where each clip starts): keyed by recording, times in the recording, as Kaldi's
                steps/get_ctm.sh writes them for segmented data.
  hf/           a real Hugging Face ``datasets`` DatasetDict written by ``save_to_disk``: one
                split "test" of 3 rows (id, audio as the Audio feature with the FLAC bytes
                embedded, sentence); evaluation clips en_09, en_17, en_16.
  csv/          manifest.csv: two segments (start, end) of one file, long.flac (evaluation
                clips en_03 and en_11 joined with pauses).

``datasets`` is not a dependency of the package: install it into a throwaway environment
outside the project to make hf/, e.g.
    python -m venv /tmp/dsvenv && /tmp/dsvenv/bin/pip install datasets soundfile
    /tmp/dsvenv/bin/python scripts/make_corpus_examples.py
Audio is 16 kHz mono 16-bit FLAC, sample-exact copies of the bundled clips.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

DATA = Path(__file__).resolve().parent.parent / "src" / "s2t_explain" / "data"
OUT = DATA / "corpora"
RATE = 16_000


def manifest(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)}


def samples(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="int16")
    assert rate == RATE and audio.ndim == 1, path
    return audio


def write_flac(path: Path, audio: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, RATE, format="FLAC", subtype="PCM_16")


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def librispeech_text(sentence: str) -> str:
    """LibriSpeech's style: upper case, apostrophes kept, no other punctuation."""
    return " ".join(re.sub(r"[^A-Z' ]", " ", sentence.upper()).split())


def join(clips: list[np.ndarray], pauses_s: list[float]) -> tuple[np.ndarray, list[int]]:
    """pauses[0] clip pauses[1] clip ... pauses[-1]; returns the audio and each clip's first sample."""
    assert len(pauses_s) == len(clips) + 1
    parts, starts, at = [], [], 0
    for k, clip in enumerate(clips):
        gap = np.zeros(int(round(pauses_s[k] * RATE)), np.int16)
        parts += [gap, clip]
        starts.append(at + len(gap))
        at += len(gap) + len(clip)
    parts.append(np.zeros(int(round(pauses_s[-1] * RATE)), np.int16))
    return np.concatenate(parts), starts


def seconds(n: int) -> str:
    """A sample index as seconds, exactly (16 kHz: at most 4 decimals for multiples of 8 samples)."""
    return f"{n / RATE:.6f}".rstrip("0").rstrip(".")


def make_librispeech(evaluation: dict[str, dict]) -> None:
    root = OUT / "librispeech"
    chapters = {(1001, 20): ["en_02", "en_06"], (1002, 31): ["en_12"]}
    for (speaker, chapter), clips in chapters.items():
        folder = root / str(speaker) / str(chapter)
        lines = []
        for k, clip in enumerate(clips):
            uid = f"{speaker}-{chapter}-{k:04d}"
            write_flac(folder / f"{uid}.flac", samples(DATA / "eval" / evaluation[clip]["audio"]))
            lines.append(f"{uid} {librispeech_text(evaluation[clip]['reference'])}")
        write_lines(folder / f"{speaker}-{chapter}.trans.txt", lines)


def make_kaldi(align: dict[str, dict]) -> None:
    folder = OUT / "kaldi"
    folder.mkdir(parents=True)
    clips = ["en_13", "en_15", "en_08"]
    audio, starts = join([samples(DATA / "align" / align[c]["audio"]) for c in clips], [0.5, 0.8, 0.8, 0.5])
    write_flac(folder / "talk1.flac", audio)
    rec, speaker = "talk1", "spk1"
    utts = [f"{speaker}-{rec}-{k:03d}" for k in range(len(clips))]
    write_lines(folder / "wav.scp", [f"{rec} talk1.flac"])
    segments, text, ctm = [], [], []
    for utt, clip, first in zip(utts, clips, starts):
        length = sf.info(DATA / "align" / align[clip]["audio"]).frames
        segments.append(f"{utt} {rec} {seconds(first)} {seconds(first + length)}")
        text.append(f"{utt} {align[clip]['reference']}")
        for word in align[clip]["words"]:  # exact times in the clip (multiples of 0.5 ms), moved to the recording
            start, end = first + round(word["start"] * RATE), first + round(word["end"] * RATE)
            ctm.append(f"{rec} 1 {seconds(start)} {seconds(end - start)} {word['word']}")
    write_lines(folder / "segments", segments)
    write_lines(folder / "text", text)
    write_lines(folder / "ctm", ctm)
    write_lines(folder / "utt2spk", [f"{utt} {speaker}" for utt in utts])
    write_lines(folder / "spk2utt", [f"{speaker} {' '.join(utts)}"])
    write_lines(folder / "utt2lang", [f"{utt} en" for utt in utts])


def make_csv(evaluation: dict[str, dict]) -> None:
    folder = OUT / "csv"
    clips = ["en_03", "en_11"]
    audio, starts = join([samples(DATA / "eval" / evaluation[c]["audio"]) for c in clips], [0.4, 0.7, 0.4])
    write_flac(folder / "long.flac", audio)
    with open(folder / "manifest.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["id", "audio", "reference", "language", "task", "start", "end"])
        for k, (clip, first) in enumerate(zip(clips, starts)):
            length = sf.info(DATA / "eval" / evaluation[clip]["audio"]).frames
            writer.writerow([f"long-{k}", "long.flac", evaluation[clip]["reference"], "en", "transcribe",
                             seconds(first), seconds(first + length)])


def make_hf(evaluation: dict[str, dict]) -> None:
    try:
        from datasets import Audio, Dataset, DatasetDict
    except ImportError:
        raise SystemExit("hf/ needs the `datasets` package (see this script's docstring), or pass --skip-hf") from None
    clips = ["en_09", "en_17", "en_16"]
    rows = {
        "id": [f"hf-{k}" for k in range(len(clips))],
        "audio": [{"bytes": (DATA / "eval" / evaluation[c]["audio"]).read_bytes(), "path": f"{c}.flac"}
                  for c in clips],
        "sentence": [evaluation[c]["reference"] for c in clips],
    }
    test = Dataset.from_dict(rows).cast_column("audio", Audio(sampling_rate=RATE))
    DatasetDict({"test": test}).save_to_disk(str(OUT / "hf"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-hf", action="store_true", help="leave hf/ as it is (no `datasets` needed)")
    args = parser.parse_args()
    evaluation, align = manifest(DATA / "eval" / "en.jsonl"), manifest(DATA / "align" / "en.jsonl")
    for name in ("librispeech", "kaldi", "csv") + (() if args.skip_hf else ("hf",)):
        shutil.rmtree(OUT / name, ignore_errors=True)
    make_librispeech(evaluation)
    make_kaldi(align)
    make_csv(evaluation)
    if not args.skip_hf:
        make_hf(evaluation)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
