"""The run-folder engine: one process per folder (or shard), settings checked on resume, the one
failure rule, and long-form runs refused on a folder in use as studies are."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest

from helpers import speechlike
from s2t_explain.errors import AudioError, OptionError
from s2t_explain.files import write_json
from s2t_explain.runfolder import RunFolder, attempt, failure_reason, stops_the_run


def test_a_second_process_on_the_same_folder_or_shard_is_refused(tmp_path):
    with RunFolder(tmp_path / "run", {"a": 1}):  # flock: a second open of the lock conflicts, even in-process
        with pytest.raises(OptionError, match=r"^another process is writing this run folder .*run\)"):
            RunFolder(tmp_path / "run", {"a": 1}).__enter__()
    with RunFolder(tmp_path / "run", {"a": 1}, shard=(1, 2)), RunFolder(tmp_path / "run", {"a": 1}, shard=(2, 2)):
        with pytest.raises(OptionError, match="another process is writing shard 1/2 of this run folder"):
            RunFolder(tmp_path / "run", {"a": 1}, shard=(1, 2)).__enter__()
        with pytest.raises(OptionError, match="another process is writing this run folder"):
            RunFolder(tmp_path / "run", {"a": 1}).__enter__()  # an unsharded run while shards write
    with RunFolder(tmp_path / "run", {"a": 1}):  # released on exit; a shard while an unsharded run writes:
        with pytest.raises(OptionError, match="a run without shards is writing this run folder"):
            RunFolder(tmp_path / "run", {"a": 1}, shard=(1, 2)).__enter__()


def test_settings_are_recorded_and_checked_on_resume(tmp_path):
    with RunFolder(tmp_path / "run", {"model": "m", "options": {"n": 1}, "path": "x"}, keys=("model", "options")):
        pass
    assert json.loads((tmp_path / "run" / "run.json").read_text())["options"] == {"n": 1}
    with RunFolder(tmp_path / "run", {"model": "m", "options": {"n": 1}, "path": "moved"}, keys=("model", "options")):
        pass  # a key outside ``keys`` may change
    with pytest.raises(OptionError, match=r"holds a run made with other settings \(options differ\)"):
        RunFolder(tmp_path / "run", {"model": "m", "options": {"n": 2}}, keys=("model", "options")).__enter__()
    legacy = tmp_path / "old"  # a long-form folder of an earlier version: its settings in index.json
    write_json(legacy / "index.json", {"config": {"model": "m"}, "windows": []})
    with pytest.raises(OptionError, match=r"holds windows made with other settings \(model differ\)"):
        RunFolder(legacy, {"model": "other"}, what="windows").__enter__()
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "run.json").write_text("{")
    with pytest.raises(OptionError, match="run.json is damaged"):
        RunFolder(tmp_path / "damaged", {}).__enter__()
    (tmp_path / "file").write_text("")
    with pytest.raises(OptionError, match="exists and is not a folder"):
        RunFolder(tmp_path / "file", {}).__enter__()


def test_the_failure_rule(tmp_path):
    def raising(error):
        def compute():
            raise error
        return compute

    for recorded in (ValueError("bad"), AudioError("unreadable"), FileNotFoundError(errno.ENOENT, "gone"),
                     RuntimeError("a model error")):
        assert attempt(raising(recorded)) is recorded and not stops_the_run(recorded)
    for stopping in (KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device"),
                     OSError(errno.EROFS, "Read-only file system"), SystemExit(1)):
        assert stops_the_run(stopping)
        with pytest.raises(type(stopping)):
            attempt(raising(stopping))
    assert attempt(lambda: 3) == 3
    assert failure_reason(AudioError("unreadable")) == "unreadable"
    try:
        raising(ValueError("bad"))()
    except ValueError as e:
        assert failure_reason(e).startswith("ValueError: bad (at test_runfolder.py:")
    with RunFolder(tmp_path / "run", {}) as folder:
        folder.failed("u1", {"id": "u1", "reason": "bad"})
        assert json.loads((tmp_path / "run" / "failures" / "u1.json").read_text())["reason"] == "bad"
        folder.succeeded("u1")
        assert not (tmp_path / "run" / "failures" / "u1.json").exists()


def test_a_long_form_run_into_a_folder_in_use_is_refused(tiny_whisper, tmp_path, monkeypatch):
    import s2t_explain.longform.run as run_module
    from s2t_explain.longform import run_long

    monkeypatch.setattr(run_module, "window_result", lambda *a, **k: pytest.fail("a window ran"))
    audio = np.concatenate([speechlike(1.5), np.zeros(8000, np.float32), speechlike(1.5)])
    with RunFolder(tmp_path / "run", {}), pytest.raises(OptionError, match="another process is writing this run"):
        run_long(tiny_whisper, audio, out=tmp_path / "run", progress=False)


def test_a_settings_file_that_is_not_an_object_is_damaged(tmp_path):
    for name, text in (("run.json", "[]"), ("index.json", '{"config": 3}')):
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_text(text)
        with pytest.raises(OptionError, match=f"{name} is damaged .no settings record"):
            RunFolder(folder, {}).__enter__()


def test_long_form_maps_are_checked_before_any_window(tiny_whisper, tmp_path):
    from s2t_explain.longform import LongformOptions, run_long
    from s2t_explain.longform.run import window_maps
    from s2t_explain.saliency.options import preset

    fast = preset("fast")
    assert window_maps(("attention",), (), fast) == ["attention", "spes-input", "spes-encoder"]  # what it configures
    assert window_maps(("attention", "SM_H"), ("grad-encoder",), fast) == ["attention", "spes-encoder", "grad-encoder"]
    assert window_maps(("attention",), (), None) == ["attention"]
    assert LongformOptions(maps="SM_H, grad-encoder").maps == ("spes-encoder", "grad-encoder")
    with pytest.raises(OptionError, match="spes-token needs previous-token masking"):
        window_maps(("attention",), ("spes-token",), fast)
    with pytest.raises(OptionError, match="spes-encoder needs saliency options"):
        window_maps(("attention", "spes-encoder"), (), None)
    audio = np.concatenate([speechlike(1.5), np.zeros(8000, np.float32), speechlike(1.5)])
    old = tmp_path / "old"  # a folder of the earlier layout: its settings under index.json's config, "methods"
    write_json(old / "index.json", {"config": {"model": "tiny-random", "methods": []}})
    with pytest.raises(OptionError, match="written by an earlier version of s2t-explain"):
        run_long(tiny_whisper, audio, out=old, progress=False)
