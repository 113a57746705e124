"""Long recordings end to end on the bundled whisper-tiny.en: windows, stitching, resume, failures, CLI."""

import difflib
import json

import numpy as np
import pytest
import soundfile as sf

import s2t_explain.longform.run as run_module
from s2t_explain.cli.main import main
from s2t_explain.errors import AudioError
from s2t_explain.longform import LongformOptions, run_long
from s2t_explain.study.manifest import read_alignment_manifest
from s2t_explain.timebase import SAMPLE_RATE

pytestmark = pytest.mark.slow
ALIGN = run_module.Path(run_module.__file__).parents[1] / "data" / "align" / "en.jsonl"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """About 70 s: 10 bundled alignment clips joined with pauses of 0.4-1.2 s and one of 6 s; exact word times."""
    items = read_alignment_manifest(ALIGN)[:10]
    rng = np.random.default_rng(3)
    parts, truth, t = [], [], 0.0
    for k, item in enumerate(items):
        x, rate = sf.read(item.audio, dtype="float32")
        assert rate == SAMPLE_RATE
        truth += [(w, s + t, e + t) for w, s, e in item.words]
        gap = np.zeros(int((6.0 if k == 4 else rng.uniform(0.4, 1.2)) * SAMPLE_RATE), np.float32)
        parts += [x, gap]
        t += (x.size + gap.size) / SAMPLE_RATE
    path = tmp_path_factory.mktemp("long") / "long.flac"
    sf.write(path, np.concatenate(parts), SAMPLE_RATE)
    return path, truth


def norm(word):
    return "".join(c for c in word.lower() if c.isalnum())


@pytest.mark.parametrize("windowing", ["vad", "fixed"])
def test_every_word_once_on_one_timeline(tiny_en, recording, windowing):
    path, truth = recording
    long = run_long(tiny_en, path, options=LongformOptions(windowing=windowing, window_seconds=20), progress=False)
    assert len(long.windows) >= 4
    words = long.words["attention"]
    said, heard = [norm(w) for w, _, _ in truth], [norm(w.word) for w in words]
    ops = [op for op in difflib.SequenceMatcher(a=said, b=heard, autojunk=False).get_opcodes() if op[0] != "equal"]
    # every word exactly once: nothing lost or doubled at window edges; a fixed window that starts
    # mid-sentence may mishear a word (seen: "he" as "hey"), which is recognition, not stitching
    assert all(tag == "replace" and a1 - a0 == b1 - b0 for tag, a0, a1, b0, b1 in ops), ops
    assert sum(a1 - a0 for _, a0, a1, _, _ in ops) <= 2
    assert all(b.start >= a.end for a, b in zip(words, words[1:])) and all(w.end > w.start for w in words)
    starts = np.array([w.start for w in words]) - np.array([s for _, s, _ in truth])
    assert np.median(np.abs(starts)) < 0.15  # on the file's timeline, not each window's
    assert long.text.startswith("The little dog ran across the green field.")
    document = long.to_whisper_json("attention")
    assert sum(len(s["words"]) for s in document["segments"]) == len(truth)


def test_resume_reads_finished_windows_and_failures_are_recorded(tiny_en, recording, tmp_path, monkeypatch):
    path, truth = recording
    real = run_module.window_result
    first = run_long(tiny_en, path, out=tmp_path / "run", progress=False)
    index = json.loads((tmp_path / "run" / "index.json").read_text())
    assert index["complete"] and len(index["windows"]) == len(first.windows)
    assert all((tmp_path / "run" / "windows" / w["result"]).is_file() for w in index["windows"])

    def no_model(*args, **kwargs):
        raise AssertionError("a finished window was computed again")

    monkeypatch.setattr(run_module, "window_result", no_model)
    again = run_long(tiny_en, path, out=tmp_path / "run", progress=False)
    assert [w.to_dict() for w in again.words["attention"]] == [w.to_dict() for w in first.words["attention"]]

    def fail_second(model, samples, name, *args):
        if "#" in name and float(name.split("#")[1].split("-")[0]) > 20:
            raise AudioError("damaged samples here")
        return real(model, samples, name, *args)

    monkeypatch.setattr(run_module, "window_result", fail_second)
    partial = run_long(tiny_en, path, progress=False)
    assert partial.failures and all(f["reason"] == "damaged samples here" for f in partial.failures)
    assert 0 < len(partial.words["attention"]) < len(truth)  # the first window's words are there


