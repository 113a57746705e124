"""SRT and WebVTT: one cue per word (word-level subtitles), written and read back.

Times are written to the millisecond (SRT ``HH:MM:SS,mmm``, VTT ``HH:MM:SS.mmm``); reading
accepts what we write plus the usual variants (VTT without hours, cue identifiers, notes).
"""

from __future__ import annotations

import re

from ..errors import ResultError
from .timestamps import Word

_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{3})")


def format_time(seconds: float, separator: str = ",") -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def parse_time(text: str) -> float:
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise ResultError(f"bad subtitle time {text!r}")
    h, m, s, ms = match.groups()
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def to_srt(words: list[Word]) -> str:
    cues = [f"{k}\n{format_time(w.start)} --> {format_time(w.end)}\n{w.word.strip()}\n" for k, w in enumerate(words, 1)]
    return "\n".join(cues)


def to_vtt(words: list[Word]) -> str:
    cues = [f"{format_time(w.start, '.')} --> {format_time(w.end, '.')}\n{w.word.strip()}\n" for w in words]
    return "WEBVTT\n\n" + "\n".join(cues)


def parse_cues(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of every cue of an SRT or WebVTT document."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        timing = next((k for k, ln in enumerate(lines) if "-->" in ln), None)
        if timing is None:
            continue  # the WEBVTT header, a NOTE, a STYLE block
        start, end = lines[timing].split("-->")
        cues.append((parse_time(start), parse_time(end.split()[0]), " ".join(lines[timing + 1 :])))
    return cues
