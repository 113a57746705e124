"""Making a transcript: decode the audio (or force a text), then score it in one teacher-forced pass.

Search (``search.py``) only chooses the tokens; :func:`score` recomputes their log-probabilities
with one teacher-forced pass, so decoded and forced texts are scored the same way.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ..errors import OptionError
from ..models.base import SpeechToTextModel
from .options import DecodingOptions
from .search import generate
from .transcript import Transcript


@torch.no_grad()
def score(
    model: SpeechToTextModel, states: torch.Tensor, ids: list[int], distributions: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Teacher-forced log-probs of ids[1:] (I,), and optionally the full (I, V) log-distributions."""
    tokens = torch.tensor([ids[:-1]], device=states.device)
    logp = model.decode(tokens, states).logits[0].float().log_softmax(dim=-1)  # (I, V)
    target = torch.tensor(ids[1:], device=logp.device)
    picked = logp.gather(1, target[:, None])[:, 0].cpu().numpy()
    return picked, (logp.cpu().numpy() if distributions else None)


def resolve_language(model: SpeechToTextModel, states: torch.Tensor, options: DecodingOptions) -> str | None:
    if options.language is not None:
        return options.language
    return model.detect_language(states)


def make_transcript(
    model: SpeechToTextModel,
    states: torch.Tensor,
    options: DecodingOptions = DecodingOptions(),
    text: str | None = None,
    distributions: bool = False,
) -> Transcript:
    """Decode (or force ``text``) and score the sequence against encoder ``states`` (1, S, D)."""
    language = resolve_language(model, states, options)
    prompt = model.prompt(options.task, language)
    if text is not None:
        if not text.strip():
            raise OptionError("the forced text is empty; pass the words the audio says")
        body = model.encode_text(" " + text.strip()) + [model.eot]
        source = "forced"
    else:
        room = model.max_text_tokens - len(prompt)  # the decoder's positions bound generation
        body = generate(model, states, prompt, replace(options, max_new_tokens=min(options.max_new_tokens, room)))
        source = "decoded"
    if len(prompt) + len(body) > model.max_text_tokens:
        raise OptionError(
            f"sequence of {len(prompt) + len(body)} tokens exceeds the model's "
            f"{model.max_text_tokens}-token limit; explain a shorter text"
        )
    ids = prompt + body
    logprobs, dists = score(model, states, ids, distributions)
    targets = ids[1:]
    special = np.array([model.is_special(t) for t in targets], dtype=bool)
    return Transcript(
        ids=ids,
        labels=[model.token_text(t) for t in targets],
        special=special,
        logprobs=logprobs,
        text=model.decode_text(body).strip(),
        task=options.task,
        language=language,
        prompt_length=len(prompt),
        source=source,
        distributions=dists,
    )
