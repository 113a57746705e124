"""Dataset runs: the cross-attention vs saliency study (agreement, faithfulness, tables, figures)
and the alignment benchmark (word timings against exact boundaries). Corpora are read, streamed, by
``s2t_explain.corpora`` (manifests, LibriSpeech, Kaldi, Hugging Face save_to_disk folders).

>>> from s2t_explain.study import StudyOptions, run_study, build_report
>>> run_study(model, "eval/en.jsonl", "runs/en", StudyOptions())
>>> run_study(model, "LibriSpeech/dev-clean", "runs/ls", StudyOptions(), limit=100)   # any corpus format
>>> build_report("runs/en")     # tables/ (CSV, Parquet, Markdown), figures/, report.md
>>> from s2t_explain.study import run_bench
>>> run_bench(model, "align/en.jsonl", ["alignment-heads", "saliency-encoder"], saliency=preset("fast"))
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .alignment import ALIGNMENT_METHODS, explain_timed, run_bench
    from .manifest import BadLine, TimedUtterance, Utterance, read_alignment_manifest, read_manifest
    from .options import StudyOptions
    from .record import FailureRecord, UtteranceRecord, check_record
    from .report import build_report, load_explanations, load_records
    from .runner import RunSummary, StudyRun, run_study
    from .utterance import analyze, compare

# Lazy, like the package root: analysing stored results (report, record, league) loads no model
# code; running a study (runner, utterance, alignment) imports torch when first used.
_EXPORTS = {
    ".alignment": ("ALIGNMENT_METHODS", "explain_timed", "run_bench"),
    ".manifest": ("BadLine", "TimedUtterance", "Utterance", "read_alignment_manifest", "read_manifest"),
    ".options": ("StudyOptions",),
    ".record": ("FailureRecord", "UtteranceRecord", "check_record"),
    ".report": ("build_report", "load_explanations", "load_records"),
    ".runner": ("RunSummary", "StudyRun", "run_study"),
    ".utterance": ("analyze", "compare"),
}
__getattr__, __dir__ = lazy_exports(__name__, {name: module for module, names in _EXPORTS.items() for name in names})

__all__ = ["ALIGNMENT_METHODS", "BadLine", "FailureRecord", "RunSummary", "StudyOptions", "StudyRun", "TimedUtterance",
           "Utterance",
           "UtteranceRecord", "analyze", "build_report", "check_record", "compare", "explain_timed",
           "load_explanations", "load_records", "read_alignment_manifest", "read_manifest", "run_bench", "run_study"]
