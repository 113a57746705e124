"""The per-utterance record of a study run: the schema of ``results/ID.json`` (and ``failures/ID.json``).

``study.utterance.analyze`` builds one :class:`UtteranceRecord` per utterance; ``study.runner``
writes it as ``results/ID.json`` (strict, indented UTF-8 JSON, keys in the order declared below)
and ``study.report`` reads it back with :func:`check_record`. Standard library only, so the
schema can be imported without torch or NumPy.

Layout of ``results/ID.json`` (a JSON object)::

  agreement            per pair, per statistic (``pearson``, ``spearman``: the run's ``statistics``)
    CA-SMX, CA-SMH       cross-attention vs pooled SM_X / vs SM_H -> statistic -> AgreementStats:
      head                 (L, H) nested lists: one correlation per (decoder layer, head)
      layer                (L,) each layer's heads averaged
      all                  all heads of all layers averaged
      alignment            the model's alignment heads averaged (null: the model names none)
      best-head            the highest single-head value
      best-head-index      [layer, head] of that head (0-based; [0, 0] when every head is null)
    SMX-SMH              statistic -> one correlation (pooled SM_X vs SM_H)
  size                 explanation (CA, SMX-pooled, SMX, SMH) -> compactness in percent (lower = more compact)
  faithfulness         scoring (``decode``, ``logprob``; empty when faithfulness is off) -> FaithfulnessRecord:
    steps                percent of input elements occluded (deletion) or kept (insertion), e.g. 0, 5, ..., 100
    how                  the scoring again
    metric               ``wer`` / ``bleu`` / ``chrf`` (decode) or ``logprob_drop`` (nats per text token)
    deletion, insertion  explanation (the four maps and ``random``) -> {curve: one score per step, auc}
                         (AUC over percent, divided by 100: in the metric's unit)
  id, audio            the manifest's id and the audio path
  task, language       the decoding task (``transcribe`` / ``translate``) and language (null: not known)
  hypothesis           the model's text; ``reference``: the manifest's text (null: none given)
  n_tokens             explained text tokens (rows of the compared maps)
  duration_s           audio duration in seconds
  model                the model's name
  reliability          saliency map (``input`` = SM_X, ``encoder`` = SM_H) -> split-half reliability
  reliability_pooled   the same for the map pooled to encoder frames (null for SM_H / not measured)
  masks                saliency map -> number of masks used
  timings_s            seconds: ``explain`` (decoding and saliency), ``faithfulness``, ``total``
  reference_score      only when a reference is given: text metric (``wer``, ``bleu``, ``chrf``) ->
                       the hypothesis scored against the reference
  methods              explanation method (``StudyOptions.methods``) -> grain, cost (seconds, batched
                       forward/backward passes), agreement with SM_X pooled / SM_H per statistic,
                       size, per-token r (:class:`MethodRecord`); its faithfulness curves are in
                       ``faithfulness`` beside CA's
  tokens               per explained token: label, kind, word class, probability, attention entropy,
                       per-token r of CA with SM_X / SM_H and with the cheap methods (:class:`TokenRecord`)
  fidelity             SM_X's fidelity class (``saliency.fidelity``): kind (``paper``, ``measured``,
                       ``unmeasured``), meets_target, pooled_fidelity (estimated r with the converged
                       paper map), target, differs (how the setting differs from the paper's), note

Nulls: every correlation, size, curve value, AUC, reliability and reference score may be null:
non-finite numbers (NaN correlations of a constant map, for instance) are written as null, since
the files are strict JSON. ``failures/ID.json`` (:class:`FailureRecord`) says why an utterance or
a manifest line failed.
"""

import types
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypedDict, Union, cast, get_args, get_origin, get_type_hints, is_typeddict

from ..errors import ResultError

# The study's names for what it compares (record keys, table rows; the paper's labels) and the map
# each one is (``explainers.catalog`` names): the one table, read both ways.
STUDY_MAPS: dict[str, str] = {"CA": "attention", "SMX": "spes-input", "SMX-pooled": "spes-input",
                              "SMH": "spes-encoder"}
SPES_TARGETS: dict[str, str] = {"SMX": "SMX-pooled", "SMH": "SMH"}  # a method's agreement target -> its study map
RELIABILITY_KEYS: dict[str, str] = {"spes-input": "input", "spes-token": "tokens",
                                    "spes-encoder": "encoder"}  # map -> key of the record's reliability and masks

Pair = Literal["CA-SMX", "CA-SMH"]  # the pairs with per-head agreement
PAIRS: tuple[Pair, ...] = ("CA-SMX", "CA-SMH")
CurveMode = Literal["deletion", "insertion"]
CURVE_MODES: tuple[CurveMode, ...] = ("deletion", "insertion")

# Correlation of cross-attention with one saliency map, at every head/layer granularity
# (``metrics.agreement.agreement``); null where the correlation is NaN.
AgreementStats = TypedDict("AgreementStats", {
    "head": list[list[float | None]],  # (L, H)
    "layer": list[float | None],  # (L,)
    "all": float | None,
    "alignment": float | None,  # null when the model has no alignment heads
    "best-head": float | None,
    "best-head-index": list[int],  # [layer, head]
})

