"""Cross-attention: capture for every layer/head (runs the model), and aggregation over head sets.

Head sets and aggregation are NumPy only; ``cross_attention`` (torch) is imported on first use.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .heads import HEAD_SETS, aggregate, resolve_heads

if TYPE_CHECKING:
    from .capture import cross_attention

__getattr__, __dir__ = lazy_exports(__name__, {"cross_attention": ".capture"})

__all__ = ["HEAD_SETS", "aggregate", "cross_attention", "resolve_heads"]
