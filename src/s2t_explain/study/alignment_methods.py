"""The alignment benchmark's methods: how each times words (a timestamp source, heads, edges).

Data only, no model code: the CLI lists them and stored results are timed with them without
torch; ``study.alignment`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..alignment.heads import HEAD_RANKINGS
from ..alignment.timestamps import timestamp_source
from ..registry import Registry

__all__ = ["ALIGNMENT_METHODS", "AlignmentMethod", "list_alignment_methods"]


@dataclass(frozen=True)
class AlignmentMethod:
    """How one benchmark method times words: from which map, with which heads and edges.

    Attention methods use a fixed head set (``heads``) or the top-k heads of a ``HEAD_RANKINGS``
    ranking, computed over every utterance, or over the others only (``leave_one_out``).
    """

    source: str = "attention"  # a timestamp source: a map over time (alignment.timestamps.timestamp_source)
    heads: str = "alignment"  # head set, when no ranking is given
    ranking: str | None = None  # rank heads with this HEAD_RANKINGS entry
    leave_one_out: bool = False
    edges: str | None = None  # None: the source's default (alignment.timestamps)

    @property
    def maps(self) -> set[str]:
        """The maps besides cross-attention this method needs (``spes-encoder``...); empty for attention alone."""
        maps = {timestamp_source(self.source).map} - {"attention"}
        if self.ranking is not None and HEAD_RANKINGS.get(self.ranking).needs_map:
            maps.add("spes-encoder")  # heads ranked by agreement with SM_H
        return maps


ALIGNMENT_METHODS: Registry[AlignmentMethod] = Registry("alignment method")
list_alignment_methods = ALIGNMENT_METHODS.names
for _name, _method in {
    "alignment-heads": AlignmentMethod(),
    "all-heads": AlignmentMethod(heads="all"),
    "discovered-unsupervised": AlignmentMethod(ranking="unsupervised"),
    "discovered-saliency": AlignmentMethod(ranking="saliency"),
    "discovered-reference": AlignmentMethod(ranking="reference", leave_one_out=True),
    "alignment-heads-trim": AlignmentMethod(edges="trim"),
    "saliency-input": AlignmentMethod(source="spes-input"),
    "saliency-encoder": AlignmentMethod(source="spes-encoder"),
}.items():
    ALIGNMENT_METHODS.register(_name)(_method)
