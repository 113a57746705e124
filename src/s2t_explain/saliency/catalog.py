"""The saliency registries whose implementations need torch, declared by name (``registry``).

Option classes and the CLI check scorer and baseline names here, with no torch loaded; the
implementations (``scorers``, ``perturb``) register exactly these names when imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..registry import Registry

if TYPE_CHECKING:
    from .perturb import EncoderBaseline, InputBaseline
    from .scorers import Scorer
else:
    Scorer = InputBaseline = EncoderBaseline = Any

SCORERS: Registry[Scorer] = Registry("scorer", ("kl", "prob_drop"), home="s2t_explain.saliency.scorers")
SCORER_UNITS = {"kl": "KL divergence (nats)", "prob_drop": "probability drop"}  # the units of a SPES map, per scorer
INPUT_BASELINES: Registry[InputBaseline] = Registry("input baseline", ("silence", "zero", "mean"),
                                                    home="s2t_explain.saliency.perturb")
ENCODER_BASELINES: Registry[EncoderBaseline] = Registry("encoder baseline", ("silence", "zero", "mean"),
                                                        home="s2t_explain.saliency.perturb")
list_scorers = SCORERS.names


def list_baselines() -> dict[str, list[str]]:
    """{"input": values occluded spectrogram entries take, "encoder": values occluded encoder states take}."""
    return {"input": INPUT_BASELINES.names(), "encoder": ENCODER_BASELINES.names()}
