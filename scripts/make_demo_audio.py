"""Regenerate the demo audio clips in ``src/s2t_explain/data/audio``.

Makes six short speech clips plus ``clips.json`` (id, file, language, reference text,
English translation, source):

* ``en_1.wav``      English, hibari-tts, 16 kHz mono 16-bit WAV
* ``en_2.flac``     English, hibari-tts, 24 kHz mono FLAC (hibari's native rate)
* ``en_3.wav``      English, hibari-tts, 16 kHz mono 16-bit WAV
* ``en_stereo.wav`` the en_1 sentence at 44.1 kHz, 2 channels with different gains
* ``it_1.wav``      Italian, espeak-ng, 22050 Hz mono 16-bit WAV (espeak's native rate)
* ``it_2.wav``      Italian, espeak-ng, 22050 Hz mono 16-bit WAV

Every clip is trimmed to at most ~0.3 s of leading/trailing silence and peak-normalized
to -3 dBFS; resampling uses ``scipy.signal.resample_poly``. The output is deterministic
(hibari is seeded) and nothing is downloaded: only hibari's bundled "heart" voice is used.

Needs: the ``hibari-tts`` Python package (import name ``hibari``), the ``espeak-ng``
program (Debian package ``espeak-ng``), ``soundfile`` and ``scipy``.

Usage: python scripts/make_demo_audio.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "s2t_explain" / "data" / "audio"

HIBARI_VOICE = "heart"  # bundled with hibari-tts, so no download is needed
HIBARI_SEED = 0
ESPEAK_VOICE = "it"
ESPEAK_RATE = 140  # words per minute; slow enough for Whisper to follow
ESPEAK_RATE_HZ = 22050

PEAK_DBFS = -3.0
SILENCE_DB = -40.0  # below peak: samples quieter than this count as silence
MAX_EDGE_SILENCE_S = 0.3
STEREO_RATE = 44100
STEREO_GAINS = (1.0, 0.8)  # left, right


@dataclass(frozen=True)
class Clip:
    id: str
    file: str
    language: str
    text: str
    translation: str | None
    rate: int  # sample rate of the written file
    format: str  # soundfile format
    subtype: str  # soundfile subtype


EN_CLIPS = [
    Clip("en_1", "en_1.wav", "en", "The old lighthouse keeper watched the storm roll in across the bay.",
         None, 16000, "WAV", "PCM_16"),
    Clip("en_2", "en_2.flac", "en", "Please remember to water the plants while I am away on holiday.",
         None, 24000, "FLAC", "PCM_16"),
    Clip("en_3", "en_3.wav", "en", "We walked through the quiet forest until the sun went down.",
         None, 16000, "WAV", "PCM_16"),
]
IT_CLIPS = [
    Clip("it_1", "it_1.wav", "it", "Oggi il tempo è bello e nel pomeriggio andiamo al mare.",
         "Today the weather is nice and in the afternoon we are going to the sea.",
         ESPEAK_RATE_HZ, "WAV", "PCM_16"),
    Clip("it_2", "it_2.wav", "it", "Mia sorella prepara la cena per tutta la famiglia.",
         "My sister is making dinner for the whole family.",
         ESPEAK_RATE_HZ, "WAV", "PCM_16"),
]
STEREO_CLIP = Clip("en_stereo", "en_stereo.wav", "en", EN_CLIPS[0].text, None,
                   STEREO_RATE, "WAV", "PCM_16")


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling along axis 0 (no-op when the rates match)."""
    if rate_in == rate_out:
        return audio
    g = gcd(rate_in, rate_out)
    return resample_poly(audio, rate_out // g, rate_in // g, axis=0)


def trim_silence(audio: np.ndarray, rate: int) -> np.ndarray:
    """Cut leading/trailing silence down to at most MAX_EDGE_SILENCE_S on each side."""
    level = np.abs(audio).max(axis=-1) if audio.ndim > 1 else np.abs(audio)
    loud = np.flatnonzero(level > level.max() * 10 ** (SILENCE_DB / 20))
    keep = int(MAX_EDGE_SILENCE_S * rate)
    start = max(int(loud[0]) - keep, 0)
    stop = min(int(loud[-1]) + 1 + keep, len(audio))
    return audio[start:stop]


def normalize(audio: np.ndarray) -> np.ndarray:
    """Scale so the highest peak sits at PEAK_DBFS."""
    return audio * (10 ** (PEAK_DBFS / 20) / np.abs(audio).max())


def synth_english(texts: list[str]) -> list[np.ndarray]:
    """hibari-tts, 24 kHz float32, one array per text."""
    from hibari import Hibari

    tts = Hibari(voice=HIBARI_VOICE, threads=1)
    return [tts(text, seed=HIBARI_SEED).astype(np.float64) for text in texts]


def synth_italian(text: str) -> np.ndarray:
    """espeak-ng Italian voice at its native 22050 Hz."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", ESPEAK_VOICE, "-s", str(ESPEAK_RATE), "-w", str(path), text],
                       check=True)
        audio, rate = sf.read(path, dtype="float64")
    if rate != ESPEAK_RATE_HZ or audio.ndim != 1:
        raise RuntimeError(f"espeak-ng wrote {audio.ndim}-D audio at {rate} Hz, expected mono {ESPEAK_RATE_HZ} Hz")
    return audio


def hibari_version() -> str:
    import hibari

    return hibari.__version__


def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout
    # "eSpeak NG text-to-speech: 1.51  Data at: ..."
    return out.split(":", 1)[1].split()[0]


def write(out: Path, clip: Clip, audio: np.ndarray) -> None:
    sf.write(out / clip.file, audio, clip.rate, format=clip.format, subtype=clip.subtype)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    en_source = f"hibari-tts {hibari_version()} voice {HIBARI_VOICE}"
    it_source = f"espeak-ng {espeak_version()} voice {ESPEAK_VOICE}"
    sources: dict[str, str] = {}

    tts_rate = 24000
    en_audio = [trim_silence(a, tts_rate) for a in synth_english([c.text for c in EN_CLIPS])]
    for clip, audio in zip(EN_CLIPS, en_audio):
        write(out, clip, normalize(resample(audio, tts_rate, clip.rate)))
        sources[clip.id] = en_source

    mono = normalize(resample(en_audio[0], tts_rate, STEREO_CLIP.rate))
    write(out, STEREO_CLIP, np.stack([mono * g for g in STEREO_GAINS], axis=1))
    sources[STEREO_CLIP.id] = en_source

    for clip in IT_CLIPS:
        audio = trim_silence(synth_italian(clip.text), ESPEAK_RATE_HZ)
        write(out, clip, normalize(resample(audio, ESPEAK_RATE_HZ, clip.rate)))
        sources[clip.id] = it_source

    entries = [
        {"id": c.id, "file": c.file, "language": c.language, "text": c.text,
         "translation": c.translation, "source": sources[c.id]}
        for c in [*EN_CLIPS, STEREO_CLIP, *IT_CLIPS]
    ]
    (out / "clips.json").write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for entry in entries:
        info = sf.info(out / entry["file"])
        size_kb = (out / entry["file"]).stat().st_size / 1024
        print(f"{entry['file']:14s} {info.samplerate:5d} Hz {info.channels} ch "
              f"{info.duration:5.2f} s {size_kb:6.1f} KiB")


if __name__ == "__main__":
    main()
