"""The fixed token sequence being explained, and how it is made (decoded or forced) and scored.

A transcript holds the full decoder sequence ``ids`` = prompt + text tokens (+ end-of-text).
Explanations look at the I = len(ids) - 1 *predicted* tokens ``ids[1:]``: row i of every map is
about predicting ``ids[i + 1]`` from the prefix ``ids[: i + 1]`` (one teacher-forced pass over
``ids[:-1]`` gives all of them). Prompt tokens are marked ``special`` and skipped by analyses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..errors import OptionError
from ..models.base import SpeechToTextModel
from .options import DecodingOptions
from .search import generate


@dataclass
class Transcript:
    ids: list[int]  # full sequence: prompt, text tokens, end-of-text
    labels: list[str]  # (I,) readable text of each predicted token ids[1:]
    special: np.ndarray  # (I,) bool: prompt/special tokens (end-of-text included)
    logprobs: np.ndarray  # (I,) log P(ids[i+1] | ids[:i+1], audio), teacher-forced
    text: str
    task: str
    language: str | None
    prompt_length: int
    source: str  # "decoded" or "forced"
    distributions: np.ndarray | None = field(default=None, repr=False)  # (I, V) log-probs if asked

    @property
    def targets(self) -> list[int]:
        """The I predicted token ids, ids[1:]."""
        return self.ids[1:]

    @property
    def n_text_tokens(self) -> int:
        return int((~self.special).sum())

    def top_alternatives(self, k: int) -> list[list[tuple[int, float]]]:
        """For each predicted token, the k most likely (id, log-prob) pairs; needs ``distributions``."""
        if self.distributions is None:
            raise ValueError("this transcript was made without distributions=True")
        top = np.argsort(-self.distributions, axis=1)[:, :k]  # (I, k)
        return [[(int(t), float(row[t])) for t in ids] for ids, row in zip(top, self.distributions)]

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "task": self.task,
            "language": self.language,
            "source": self.source,
            "prompt_length": self.prompt_length,
            "tokens": [
                {"id": int(t), "text": s, "special": bool(sp), "logprob": float(lp)}
                for t, s, sp, lp in zip(self.targets, self.labels, self.special, self.logprobs)
            ],
        }


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
