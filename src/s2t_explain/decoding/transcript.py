"""The transcript record: the fixed token sequence being explained, with its scores.

How a transcript is made (decoded or forced, then scored) is in ``scoring.py``; this module is
NumPy only, so stored results load without torch.

A transcript holds the full decoder sequence ``ids`` = prompt + text tokens (+ end-of-text).
Explanations look at the I = len(ids) - 1 *predicted* tokens ``ids[1:]``: row i of every map is
about predicting ``ids[i + 1]`` from the prefix ``ids[: i + 1]`` (one teacher-forced pass over
``ids[:-1]`` gives all of them). Prompt tokens are marked ``special`` and skipped by analyses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Transcript:
    """A decoded or forced token sequence and the model's teacher-forced scores for it.

    ``ids`` is the whole decoder sequence; every per-token field has one entry per *predicted*
    token ``ids[1:]`` (I = len(ids) - 1 entries), in the same order as the rows of every map.
    ``special`` marks the prompt tokens and end-of-text, which aggregated views leave out.
    ``distributions`` (I, V) is kept only when asked for (``distributions=True``): saliency
    reuses it as the clean pass, ``top_alternatives`` reads it.
    """

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

    def text_rows(self, include_eos: bool = False) -> np.ndarray:
        """(I,) bool: the rows of text tokens, plus the end-of-text row if asked for (and present)."""
        rows = ~self.special
        if include_eos and self.labels and self.labels[-1] == "<|endoftext|>":
            rows = rows.copy()
            rows[-1] = True
        return rows

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
        """JSON-ready form (the ``transcript`` entry of a result's ``meta``); arrays are stored beside it."""
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

    @classmethod
    def from_dict(cls, data: dict, ids: list[int], special: np.ndarray, logprobs: np.ndarray) -> Transcript:
        """Rebuild from :meth:`to_dict` output and the stored arrays (ids (I+1,), special (I,), logprobs (I,))."""
        return cls(ids=ids, labels=[tok["text"] for tok in data["tokens"]], special=special.astype(bool),
                   logprobs=logprobs, text=data["text"], task=data["task"], language=data["language"],
                   prompt_length=data["prompt_length"], source=data["source"])
