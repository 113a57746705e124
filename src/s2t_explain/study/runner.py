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

The corpus (``corpora.read_corpus``: a manifest file or a corpus folder) is streamed: utterances
are read as the run reaches them, so a corpus of any size starts at once, and ``limit`` / ``shard``
slice the stream.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, cast

from tqdm import tqdm

from ..corpora import BadLine, Corpus, Utterance, read_corpus
from ..errors import OptionError, S2TError
from ..executors.base import Executor
from ..files import write_json
from ..models.base import SpeechToTextModel
from ..results.explanation import Explanation
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
               language: str | None, corpus_format: str = "jsonl",
               corpus_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """What ``run.json`` records; ``check_config`` compares the keys that change results (not the
    manifest's path nor its format: a moved or converted corpus resumes)."""
    return {"version": RUN_VERSION, "model": model.name, "manifest": str(manifest), "format": corpus_format,
            "format_options": corpus_options or {}, "task": task, "language": language,
            "options": json.loads(json.dumps(asdict(options)))}


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


def _sliced(items: Iterable[Utterance | BadLine], limit: int | None,
            shard: tuple[int, int] | None) -> Iterator[Utterance | BadLine]:
    """The first ``limit`` entries, then every N-th from the K-th (shard K/N)."""
    stream = iter(items)
    if limit is not None:
        stream = islice(stream, limit)
    if shard is not None:
        stream = islice(stream, shard[0] - 1, None, shard[1])
    return stream


def _expected(size: int | None, limit: int | None, shard: tuple[int, int] | None) -> int | None:
    """How many entries ``_sliced`` gives from a corpus of ``size`` (None: unknown)."""
    if size is None:
        return None
    if limit is not None:
        size = min(size, limit)
    return size if shard is None else len(range(shard[0] - 1, size, shard[1]))


def run_study(model: SpeechToTextModel, manifest: str | Path | Corpus, out: str | Path,
              options: StudyOptions = StudyOptions(), task: str = "transcribe", language: str | None = None,
              limit: int | None = None, progress: bool = True, executor: Executor | None = None,
              shard: tuple[int, int] | None = None, analyze_fn: Analyze | None = None, corpus_format: str = "auto",
              corpus_options: dict[str, Any] | None = None) -> RunSummary:
    """Analyze every utterance of ``manifest`` into ``out`` (resuming), recording failures.

    ``manifest``: a manifest file or corpus folder (read with ``corpora.read_corpus(manifest,
    corpus_format, **corpus_options)``), or a corpus already opened with it. Entries are streamed:
    ``limit`` takes the first N, ``shard`` (K, N) every N-th from the K-th, so N processes (a job
    array) can share one run folder, and ``build_report`` on it afterwards gives the tables of one
    whole run. ``executor`` (``s2t_explain.executors``) runs utterances on workers that each hold
    one copy of the model, a window of utterances at a time; only this process writes files, so a
    retried utterance is written once.
    """
    t0 = time.perf_counter()
    analyze_fn = analyze_fn or analyze
    corpus = manifest if isinstance(manifest, Corpus) else read_corpus(manifest, corpus_format,
                                                                       **(corpus_options or {}))
    out = Path(out)
    results, failures = out / "results", out / "failures"
    counts = {"done": 0, "computed": 0, "failed": 0}

    def complete(item: Utterance | BadLine) -> bool:
        return isinstance(item, Utterance) and (results / f"{item.id}.json").exists()

    # read up to the first utterance left to compute (complete ones are only counted): workers
    # start only when there is one, and a finished run starts none
    stream = _sliced(corpus, limit, shard)
    ahead: list[Utterance | BadLine] = []
    for item in stream:
        if complete(item):
            counts["done"] += 1
            continue
        ahead.append(item)
        if isinstance(item, Utterance):
            break

    with ExitStack() as stack:
        # workers first: an unreachable cluster fails before the run folder is made
        workers = None
        if executor is not None and any(isinstance(it, Utterance) for it in ahead):
            workers = stack.enter_context(executor.open(_worker_state, {"model": model, "analyze": analyze_fn}))
        out.mkdir(parents=True, exist_ok=True)
        stack.enter_context(run_lock(out, shard))
        check_config(out, run_config(model, corpus.path.resolve(), options, task, language, corpus.name,
                                     corpus.options))
        results.mkdir(exist_ok=True)
        failures.mkdir(exist_ok=True)
        bar = tqdm(total=_expected(corpus.size, limit, shard), initial=counts["done"], desc="utterances",
                   unit="utt", disable=not progress, dynamic_ncols=True)

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
            record: dict[str, Any] = {"id": item.id, "audio": str(item.audio), "reason": _reason(error)}
            if item.segment is not None:
                record["segment"] = list(item.segment)
            return cast(FailureRecord, record)

        def pending() -> Iterator[Utterance]:
            """The utterances left to compute (checked again, under the lock); bad entries are
            recorded and complete utterances counted on the way."""
            for item in chain(ahead, stream):
                if isinstance(item, BadLine):
                    line = {"line": item.line} if item.line else {}  # 0: the entry has no line
                    finish(item.id, cast(FailureRecord, {"id": item.id, **line, "reason": item.reason}))
                elif complete(item):
                    counts["done"] += 1
                    bar.update(1)
                else:
                    yield item

        try:
            if workers is None:
                for item in pending():
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
                todo = pending()
                while window := list(islice(todo, max(4 * workers.width, 16))):
                    work = [(item, options, task, language) for item in window]
                    for index, outcome in workers.imap_unordered(_analyze_in_worker, work):
                        item = window[index]
                        finish(item.id, failure(item, outcome) if isinstance(outcome, BaseException) else outcome)
        finally:
            bar.close()
    total = counts["done"] + counts["computed"] + counts["failed"]
    return RunSummary(counts["done"], counts["computed"], counts["failed"], total, time.perf_counter() - t0)
