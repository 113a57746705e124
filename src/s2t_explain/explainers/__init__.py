"""Explainers: every explanation map by name (``catalog``, no torch), the interface (``base``)
and running them (``run``). ``Explanation.maps`` holds what they return."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .catalog import DEFAULT_MAPS, EXPLAINERS, KINDS, MapKind, canonical, list_maps, resolve_maps

if TYPE_CHECKING:
    from .base import Explainer, Session
    from .run import explain_maps

__getattr__, __dir__ = lazy_exports(__name__, {"Explainer": ".base", "Session": ".base", "explain_maps": ".run"})

__all__ = ["DEFAULT_MAPS", "EXPLAINERS", "KINDS", "Explainer", "MapKind", "Session", "canonical", "explain_maps",
           "list_maps", "resolve_maps"]
