"""Grouping subword tokens into words.

Byte-level BPE tokens that start with a space begin a new word; punctuation-only tokens attach to
the word before them (or, at the very start, to the word after); for languages written without
spaces (Chinese, Japanese, Thai, Lao, Burmese, Cantonese) every token that is not punctuation is a
word of its own, as Whisper's tools do. Special tokens are never part of a word.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..tasks import NO_SPACE_LANGUAGES


@dataclass(frozen=True)
class WordSpan:
    text: str  # the word as written (leading space removed)
    tokens: tuple[int, ...]  # indices into the token list given to group_words


def is_punctuation(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and all(unicodedata.category(c).startswith("P") for c in stripped)


def group_words(labels: list[str], special: list[bool] | None = None, language: str | None = None) -> list[WordSpan]:
    """Split token ``labels`` (their text) into words; returns spans of token indices."""
    special = special if special is not None else [False] * len(labels)
    spaceless = language in NO_SPACE_LANGUAGES
    groups: list[list[int]] = []
    pending_punct: list[int] = []  # punctuation before the first word
    for i, (text, sp) in enumerate(zip(labels, special)):
        if sp or text == "":
            continue
        if is_punctuation(text):
            if groups and not text.startswith(" "):
                groups[-1].append(i)
            elif groups and text.startswith(" ") and not spaceless:
                groups.append([i])  # a free-standing mark like " -" is its own "word"
            else:
                pending_punct.append(i)
            continue
        starts_word = spaceless or text.startswith(" ") or not groups
        if starts_word:
            groups.append(pending_punct + [i])
            pending_punct = []
        else:
            groups[-1].append(i)
    if pending_punct:  # only punctuation in the whole sequence
        groups.append(pending_punct)
    return [WordSpan("".join(labels[i] for i in g).strip(), tuple(g)) for g in groups]
