"""``attention``: the cross-attention weights of every decoder layer and head, (L, H, I, T')."""

from __future__ import annotations

import time

from ..attention.capture import cross_attention
from ..results.maps import Cost, Map
from .base import Explainer, Session
from .catalog import EXPLAINERS


@EXPLAINERS.register("attention")
class CrossAttention(Explainer):
    """One teacher-forced decoder pass with weight-returning cross-attention (``attention.capture``)."""

    def explain(self, session: Session) -> Map:
        start = time.perf_counter()
        n_enc = session.model.n_encoder_frames(session.prepared.features.n_frames)
        values = cross_attention(session.model, session.prepared.states, session.transcript.ids, n_enc)
        return self.new_map(values, Cost(time.perf_counter() - start, forward=1))
