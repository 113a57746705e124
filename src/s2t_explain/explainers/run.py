"""Running explainers on one utterance (imports every implementation: each registers its name
in ``catalog.EXPLAINERS``)."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ..results.maps import Map
from . import attention, attention_variants, gradients, spes  # noqa: F401  (registers)
from .base import Session
from .catalog import EXPLAINERS


def explain_maps(session: Session, names: Iterable[str]) -> dict[str, Map]:
    """name -> :class:`Map` for each name, in the order given (names are checked before any work)."""
    explainers = {name: EXPLAINERS.get(name)(name) for name in names}
    with torch.no_grad():  # explainers turn gradients on where they need them
        return {name: explainer.explain(session) for name, explainer in explainers.items()}
