"""The run-folder engine under every resumable run (a study, a long-form recording).

A run folder holds:
  run.json            the settings the results depend on; a folder made with other settings is
                      refused on resume (long-form folders of earlier versions kept them in
                      ``index.json``'s ``config``: read too)
  locks/              one process per folder, or per shard of it (flock: a killed run leaves none)
  failures/NAME.json  why an item failed (removed once it succeeds)
and the run's own per-item outputs, each written atomically (``files``) and each item's last
write marking it complete, so an interrupted run resumes where it stopped.

The failure rule, the same for every run: an exception raised while computing an item (bad audio,
a model error, a bug) is recorded and the run goes on; a KeyboardInterrupt (or any other
non-``Exception``) and a dead disk (no space, read-only, I/O error) stop it. Standard library
and tqdm only.
"""

from __future__ import annotations

import errno
import json
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from .errors import OptionError, S2TError
from .files import write_json

CONFIG = "run.json"
LEGACY_CONFIG = ("index.json", "config")  # (file, key) of long-form folders written before run.json
DEAD_DISK = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})

T = TypeVar("T")


def stops_the_run(error: BaseException) -> bool:
    """The failure rule: True for what stops a run (Ctrl-C, exit, a dead disk), False for what is
    recorded as the item's failure while the run goes on."""
    if not isinstance(error, Exception):
        return True
    return isinstance(error, OSError) and error.errno in DEAD_DISK


def attempt(compute: Callable[[], T]) -> T | Exception:
    """``compute()``, or the exception it raised when the rule says to record it (else it propagates)."""
    try:
        return compute()
    except BaseException as e:
        if stops_the_run(e):
            raise
        assert isinstance(e, Exception)
        return e


def failure_reason(error: BaseException) -> str:
    """One line for a failure record: the message of our errors and OS errors, else the type,
    message and the line that raised it."""
    if isinstance(error, S2TError | OSError):
        return str(error)
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


@contextmanager
def folder_lock(out: Path, shard: tuple[int, int] | None = None) -> Iterator[None]:
    """Refuse a second process on the same run folder (or the same shard of it).

    Shards of one run may share its folder: each takes a shared lock on the run and an exclusive
    one on its shard; an unsharded run takes the run's lock exclusively.
    """
    import fcntl

    (out / "locks").mkdir(parents=True, exist_ok=True)
    handles = []
    try:
        for name, mode in ([("run", fcntl.LOCK_EX)] if shard is None else
                           [("run", fcntl.LOCK_SH), (f"shard-{shard[0]}-of-{shard[1]}", fcntl.LOCK_EX)]):
            handle = open(out / "locks" / f"{name}.lock", "a")  # noqa: SIM115 (held for the run)
            handles.append(handle)
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OptionError(f"{_holder(shard, name)} ({out}); wait for it to finish, or give each process "
                                  "its own shard K/N") from None
        yield
    finally:
        for handle in handles:
            handle.close()


def _holder(shard: tuple[int, int] | None, lock: str) -> str:
    if lock != "run":
        return f"another process is writing shard {lock[6:].replace('-of-', '/')} of this run folder"
    return "another process is writing this run folder" if shard is None else \
        "a run without shards is writing this run folder"


def stored_config(out: Path) -> dict[str, Any] | None:
    """The settings an existing run folder was made with (None for a new folder)."""
    for name, key in ((CONFIG, None), LEGACY_CONFIG):
        path = out / name
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise OptionError(f"{path} is damaged ({e}); use a new output folder") from None
        found = data.get(key) if key and isinstance(data, dict) else data
        if not isinstance(found, dict):
            raise OptionError(f"{path} is damaged (no settings record in it); use a new output folder")
        return found
    return None


def check_config(out: Path, config: dict[str, Any], keys: Sequence[str] | None = None, what: str = "a run") -> None:
    """Write ``run.json``, or refuse a folder made with other settings (compared on ``keys``: what
    changes results; None: every key)."""
    old = stored_config(out)
    if old is not None:
        changed = [k for k in (keys if keys is not None else config) if old.get(k) != config.get(k)]
        if changed:
            raise OptionError(f"{out} holds {what} made with other settings ({', '.join(changed)} differ); "
                              "rerun with the same settings to resume, or use a new output folder")
    if not (out / CONFIG).exists():
        write_json(out / CONFIG, config)


class RunFolder:
    """An open run folder: made, locked and its settings checked on entry (``with RunFolder(...)``),
    with the progress bar and the failure records of the run."""

    def __init__(self, path: str | Path, config: dict[str, Any], *, keys: Sequence[str] | None = None,
                 shard: tuple[int, int] | None = None, what: str = "a run") -> None:
        self.path, self.config, self.keys, self.shard, self.what = Path(path), config, keys, shard, what
        self._stack = ExitStack()

    def __enter__(self) -> RunFolder:
        if self.path.exists() and not self.path.is_dir():
            raise OptionError(f"output {self.path} exists and is not a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            stack.enter_context(folder_lock(self.path, self.shard))
            check_config(self.path, self.config, self.keys, self.what)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def failed(self, name: str, record: dict[str, Any]) -> None:
        """Record why item ``name`` failed (``record``: at least its ``reason``)."""
        write_json(self.path / "failures" / f"{name}.json", record)

    def succeeded(self, name: str) -> None:
        """Item ``name`` is complete: drop its failure record from an earlier try."""
        (self.path / "failures" / f"{name}.json").unlink(missing_ok=True)

    def progress(self, total: int | None, desc: str, unit: str, *, initial: int = 0, enabled: bool = True) -> tqdm:
        """The run's bar (items done, rate and ETA); closed with the folder."""
        bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True)
        self._stack.callback(bar.close)
        return bar
