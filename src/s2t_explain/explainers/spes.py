"""The paper's perturbation maps (SPES): ``spes-input`` (SM_X, (I, T, F)), ``spes-encoder``
(SM_H, (I, T')) and ``spes-token`` ((I, I), from the same masks as SM_X when p_dec > 0).

The masks, scoring and estimation are in ``s2t_explain.saliency``; these classes run it through
the session's :class:`~s2t_explain.saliency.explain.SaliencyJob` and record each map's masks,
split-half reliability and options with it.
"""

from __future__ import annotations

import math

from ..errors import OptionError
from ..results.maps import Cost, Map
from ..saliency.catalog import SCORER_UNITS
from ..saliency.engine import MapRun
from ..saliency.fidelity import assess
from .base import Explainer, Session
from .catalog import EXPLAINERS


class SpesExplainer(Explainer):
    which = "input"  # whose perturbation passes make the map (``SaliencyJob`` plans)

    def spes_map(self, session: Session, run: MapRun, batch_size: int, extra: dict | None = None) -> Map:
        """The map of ``run``: cost in batched passes, its reliability record (with the precision
        its passes ran in, and ``extra``) and the SPES options."""
        passes = math.ceil(run.n_masks / batch_size) if batch_size else 0
        record = {**run.summary(), "precision": session.job().precisions[self.which], **(extra or {})}
        return self.new_map(run.values, Cost(run.seconds, forward=passes), reliability=record,
                            options=session.saliency_record(), units=SCORER_UNITS.get(session.saliency.scorer))


@EXPLAINERS.register("spes-input")
class InputSpes(SpesExplainer):
    def explain(self, session: Session) -> Map:
        if session.saliency.input is None:
            raise OptionError("spes-input needs input saliency options (SaliencyOptions.input is None)")
        run, _ = session.input_runs()
        fidelity = assess(session.saliency, run.reliability_pooled, run.n_masks)
        return self.spes_map(session, run, session.job().batch_sizes.get("input", 0),
                             {"fidelity": fidelity.record()})


@EXPLAINERS.register("spes-encoder")
class EncoderSpes(SpesExplainer):
    which = "encoder"

    def explain(self, session: Session) -> Map:
        if session.saliency.encoder is None:
            raise OptionError("spes-encoder needs encoder saliency options (SaliencyOptions.encoder is None)")
        run = session.job().encoder_saliency()
        return self.spes_map(session, run, session.job().batch_sizes.get("encoder", 0))


@EXPLAINERS.register("spes-token")
class TokenSpes(SpesExplainer):
    def explain(self, session: Session) -> Map:
        options = session.saliency.input
        if options is None or options.p_dec <= 0:
            raise OptionError("spes-token needs previous-token masking: set InputSaliencyOptions(p_dec=...) "
                              "above 0 (the paper uses 0.5)")
        _, run = session.input_runs()
        assert run is not None
        return self.spes_map(session, run, session.job().batch_sizes.get("input", 0))
