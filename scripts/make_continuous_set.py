"""Regenerate the continuous-speech alignment set in ``src/s2t_explain/data/align``.

Sentences are synthesized whole (no pauses added between words) by espeak-ng's C library,
which reports where every word and phoneme starts in its own output while it synthesizes:

* ``audio/cont_en_01.flac`` .. ``audio/cont_en_16.flac``  English, espeak-ng voice "en-us", 175 wpm
* ``continuous_en.jsonl``  one {"id", "audio", "reference", "language", "task", "words"} object a
  line, ``words`` a list of {"word", "start", "end"} (seconds, words without punctuation, in order)

How the boundaries are found (positions in samples of espeak's 22050 Hz output):

1. ``libespeak-ng`` is driven through ctypes in synchronous mode with phoneme events on
   (``espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, ..., espeakINITIALIZE_PHONEME_EVENTS)``); the
   synthesis callback receives the audio in buffers together with the events, each event with the
   index of the output sample (``sample``) at which the synthesizer reached it.
2. A word's span runs from its word event to the next event that leaves it: the next word's word
   event, a pause phoneme (mnemonic starting with ``_``) or the end of the clause.
3. espeak writes pauses, short gaps between words and stop closures as exact zeros; runs of exact
   zeros at either edge of that span are left out of the word (a word-initial stop after a pause
   starts at its burst, not at its silent closure).
4. The word events are matched to the words of the text by their character positions; a sentence
   whose words and events do not pair up one to one is an error (espeak speaks some word pairs, like
   "for a" or "in the", as one word; the sentences avoid them).

The audio is peak-normalized to -6 dBFS, resampled to 16 kHz with ``scipy.signal.resample_poly``
(320/441; the filter is zero-phase, so a time in seconds is the same at both rates), and given a
leading pause (uniform 0.2-0.4 s, a whole number of 16 kHz samples, seeded per clip) and a 0.3 s
trailing pause of exact zeros. A boundary at 22050 Hz sample ``s`` lies at ``lead / 16000 +
s / 22050`` seconds, written rounded to 0.1 ms. Checks that stop the run: the callback's samples add
up to the position of the last event (the end of the last clause); every sample outside the words
is zero and every word starts and ends on a non-zero sample.

The output is deterministic (byte-identical from run to run): every sentence is synthesized in a new
process, because espeak-ng carries state from one synthesis to the next (``rand()``, the wave
generator's phase), and the leading pauses come from ``numpy.random.default_rng`` seeded per clip.
``--report`` prints how the boundaries come about (gaps between words, leading and trailing zeros
left out). ``README.md`` in the output folder is written by hand and is left alone.

Needs: espeak-ng's C library (Debian ``libespeak-ng1``, installed with ``espeak-ng``; tried with
1.51), ``soundfile`` >= 0.12 and ``scipy``.

Usage: python scripts/make_continuous_set.py [--out DIR] [--report] [--voice NAME --wpm N (experiments)]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import multiprocessing
import string
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "s2t_explain" / "data" / "align"
AUDIO_DIR = "audio"  # relative to the output folder (and so to the manifest)
MANIFEST = "continuous_en.jsonl"

VOICE = "en-us"
WORDS_PER_MINUTE = 175  # espeak-ng's default rate
ESPEAK_RATE = 22050  # espeak-ng's own output rate
RATE = 16000
UP, DOWN = 320, 441  # 16000 / 22050 in lowest terms
PEAK_DBFS = -6.0  # 3 dB below the other sets' peak: one bit less a sample keeps the FLACs small
FLAC_LEVEL = 1.0  # soundfile's compression_level: the smallest files
LEAD_PAUSE_S = (0.2, 0.4)  # uniform range of the leading pause
TRAIL_PAUSE_S = 0.3
SEED = 3000  # clip n uses SEED + n
DECIMALS = 4
PUNCTUATION = string.punctuation + "«»“”‘’…"

# New everyday sentences, 7-12 words, six with a comma pause. No digits, apostrophes or hyphens, and
# no word pairs that espeak speaks as one word ("for a", "in the", "of the", ...: word_boundaries checks this).
# Numbers 4, 5 and 7 replace three sentences of a first draft that whisper-tiny.en garbled (2-4 wrong
# words each); they are the three of eight further sentences that it transcribed exactly.
TEXTS = [
    "After lunch, we took a long walk along the river.",
    "My brother always forgets his umbrella when it rains.",
    "The kettle is boiling, so please make some tea.",
    "Could you pass me the salt and the pepper?",
    "It started to snow, so we stayed inside all day.",
    "Our neighbors painted their fence a bright shade of blue.",
    "The shop near our house sells warm bread every day.",
    "Please turn off the lights before you leave the office.",
    "When the phone rang, he was still reading his book.",
    "We bought fresh vegetables at the market this morning.",
    "The little girl laughed at the funny shape of that cloud.",
    "On Sundays, my grandmother bakes bread for our whole family.",
    "He parked the car behind the building and walked inside.",
    "The library closes early on Friday evenings.",
    "Although it was cold, the beach was full of people.",
    "I usually drink a glass of water before going to bed.",
]

# speak_lib.h
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER = 1
CHARS_UTF8 = 1
PARAM_RATE = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_END = 5
EVENT_PHONEME = 7


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character index into the text
        ("length", ctypes.c_int),  # characters, for word events
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # output sample index
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Event:
    type: int
    text_position: int
    length: int
    sample: int
    phoneme: str  # mnemonic, for phoneme events


class Espeak:
    """espeak-ng's C library in synchronous mode: text -> (16-bit samples, events)."""

    def __init__(self, voice: str = VOICE, words_per_minute: int = WORDS_PER_MINUTE) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        self.lib = ctypes.CDLL(name)
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                          INITIALIZE_PHONEME_EVENTS | INITIALIZE_DONT_EXIT)
        if rate != ESPEAK_RATE:
            raise RuntimeError(f"espeak_Initialize returned {rate}, expected its {ESPEAK_RATE} Hz output")
        self._callback = _CALLBACK(self._receive)  # kept alive as long as the library may call it
        self.lib.espeak_SetSynthCallback(self._callback)
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng has no voice {voice!r}")
        if self.lib.espeak_SetParameter(PARAM_RATE, words_per_minute, 0) != 0:
            raise RuntimeError("espeak_SetParameter(espeakRATE) failed")
        self._chunks: list[np.ndarray] = []
        self._events: list[Event] = []

    def _receive(self, wav: Any, n: int, events: Any) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            e = events[i]
            phoneme = bytes(e.id.string).split(b"\0")[0].decode() if e.type == EVENT_PHONEME else ""
            self._events.append(Event(e.type, e.text_position, e.length, e.sample, phoneme))
            i += 1
        return 0  # go on

    def __call__(self, text: str) -> tuple[np.ndarray, list[Event]]:
        self._chunks, self._events = [], []
        data = text.encode()
        buffer = ctypes.create_string_buffer(data)
        error = self.lib.espeak_Synth(buffer, len(data) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        if error != 0:
            raise RuntimeError(f"espeak_Synth failed with {error}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        events = self._events
        # the last event is the end of the last clause, at the last sample
        if not events or events[-1].type != EVENT_END or events[-1].sample != len(audio):
            raise RuntimeError(f"{text!r}: {len(audio)} samples delivered, last event {events[-1:]}")
        return audio, events


@dataclass(frozen=True)
class Clip:
    id: str  # also the file stem
    text: str  # the sentence as written
    seed: int  # seeds the leading pause

    @property
    def audio(self) -> str:
        return f"{AUDIO_DIR}/{self.id}.flac"

    def word_spans(self) -> list[tuple[str, int, int]]:
        """(word without punctuation, first character, last character + 1), 0-based."""
        spans, position = [], 0
        for token in self.text.split():
            first = self.text.index(token, position)
            position = first + len(token)
            word = token.strip(PUNCTUATION)
            if not word or any(c in PUNCTUATION for c in word):
                raise ValueError(f"{self.id}: cannot split {self.text!r} into plain words")
            lead = len(token) - len(token.lstrip(PUNCTUATION))
            spans.append((word, first + lead, first + lead + len(word)))
        return spans


CLIPS = [Clip(f"cont_en_{i:02d}", text, SEED + i) for i, text in enumerate(TEXTS, 1)]


def synthesize(text: str, voice: str = VOICE,
               words_per_minute: int = WORDS_PER_MINUTE) -> tuple[np.ndarray, list[Event]]:
    """Synthesize in this process (meant for a fresh one: see synthesize_fresh)."""
    return Espeak(voice, words_per_minute)(text)


def synthesize_fresh(texts: Sequence[str], voice: str = VOICE,
                     words_per_minute: int = WORDS_PER_MINUTE) -> list[tuple[np.ndarray, list[Event]]]:
    """Each text in a new process. espeak-ng keeps state from one synthesis to the next (its use of
    rand() and the wave generator's phase), so a sentence's samples would depend on the sentences
    synthesized before it; a fresh process per sentence makes every clip depend on its text alone."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, max_tasks_per_child=1) as pool:
        return list(pool.map(partial(synthesize, voice=voice, words_per_minute=words_per_minute), texts))


def is_pause(event: Event) -> bool:
    return event.type == EVENT_PHONEME and event.phoneme.startswith("_")


@dataclass(frozen=True)
class WordSpan:
    """One word's samples at espeak's rate: from its word event to the event that closes it, and
    the sound inside (``start``, ``end``: first and last + 1 sample that is not zero)."""

    word: str
    event_start: int
    event_end: int
    start: int
    end: int
    closed_by_pause: bool  # a pause phoneme (or the end of the clause) closes the word


def word_boundaries(clip: Clip, audio: np.ndarray, events: Sequence[Event]) -> list[WordSpan]:
    """Each word's span, from espeak's events; ValueError where words and events do not pair up."""
    words = clip.word_spans()
    # espeak adds an empty word event (no characters) to some clause endings, after the pause
    word_events = [i for i, e in enumerate(events) if e.type == EVENT_WORD and e.length > 0]
    if len(word_events) != len(words):
        raise ValueError(f"{clip.id}: {len(word_events)} word events for {len(words)} words")
    spans = []
    for (word, first, stop), index in zip(words, word_events, strict=True):
        event = events[index]
        if event.text_position - 1 != first or event.length != stop - first:
            raise ValueError(f"{clip.id}: word event at characters {event.text_position - 1}+{event.length} "
                             f"for {word!r} at {first}+{stop - first}")
        # the word's sound ends at the next word event or pause phoneme, or at the end of the clause
        closing = next((e for e in events[index + 1:]
                        if (e.type == EVENT_WORD and e.length > 0) or e.type == EVENT_END or is_pause(e)), None)
        event_end = closing.sample if closing else len(audio)
        start, end = event.sample, event_end
        while start < end and audio[start] == 0:  # a silent gap or stop closure before the sound
            start += 1
        while end > start and audio[end - 1] == 0:
            end -= 1
        if end - start < 0.05 * ESPEAK_RATE:
            raise ValueError(f"{clip.id}: {word!r} has only {end - start} samples of sound")
        spans.append(WordSpan(word, event.sample, event_end, start, end,
                              closing is None or closing.type != EVENT_WORD))
    return spans


def check(clip: Clip, raw: np.ndarray, spans: Sequence[WordSpan]) -> None:
    """Everything outside the words is exact zeros and every word starts and ends on sound."""
    edges = [0, *(x for span in spans for x in (span.start, span.end)), len(raw)]
    for end, start in zip(edges[::2], edges[1::2]):
        if np.any(raw[end:start] != 0):
            raise ValueError(f"{clip.id}: sound outside the words at samples {end}-{start}")
    for span in spans:
        if raw[span.start] == 0 or raw[span.end - 1] == 0:
            raise ValueError(f"{clip.id}: {span.word!r} does not start and end on sound")


def make_clip(clip: Clip, raw: np.ndarray,
              events: Sequence[Event]) -> tuple[np.ndarray, dict[str, Any], list[WordSpan]]:
    """espeak's output for a clip -> the 16 kHz clip, its manifest line and the word spans at 22050 Hz."""
    spans = word_boundaries(clip, raw, events)
    check(clip, raw, spans)
    peak = np.abs(raw.astype(np.float64)).max()
    audio = resample_poly(raw.astype(np.float64) * (10 ** (PEAK_DBFS / 20) / peak), UP, DOWN)
    rng = np.random.default_rng(clip.seed)
    lead = int(round(rng.uniform(*LEAD_PAUSE_S) * RATE))
    trail = int(round(TRAIL_PAUSE_S * RATE))
    audio = np.concatenate([np.zeros(lead), audio, np.zeros(trail)])

    def seconds(sample: int) -> float:
        return round(lead / RATE + sample / ESPEAK_RATE, DECIMALS)

    words = [{"word": s.word, "start": seconds(s.start), "end": seconds(s.end)} for s in spans]
    line = {"id": clip.id, "audio": clip.audio, "reference": clip.text, "language": "en", "task": "transcribe",
            "words": words}
    return audio, line, spans


def report(all_spans: Sequence[Sequence[WordSpan]]) -> None:
    """How the boundaries come about: gaps between words and how far the sound lies from the events."""
    ms = 1000 / ESPEAK_RATE

    def stats(values: Sequence[float]) -> str:
        v = np.asarray(values, dtype=float) * ms
        if not len(v):
            return "  0"
        return f"{len(v):3d}  median {np.median(v):5.1f}  range {v.min():5.1f}-{v.max():5.1f} ms"

    pairs = [(a, b) for spans in all_spans for a, b in zip(spans[:-1], spans[1:])]
    gaps = [b.start - a.end for a, b in pairs]
    paused = [b.start - a.end for a, b in pairs if a.closed_by_pause]
    silent = [g for (a, _), g in zip(pairs, gaps) if not a.closed_by_pause and g * ms >= 1]
    words = [s for spans in all_spans for s in spans]
    print(f"boundaries between words: {len(pairs)}")
    print(f"  at a pause phoneme (clause pause), gap:    {stats(paused)}")
    print(f"  silent gap >= 1 ms (word gap, closure):    {stats(silent)}")
    print(f"  contiguous (gap < 1 ms), gap:              {stats([g for g in gaps if g * ms < 1])}")
    print(f"words: {len(words)}")
    late = [s.start - s.event_start for s in words if s.start > s.event_start]
    early = [s.event_end - s.end for s in words if s.end < s.event_end]
    print(f"  sound starts after the word event:         {stats(late)}")
    print(f"  sound ends before the closing event:       {stats(early)}")


def write_jsonl(path: Path, entries: Sequence[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--report", action="store_true", help="also print how the boundaries come about")
    parser.add_argument("--voice", default=VOICE, help=f"espeak-ng voice (default, the bundled set's: {VOICE})")
    parser.add_argument("--wpm", type=int, default=WORDS_PER_MINUTE,
                        help=f"speaking rate in words per minute (default, the bundled set's: {WORDS_PER_MINUTE})")
    args = parser.parse_args(argv)
    out: Path = args.out
    (out / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
    entries, all_spans = [], []
    synthesized = synthesize_fresh([c.text for c in CLIPS], args.voice, args.wpm)
    for clip, (raw, events) in zip(CLIPS, synthesized, strict=True):
        audio, line, spans = make_clip(clip, raw, events)
        sf.write(out / clip.audio, audio, RATE, format="FLAC", subtype="PCM_16", compression_level=FLAC_LEVEL)
        entries.append(line)
        all_spans.append(spans)
        size_kb = (out / clip.audio).stat().st_size / 1024
        print(f"{clip.id}.flac {len(audio) / RATE:5.2f} s {size_kb:6.1f} KiB {len(spans):2d} words")
    write_jsonl(out / MANIFEST, entries)
    if args.report:
        report(all_spans)


if __name__ == "__main__":
    sys.exit(main())
