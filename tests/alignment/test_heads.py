"""Head discovery on a planted explanation: every ranking finds the head that follows the path."""

import json

import numpy as np
import pytest

from alignment.test_timestamps import planted
from s2t_explain.alignment.heads import (
    head_set_document,
    read_head_file,
    reference_scores,
    saliency_scores,
    shape_scores,
    top_heads,
    unsupervised_scores,
)
from s2t_explain.errors import OptionError


def test_every_ranking_finds_the_planted_head():
    result = planted(with_saliency=True)
    truth = [(0.0, 0.16), (0.16, 0.44)]  # the planted word times
    for scores in (unsupervised_scores(result), saliency_scores(result, "encoder"), reference_scores(result, truth)):
        assert scores.shape == (2, 2)
        assert top_heads(scores, 1) == [[1, 0]]
    assert reference_scores(result, truth)[1, 0] == pytest.approx(0.0)
    assert shape_scores(result).shape == (2, 2)
    with pytest.raises(OptionError, match="needs the spes-input map in the result .it has attention, spes-encoder"):
        saliency_scores(result, "input")
    np.testing.assert_array_equal(saliency_scores(result, "SM_H"), saliency_scores(result))  # spes-encoder


def test_top_heads_and_files(tmp_path):
    scores = np.array([[0.1, 0.9], [0.5, np.nan]])
    assert top_heads(scores, 2) == [[0, 1], [1, 0]]
    with pytest.raises(OptionError):
        top_heads(scores, 0)
    doc = head_set_document(scores, 2, "unsupervised", 3)
    (tmp_path / "h.json").write_text(json.dumps(doc))
    assert read_head_file(tmp_path / "h.json") == [[0, 1], [1, 0]]
    (tmp_path / "l.json").write_text("[[3, 1]]")
    assert read_head_file(tmp_path / "l.json") == [[3, 1]]
    (tmp_path / "bad.json").write_text('{"x": 1}')
    with pytest.raises(OptionError, match="no head list"):
        read_head_file(tmp_path / "bad.json")


def test_discover_heads_and_head_specs(tmp_path):
    from s2t_explain.alignment.heads import discover_heads, head_scores, head_spec

    results = [planted(with_saliency=True), planted(with_saliency=True, noise=0.05)]
    truth = [[(0.0, 0.16), (0.16, 0.44)]] * 2
    for method, refs in (("unsupervised", None), ("saliency", None), ("reference", truth)):
        document = discover_heads(results, method, top=1, references=refs)
        assert document["heads"] == [[1, 0]] and document["method"] == method and document["results"] == 2
        assert len(document["scores"]) == 4 and document["scores"][0][:2] == [1, 0]
    assert discover_heads(results)["heads"] == [[1, 0]]  # default size: the model's one alignment head
    mean = head_scores(results, "unsupervised")
    assert np.allclose(mean, (unsupervised_scores(results[0]) + unsupervised_scores(results[1])) / 2)
    with pytest.raises(OptionError, match="needs reference word timings"):
        discover_heads(results, "reference")
    with pytest.raises(OptionError, match="unknown head ranking 'magic'"):
        discover_heads(results, "magic")
    assert head_spec("discovered", results[0], top=1) == [[1, 0]]
    assert head_spec("layer:1", results[0]) == "layer:1"
    (tmp_path / "h.json").write_text(json.dumps({"heads": [[0, 1]]}))
    assert head_spec(str(tmp_path / "h.json"), results[0]) == [[0, 1]]
