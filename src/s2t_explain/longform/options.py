"""Long-form options: how a recording longer than the model's window is cut, in one visible place.

Every value here is ours (Whisper's papers fix none of them for explanations); the README's
"Long recordings" section gives the measurements behind the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError


@dataclass(frozen=True)
class LongformOptions:
    """How long audio becomes windows, and how words are stitched and checked.

    ``windowing``: ``vad`` (default) cuts inside pauses found by an energy detector and never sends
    a long silence to the model; ``fixed`` takes windows of ``window_seconds`` every
    ``window_seconds - overlap`` seconds and keeps each word in the window that owns its middle.
    """

    windowing: str = "vad"  # longform.windows.WINDOWINGS
    window_seconds: float = 30.0  # longest window given to the model (Whisper's input is 30 s)
    overlap: float = 5.0  # fixed windows: seconds shared by neighbours
    max_gap: float = 2.0  # vad: a pause longer than this always ends a window
    min_silence: float = 0.3  # vad: shorter dips inside speech are not pauses
    min_speech: float = 0.1  # vad: shorter bursts are not speech
    speech_pad: float = 0.1  # vad: seconds of context kept around speech
    threshold_db: float = 35.0  # vad: speech is louder than (loud level - threshold_db) ...
    floor_margin_db: float = 6.0  # ... and than (noise floor + floor_margin_db)
    snap: bool = True  # move word edges that fall in detected silence onto the speech next to them
    min_word: float = 0.02  # shortest word (s) after the timing checks: one encoder frame
    heads: str | list = "alignment"  # the cross-attention heads that time words from attention (head specs)
    top: int | None = None  # with heads="discovered": how many heads (default: the model's alignment heads)
    maps: tuple[str, ...] | str = ()  # maps each window's result keeps beyond those the sources need (names,
    # aliases or groups, or one comma-separated string; with saliency options and none: the SPES maps they set)

    def __post_init__(self) -> None:
        from .windows import WINDOWINGS

        WINDOWINGS.get(self.windowing)  # an unknown name fails here, naming the valid ones
        if not 1.0 <= self.window_seconds <= 30.0:
            raise OptionError(f"window_seconds must be between 1 and 30, got {self.window_seconds}")
        if not 0.0 <= self.overlap < self.window_seconds / 2:
            raise OptionError(f"overlap must be >= 0 and under half the window ({self.window_seconds / 2:g} s), "
                              f"got {self.overlap}")
        for name in ("max_gap", "min_silence", "min_speech", "speech_pad", "min_word"):
            if getattr(self, name) < 0:
                raise OptionError(f"{name} must be >= 0")
        if self.top is not None and self.top < 1:
            raise OptionError(f"top must be >= 1, got {self.top}")
        from ..explainers.catalog import GROUPS, canonical

        parts = self.maps.split(",") if isinstance(self.maps, str) else [str(m) for m in self.maps]
        names = tuple(p if p in GROUPS else canonical(p) for p in (p.strip() for p in parts) if p)
        object.__setattr__(self, "maps", names)  # unknown names fail here
