"""Names of the floating-point precisions a model or its passes can run in (no torch import here)."""

from __future__ import annotations

DTYPE_NAMES = ("float32", "float16", "bfloat16")  # torch dtypes of the same names
