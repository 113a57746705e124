"""The html command: the explorer of a stored result, without a model; bad input in one line."""

import pytest

from helpers import speechlike
from s2t_explain import explain_attention
from s2t_explain.cli.main import main


@pytest.fixture()
def stored(tmp_path, tiny_whisper):
    return explain_attention(tiny_whisper, speechlike(1.0), text="hello there").save(tmp_path / "r.npz")


def test_html_of_a_stored_result(stored, tmp_path, capsys):
    audio = tmp_path / "a.wav"
    import soundfile as sf

    sf.write(audio, speechlike(1.0), 16_000)
    assert main(["html", str(stored), "--audio", str(audio), "-q"]) == 0
    page = stored.with_suffix(".html").read_text(encoding="utf-8")
    assert "data:audio/" in page and "cross-attention only" in page  # the page says saliency is missing
    assert '"input"' not in page.split('"maps":', 1)[1].split('"agreement"', 1)[0]  # no SM_X: none embedded
    assert main(["html", str(stored), "-o", str(tmp_path / "x" / "p.html")]) == 0  # folders are made
    assert "KB)" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["missing.npz"], "missing.npz"),
    (["{stored}", "--audio", "nowhere.wav"], "audio file nowhere.wav not found"),
    # issue 18: numpy's advice to load with allow_pickle is no answer to "this is not our file"
    (["{garbage}"], "garbage.npz is not a result of s2t-explain (not an .npz archive, or a truncated one)"),
    (["{npy}"], "npy.npz is not a result of s2t-explain (not an .npz archive"),
    (["{other}"], "other.npz is not a result of s2t-explain (an .npz without its meta record)"),
    # issue 18: html r.npz -o r.npz overwrote the stored result with HTML and exited 0
    (["{stored}", "-o", "{stored}"], "is the input"),
    (["{stored}", "-o", "{link}"], "is the input"),
    (["{stored}", "--audio", "{page}"], "is the input"),
])
def test_html_bad_input(stored, tmp_path, capsys, monkeypatch, argv, message):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with open(tmp_path / "npy.npz", "wb") as f:
        np.save(f, np.zeros(3))
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    (tmp_path / "link.npz").symlink_to(stored)
    before = stored.read_bytes()
    argv = [a.format(stored=stored, garbage=tmp_path / "garbage.npz", npy=tmp_path / "npy.npz",
                     other=tmp_path / "other.npz", link=tmp_path / "link.npz", page=stored.with_suffix(".html"))
            for a in argv]
    code = main(["html", *argv, "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert "allow_pickle" not in err[0] and stored.read_bytes() == before  # the stored result is untouched
