"""Running the explanation methods on one utterance, alone (``explain_methods``) or into a result
(``add_methods``)."""

from __future__ import annotations

from ..decoding import DecodingOptions
from ..decoding.scoring import make_transcript
from ..decoding.transcript import Transcript
from ..errors import OptionError, check_type
from ..explainers.base import Session
from ..explainers.run import explain_maps
from ..models.base import SpeechToTextModel
from ..pipeline import Audio, Prepared, prepared_audio
from ..results import Explanation
from ..results.maps import Map
from .catalog import MethodOptions, list_methods, method_name


def explain_methods(model: SpeechToTextModel, audio: Audio | Prepared, methods: list[str] | tuple[str, ...], *,
                    options: MethodOptions = MethodOptions(), decoding: DecodingOptions = DecodingOptions(),
                    text: str | None = None, transcript: Transcript | None = None,
                    sample_rate: int | None = None) -> dict[str, Map]:
    """Run each named method on one utterance; returns name -> :class:`Map` (values and cost).

    The token sequence is the decoded hypothesis (or ``text`` forced, or a given ``transcript``),
    the same one SPES and cross-attention explain.
    """
    check_type(options, MethodOptions, "options")
    if not methods:
        raise OptionError("no explanation method asked for; choose from: " + ", ".join(list_methods()))
    names = [method_name(name) for name in methods]  # unknown names and SPES maps fail before any work
    prepared = prepared_audio(model, audio, sample_rate)
    if transcript is None:
        transcript = make_transcript(model, prepared.states, decoding, text=text)
    with Session(model, prepared, transcript, methods=options) as session:
        return explain_maps(session, names)


def add_methods(result: Explanation, model: SpeechToTextModel, prepared: Prepared, methods: list[str] | tuple[str, ...],
                options: MethodOptions = MethodOptions()) -> dict[str, Map]:
    """Run ``methods`` on the utterance of ``result`` (its own transcript) and store their maps in
    ``result.maps``; returns them."""
    maps = explain_methods(model, prepared, methods, options=options, transcript=result.transcript)
    result.maps.update(maps)
    return maps
