import json

import pytest

from s2t_explain.alignment.bench import boundary_f1, markdown_table, read_bench_manifest, score_words
from s2t_explain.errors import OptionError


def test_boundary_f1_one_to_one():
    # two predictions near one reference boundary: only one may match it
    assert boundary_f1([1.00, 1.01], [1.0], collar=0.02) == (1, 2, 1)
    assert boundary_f1([0.5, 1.0], [0.52, 1.2], collar=0.05) == (1, 2, 2)
    # shared boundaries (end of one word = start of the next) count once
    assert boundary_f1([0.0, 0.5, 0.5, 1.0], [0.0, 0.4, 0.6, 1.0], collar=0.02) == (2, 3, 4)


def test_score_words_hand_computed():
    predicted = [[(0.00, 0.50), (0.50, 1.00)]]
    reference = [[(0.01, 0.40), (0.60, 1.00)]]
    m = score_words(predicted, reference)
    assert m["words"] == 2
    assert m["mae_start_ms"] == pytest.approx((10 + 100) / 2)
    assert m["mae_end_ms"] == pytest.approx((100 + 0) / 2)
    assert m["mae_ms"] == pytest.approx((10 + 100 + 100 + 0) / 4)
    assert m["within_20ms"] == pytest.approx(0.5) and m["within_100ms"] == pytest.approx(1.0)
    # 3 predicted boundaries {0, 0.5, 1}, 4 reference {0.01, 0.4, 0.6, 1}: 2 matches within 20 ms
    assert m["f1_20ms"] == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))
    assert markdown_table({"methods": {"x": m}}).splitlines()[2].endswith("|  |")  # no baseline row, no ratio


def test_manifest_errors(tmp_path):
    good = {"id": "a", "audio": "a.flac", "reference": "Hi there.", "words": [{"word": "Hi", "start": 0.1, "end": 0.3}]}
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(good) + "\n")
    assert read_bench_manifest(path)[0].words == [("Hi", 0.1, 0.3)]
    path.write_text(json.dumps({"id": "a", "audio": "a.flac"}) + "\n")
    with pytest.raises(OptionError, match=":1:"):
        read_bench_manifest(path)
    with pytest.raises(OptionError, match="not found"):
        read_bench_manifest(tmp_path / "none.jsonl")
