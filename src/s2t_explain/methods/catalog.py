"""The explanation methods other than SPES by name, and their options, with no torch loaded.

The methods are maps of ``explainers.catalog`` (family ``method``, plus the raw ``attention``);
their implementations are explainers (``explainers.attention_variants``, ``explainers.gradients``).
"""

from __future__ import annotations

from ..explainers.catalog import KINDS
from ..explainers.options import MethodOptions

__all__ = ["MethodOptions", "list_methods"]


def list_methods() -> list[str]:
    """Map names of the cheap methods: cross-attention and its variants, gradients."""
    return [k.name for k in KINDS.values() if k.family in ("attention", "method")]
