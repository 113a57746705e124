"""Cross-attention of every decoder layer and head for a fixed token sequence.

One teacher-forced pass over ``ids[:-1]`` with weight-returning cross-attention gives, for each
predicted token ids[i+1], the attention of its query over encoder frames. The array is cropped
to the T' encoder frames that see speech; values are the model's softmax weights over the full
encoder window, so a row sums to at most 1 (the rest went to padding frames).
"""

from __future__ import annotations

import numpy as np
import torch

from ..models.base import SpeechToTextModel


@torch.no_grad()
def cross_attention(
    model: SpeechToTextModel, states: torch.Tensor, ids: list[int], n_encoder_frames: int
) -> np.ndarray:
    """Cross-attention for ids[1:], shape (L, H, I, T') float32."""
    tokens = torch.tensor([ids[:-1]], device=states.device)
    out = model.decode(tokens, states, attention=True)
    if out.cross_attention is None:
        raise RuntimeError(f"{model.name} returned no cross-attention")
    weights = out.cross_attention[0, :, :, :, :n_encoder_frames]  # (L, H, I, T')
    return weights.float().cpu().numpy()
