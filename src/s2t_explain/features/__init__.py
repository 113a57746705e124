"""Feature extraction: audio samples -> model input features."""

from .whisper_mel import Features, log_mel_spectrogram, mel_filters

__all__ = ["Features", "log_mel_spectrogram", "mel_filters"]
