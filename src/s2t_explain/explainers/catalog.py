"""Every explanation map by name: its display label, grain and units (no torch loaded).

These names are used everywhere: ``explain(maps=...)``, the CLI's ``--maps``, the keys of
``Explanation.maps`` and of the ``.npz`` file, timestamp sources (``--from NAME``), head ranking
(``heads --map NAME``) and the explorer. The implementations (``explainers.run`` imports them)
register exactly these names in :data:`EXPLAINERS`; option classes and the CLI check names here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..registry import Registry

if TYPE_CHECKING:
    from ..results.maps import Cost, Map
    from .base import Explainer
else:
    Explainer = Any


@dataclass(frozen=True)
class MapKind:
    """What a named map is, before it is computed."""

    name: str
    label: str  # display label (the paper's SM_X, SM_H; CA for cross-attention)
    grain: str  # see results.maps.GRAINS
    units: str
    family: str  # "attention" (free), "spes" (perturbation, the paper's), "method" (others, s2t_explain.methods)
    description: str

    def new(self, values: Any, cost: Cost | None = None, reliability: dict[str, Any] | None = None,
            options: dict[str, Any] | None = None, units: str | None = None) -> Map:
        """A :class:`~s2t_explain.results.maps.Map` of this kind (its grain, label and units) holding
        ``values``: how explainers make maps, and how to wrap arrays computed elsewhere."""
        from ..results.maps import Cost, Map

        return Map(values, self.grain, self.units if units is None else units, cost or Cost(), reliability,
                   options or {}, self.label)


KINDS: dict[str, MapKind] = {k.name: k for k in (
    MapKind("attention", "CA", "per-head", "attention weight", "attention",
            "cross-attention weights of every layer and head (one decoder pass)"),
    MapKind("spes-input", "SM_X", "input", "KL divergence (nats)", "spes",
            "SPES over the input spectrogram: occluded superpixels' effect on each token"),
    MapKind("spes-encoder", "SM_H", "encoder", "KL divergence (nats)", "spes",
            "SPES over the encoder's output states: occluded frames' effect on each token"),
    MapKind("spes-token", "SM_Y", "token", "KL divergence (nats)", "spes",
            "SPES over the previous tokens (needs previous-token masking, p_dec > 0)"),
    MapKind("attention-norm", "CA-norm", "per-head", "attention weight x value norm", "method",
            "attention x ||W_O v|| per head: what each frame adds to the output (Kobayashi et al. 2020)"),
    MapKind("attention-grad", "CA-grad", "per-head", "|attention weight x log-prob gradient|", "method",
            "attention x gradient of the token's log-probability w.r.t. the attention weights"),
    MapKind("grad-input", "GxI", "input", "|log-prob gradient x (input - baseline)|", "method",
            "gradient x (input - silence baseline) over the spectrogram"),
    MapKind("integrated-gradients", "IG", "input", "|integrated log-prob gradient x (input - baseline)|", "method",
            "Integrated Gradients from the silence baseline (Sundararajan et al. 2017)"),
    MapKind("grad-encoder", "GxH", "encoder", "|log-prob gradient x (states - baseline states)|", "method",
            "gradient x (encoder states - silenced input's states), summed over D (decoder passes only)"),
)}

EXPLAINERS: Registry[type[Explainer]] = Registry("explanation map", tuple(KINDS), home="s2t_explain.explainers.run")
list_maps = EXPLAINERS.names

DEFAULT_MAPS = ("attention", "spes-input", "spes-encoder")  # what ``explain`` computes unless told
# names used before maps had one name each (format-1 files, older commands): still understood
ALIASES = {"cross-attention": "attention", "SMX": "spes-input", "input": "spes-input",
           "saliency-input": "spes-input", "SMH": "spes-encoder", "encoder": "spes-encoder",
           "saliency-encoder": "spes-encoder", "tokens": "spes-token",
           **{k.label: k.name for k in KINDS.values()}}  # every display label too: CA, SM_X, SM_H, SM_Y, GxH...
GROUPS = {"all": tuple(KINDS), "default": DEFAULT_MAPS, "spes": ("spes-input", "spes-encoder"),
          "methods": tuple(k.name for k in KINDS.values() if k.family == "method")}


def canonical(name: str) -> str:
    """The map's name (an alias or ``method:NAME`` resolved); an unknown name fails, listing the names."""
    name = name.strip()
    name = name.split(":", 1)[1] if name.startswith("method:") else name
    return EXPLAINERS.check(ALIASES.get(name, name))


def _parts(spec: str | Iterable[str]) -> list[str]:
    parts = spec.split(",") if isinstance(spec, str) else [p for item in spec for p in str(item).split(",")]
    return [p.strip() for p in parts if p.strip()]


def resolve_maps(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Map names in catalogue order from a spec: names, aliases or groups (``all``, ``default``,
    ``spes``, ``methods``), comma-separated or as a list. ``attention`` is always included (every
    result has it: it comes with the transcript, one decoder pass)."""
    chosen = {"attention"}
    for part in _parts(spec):
        chosen.update(GROUPS[part] if part in GROUPS else (canonical(part),))
    return tuple(name for name in KINDS if name in chosen)


def named_maps(spec: str | Iterable[str]) -> set[str]:
    """The maps a spec names one by one (not through a group)."""
    return {canonical(part) for part in _parts(spec) if part not in GROUPS}


def new_map(name: str, values: Any, *args: Any, **kwargs: Any) -> Map:
    """``KINDS[name].new(values, ...)`` with aliases understood: ``new_map("SM_H", smh)``."""
    return KINDS[canonical(name)].new(values, *args, **kwargs)


def needs_spes(names: Iterable[str]) -> bool:
    return any(KINDS[n].family == "spes" for n in names)
