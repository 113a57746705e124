"""The dataset runner: every utterance of a manifest, resumable, failures recorded.

Run folder layout:
  run.json                 model, task, options and manifest of the run (checked on resume)
  results/ID.npz           the utterance's Explanation (maps, transcript, cross-attention)
  results/ID.json          its metrics (``study.record.UtteranceRecord``, made by ``study.utterance``);
                           written last, so its presence means the utterance is complete
  failures/ID.json         why an utterance (or manifest line) failed (``study.record.FailureRecord``);
                           removed once it succeeds
  tables/, figures/        written by ``study.report`` at the end (and by ``s2t-explain report``)
Every file is written atomically. An interrupted run (Ctrl-C, kill -9) resumes where it stopped:
complete utterances are skipped, failed ones are tried again.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import OptionError, S2TError
from ..executors.base import Executor
from ..files import write_json
from ..models.base import SpeechToTextModel
from ..results.explanation import Explanation
from .manifest import BadLine, Utterance, read_manifest
from .options import StudyOptions
from .record import FailureRecord, UtteranceRecord
from .utterance import analyze

RUN_VERSION = 1


@dataclass
class RunSummary:
    done: int  # complete before this call
    computed: int  # completed by this call
    failed: int
    total: int
    seconds: float

    def line(self) -> str:
        return (f"{self.done + self.computed}/{self.total} utterances complete ({self.computed} computed now, "
                f"{self.done} already there), {self.failed} failed, {self.seconds:.0f} s")


def run_config(model: SpeechToTextModel, manifest: Path, options: StudyOptions, task: str,
               language: str | None) -> dict[str, Any]:
    return {"version": RUN_VERSION, "model": model.name, "manifest": str(manifest), "task": task,
            "language": language, "options": json.loads(json.dumps(asdict(options)))}


def check_config(out: Path, config: dict[str, Any]) -> None:
    """Create ``run.json``, or check that an existing one was made with the same settings."""
    path = out / "run.json"
    if not path.exists():
        write_json(path, config)
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise OptionError(f"{path} is damaged ({e}); use a new output folder") from None
    keys = ("version", "model", "task", "language", "options")
    changed = [k for k in keys if old.get(k) != config.get(k)]
    if changed:
        raise OptionError(f"{out} holds a run made with other settings ({', '.join(changed)} differ); "
                          "rerun with the same settings to resume, or use a new output folder")


def _reason(error: BaseException) -> str:
    if isinstance(error, S2TError | OSError):
        return str(error)
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


Analyze = Callable[..., tuple[Explanation, UtteranceRecord]]  # (model, utterance, options, task, language)


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` -> (K, N): this process takes every N-th manifest line starting at line K (1-based)."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise OptionError(f"bad shard {text!r}; write K/N, e.g. 2/8 (the second of eight shards)") from None
    if not 1 <= k <= n:
        raise OptionError(f"bad shard {text!r}; K/N needs 1 <= K <= N")
    return k, n


@contextmanager
def run_lock(out: Path, shard: tuple[int, int] | None) -> Iterator[None]:
    """Refuse a second process on the same run folder (or the same shard of it).

    Shards of one run may share its folder: each takes a shared lock on the run and an exclusive
    one on its shard; an unsharded run takes the run's lock exclusively. Locks go with the
    process (flock), so a killed run leaves none behind.
    """
    import fcntl

    (out / "locks").mkdir(exist_ok=True)
    handles = []
    try:
        for name, mode in ([("run", fcntl.LOCK_EX)] if shard is None else
                           [("run", fcntl.LOCK_SH), (f"shard-{shard[0]}-of-{shard[1]}", fcntl.LOCK_EX)]):
            handle = open(out / "locks" / f"{name}.lock", "a")  # noqa: SIM115 (held for the run)
            handles.append(handle)
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                who = {(True, "run"): "another process is writing this run folder",
                       (False, "run"): "a run without shards is writing this run folder"}.get(
                    (shard is None, name), f"another process is writing shard {name[6:].replace('-of-', '/')} "
                                           "of this run folder")
                raise OptionError(f"{who} ({out}); wait for it to finish, or give each process its own "
                                  "shard K/N") from None
        yield
    finally:
        for handle in handles:
            handle.close()


def _analyze_in_worker(state: dict[str, Any], item: tuple) -> tuple[Explanation, UtteranceRecord]:
    utterance, options, task, language = item
    return state["analyze"](state["model"], utterance, options, task, language)


def _worker_state(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


def run_study(model: SpeechToTextModel, manifest: str | Path, out: str | Path, options: StudyOptions = StudyOptions(),
              task: str = "transcribe", language: str | None = None, limit: int | None = None,
              progress: bool = True, executor: Executor | None = None, shard: tuple[int, int] | None = None,
              analyze_fn: Analyze | None = None) -> RunSummary:
    """Analyze every utterance of ``manifest`` into ``out`` (resuming), recording failures.

    ``executor`` (``s2t_explain.executors``) runs utterances on workers that each hold one copy of
    the model; only this process writes files, so a retried utterance is written once. ``shard``
    (K, N) takes every N-th manifest line from line K: N processes (a job array) can share one run
    folder, and ``build_report`` on it afterwards gives the tables of one whole run.
    """
    t0 = time.perf_counter()
    analyze_fn = analyze_fn or analyze
    manifest, out = Path(manifest), Path(out)
    items = read_manifest(manifest)
    if limit is not None:
        items = items[:limit]
    if shard is not None:
        k, n = shard
        items = items[k - 1 :: n]
    results, failures = out / "results", out / "failures"

    def todo() -> list[Utterance | BadLine]:
        return [it for it in items if not (isinstance(it, Utterance) and (results / f"{it.id}.json").exists())]

    with ExitStack() as stack:
        # workers first, and only when there is model work: an unreachable cluster fails before the
        # run folder is made, and a finished run starts none
        workers = None
        if executor is not None and any(isinstance(it, Utterance) for it in todo()):
            workers = stack.enter_context(executor.open(_worker_state, {"model": model, "analyze": analyze_fn}))
        out.mkdir(parents=True, exist_ok=True)
        stack.enter_context(run_lock(out, shard))
        check_config(out, run_config(model, manifest.resolve(), options, task, language))
        results.mkdir(exist_ok=True)
        failures.mkdir(exist_ok=True)
        pending = todo()  # again, under the lock
        counts = {"computed": 0, "failed": 0}
        bar = tqdm(total=len(pending), desc="utterances", unit="utt", disable=not progress, dynamic_ncols=True)

        def finish(uid: str, outcome: tuple[Explanation, UtteranceRecord] | FailureRecord) -> None:
            if isinstance(outcome, tuple):
                explanation, record = outcome
                explanation.save(results / f"{uid}.npz")
                write_json(results / f"{uid}.json", record)  # last: marks the utterance complete
                (failures / f"{uid}.json").unlink(missing_ok=True)
                counts["computed"] += 1
            else:
                write_json(failures / f"{uid}.json", outcome)
                counts["failed"] += 1
            bar.update(1)
            bar.set_postfix_str(f"{uid} done, {counts['failed']} failed")

        def failure(item: Utterance, error: BaseException) -> FailureRecord:
            return {"id": item.id, "audio": str(item.audio), "reason": _reason(error)}

        utterances = [it for it in pending if isinstance(it, Utterance)]
        for bad in pending:
            if isinstance(bad, BadLine):
                finish(bad.id, {"id": bad.id, "line": bad.line, "reason": bad.reason})
        try:
            if workers is None:
                for item in utterances:
                    def stage(what: str, uid: str = item.id) -> None:
                        bar.set_postfix_str(f"{uid}: {what}")

                    outcome: tuple[Explanation, UtteranceRecord] | FailureRecord
                    try:
                        outcome = analyze_fn(model, item, options, task, language, stage=stage)
                    except KeyboardInterrupt:
                        raise
                    except Exception as e:  # recorded, and the run goes on
                        outcome = failure(item, e)
                    finish(item.id, outcome)
            else:
                work = [(item, options, task, language) for item in utterances]
                for index, outcome in workers.imap_unordered(_analyze_in_worker, work):
                    item = utterances[index]
                    finish(item.id, failure(item, outcome) if isinstance(outcome, BaseException) else outcome)
        finally:
            bar.close()
    done = len(items) - len(pending)
    return RunSummary(done, counts["computed"], counts["failed"], len(items), time.perf_counter() - t0)
