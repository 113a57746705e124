"""Cross-attention: capture for every layer/head, and aggregation over head sets."""

from .capture import cross_attention
from .heads import HEAD_SETS, aggregate, resolve_heads

__all__ = ["HEAD_SETS", "aggregate", "cross_attention", "resolve_heads"]
