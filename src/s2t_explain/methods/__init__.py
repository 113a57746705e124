"""Explanation methods other than SPES, scored against it: cross-attention variants
(norm-weighted, gradient-weighted; per layer and head), gradient saliency over the input
(gradient x input, Integrated Gradients) and over the encoder states. Each is an explainer
(``s2t_explain.explainers``); see ``base`` for the interface; ``explain_methods`` runs any of
them on one utterance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .catalog import MethodOptions, list_methods

if TYPE_CHECKING:
    from ..explainers.differentiable import Context, Passes
    from .api import add_methods, explain_methods

# names and options load no torch; running a method imports the implementations
_DIFFERENTIABLE = "..explainers.differentiable"
__getattr__, __dir__ = lazy_exports(__name__, {"Context": _DIFFERENTIABLE, "Passes": _DIFFERENTIABLE,
                                               "add_methods": ".api", "explain_methods": ".api"})

__all__ = ["Context", "MethodOptions", "Passes", "add_methods", "explain_methods", "list_methods"]
