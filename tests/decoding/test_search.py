"""Greedy/beam search and scoring on the tiny random model (hand-checkable properties)."""

import numpy as np
import pytest
import torch

from helpers import make_tiny_whisper, speechlike
from s2t_explain import explain_attention, transcribe
from s2t_explain.decoding import DecodingOptions, generate, make_transcript, score
from s2t_explain.errors import OptionError
from s2t_explain.pipeline import prepare


@pytest.fixture(scope="module")
def prepared(tiny_whisper):
    return prepare(tiny_whisper, speechlike(1.0))


def test_greedy_takes_argmax_of_allowed_tokens(tiny_whisper, prepared):
    prompt = tiny_whisper.prompt()
    out = generate(tiny_whisper, prepared.states, prompt, DecodingOptions(max_new_tokens=5))
    assert 1 <= len(out) <= 5
    # replay: every token is the argmax among non-suppressed tokens at its step
    suppressed = set(tiny_whisper.suppressed_tokens())
    for step, token in enumerate(out):
        logits = tiny_whisper.decode(torch.tensor([prompt + out[:step]]), prepared.states).logits[0, -1]
        allowed = [i for i in range(logits.shape[0]) if i not in suppressed
                   and (i < tiny_whisper.eot or i == tiny_whisper.eot)]
        if step == 0:
            allowed = [i for i in allowed if i not in tiny_whisper.suppressed_at_begin()]
        assert token == allowed[int(logits[allowed].argmax())]


def test_beam_is_at_least_as_likely_as_greedy(tiny_whisper, prepared):
    opts = DecodingOptions(max_new_tokens=4)
    prompt = tiny_whisper.prompt()
    greedy = generate(tiny_whisper, prepared.states, prompt, opts)
    beam = generate(tiny_whisper, prepared.states, prompt, DecodingOptions(max_new_tokens=4, beam_size=3))

    def total(ids):
        lp, _ = score(tiny_whisper, prepared.states, prompt + ids)
        return lp[len(prompt) - 1:].sum() / len(ids)

    assert total(beam) >= total(greedy) - 1e-4


def test_forced_text_scores_every_token(tiny_whisper, prepared):
    t = make_transcript(tiny_whisper, prepared.states, DecodingOptions(), text="hello there", distributions=True)
    assert t.source == "forced" and t.text == "hello there"
    assert t.ids[: t.prompt_length] == tiny_whisper.prompt() and t.ids[-1] == tiny_whisper.eot
    I = len(t.ids) - 1
    assert t.logprobs.shape == (I,) and t.special.shape == (I,) and len(t.labels) == I
    assert t.distributions.shape == (I, 51864)
    # log-probs are the distribution entries of the targets, and distributions normalise
    np.testing.assert_allclose(t.logprobs, t.distributions[np.arange(I), t.targets], rtol=1e-6)
    np.testing.assert_allclose(np.exp(t.distributions).sum(-1), 1.0, rtol=1e-4)
    assert list(t.special) == [True] + [False] * (I - 2) + [True]  # <|notimestamps|> ... <|endoftext|>


def test_empty_forced_text_is_an_error(tiny_whisper, prepared):
    with pytest.raises(OptionError, match="empty"):
        make_transcript(tiny_whisper, prepared.states, DecodingOptions(), text="  ")


@pytest.mark.parametrize("kwargs,message", [
    ({"beam_size": 0}, "beam size"),
    ({"task": "summarize"}, "unknown task"),
    ({"language": "xx"}, "unknown language code 'xx'"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(OptionError, match=message):
        DecodingOptions(**kwargs)


def test_english_only_model_rejects_translate_and_other_languages(tiny_whisper):
    with pytest.raises(OptionError, match="cannot translate"):
        tiny_whisper.prompt("translate")
    with pytest.raises(OptionError, match="English-only"):
        tiny_whisper.prompt("transcribe", "it")


def test_empty_hypothesis_does_not_crash(monkeypatch):
    """A model that ends at once gives an empty transcript; explaining it is a clear error."""
    model = make_tiny_whisper(seed=1)
    original = model.net.decoder.forward

    def eager_to_end(*args, **kwargs):
        logits = original(*args, **kwargs).clone()
        logits[..., model.eot] = 1e4
        return logits

    monkeypatch.setattr(model.net.decoder, "forward", eager_to_end)
    audio = speechlike(1.0)
    options = DecodingOptions(suppress_blank=False)
    empty = transcribe(model, audio, decoding=options)
    assert empty.text == "" and empty.n_text_tokens == 0 and empty.ids[-1] == model.eot
    with pytest.raises(OptionError, match="empty transcript"):
        explain_attention(model, audio, decoding=options)