# pair -> statistic -> values; ``SMX-SMH`` has one value per statistic.
AgreementRecord = TypedDict("AgreementRecord", {
    "CA-SMX": dict[str, AgreementStats],
    "CA-SMH": dict[str, AgreementStats],
    "SMX-SMH": dict[str, float | None],
})


class Curve(TypedDict):
    """One explanation's deletion or insertion curve."""

    curve: list[float | None]  # one score per step
    auc: float | None  # area under the curve over percent, / 100


class FaithfulnessRecord(TypedDict):
    """Deletion and insertion curves of one scoring (``study.faithfulness.faithfulness_curves``)."""

    steps: list[float]  # percent
    how: str  # "decode" or "logprob"
    metric: str  # "wer", "bleu", "chrf" or "logprob_drop"
    deletion: dict[str, Curve]  # explanation name -> curve
    insertion: dict[str, Curve]


class Timings(TypedDict):
    """Seconds spent on the utterance."""

    explain: float
    faithfulness: float
    total: float


class Comparison(TypedDict):
    """What ``study.utterance.compare`` measures without a model: agreement and size."""

    agreement: AgreementRecord
    size: dict[str, float | None]  # explanation -> compactness (percent)


class _CompleteRecord(Comparison):
    faithfulness: dict[str, FaithfulnessRecord]  # scoring -> curves
    id: str
    audio: str
    task: str
    language: str | None
    hypothesis: str
    reference: str | None
    n_tokens: int
    duration_s: float
    model: str
    reliability: dict[str, float | None]  # saliency map ("input", "encoder") -> split-half reliability
    reliability_pooled: dict[str, float | None]
    masks: dict[str, int | None]  # saliency map -> masks used
    timings_s: Timings


# One method's agreement with one SPES map, per statistic: ``all`` (the method's map aggregated
# over the study's attention heads, or its only map), and for per-head methods every granularity.
MethodAgreement = TypedDict("MethodAgreement", {
    "all": float | None,
    "head": list[list[float | None]],
    "layer": list[float | None],
    "alignment": float | None,
    "best-head": float | None,
    "best-head-index": list[int],
}, total=False)


class MethodCost(TypedDict):
    seconds: float
    forward: int  # batched passes
    backward: int


class MethodRecord(TypedDict):
    """An explanation method other than SPES on this utterance (``study.methods``)."""

    grain: str  # the map's grain (results.maps.GRAINS): "per-head", "encoder" or "input"
    cost: MethodCost
    agreement: dict[str, dict[str, MethodAgreement]]  # SPES map ("SMX" pooled, "SMH") -> statistic -> values
    size: float | None  # compactness, percent
    per_token: dict[str, list[float | None]]  # SPES map -> Pearson r of each explained token's row


class TokenRecord(TypedDict):
    """Per explained token (rows of the compared maps): what it is and how well maps agree on it."""

    labels: list[str]
    kinds: list[str]  # metrics.tokens.TOKEN_KINDS
    classes: list[str | None]  # "function" / "content" (English words), else null
    prob: list[float | None]  # the token's probability under teacher forcing
    entropy: list[float | None]  # normalised entropy of its aggregated cross-attention row
    r: dict[str, list[float | None]]  # pair ("CA-SMX", "CA-SMH", "CA-<method>") -> Pearson r per token


class PairRecord(TypedDict):
    """Agreement of two maps named by ``StudyOptions.pairs`` (``study.pairs``)."""

    r: dict[str, float | None]  # statistic -> correlation over the explained tokens
    per_token: list[float | None]  # Pearson r of each explained token's row


class FidelityRecord(TypedDict):
    """SM_X's fidelity class (``saliency.fidelity.Fidelity.record``)."""

    kind: str  # "paper", "measured", "unmeasured" ("none" never reaches a record: no SM_X, no key)
    meets_target: bool | None
    pooled_fidelity: float | None  # estimated per-token r of pooled SM_X with the converged paper map
    target: float
    differs: list[str]  # how the setting differs from the paper's
    note: str | None  # the one line a result below the target carries


class UtteranceRecord(_CompleteRecord, total=False):
    """One utterance's ``results/ID.json``; see the module docstring for every key."""

    reference_score: dict[str, float | None]  # only when the utterance has a reference
    methods: dict[str, MethodRecord]  # explanation methods other than SPES (StudyOptions.methods)
    tokens: TokenRecord  # per-token analysis
    pairs: dict[str, PairRecord]  # "A:B" (map names) -> agreement, for StudyOptions.pairs
    warnings: list[str]  # about the input, when there are any (a truncated file: audio.header_warnings)
    fidelity: FidelityRecord  # SM_X's fidelity class; absent in runs made before fidelity classes


class _FailureBase(TypedDict):
    id: str
    reason: str  # one line


