"""Interactive, self-contained HTML explorers: one utterance (``utterance_page``) and a study run
(``study_pages``: the run's page plus one page per utterance, linked).

Every page is one file with its data, script, styles and audio inline; it opens from disk in
any modern browser with no network. ``data`` builds what a page embeds (NumPy only), ``page``
writes the HTML, ``study`` assembles a run's tables and figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..results import Explanation
from .data import PageOptions, utterance_data
from .page import audio_uri, write_page
from .study import study_pages

__all__ = ["PageOptions", "study_pages", "utterance_data", "utterance_page"]


def utterance_page(result: Explanation, path: str | Path, *, audio: str | Path | np.ndarray | None = None,
                   sample_rate: int = 16_000, options: PageOptions = PageOptions(),
                   back: str | None = None) -> Path:
    """Write the explorer of one explanation to ``path`` (one HTML file); returns the path.

    ``audio``: the samples to embed (a path, or an array at ``sample_rate``); default: the file the
    result names, when it still exists (otherwise the page says so and shows everything else).
    ``back``: a link shown at the top (a study page). No model is needed.
    """
    data = utterance_data(result, options)
    data["audio"], data["audio_note"] = _audio(result, audio, sample_rate)
    data["back"] = back
    return write_page(path, data, f"s2t-explain: {Path(result.audio).name}")


def _audio(result: Explanation, audio: str | Path | np.ndarray | None, sample_rate: int) -> tuple[str | None, str]:
    from ..audio import load_audio

    source = audio if audio is not None else result.audio
    if isinstance(source, (str, Path)) and not Path(source).is_file():
        return None, f"Audio not embedded: {source} was not found (pass the audio file to embed it)."
    try:
        samples = load_audio(source, source_rate=sample_rate if isinstance(source, np.ndarray) else None,
                             check_silence=False)
    except AudioError as e:
        return None, f"Audio not embedded: {e}"
    return audio_uri(samples, 16_000), ""
