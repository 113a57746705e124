"""A tiny named registry used for model adapters, head sets, scorers, masks, metrics, methods...

Errors list the valid names so that a typo is fixed in one step.

A registry whose implementations need torch is *declared*: its names and the module that
registers them (``home``) are given where it is made, in a module that imports no implementation.
Its names can then be listed and checked (option classes, CLI choices, timestamp sources) without
loading torch; ``get`` imports ``home`` on first use, and ``register`` refuses a name that was not
declared, so the declared names and the implementations cannot drift apart.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from .errors import OptionError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects; ``register`` works as a decorator."""

    def __init__(self, kind: str, names: Sequence[str] | None = None, home: str | None = None) -> None:
        if (names is None) != (home is None):
            raise ValueError("a declared registry needs both its names and its home module")
        self.kind = kind
        self._items: dict[str, T] = {}
        self._declared = None if names is None else list(names)
        self._home = home

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            if self._declared is not None and name not in self._declared:
                raise ValueError(f"{self.kind} {name!r} is not declared; add it to the registry's names")
            self._items[name] = obj
            return obj

        return add

    def check(self, name: str) -> str:
        """``name`` if the registry has it (declared or registered), else an :class:`OptionError`
        listing the names; imports no implementation."""
        if name not in self:
            raise OptionError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}")
        return name

    def get(self, name: str) -> T:
        self.check(name)
        if name not in self._items and self._home is not None:
            importlib.import_module(self._home)  # registers the declared names
        return self._items[name]

    def names(self) -> list[str]:
        return list(self._items) if self._declared is None else list(self._declared)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
