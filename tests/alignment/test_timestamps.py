"""Word timestamps on a planted alignment, with hand-checkable times."""

import numpy as np
import pytest

from s2t_explain.alignment.timestamps import to_whisper_json, token_starts, word_timestamps
from s2t_explain.decoding.transcript import Transcript
from s2t_explain.errors import OptionError
from s2t_explain.results.explanation import Explanation
from s2t_explain.results.maps import Map

# predicted rows: prompt token, " The", " light", "house", ".", end-of-text
LABELS = ["<|notimestamps|>", " The", " light", "house", ".", "<|endoftext|>"]
SPECIAL = np.array([True, False, False, False, False, True])
SPANS = {1: (0, 8), 2: (8, 12), 3: (12, 18), 4: (18, 22), 5: (22, 30)}  # row -> planted frames


def planted(with_saliency=False, noise=0.0):
    rng = np.random.default_rng(0)
    t = 30
    attention = np.full((2, 2, 6, t), 0.01) + noise * rng.random((2, 2, 6, t))
    for row, (a, b) in SPANS.items():
        attention[1, 0, row, a:b] = 1.0  # the alignment head follows the planted path
    attention[0] = rng.random((2, 6, t))  # other heads: noise
    transcript = Transcript(ids=[50257, 50362, 383, 1657, 4803, 13, 50256], labels=LABELS, special=SPECIAL.copy(),
                            logprobs=np.log(np.array([1.0, 0.9, 0.8, 0.6, 0.5, 0.99])), text="The lighthouse.",
                            task="transcribe", language="en", prompt_length=2, source="decoded")
    result = Explanation(transcript=transcript, maps={"attention": Map(attention, "per-head")},
                         frame_times=np.arange(t) * 0.02, n_frames=2 * t, model="planted", audio="x", duration=0.6,
                         alignment_heads=[(1, 0)])
    if with_saliency:
        result.maps["spes-encoder"] = Map(attention[1, 0] * 5.0, "encoder", label="SM_H")
    return result


def test_planted_attention_gives_exact_times():
    words = word_timestamps(planted(), "attention", "alignment")
    assert [w.word for w in words] == [" The", " lighthouse."]
    # a DTW path starts in the corner, so the first word starts at frame 0 (as in Whisper's recipe)
    assert words[0].start == pytest.approx(0.0) and words[0].end == pytest.approx(0.16)  # frames 0 and 8
    assert words[1].start == pytest.approx(0.16) and words[1].end == pytest.approx(0.44)  # eot starts at 22
    assert words[0].probability == pytest.approx(0.9)
    assert words[1].probability == pytest.approx(np.mean([0.8, 0.6, 0.5]))


def test_saliency_source_and_errors():
    words = word_timestamps(planted(with_saliency=True), "spes-encoder")
    assert words[0].start == pytest.approx(0.0) and words[1].start == pytest.approx(0.16)
    old_name = word_timestamps(planted(with_saliency=True), "saliency-encoder")  # the name before maps had one type
    assert [(w.start, w.end) for w in old_name] == [(w.start, w.end) for w in words]
    with pytest.raises(OptionError, match="no spes-input map .it has attention, spes-encoder"):
        word_timestamps(planted(with_saliency=True), "SM_X")
    with pytest.raises(OptionError, match="spes-token is a token map, not a map over time"):
        word_timestamps(planted(), "spes-token")
    with pytest.raises(OptionError, match="unknown timestamp source"):
        word_timestamps(planted(), "magic")
    with pytest.raises(OptionError, match="layer"):
        word_timestamps(planted(), "attention", "[[5, 0]]")


def test_empty_transcript_is_an_error():
    result = planted()
    result.transcript.special[:] = True
    with pytest.raises(OptionError, match="empty"):
        word_timestamps(result)


def test_token_starts_are_monotonic():
    rng = np.random.default_rng(3)
    starts = token_starts(rng.random((5, 40)))
    assert starts[0] == 0 and list(starts) == sorted(starts)


def test_whisper_json_schema():
    result = planted()
    words = word_timestamps(result)
    data = to_whisper_json(result, words, "attention", [[1, 0]])
    segment = data["segments"][0]
    assert set(segment["words"][0]) == {"word", "start", "end", "probability"}
    assert segment["start"] == words[0].start and segment["end"] == words[-1].end


def test_trimmed_edges_find_a_planted_pause():
    result = planted(with_saliency=True)
    smh = result["spes-encoder"].values.copy()
    smh[1, 7:8] = 0.0  # " The" is only said in frames 2-6: frame 7 is a pause
    smh[1:5, 0:2] = 0.0  # and nothing is said before frame 2
    result.maps["spes-encoder"] = Map(smh, "encoder")
    trimmed = word_timestamps(result, "spes-encoder")  # trim is the default for saliency
    assert trimmed[0].start == pytest.approx(0.04) and trimmed[0].end == pytest.approx(0.14)
    contiguous = word_timestamps(result, "spes-encoder", edges="contiguous")
    assert contiguous[0].start == pytest.approx(0.0) and contiguous[0].end == pytest.approx(contiguous[1].start)
    with pytest.raises(OptionError, match="edge mode"):
        word_timestamps(result, "attention", edges="soft")
