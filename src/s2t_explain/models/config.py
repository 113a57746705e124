"""Reading a model folder's ``config.json`` with user-facing errors."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ModelError


def read_config(folder: Path) -> dict | None:
    """The folder's config.json as a dict; None if absent."""
    path = folder / "config.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{path} is not a readable JSON file: {e}") from e
    if not isinstance(data, dict):
        raise ModelError(f"{path} does not hold a JSON object")
    return data
