"""Layering: the NumPy-only parts load (and a stored result is read and drawn) without torch.

Each check runs in a fresh interpreter, because the test process itself has torch loaded.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from helpers import speechlike


def run_fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_array_layers_import_without_torch():
    proc = run_fresh("""
        import sys
        import s2t_explain
        import s2t_explain.metrics, s2t_explain.pooling, s2t_explain.alignment.dtw, s2t_explain.results
        import s2t_explain.plots, s2t_explain.plots.saliency, s2t_explain.plots.study
        import s2t_explain.alignment, s2t_explain.normalization, s2t_explain.files, s2t_explain.tasks
        from s2t_explain.decoding import DecodingOptions, Transcript
        DecodingOptions(language="it")
        loaded = sorted(m for m in ("torch", "s2t_explain.saliency.engine", "s2t_explain.saliency.perturb",
                                    "s2t_explain.models", "s2t_explain.pipeline") if m in sys.modules)
        print("LOADED", loaded)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout


def test_stored_result_loads_times_words_and_plots_without_torch(tmp_path, tiny_whisper):
    from s2t_explain import explain_attention

    path = explain_attention(tiny_whisper, speechlike(1.0), text="hello there").save(tmp_path / "r.npz")
    proc = run_fresh(f"""
        import sys
        from s2t_explain.results import Explanation
        from s2t_explain.alignment import word_timestamps
        from s2t_explain.metrics import agreement
        from s2t_explain.plots import AttentionHeatmap
        result = Explanation.load({str(path)!r})
        words = word_timestamps(result, "attention", "all")
        scores = agreement(result.cross_attention, result.aggregate("alignment", text_only=False))
        figure = AttentionHeatmap.from_result(result, "all").figure()
        print("WORDS", [w.word for w in words], "TORCH", "torch" in sys.modules)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "WORDS [' hello', ' there'] TORCH False" in proc.stdout


def test_the_lazy_api_resolves_every_exported_name():
    import s2t_explain

    for name in s2t_explain.__all__:
        assert getattr(s2t_explain, name) is not None, name
    assert set(s2t_explain.__all__) <= set(dir(s2t_explain))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        s2t_explain.nope  # noqa: B018


# A fresh interpreter in which ``import torch`` fails (a finder refuses it; ``sys.modules["torch"] =
# None`` would also break SciPy, which probes sys.modules for array libraries).
NO_TORCH = """
import sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is unimportable in this test")
sys.meta_path.insert(0, _NoTorch())
"""


def run_without_torch(code: str) -> subprocess.CompletedProcess:
    return run_fresh(NO_TORCH + textwrap.dedent(code))


def test_model_free_layers_and_option_classes_work_with_torch_unimportable():
    proc = run_without_torch("""
        import s2t_explain.explorer, s2t_explain.study.report, s2t_explain.results, s2t_explain.metrics
        import s2t_explain.alignment, s2t_explain.plots, s2t_explain.study, s2t_explain.methods, s2t_explain.models
        import s2t_explain.longform
        import s2t_explain as s2t
        from s2t_explain.errors import OptionError
        s2t.SaliencyOptions(); s2t.preset("fast"); s2t.StudyOptions(methods=tuple(s2t.list_methods()))
        s2t.MethodOptions(ig_steps=4); s2t.DecodingOptions(language="it"); s2t.LongformOptions()
        names = (s2t.list_scorers(), s2t.list_baselines(), s2t.list_methods(), s2t.list_alignment_methods(),
                 s2t.list_timestamp_sources())
        try:
            s2t.SaliencyOptions(scorer="nope")
        except OptionError as e:
            print("REFUSED", e)
        import s2t_explain.explainers, s2t_explain.explainers.catalog, s2t_explain.results.maps
        print("NAMES", names[0], names[2])
        print("SOURCES", names[4])
        print("MAPS", s2t.list_maps(), s2t.explainers.catalog.resolve_maps("SM_H,methods"))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "REFUSED unknown scorer 'nope'; choose one of: kl, prob_drop" in proc.stdout
    assert "NAMES ['kl', 'prob_drop'] ['attention', 'attention-norm'" in proc.stdout
    # a fresh process knows every map (and so every timestamp source) without importing an implementation
    assert ("SOURCES ['attention', 'spes-input', 'spes-encoder', 'attention-norm', 'attention-grad', 'grad-input', "
            "'integrated-gradients', 'grad-encoder']") in proc.stdout
    assert ("MAPS ['attention', 'spes-input', 'spes-encoder', 'spes-token', 'attention-norm', 'attention-grad', "
            "'grad-input', 'integrated-gradients', 'grad-encoder'] ('attention', 'spes-encoder', 'attention-norm', "
            "'attention-grad', 'grad-input', 'integrated-gradients', 'grad-encoder')") in proc.stdout


def test_declared_registries_match_their_implementations():
    """The names declared without torch are exactly the ones the implementations register."""
    from s2t_explain.explainers import run  # noqa: F401  (imports every explainer)
    from s2t_explain.explainers.catalog import EXPLAINERS
    from s2t_explain.registry import Registry
    from s2t_explain.saliency import perturb, scorers  # noqa: F401
    from s2t_explain.saliency.catalog import ENCODER_BASELINES, INPUT_BASELINES, SCORERS

    assert sorted(EXPLAINERS._items) == sorted(EXPLAINERS.names())  # registered in import order, listed as declared
    for registry in (SCORERS, INPUT_BASELINES, ENCODER_BASELINES):
        assert list(registry._items) == registry.names(), registry.kind
    undeclared = Registry("thing", ("a",), home="s2t_explain.errors")
    with pytest.raises(ValueError, match="'b' is not declared"):
        undeclared.register("b")(object())


def test_reporting_commands_run_with_torch_unimportable(tmp_path, tiny_whisper):
    """--help, html, report and timestamps of stored results (any stored map, a method's too) need
    no model code: each runs in an interpreter where torch cannot be imported."""
    import soundfile as sf

    import s2t_explain as s2t
    from s2t_explain.saliency.options import EncoderSaliencyOptions, InputSaliencyOptions, SaliencyOptions

    options = SaliencyOptions(input=InputSaliencyOptions(n_masks=8, granularities=(20,)),
                              encoder=EncoderSaliencyOptions(n_masks=8))
    result = s2t.explain(tiny_whisper, speechlike(1.0), saliency=options, text="hello there", progress=False,
                         maps="default,grad-encoder")
    stored = result.save(tmp_path / "r.npz")
    sf.write(tmp_path / "u.wav", speechlike(0.5), 16_000)
    (tmp_path / "m.jsonl").write_text('{"id": "u", "audio": "u.wav", "reference": "w"}\n')
    study = s2t.StudyOptions(saliency=options, methods=(), faithfulness="logprob", curve_step=25)
    s2t.run_study(tiny_whisper, tmp_path / "m.jsonl", tmp_path / "run", study, progress=False)
    argvs = [["html", str(stored), "-q"], ["timestamps", str(stored), "-q", "--from", "grad-encoder"],
             ["timestamps", str(stored), "-q", "--from", "spes-encoder"],
             ["timestamps", str(stored), "-q", "--from", "method:grad-encoder"],  # the format-1 name
             ["report", str(tmp_path / "run"), "--html", "-q"]]
    proc = run_without_torch(f"""
        import sys
        from s2t_explain.cli.main import main
        codes = [main(argv) for argv in {argvs!r}]
        print("CODES", codes, "TORCH", "torch" in sys.modules)
        try:
            main(["--help"])
        except SystemExit as e:
            print("HELP EXIT", e.code)
    """)
    assert proc.returncode == 0, proc.stderr
    assert f"CODES {[0] * len(argvs)} TORCH False" in proc.stdout and "HELP EXIT 0" in proc.stdout, proc.stdout
    assert stored.with_suffix(".html").is_file() and (tmp_path / "run" / "report.html").is_file()
    assert proc.stdout.count('"start"') >= 6  # three timestamp documents of two words each


def _package_imports() -> dict[str, set[str]]:
    """Package -> the packages its modules import at module level (``s2t_explain.X.y`` counts as X;
    imports inside functions and under ``if TYPE_CHECKING`` are deferred, so they cannot cycle at
    import time and are left out)."""
    import ast
    from pathlib import Path

    import s2t_explain

    root = Path(s2t_explain.__file__).parent
    edges: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[:-1]  # what "." means: the folder of the module (of __init__: its package)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                names = [".".join(base + ([node.module] if node.module else []))]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            mine = parts[1] if len(parts) > 1 else "s2t_explain"
            for name in names:
                target = name.split(".")
                if target[0] == "s2t_explain" and len(target) > 1 and target[1] != mine:
                    edges.setdefault(mine, set()).add(target[1])
    return edges


def test_no_import_cycle_between_packages():
    edges = _package_imports()
    assert {"decoding", "errors"} <= edges["metrics"]  # relative imports resolved (metrics.tokens: ..decoding.words)

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    return [*path, start]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for c in map(cycle_from, sorted(edges)) if c]
    assert cycles == [], " | ".join(" -> ".join(c) for c in cycles)


def test_no_function_in_the_package_is_over_60_lines():
    """Small pieces: a function longer than 60 lines (docstring included) is split (ruff checks
    complexity and argument counts; this checks length)."""
    import ast
    from pathlib import Path

    import s2t_explain

    root = Path(s2t_explain.__file__).parent
    long = [f"{path.relative_to(root)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in sorted(root.rglob("*.py")) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60]
    assert long == []
