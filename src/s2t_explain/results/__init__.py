"""Results: the per-utterance explanation object, its file format and atomic writes."""

from .explanation import Explanation
from .io import atomic_write, write_json

__all__ = ["Explanation", "atomic_write", "write_json"]
