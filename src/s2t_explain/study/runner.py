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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import OptionError, S2TError
from ..files import write_json
from ..models.base import SpeechToTextModel
from .manifest import BadLine, Utterance, read_manifest
from .options import StudyOptions
from .record import FailureRecord
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


def run_study(model: SpeechToTextModel, manifest: str | Path, out: str | Path, options: StudyOptions = StudyOptions(),
              task: str = "transcribe", language: str | None = None, limit: int | None = None,
              progress: bool = True) -> RunSummary:
    """Analyze every utterance of ``manifest`` into ``out`` (resuming), recording failures."""
    t0 = time.perf_counter()
    manifest, out = Path(manifest), Path(out)
    items = read_manifest(manifest)
    if limit is not None:
        items = items[:limit]
    out.mkdir(parents=True, exist_ok=True)
    check_config(out, run_config(model, manifest.resolve(), options, task, language))
    results, failures = out / "results", out / "failures"
    results.mkdir(exist_ok=True)
    failures.mkdir(exist_ok=True)
    todo = [it for it in items if not (isinstance(it, Utterance) and (results / f"{it.id}.json").exists())]
    done = len(items) - len(todo)
    computed = failed = 0
    bar = tqdm(todo, desc="utterances", unit="utt", disable=not progress, dynamic_ncols=True)
    for item in bar:
        bar.set_postfix_str(item.id)
        if isinstance(item, BadLine):
            bad_line: FailureRecord = {"id": item.id, "line": item.line, "reason": item.reason}
            write_json(failures / f"{item.id}.json", bad_line)
            failed += 1
            continue
        def stage(what: str, uid: str = item.id) -> None:
            bar.set_postfix_str(f"{uid}: {what}")

        try:
            explanation, record = analyze(model, item, options, task, language, stage=stage)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # recorded, and the run goes on
            failure: FailureRecord = {"id": item.id, "audio": str(item.audio), "reason": _reason(e)}
            write_json(failures / f"{item.id}.json", failure)
            failed += 1
            continue
        explanation.save(results / f"{item.id}.npz")
        write_json(results / f"{item.id}.json", record)  # last: marks the utterance complete
        (failures / f"{item.id}.json").unlink(missing_ok=True)
        computed += 1
    bar.close()
    return RunSummary(done, computed, failed, len(items), time.perf_counter() - t0)