class FailureRecord(_FailureBase, total=False):
    """``failures/ID.json``: why a manifest line (``line``, 1-based) or an utterance (``audio``) failed."""

    line: int
    audio: str


RECORD_KEYS: frozenset[str] = UtteranceRecord.__required_keys__  # top-level keys every record has


_SCALARS: dict[Any, tuple[type, ...]] = {float: (int, float), int: (int,), str: (str,), bool: (bool,),
                                         type(None): (type(None),)}


# JSON kinds in words, checked in this order (bool before int: True is an int in Python)
_KINDS: tuple[tuple[type, str], ...] = ((type(None), "null"), (bool, "true or false"), (dict, "an object"),
                                        (list, "a list"), (str, "a string"), (int, "an integer"), (float, "a number"))
_NAMES = dict(_KINDS)  # expected types in words


def _kind(value: object) -> str:
    """What a JSON value is, in words."""
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


def _arms(hint: Any) -> tuple[Any, ...]:
    return get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)


def _expected(hint: Any) -> str:
    names = []
    for arm in _arms(hint):
        if is_typeddict(arm) or get_origin(arm) is dict:
            names.append("an object")
        elif get_origin(arm) is list:
            names.append("a list")
        else:
            names.append(_NAMES.get(arm, str(arm)))
    return " or ".join(names)


@cache
def _scalar_types(hint: Any) -> tuple[type, ...] | None:
    """The Python types a scalar hint (``float | None``...) accepts; None for containers."""
    arms = _arms(hint)
    if not all(arm in _SCALARS for arm in arms):
        return None
    return tuple(t for arm in arms for t in _SCALARS[arm])


@cache
def _fields(typed: Any) -> dict[str, Any]:
    return get_type_hints(typed)


def _problem(value: object, hint: Any, where: str) -> str | None:
    """How ``value`` (parsed JSON) fails to fit ``hint``, in words; None when it fits."""
    scalar = _scalar_types(hint)
    if scalar is not None:  # bool is not a number here: type(), not isinstance()
        return None if type(value) in scalar else f"{where} is {_kind(value)}, expected {_expected(hint)}"
    arms = _arms(hint)
    if len(arms) > 1:  # a container or null
        if value is None and type(None) in arms:
            return None
        return _problem(value, next(a for a in arms if a is not type(None)), where)
    if is_typeddict(hint):
        return _object_problem(value, hint, where)
    origin = get_origin(hint)
    if origin is dict:
        return _dict_problem(value, get_args(hint)[1], where)
    if origin is list:
        return _list_problem(value, get_args(hint)[0], where)
    raise TypeError(f"no check for type hint {hint!r}")  # a schema the checker does not know: a bug


def _object_problem(value: object, hint: Any, where: str) -> str | None:
    """A TypedDict: an object with its required keys, each value fitting its field."""
    if not isinstance(value, dict):
        return f"{where} is {_kind(value)}, expected an object"
    missing = sorted(hint.__required_keys__ - value.keys())
    if missing:
        return f"{where} lacks key(s) {', '.join(missing)}"
    for key, sub in _fields(hint).items():
        if key in value and (problem := _problem(value[key], sub, f"{where}.{key}")):
            return problem
    return None


def _dict_problem(value: object, sub: Any, where: str) -> str | None:
    """``dict[str, sub]``: an object whose every value fits ``sub``."""
    if not isinstance(value, dict):
        return f"{where} is {_kind(value)}, expected an object"
    for key, item in value.items():
        if problem := _problem(item, sub, f"{where}.{key if key.isprintable() else repr(key)}"):
            return problem
    return None


def _list_problem(value: object, sub: Any, where: str) -> str | None:
    """``list[sub]``: a list whose every item fits ``sub``."""
    if not isinstance(value, list):
        return f"{where} is {_kind(value)}, expected a list"
    scalar = _scalar_types(sub)
    if scalar is not None and all(type(v) in scalar for v in value):  # fast path for numbers
        return None
    for k, item in enumerate(value):
        if problem := _problem(item, sub, f"{where}[{k}]"):
            return problem
    return None


def check_record(data: object, path: str | Path) -> UtteranceRecord:
    """``data`` (a parsed ``results/ID.json``) as an :class:`UtteranceRecord`, checked against the schema.

    Raises :class:`ResultError` with one line naming the file and the missing key(s) or the value
    of the wrong type. Keys the schema does not declare are allowed (and kept).
    """
    if not isinstance(data, dict):
        raise ResultError(f"{path} is not a study record: it holds {_kind(data)}, expected an object")
    missing = sorted(RECORD_KEYS - data.keys())
    if missing:
        raise ResultError(f"{path} is not a complete study record: missing key(s) {', '.join(missing)}")
    for key, hint in _fields(UtteranceRecord).items():
        if key in data and (problem := _problem(data[key], hint, key)):
            raise ResultError(f"{path} is not a valid study record: {problem}")
    return cast(UtteranceRecord, data)
