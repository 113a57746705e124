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
complete utterances are skipped, failed ones are tried again. The folder, its locks, the
settings check and the failure rule are ``runfolder.RunFolder``'s, shared with long-form runs.

The corpus (``corpora.read_corpus``: a manifest file or a corpus folder) is streamed: utterances
are read as the run reaches them, so a corpus of any size starts at once, and ``limit`` / ``shard``
slice the stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, cast

from ..corpora import BadLine, Corpus, Utterance, read_corpus
from ..errors import OptionError
from ..executors.base import Executor
from ..files import write_json
from ..models.base import SpeechToTextModel
from ..results.explanation import Explanation
from ..runfolder import RunFolder, attempt, failure_reason, stops_the_run, stored_config
from ..saliency.fidelity import assess
from ..saliency.options import QUICK_PRESET, preset
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


def run_config(model: SpeechToTextModel, manifest: Path, options: StudyOptions, corpus_format: str = "jsonl",
               corpus_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """What ``run.json`` records; a resumed run must match on ``CONFIG_KEYS`` (not the manifest's
    path nor its format: a moved or converted corpus resumes). Task, language and the extra pairs
    are keys of their own (task and language were arguments before, pairs are new; null when none),
    so folders of earlier versions resume. ``fidelity`` (SM_X's fidelity class, from the options)
    is recorded for readers, not compared."""
    stored = {k: v for k, v in asdict(options).items() if k not in ("task", "language", "pairs")}
    return {"version": RUN_VERSION, "model": model.name, "manifest": str(manifest), "format": corpus_format,
            "format_options": corpus_options or {}, "task": options.task, "language": options.language,
            "pairs": list(options.pairs) or None, "options": json.loads(json.dumps(stored)),
            "fidelity": assess(options.saliency).record()}  # SM_X's class (saliency.fidelity); not compared


Outcome = tuple[Explanation, UtteranceRecord]
Analyze = Callable[..., Outcome]  # (model, utterance, options, task, language, stage=)
CONFIG_KEYS = ("version", "model", "task", "language", "pairs", "options")  # what changes results: compared on resume


def _hint_earlier_default(out: Path, config: dict[str, Any]) -> None:
    """A folder made with the ``fast`` preset (the default before ``faithful``) asked to resume with
    other saliency options: say how to resume it instead of only "options differ"."""
    old = (stored_config(out) or {}).get("options", {}).get("saliency") or {}
    fast = json.loads(json.dumps(asdict(preset(QUICK_PRESET))))
    same_kind = (old.get("input") or {}).get("granularities") == fast["input"]["granularities"] \
        and old.get("estimator") == fast["estimator"]
    if same_kind and old != config["options"]["saliency"]:
        raise OptionError(f"{out} was made with the fast preset (the default of earlier versions; now faithful): "
                          "add --preset fast (with the masks it used) to resume it, or use a new output folder")


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` -> (K, N): this process takes every N-th manifest line starting at line K (1-based)."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise OptionError(f"bad shard {text!r}; write K/N, e.g. 2/8 (the second of eight shards)") from None
    if not 1 <= k <= n:
        raise OptionError(f"bad shard {text!r}; K/N needs 1 <= K <= N")
    return k, n


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
              options: StudyOptions = StudyOptions(), *, limit: int | None = None,
              shard: tuple[int, int] | None = None, progress: bool = True,
              executor: Executor | None = None) -> RunSummary:
    """Analyze every utterance of ``manifest`` into ``out`` (resuming), recording failures.

    ``manifest``: a manifest file or corpus folder (its format detected), or a corpus opened with
    ``corpora.read_corpus(path, format, **format_options)``. Entries are streamed: ``limit`` takes
    the first N, ``shard`` (K, N) every N-th from the K-th, so N processes (a job array) can share
    one run folder, and ``build_report`` on it afterwards gives the tables of one whole run.
    ``executor`` (``s2t_explain.executors``) runs utterances on workers that each hold one copy of
    the model, a window of utterances at a time; only this process writes files, so a retried
    utterance is written once. :class:`StudyRun` runs another per-utterance analysis the same way.
    """
    corpus = manifest if isinstance(manifest, Corpus) else read_corpus(manifest)
    return StudyRun(model, corpus, out, options, limit=limit, shard=shard).run(progress=progress, executor=executor)


def _default_analysis() -> Analyze:
    return analyze  # looked up when a run starts: tests replace this module's ``analyze``


class StudyRun:
    """One study run: a corpus slice analysed into a run folder (``runfolder.RunFolder``: locked,
    settings checked, failures recorded by the one failure rule), with progress and counts.
    ``analyze`` (default ``study.utterance.analyze``) makes each utterance's (Explanation, record);
    give another to run a different analysis over a corpus with the same resume and failure rules."""

    def __init__(self, model: SpeechToTextModel, corpus: Corpus, out: str | Path, options: StudyOptions,
                 limit: int | None = None, shard: tuple[int, int] | None = None,
                 analyze: Analyze | None = None) -> None:
        self.model, self.corpus, self.options, self.limit, self.shard = model, corpus, options, limit, shard
        self.analyze = analyze or _default_analysis()
        self.out = Path(out)
        self.results, self.failures = self.out / "results", self.out / "failures"
        self.counts = {"done": 0, "computed": 0, "failed": 0}

    def config(self) -> dict[str, Any]:
        return run_config(self.model, self.corpus.path.resolve(), self.options, self.corpus.name, self.corpus.options)

    def complete(self, item: Utterance | BadLine) -> bool:
        return isinstance(item, Utterance) and (self.results / f"{item.id}.json").exists()

    def run(self, progress: bool = True, executor: Executor | None = None) -> RunSummary:
        t0 = time.perf_counter()
        # read up to the first utterance left to compute (complete ones are only counted): workers
        # start only when there is one, and a finished run starts none
        stream = _sliced(self.corpus, self.limit, self.shard)
        ahead: list[Utterance | BadLine] = []
        for item in stream:
            if self.complete(item):
                self.counts["done"] += 1
                continue
            ahead.append(item)
            if isinstance(item, Utterance):
                break
        with ExitStack() as stack:
            # workers first: an unreachable cluster fails before the run folder is made
            workers = None
            if executor is not None and any(isinstance(it, Utterance) for it in ahead):
                workers = stack.enter_context(executor.open(_worker_state, {"model": self.model,
                                                                            "analyze": self.analyze}))
            _hint_earlier_default(self.out, self.config())
            folder = stack.enter_context(RunFolder(self.out, self.config(), keys=CONFIG_KEYS, shard=self.shard))
            self.results.mkdir(exist_ok=True)
            self.failures.mkdir(exist_ok=True)
            self.folder = folder
            self.bar = folder.progress(_expected(self.corpus.size, self.limit, self.shard), "utterances", "utt",
                                       initial=self.counts["done"], enabled=progress)
            todo = self.pending(chain(ahead, stream))
            if workers is None:
                self.one_by_one(todo)
            else:
                self.on_workers(todo, workers)
        c = self.counts
        return RunSummary(c["done"], c["computed"], c["failed"], c["done"] + c["computed"] + c["failed"],
                          time.perf_counter() - t0)

    def pending(self, items: Iterable[Utterance | BadLine]) -> Iterator[Utterance]:
        """The utterances left to compute (checked again, under the lock); bad entries are recorded
        and complete utterances counted on the way."""
        for item in items:
            if isinstance(item, BadLine):
                line = {"line": item.line} if item.line else {}  # 0: the entry has no line
                self.finish(item.id, cast(FailureRecord, {"id": item.id, **line, "reason": item.reason}))
            elif self.complete(item):
                self.counts["done"] += 1
                self.bar.update(1)
            else:
                yield item

    def one_by_one(self, todo: Iterator[Utterance]) -> None:
        o = self.options
        for item in todo:
            def stage(what: str, uid: str = item.id) -> None:
                self.bar.set_postfix_str(f"{uid}: {what}")

            def compute(item: Utterance = item, stage: Callable[[str], None] = stage) -> Outcome:
                return self.analyze(self.model, item, o, o.task, o.language, stage=stage)

            self.settle(item, attempt(compute))

    def on_workers(self, todo: Iterator[Utterance], workers: Any) -> None:
        o = self.options
        while window := list(islice(todo, max(4 * workers.width, 16))):
            work = [(item, o, o.task, o.language) for item in window]
            for index, outcome in workers.imap_unordered(_analyze_in_worker, work):
                if isinstance(outcome, BaseException) and stops_the_run(outcome):
                    raise outcome
                self.settle(window[index], outcome)

    def settle(self, item: Utterance, outcome: Outcome | BaseException) -> None:
        if isinstance(outcome, BaseException):
            record: dict[str, Any] = {"id": item.id, "audio": str(item.audio), "reason": failure_reason(outcome)}
            if item.segment is not None:
                record["segment"] = list(item.segment)
            self.finish(item.id, cast(FailureRecord, record))
        else:
            self.finish(item.id, outcome)

    def finish(self, uid: str, outcome: Outcome | FailureRecord) -> None:
        if isinstance(outcome, tuple):
            explanation, record = outcome
            explanation.save(self.results / f"{uid}.npz")
            write_json(self.results / f"{uid}.json", record)  # last: marks the utterance complete
            self.folder.succeeded(uid)
            self.counts["computed"] += 1
        else:
            self.folder.failed(uid, dict(outcome))
            self.counts["failed"] += 1
        self.bar.update(1)
        self.bar.set_postfix_str(f"{uid} done, {self.counts['failed']} failed")
