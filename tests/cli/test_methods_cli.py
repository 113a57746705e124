"""The methods command: maps and costs of the other explanation methods; bad input in one line."""

import json

import numpy as np
import pytest

from helpers import clip_path
from s2t_explain.cli.main import main


@pytest.mark.slow
def test_methods_writes_maps_and_costs(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["methods", str(clip_path("en_1")), "-o", str(out), "--methods", "attention-norm", "grad-encoder",
                 "-q"])
    assert code == 0
    table = capsys.readouterr().out
    assert "attention-norm" in table and "grad-encoder" in table
    meta = json.loads((out / "en_1_methods.json").read_text())
    arrays = np.load(out / "en_1_methods.npz")
    norm = arrays["attention_norm"]
    assert norm.shape[:2] == (4, 6) and list(norm.shape) == meta["methods"]["attention-norm"]["shape"]  # tiny.en
    assert arrays["grad_encoder"].shape == norm.shape[2:]  # (I, T')
    assert norm.shape[2] == len(meta["transcript"]["tokens"])  # one row per predicted token
    assert meta["methods"]["grad-encoder"]["cost"]["backward"] >= 1


@pytest.mark.parametrize("argv,message", [
    (["--methods", "smoothgrad"], "unknown explanation map 'smoothgrad'"),
    (["--ig-steps", "0"], "ig_steps must be >= 1"),
])
def test_methods_bad_input(tmp_path, capsys, argv, message):
    code = main(["methods", str(clip_path("en_1")), "-o", str(tmp_path / "o"), *argv, "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "o").exists()
