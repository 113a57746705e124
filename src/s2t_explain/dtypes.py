"""Names of the floating-point precisions a model or its passes can run in (no torch import here)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DTYPE_NAMES = ("float32", "float16", "bfloat16")  # torch dtypes of the same names
PRECISIONS = ("auto", *DTYPE_NAMES)  # SaliencyOptions.precision: "auto" picks per device and map


@lru_cache(maxsize=1)
def cpu_has_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX; Linux /proc/cpuinfo).
    Elsewhere bfloat16 is emulated and slower than float32, so "auto" keeps float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
