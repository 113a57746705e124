"""The study: cross-attention vs saliency over a dataset (agreement, faithfulness, tables, figures).

>>> from s2t_explain.study import StudyOptions, run_study, build_report
>>> run_study(model, "eval/en.jsonl", "runs/en", StudyOptions())
>>> build_report("runs/en")     # tables/ (CSV, Parquet, Markdown), figures/, report.md
"""

from .manifest import BadLine, Utterance, read_manifest
from .options import StudyOptions
from .report import build_report, load_records
from .runner import RunSummary, run_study
from .utterance import analyze, compare

__all__ = ["BadLine", "RunSummary", "StudyOptions", "Utterance", "analyze", "build_report", "compare",
           "load_records", "read_manifest", "run_study"]
