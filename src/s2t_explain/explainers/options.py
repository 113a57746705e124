"""Options of the gradient and attention-variant explainers (no torch loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError


@dataclass(frozen=True)
class MethodOptions:
    """Settings shared by the methods (all ours: the methods' papers leave them to the user)."""

    ig_steps: int = 16  # Integrated Gradients: Riemann steps (midpoint rule) from the baseline
    token_batch: int = 8  # tokens explained per batched backward pass
    absolute: bool = True  # report |attribution|: SPES scores (KL) are unsigned effect sizes

    def __post_init__(self) -> None:
        if self.ig_steps < 1:
            raise OptionError(f"ig_steps must be >= 1, got {self.ig_steps}")
        if self.token_batch < 1:
            raise OptionError(f"token_batch must be >= 1, got {self.token_batch}")
