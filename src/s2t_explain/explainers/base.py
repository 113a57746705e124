"""The explainer interface: one registered class per map name, run on one prepared utterance.

An :class:`Explainer` turns a :class:`Session` (the model, the prepared audio, the fixed token
sequence and the options) into a :class:`~s2t_explain.results.maps.Map`. The session builds the
shared pieces once, on first use: the SPES job (clean distributions, workers; SM_X and token
saliency come from the same masks) and the gradient methods' context (baseline input).
A new method is one class in one file::

    @EXPLAINERS.register("my-method")      # and its MapKind in explainers/catalog.py
    class MyMethod(Explainer):
        def explain(self, session: Session) -> Map: ...
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..decoding.transcript import Transcript
from ..executors.base import Executor
from ..models.base import SpeechToTextModel
from ..results.maps import Cost, Map
from ..saliency.options import SaliencyOptions
from .catalog import KINDS
from .options import MethodOptions

if TYPE_CHECKING:
    from ..pipeline import Prepared
    from ..saliency.engine import MapRun
    from ..saliency.explain import SaliencyJob
    from .differentiable import Context


@dataclass
class Session:
    """One utterance, fixed, and what its explainers share (see the module docs)."""

    model: SpeechToTextModel
    prepared: Prepared  # features (F, N) with T speech frames, encoder states (1, S, D)
    transcript: Transcript  # its I predicted tokens ids[1:] are the rows of every map
    saliency: SaliencyOptions = field(default_factory=SaliencyOptions)
    methods: MethodOptions = field(default_factory=MethodOptions)
    progress: bool = True
    executor: Executor | None = None
    _job: SaliencyJob | None = None
    _input_runs: tuple[MapRun, MapRun | None] | None = None
    _context: Context | None = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._job is not None:
            self._job.close()  # stops the SPES workers, if any were started

    def job(self) -> SaliencyJob:
        from ..saliency.explain import SaliencyJob

        if self._job is None:
            f = self.prepared.features
            self._job = SaliencyJob(self.model, f.values, f.n_frames, self.prepared.states, self.transcript,
                                    self.saliency, progress=self.progress, executor=self.executor)
        return self._job

    def input_runs(self) -> tuple[MapRun, MapRun | None]:
        """SM_X's run and, with previous-token masking (p_dec > 0), token saliency's: one set of masks."""
        if self._input_runs is None:
            self._input_runs = self.job().input_saliency()
        return self._input_runs

    def context(self) -> Context:
        from ..saliency.perturb import silenced_features
        from .differentiable import Context

        if self._context is None:
            f = self.prepared.features
            self._context = Context(self.model, f.values, f.n_frames, self.prepared.states, self.transcript,
                                    silenced_features(f.values, f.n_frames))
        return self._context

    def saliency_record(self) -> dict[str, Any]:
        """The SPES options as stored with each SPES map."""
        return asdict(self.saliency)


class Explainer(ABC):
    """Makes the map of its registered name (``EXPLAINERS.get(name)(name)``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def explain(self, session: Session) -> Map:
        """The map of this explainer over the session's transcript."""

    def new_map(self, values: Any, cost: Cost, reliability: dict[str, Any] | None = None,
                options: dict[str, Any] | None = None, units: str | None = None) -> Map:
        """A :class:`Map` with this explainer's catalogue grain, label and units."""
        return KINDS[self.name].new(values, cost, reliability, options, units)
