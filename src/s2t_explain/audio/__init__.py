"""Audio input: reading files or arrays into mono float32 at the model's sample rate."""

from .io import load_audio

__all__ = ["load_audio"]
