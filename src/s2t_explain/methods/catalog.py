"""The explanation methods other than SPES by name, and their options, with no torch loaded.

The methods are maps of ``explainers.catalog`` (family ``method``, plus the raw ``attention``);
their implementations are explainers (``explainers.attention_variants``, ``explainers.gradients``).
"""

from __future__ import annotations

from ..errors import OptionError
from ..explainers.catalog import KINDS, canonical
from ..explainers.options import MethodOptions

__all__ = ["MethodOptions", "list_methods", "method_name"]


def list_methods() -> list[str]:
    """Map names of the cheap methods: cross-attention and its variants, gradients."""
    return [k.name for k in KINDS.values() if k.family in ("attention", "method")]


def method_name(name: str) -> str:
    """The map name of method ``name`` (aliases understood); SPES maps and unknown names fail,
    naming the methods (SPES is computed by ``explain``, with saliency options)."""
    key = canonical(name)
    if key not in list_methods():
        raise OptionError(f"{name!r} is not an explanation method (SPES maps come from explain with saliency "
                          f"options); choose one of: {', '.join(list_methods())}")
    return key
