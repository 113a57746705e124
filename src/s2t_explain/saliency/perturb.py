"""Perturbed forward passes: apply a batch of element masks, return logits for all tokens.

Baselines (the value occluded entries take) are ours; the paper's reference sets occluded
features to 0 in its normalised feature space, which for Whisper's log-mels is not silence.
Input (log-mel) baselines:
- ``silence`` (default): the value of the padding frames of the same input, i.e. Whisper's
  floor (8 log10 units below the loudest bin) that the model sees wherever there is no sound;
- ``zero``: 0 in Whisper's scaled space (about -40 dB below full scale: a loud, flat noise);
- ``mean``: each mel bin's mean over the speech frames.
Encoder-state baselines:
- ``silence`` (default): encoder output of the same input with every speech frame silenced,
  so occluded frames look like "nothing said here" at the same position;
- ``zero``: zero vectors; ``mean``: the mean state over speech frames.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..models.base import SpeechToTextModel
from .catalog import ENCODER_BASELINES, INPUT_BASELINES
from .masks import MaskFamily

# (features (F, N), n_frames T) -> baseline values broadcastable to (F, T)
InputBaseline = Callable[[torch.Tensor, int], torch.Tensor]


@INPUT_BASELINES.register("silence")
def _silence(features: torch.Tensor, n_frames: int) -> torch.Tensor:
    tail = features[:, n_frames:]
    return (tail.min() if tail.numel() else features.min()).reshape(1, 1)


@INPUT_BASELINES.register("zero")
def _zero(features: torch.Tensor, n_frames: int) -> torch.Tensor:
    return torch.zeros(1, 1, dtype=features.dtype)


@INPUT_BASELINES.register("mean")
def _mean(features: torch.Tensor, n_frames: int) -> torch.Tensor:
    return features[:, :n_frames].mean(dim=1, keepdim=True)


class DeviceMasks:
    """Element masks of a family built on the model's device: the unit masks (drawn on the host from
    the seeded stream, so every device gets the same masks) go over once per group and batch, and
    a gather by the group's unit labels (kept on the device) expands them to (B, *element_shape)."""

    def __init__(self, family: MaskFamily, device: torch.device) -> None:
        self.family, self.device = family, device
        self.labels = [torch.from_numpy(g.labels.astype(np.int64)).to(device) for g in family.groups]

    def __call__(self, ks: list[int]) -> torch.Tensor:
        """(B, *element_shape) bool on the device for masks ``ks``."""
        out = torch.empty((len(ks), *self.family.element_shape), dtype=torch.bool, device=self.device)
        groups = np.array([self.family.group_of(k) for k in ks])
        for g in np.unique(groups):
            at = np.flatnonzero(groups == g)
            units = torch.from_numpy(np.stack([self.family.unit_mask(ks[i]) for i in at])).to(self.device)  # (n, U)
            out[torch.from_numpy(at).to(self.device)] = units[:, self.labels[g]]  # gather: (n, *element_shape)
        return out


class InputPerturber:
    """Occludes (T, F) spectrogram entries; one encoder + decoder pass per mask."""

    def __init__(self, model: SpeechToTextModel, features: torch.Tensor, n_frames: int, ids: list[int],
                 baseline: str = "silence") -> None:
        self.model, self.n_frames = model, n_frames
        self.features = features.to(model.device, model.dtype)  # (F, N)
        self.baseline = INPUT_BASELINES.get(baseline)(features, n_frames).to(model.device, model.dtype)
        self.tokens = torch.tensor([ids[:-1]], device=model.device)  # (1, I)

    @torch.no_grad()
    def states(self, masks: np.ndarray | torch.Tensor) -> torch.Tensor:
        """masks (B, T, F) bool (NumPy, or a tensor already on the device), True = occluded -> encoder
        states (B, S, D) of the perturbed inputs."""
        occluded = torch.as_tensor(masks).to(self.model.device).transpose(1, 2)  # (B, F, T)
        x = self.features.expand(masks.shape[0], -1, -1).clone()  # (B, F, N)
        x[:, :, : self.n_frames] = torch.where(occluded, self.baseline, x[:, :, : self.n_frames])
        return self.model.encode(x)

    @torch.no_grad()
    def logits(self, masks: np.ndarray | torch.Tensor, token_masks: np.ndarray | None = None) -> torch.Tensor:
        """masks (B, T, F) bool -> logits (B, I, V); token_masks (B, I) zero token embeddings."""
        states = self.states(masks)
        tokens = self.tokens.expand(masks.shape[0], -1)
        tm = None if token_masks is None else torch.from_numpy(token_masks).to(self.model.device)
        return self.model.decode(tokens, states, token_mask=tm).logits


def silenced_features(features: torch.Tensor, n_frames: int) -> torch.Tensor:
    """The input with every speech frame set to the silence baseline, (F, N)."""
    out = features.clone()
    out[:, :n_frames] = _silence(features, n_frames)
    return out


# (features (F, N), n_frames T, states (1, S, D), model, T') -> baseline states (1, S, D)
EncoderBaseline = Callable[[torch.Tensor, int, torch.Tensor, SpeechToTextModel, int], torch.Tensor]


@ENCODER_BASELINES.register("silence")
def _encoded_silence(features: torch.Tensor, n_frames: int, states: torch.Tensor, model: SpeechToTextModel,
                     n_enc: int) -> torch.Tensor:
    with torch.no_grad():
        return model.encode(silenced_features(features, n_frames)[None])


@ENCODER_BASELINES.register("zero")
def _zero_states(features: torch.Tensor, n_frames: int, states: torch.Tensor, model: SpeechToTextModel,
                 n_enc: int) -> torch.Tensor:
    return torch.zeros_like(states)


@ENCODER_BASELINES.register("mean")
def _mean_state(features: torch.Tensor, n_frames: int, states: torch.Tensor, model: SpeechToTextModel,
                n_enc: int) -> torch.Tensor:
    return states[:, :n_enc].mean(dim=1, keepdim=True).expand_as(states)


class StatePerturber:
    """Occludes encoder states (whole frames or single entries); decoder passes only."""

    def __init__(self, model: SpeechToTextModel, features: torch.Tensor, states: torch.Tensor, n_frames: int,
                 ids: list[int], baseline: str = "silence") -> None:
        self.model = model
        self.states = states  # (1, S, D)
        self.n_enc = model.n_encoder_frames(n_frames)
        self.base = ENCODER_BASELINES.get(baseline)(features, n_frames, states, model, self.n_enc)  # (1, S, D)
        self.tokens = torch.tensor([ids[:-1]], device=model.device)
        self.frames = model.masked_state_decoder(self.states, self.base)

    @torch.no_grad()
    def logits(self, masks: np.ndarray) -> torch.Tensor:
        """masks (B, T') bool for whole frames, or (B, T', D) for single entries -> (B, I, V)."""
        b = masks.shape[0]
        tokens = self.tokens.expand(b, -1)
        full = torch.zeros((b, self.states.shape[1], *masks.shape[2:]), dtype=torch.bool, device=self.model.device)
        full[:, : self.n_enc] = torch.from_numpy(masks).to(self.model.device)
        if masks.ndim == 2:
            return self.frames.logits(tokens, full)
        states = torch.where(full, self.base, self.states)  # (B, S, D)
        return self.model.decode(tokens, states).logits
