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
