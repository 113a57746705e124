"""Explanation methods other than SPES, scored against it: cross-attention variants (raw,
norm-weighted, gradient-weighted; per layer and head), gradient saliency over the input
(gradient x input, Integrated Gradients) and over the encoder states. See ``base`` for the
interface; ``explain_methods`` runs any of them on one utterance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .catalog import METHODS, MethodOptions, list_methods

if TYPE_CHECKING:
    from .api import add_methods, explain_methods
    from .base import Context, Cost, MethodMap

# names and options load no torch; running a method imports the implementations
__getattr__, __dir__ = lazy_exports(__name__, {"Context": ".base", "Cost": ".base", "MethodMap": ".base",
                                               "add_methods": ".api", "explain_methods": ".api"})

__all__ = ["METHODS", "Context", "Cost", "MethodMap", "MethodOptions", "add_methods", "explain_methods",
           "list_methods"]
