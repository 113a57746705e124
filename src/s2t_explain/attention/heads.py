"""Head sets: which (layer, head) pairs to average, and the averaging itself.

Named sets live in ``HEAD_SETS`` (``all``, ``alignment``, ``last-layer``); patterns are parsed too:
``layer:N`` (all heads of layer N), ``head:L,H`` (one head), or a JSON list ``[[L, H], ...]``.
Layers and heads count from 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import OptionError
from ..registry import Registry

HeadSet = list[tuple[int, int]]
# A named head set: (n_layers, n_heads, model alignment heads or None) -> pairs
HeadSetFn = Callable[[int, int, "HeadSet | None"], HeadSet]
HEAD_SETS: Registry[HeadSetFn] = Registry("head set")
list_head_sets = HEAD_SETS.names  # named sets; layer:N, head:L,H and [[L, H], ...] work too


@HEAD_SETS.register("all")
def _all(n_layers: int, n_heads: int, alignment: HeadSet | None) -> HeadSet:
    return [(l, h) for l in range(n_layers) for h in range(n_heads)]


@HEAD_SETS.register("alignment")
def _alignment(n_layers: int, n_heads: int, alignment: HeadSet | None) -> HeadSet:
    if alignment:
        return list(alignment)
    # Whisper's own fallback for models without a list: all heads of the upper half of layers.
    return [(l, h) for l in range(n_layers // 2, n_layers) for h in range(n_heads)]


@HEAD_SETS.register("last-layer")
def _last_layer(n_layers: int, n_heads: int, alignment: HeadSet | None) -> HeadSet:
    return [(n_layers - 1, h) for h in range(n_heads)]


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise OptionError(f"bad {what} {text!r} in head set; expected an integer") from None


def resolve_heads(
    spec: str | Sequence[Sequence[int]],
    n_layers: int,
    n_heads: int,
    alignment: HeadSet | None = None,
) -> HeadSet:
    """Turn a head-set spec into a checked list of (layer, head) pairs."""
    if isinstance(spec, str):
        text = spec.strip()
        if text in HEAD_SETS:
            pairs = HEAD_SETS.get(text)(n_layers, n_heads, alignment)
        elif text.startswith("layer:"):
            layer = _parse_int(text[6:], "layer")
            pairs = [(layer, h) for h in range(n_heads)]
        elif text.startswith("head:"):
            parts = text[5:].split(",")
            if len(parts) != 2:
                raise OptionError(f"bad head spec {text!r}; write head:LAYER,HEAD, e.g. head:3,1")
            pairs = [(_parse_int(parts[0], "layer"), _parse_int(parts[1], "head"))]
        elif text.startswith("["):
            try:
                pairs = [tuple(p) for p in json.loads(text)]  # type: ignore[misc]
            except (json.JSONDecodeError, TypeError) as e:
                raise OptionError(f"bad head list {text!r}: {e}; write [[layer, head], ...]") from None
        else:
            raise OptionError(
                f"unknown head set {text!r}; use {', '.join(HEAD_SETS.names())}, layer:N, head:L,H "
                "or a list [[layer, head], ...]"
            )
    else:
        pairs = [tuple(p) for p in spec]  # type: ignore[misc]
    return _check(pairs, n_layers, n_heads)


def _check(pairs: list, n_layers: int, n_heads: int) -> HeadSet:
    if not pairs:
        raise OptionError("the head set is empty")
    out: HeadSet = []
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(x, (int, np.integer)) for x in pair):
            raise OptionError(f"bad head {pair!r}; each head is [layer, head]")
        layer, head = int(pair[0]), int(pair[1])
        if not 0 <= layer < n_layers:
            raise OptionError(f"layer {layer} does not exist; the model has layers 0..{n_layers - 1}")
        if not 0 <= head < n_heads:
            raise OptionError(f"head {head} does not exist; each layer has heads 0..{n_heads - 1}")
        out.append((layer, head))
    return sorted(set(out))


def aggregate(attention: np.ndarray, heads: HeadSet) -> np.ndarray:
    """Mean over ``heads`` of ``attention`` (L, H, I, T') -> (I, T')."""
    layers = np.array([l for l, _ in heads])
    idx = np.array([h for _, h in heads])
    return attention[layers, idx].mean(axis=0)
