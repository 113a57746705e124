"""Audio input: reading files or arrays into mono float32 at the model's sample rate."""

from .io import AudioWarning, check_header, header_warnings, load_audio

__all__ = ["AudioWarning", "check_header", "header_warnings", "load_audio"]
