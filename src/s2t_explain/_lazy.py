"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package lists ``name -> submodule``; the submodule is imported on first access of the name.
This keeps ``import s2t_explain.metrics`` (or ``results``, ``plots``...) from loading torch
through a package ``__init__`` that merely re-exports the model-facing API.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, resolving ``names[attr]`` (a relative module) on use."""

    def __getattr__(attr: str) -> Any:
        if attr not in names:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        value = getattr(importlib.import_module(names[attr], package), attr)
        setattr(sys.modules[package], attr, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
