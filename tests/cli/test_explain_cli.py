"""The explain command: outputs, recorded metadata, and option errors before any work."""

import json

import pytest

from helpers import clip_path
from s2t_explain import Explanation
from s2t_explain.cli.main import main


@pytest.mark.slow
@pytest.mark.golden  # README command 1 on a small budget: in the default run
def test_explain_writes_everything(tmp_path, capsys, clips):
    out = tmp_path / "out"
    code = main(["explain", str(clip_path("en_3")), "-o", str(out), "--masks", "16", "--encoder-masks", "32",
                 "--batch-size", "8", "--html", "-q"])
    assert code == 0
    assert capsys.readouterr().out.strip() == clips["en_3"]["text"]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["en_3.html", "en_3.json", "en_3.npz", "en_3.png", "en_3_compare.png", "en_3_input_saliency.png"]
    page = (out / "en_3.html").read_text(encoding="utf-8")
    assert "data:audio/" in page and '"input":{' in page  # audio and SM_X inline
    result = Explanation.load(out / "en_3.npz")
    assert list(result.maps) == ["attention", "spes-input", "spes-encoder"]
    meta = json.loads((out / "en_3.json").read_text())
    assert meta["format_version"] == 2 and meta["maps"]["spes-input"]["reliability"]["n_masks"] == 16
    assert meta["maps"]["spes-encoder"]["reliability"]["n_masks"] == 32
    assert meta["maps"]["spes-input"]["options"]["input"]["n_masks"] == 16
    assert meta["maps"]["spes-input"]["options"]["seed"] == 0 and meta["maps"]["spes-input"]["label"] == "SM_X"


@pytest.mark.parametrize("argv,message", [
    (["--masks", "1"], "at least 2 masks"),
    (["--target-reliability", "1.5"], "target reliability"),
    (["--batch-size", "0"], "batch size"),
])
def test_bad_saliency_options(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    code = main(["explain", str(clip_path("en_1")), "-o", str(out), "-q", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert not out.exists()


@pytest.mark.parametrize("argv,message", [
    (["--seed", "-1"], "seed must be >= 0"),
    (["--masks", "0"], "at least 2 masks"),
])
def test_more_bad_saliency_options(tmp_path, capsys, argv, message):
    code = main(["explain", str(clip_path("en_1")), "-o", str(tmp_path / "o"), "-q", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


@pytest.mark.slow
def test_bad_heads_rejected_before_any_saliency(tmp_path, capsys, monkeypatch, tiny_en):
    import s2t_explain.pipeline as pipeline  # the command imports explain from here when it runs

    monkeypatch.setattr(pipeline, "explain", lambda *a, **k: pytest.fail("saliency ran before --heads was checked"))
    code = main(["explain", str(clip_path("en_1")), "-o", str(tmp_path / "o"), "-q", "--heads", "layer:7"])
    assert code == 2 and "layer 7 does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_write_failure_leaves_no_files(tmp_path, capsys, monkeypatch, tiny_en):
    import s2t_explain.cli.common as common

    def broken(figure, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(common, "save_figure", broken)
    out = tmp_path / "o"
    code = main(["attention", str(clip_path("en_1")), "-o", str(out), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "No space left" in err[0]
    assert not any(p.suffix in (".npz", ".json", ".png") for p in out.iterdir())
