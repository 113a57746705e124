"""Our CT2 -> PyTorch Whisper conversion against CTranslate2 itself (the packages' own engine).

For every bundled model, demo clip and task (see ``scripts/compare_ct2.py``, which holds the
comparison code and prints the full table): identical greedy token ids, and per-token
log-probabilities, logits and encoder outputs equal up to float32 rounding.

Tolerances (justified in ``scripts/compare_ct2.py`` next to their definitions). Both engines run
float32 with the same exactly upcast float16 weights but different kernels and accumulation
order. Measured over all 12 cases (ctranslate2 4.8.5, torch 2.13 CPU, 2 threads): worst
|delta log-prob| 6.6e-5, worst |delta logit| 1.1e-4 (logits up to ~30), worst encoder relative
difference 4.1e-5. Deliberate small conversion mistakes move these far more: one decoder layer
rounded to bfloat16 gives a log-prob delta of 6.9e-4, tanh-GELU 3.6e-3, LayerNorm eps 1e-6
7.6e-3, one weight +0.01 a logit delta of 4e-3. Hence log-prob 3e-4, logit 1e-3, encoder 2e-4.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ctranslate2 = pytest.importorskip("ctranslate2")

import s2t_explain  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.golden]  # the conversion's exactness: in the default run

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_ct2.py"


def _load_compare():
    spec = importlib.util.spec_from_file_location("compare_ct2", SCRIPT)
    assert spec is not None and spec.loader is not None, f"cannot load {SCRIPT}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


compare = _load_compare()
CASES = compare.cases()


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """Per model name: (our adapter, CTranslate2 Whisper), loaded once per module on first use."""
    scratch = tmp_path_factory.mktemp("ct2")
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            try:
                ours = s2t_explain.load_model(name)
            except s2t_explain.S2TError as e:  # bundled package not installed
                pytest.skip(str(e))
            cache[name] = (ours, compare.load_ct2(compare.assemble_ct2_folder(name, scratch)))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def prepared(engines):
    """Per (model, clip): our features + encoder states, and CTranslate2's encoder output."""
    clips = compare.load_clips()
    cache: dict[tuple[str, str], tuple] = {}

    def get(model_name: str, clip: str):
        key = (model_name, clip)
        if key not in cache:
            ours, ct2 = engines(model_name)
            p = s2t_explain.prepare(ours, compare.AUDIO_DIR / clips[clip]["file"])
            cache[key] = (p, compare.ct2_encode(ct2, p))
        return cache[key]

    return get


def test_cases_cover_every_clip_and_task():
    clips = compare.load_clips()
    ids = {c.id for c in CASES}
    assert len(CASES) == len(ids) == 12
    assert {c.clip for c in CASES if c.model == "whisper-base"} == set(clips)
    assert {(c.clip, c.language) for c in CASES if c.task == "translate"} == {
        (k, "it") for k, v in clips.items() if v["language"] == "it"
    }


@pytest.mark.parametrize("model_name, clip", sorted({(c.model, c.clip) for c in CASES}))
def test_encoder_output_matches_ctranslate2(prepared, model_name, clip):
    p, theirs = prepared(model_name, clip)
    diff, relative = compare.encoder_difference(p, theirs)
    assert theirs.shape == tuple(p.states.shape)
    assert relative < compare.ENCODER_REL_TOL, f"encoder max |delta| {diff:.2e} (relative {relative:.2e})"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_greedy_decode_matches_ctranslate2(engines, prepared, case):
    ours, ct2 = engines(case.model)
    p, encoded = prepared(case.model, case.clip)
    result = compare.compare_case(ours, ct2, p, encoded, case)

    assert result.ours == result.theirs, "greedy token ids differ from CTranslate2's"
    assert result.ours[-1] == ours.eot and result.n_tokens > 0
    assert result.gen_steps == len(result.ours)  # every generated step (end-of-text too) compared
    assert result.align_max < compare.LOGPROB_TOL, f"teacher-forced text tokens: {result.align_max:.2e}"
    assert result.gen_max < compare.LOGPROB_TOL, f"Transcript.logprobs vs generate: {result.gen_max:.2e}"
    assert result.logit_max < compare.LOGIT_TOL, f"logits: {result.logit_max:.2e}"
    # CTranslate2's own sequence score carries ~2.5e-5 per token of float32 log-softmax bias
    # (it differs from the float64 log-softmax of its own logits by that much), so allow it per token.
    assert result.total_delta < compare.LOGPROB_TOL * len(result.ours), (
        f"sequence log-prob {result.total_ours:.6f} vs CTranslate2 {result.total_theirs:.6f}"
    )