def test_other_settings_refuse_to_resume(tiny_en, recording, tmp_path):
    path, _ = recording
    run_long(tiny_en, path, out=tmp_path / "run", progress=False)
    with pytest.raises(Exception, match="other settings"):
        run_long(tiny_en, path, out=tmp_path / "run", options=LongformOptions(windowing="fixed"), progress=False)


def test_cli_on_a_long_recording(recording, tmp_path, capsys):
    path, truth = recording
    assert main(["transcribe", str(path), "-q"]) == 0
    assert capsys.readouterr().out.strip().endswith("in the tall trees.")  # the tenth clip
    assert main(["timestamps", str(path), "-q", "--format", "vtt", "-o", str(tmp_path / "ts")]) == 0
    assert capsys.readouterr().out.startswith("WEBVTT")
    document = json.loads((tmp_path / "ts" / "long.json").read_text())
    assert len([w for s in document["segments"] for w in s["words"]]) == len(truth)
    assert document["windows"][0]["start"] < 0.5 and document["duration"] > 60
    # attention: one result (and explorer page) per window plus an index; words over the whole file beside it
    assert main(["attention", str(path), "-q", "-o", str(tmp_path / "att"), "--html"]) == 0
    index = json.loads((tmp_path / "att" / "long" / "index.json").read_text())
    assert index["complete"] and not index["failed_windows"] and len(index["words"]["attention"]) == len(truth)
    for w in index["windows"]:
        assert (tmp_path / "att" / "long" / "windows" / w["result"]).with_suffix(".html").is_file()
    assert (tmp_path / "att" / "long.srt").is_file()
    capsys.readouterr()
    assert main(["timestamps", str(tmp_path / "att" / "long" / "windows" / "w0001.npz"), "-q"]) == 0  # one window
    assert json.loads(capsys.readouterr().out)["segments"][0]["words"][0]["start"] < 1.0  # window time
    assert main(["transcribe", str(path), "-q", "--text", "hello"]) == 2
    assert "--text forces a text on one clip" in capsys.readouterr().err
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(40 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    assert main(["timestamps", str(silent), "-q"]) == 2
    assert "silent" in capsys.readouterr().err


def test_a_truncated_long_wav_is_transcribed_as_far_as_it_goes_with_a_warning(recording, tmp_path, capsys):
    """Issue 18: a header saying 182 s with half the data was read silently as 91 s."""
    path, truth = recording
    samples, _ = sf.read(path, dtype="float32")
    wav = tmp_path / "cut.wav"
    sf.write(wav, samples, SAMPLE_RATE, subtype="PCM_16")
    data = wav.read_bytes()
    wav.write_bytes(data[: 44 + (len(data) - 44) // 4 * 2])  # half the samples
    declared, held = samples.size / SAMPLE_RATE, samples.size // 2 / SAMPLE_RATE
    assert main(["attention", str(wav), "-q", "-o", str(tmp_path / "att")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"s2t-explain: warning: {wav} is truncated: its header says {declared:.1f} s of audio but the "
                   f"file holds {held:.1f} s; only those {held:.1f} s are used"]
    index = json.loads((tmp_path / "att" / "cut" / "index.json").read_text())
    assert index["warnings"] == [err[0].removeprefix("s2t-explain: warning: ")]
    assert index["duration"] == pytest.approx(held, abs=0.01)
    said = [w for w in truth if w[2] < held - 1.0]
    assert len(index["words"]["attention"]) >= 0.9 * len(said)  # the words that are there are found
