"""One self-contained HTML file: the page's data (JSON), script, styles and audio inline.

Nothing is fetched when the page opens: no CDN, no fonts, no network. The drawing code is our
own small canvas script (``static/explorer.js``, about 23 KB): heatmaps are pixel images, which
a canvas draws directly from 8-bit values through a colour table, so a plotting library (hundreds
of KB to MB inlined into every file) would add size and buy nothing here.
Colour maps: viridis for maps and agreement, greys for the spectrogram (both readable with
colour-vision deficiencies and in greyscale print); their 256-entry tables come from matplotlib.
"""

from __future__ import annotations

import base64
import html
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..files import write_text

# JSON inside <script> is read by the HTML parser before JSON.parse sees it: "</script" ends the
# element and "<!--" followed by "<script" switches the parser into a state where the closing tag
# is missed, and U+2028/2029 end a line in older JavaScript. Escaping < > & and those two (valid
# JSON: they can only stand inside strings) leaves the parser nothing to find in user text.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})

AUDIO_FORMATS = (("MP3", "MPEG_LAYER_III", "audio/mpeg"), ("FLAC", "PCM_16", "audio/flac"),
                 ("WAV", "PCM_16", "audio/wav"))  # the first that this machine's libsndfile writes


def colormap_hex(name: str) -> str:
    """A matplotlib colour map as 256 RGB triples, hex-encoded (1536 characters)."""
    from matplotlib import colormaps

    rgb = (colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)
    return rgb.tobytes().hex()


def audio_uri(samples: np.ndarray, sample_rate: int) -> str:
    """Compressed audio as a data URI (MP3 when libsndfile can write it, else FLAC, else WAV)."""
    import soundfile as sf

    for fmt, subtype, mime in AUDIO_FORMATS:
        buf = io.BytesIO()
        try:
            sf.write(buf, np.asarray(samples, dtype=np.float32), sample_rate, format=fmt, subtype=subtype)
        except (sf.LibsndfileError, TypeError, ValueError):
            continue
        return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    raise RuntimeError("libsndfile could not write MP3, FLAC or WAV")  # pragma: no cover (WAV always works)


def _asset(name: str) -> str:
    return (resources.files(__package__) / "static" / name).read_text(encoding="utf-8")


def render(data: dict[str, Any], title: str) -> str:
    """The page for ``data`` (``kind`` = ``utterance`` or ``study``) as one HTML string."""
    data = {**data, "colormap": colormap_hex("viridis"), "greys": colormap_hex("Greys_r")}
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).translate(_SCRIPT_SAFE)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "media-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{_asset('explorer.css')}</style>\n</head>\n<body>\n"
        "<main id=\"app\"></main>\n"
        f"<script type=\"application/json\" id=\"data\">{payload}</script>\n"
        f"<script>\n{_asset('explorer.js')}</script>\n</body>\n</html>\n"
    )


def write_page(path: str | Path, data: dict[str, Any], title: str) -> Path:
    """Write the page atomically; returns its path."""
    path = Path(path)
    write_text(path, render(data, title))
    return path
