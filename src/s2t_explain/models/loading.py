"""``load_model(spec)``: resolve a model spec to an adapter.

Specs, tried in this order:
1. a bundled name (``whisper-tiny.en``, ``whisper-base``);
2. a local CTranslate2 / faster-whisper folder (``model.bin`` or ``model.bin.partN``);
3. a local Hugging Face folder (``config.json`` with a ``model_type``) or a hub id such as
   ``openai/whisper-tiny`` (needs network or a filled cache; loaded with transformers).
Each loader is registered in ``LOADERS``; a new model family adds one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from ..dtypes import DTYPE_NAMES
from ..errors import ModelError, OptionError
from ..registry import Registry
from .base import SpeechToTextModel
from .bundled import BUNDLED, DEFAULT_MODEL, bundled_names
from .config import read_config
from .ct2_format import model_bin_parts

# A loader returns an adapter, or None when the spec is not of its kind.
Loader = Callable[[str], SpeechToTextModel | None]
LOADERS: Registry[Loader] = Registry("model loader")
list_model_loaders = LOADERS.names  # spec kinds, in the order load_model tries them

DTYPES = {name: getattr(torch, name) for name in DTYPE_NAMES}


@LOADERS.register("bundled")
def _load_bundled(spec: str) -> SpeechToTextModel | None:
    if spec not in BUNDLED:
        return None
    from .whisper_adapter import WhisperAdapter

    first, *rest = BUNDLED[spec].folders()
    extra = [p for folder in rest for p in model_bin_parts(folder)]
    return WhisperAdapter.from_ct2_folder(first, name=spec, extra_parts=extra)


@LOADERS.register("ctranslate2")
def _load_ct2(spec: str) -> SpeechToTextModel | None:
    folder = Path(spec)
    if not folder.is_dir():
        return None
    config = read_config(folder)
    # CT2 folders hold model.bin (or parts), vocabulary.txt, or a config without HF's model_type.
    looks_ct2 = model_bin_parts(folder) or (folder / "vocabulary.txt").exists() or (
        config is not None and "model_type" not in config
    )
    if not looks_ct2:
        return None
    from .whisper_adapter import WhisperAdapter

    return WhisperAdapter.from_ct2_folder(folder, name=folder.name)


@LOADERS.register("huggingface")
def _load_hf(spec: str) -> SpeechToTextModel | None:
    path = Path(spec)
    if path.is_dir():
        config = read_config(path)
        if config is None or "model_type" not in config:
            return None
    elif path.exists() or spec.count("/") != 1 or spec.startswith((".", "/")):
        return None  # not a hub id of the form owner/name
    from .hf_adapter import HFAdapter

    return HFAdapter.from_pretrained(spec)


def parse_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise OptionError(f"unknown dtype {dtype!r}; use one of: {', '.join(DTYPES)}")
    return DTYPES[dtype]


def parse_device(device: str | torch.device | None) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise OptionError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"device {device!r} asked for, but this PyTorch has no CUDA device; use the cpu device")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise OptionError(f"device {device!r} does not exist; this machine has {torch.cuda.device_count()} GPU(s)")
    return dev


def load_model(
    spec: str | SpeechToTextModel = DEFAULT_MODEL,
    device: str | torch.device | None = "cpu",
    dtype: str | torch.dtype | None = None,
) -> SpeechToTextModel:
    """Load a model by spec (see module docs) on ``device`` in ``dtype`` (default float32)."""
    model: SpeechToTextModel | None = spec if isinstance(spec, SpeechToTextModel) else None
    if model is None:
        for name in LOADERS:
            model = LOADERS.get(name)(str(spec))
            if model is not None:
                break
        if model is None:
            raise ModelError(
                f"unknown model {spec!r}: use a bundled name ({', '.join(bundled_names())}), "
                "a CTranslate2/faster-whisper folder, or a Hugging Face model folder or id"
            )
    return model.to(parse_device(device), parse_dtype(dtype) or torch.float32)
