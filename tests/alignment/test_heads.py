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
    with pytest.raises(OptionError, match="input saliency"):
        saliency_scores(result, "input")


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
