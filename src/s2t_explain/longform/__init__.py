"""Long recordings: windows the model can take, each explained or aligned as a clip, stitched.

>>> from s2t_explain.longform import LongformOptions, run_long
>>> long = run_long(model, "lecture.flac", sources=("attention",), options=LongformOptions(windowing="vad"))
>>> long.text, long.words["attention"][:3], long.windows[:2]

Data flow: ``stream`` (the file read in pieces, its 10 ms level envelope) -> ``vad`` (speech
frames) -> ``windows`` (a registry of windowings: ``vad``, ``fixed``) -> ``run`` (each window
through the one-clip pipeline, words shifted to file time and kept by the window owning their
middle) -> ``alignment.checks`` (snap to speech, no zero-length or overlapping words).
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .options import LongformOptions
from .stream import AudioStream
from .windows import WINDOWINGS, Window, Windowing, list_windowings

if TYPE_CHECKING:
    from .run import LongResult, run_long, window_result, window_words

# the windows, options and stream are NumPy only; running (``run``) imports the model code on use
__getattr__, __dir__ = lazy_exports(__name__, {name: ".run" for name in
                                               ("LongResult", "run_long", "window_result", "window_words")})

__all__ = ["AudioStream", "LongResult", "LongformOptions", "WINDOWINGS", "Window", "Windowing", "list_windowings",
           "run_long", "window_result", "window_words"]
