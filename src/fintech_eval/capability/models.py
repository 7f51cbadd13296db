"""The service-capability framework (金融科技服务能力评价): capabilities → (elements →) indicators, models, levels.

A capability framework file (YAML, validated on load by :mod:`fintech_eval.capability.loader`) holds:

* identity: ``id``, ``version``, titles zh/en, issuer, ``status`` and a ``disclaimer`` (the shipped default
  says everywhere that it is *our* default model, not the official list, which is not public);
* ``counts``: how many indicators, capabilities, levels and models the file must hold (the 2023 release
  announced 105 / 6 / 5 / 2); the loader rejects a file whose content differs from its declared counts;
* ``provider_types``: the kinds of vendor rated (comprehensive, product, consulting, outsourcing…);
  an indicator's ``applies_to`` lists the types it applies to (empty = all), the applicability matrix;
* ``standards`` (and ``plan``, the catalog framework whose tasks ground indicators): what the indicators
  are grounded in, referenced by id from each indicator's ``grounding``;
* ``scales``: shared rubrics (steps with a descriptor per step), referenced by indicators;
* ``levels``: the capability levels, low → high, numbered 1..N, with names zh/en;
* ``capabilities``: each holds ``elements`` holding ``indicators`` (or indicators directly). A parent's
  children are weighted by an AHP ``judgements`` matrix (children in file order), by a ``weight`` on each
  child, or equally when neither is given;
* ``models``: evaluation models (综合能力评价, 创新能力评价…): which capabilities (and optionally which
  elements or indicators, ``include``) they use, the AHP matrix over those capabilities, optional matrix
  ``overrides`` for inner nodes, and the level ``rule`` (score ``bands``, ``staged`` mandatory
  requirements, or both).

An indicator is scored on *steps* (档位): a rubric (``scale`` or its own ``steps``) or quantitative
``thresholds`` that map a value to a step. A step's score is its ``score`` if the rubric gives one, else
linear: lowest step 0, highest step 100. An indicator's ``mandatory`` entries make "step >= min_step" a
requirement of a level (in every model that uses the indicator, or in the models listed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from ..catalog.models import Text

CODE = r"^[A-Za-z][A-Za-z0-9._-]*$"
ID = r"^[a-z0-9][a-z0-9._-]*$"


def _cell(v: Any) -> Any:
    """A judgement cell: a number or a fraction written as text (``"1/3"``)."""
    if isinstance(v, str):
        s = v.strip()
        try:
            return float(Fraction(s)) if "/" in s else float(s)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"judgement {v!r} is not a number or a fraction like 1/3") from None
    return v


Cell = Annotated[float, BeforeValidator(_cell)]


def _unit(v: Any) -> Any:
    """A unit: bilingual ``{zh, en}``, or one string for both (``"%"``)."""
    return {"zh": v, "en": v} if isinstance(v, str) else v


Unit = Annotated[Text, BeforeValidator(_unit)]
Matrix = list[list[Cell]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- vocabulary ----------------------------------------------------------------------------------------
class ProviderType(_Model):
    """A kind of vendor rated (服务商类型)."""

    code: str = Field(pattern=ID)
    name: Text
    description: Text | None = None


class Standard(_Model):
    """A standard (or other source) the indicators are grounded in. ``provenance`` says how sure we are of
    its number and title (``confirmed`` from a source, or ``memory``: background knowledge to check)."""

    id: str = Field(pattern=ID)
    code: str = Field(min_length=1)
    title: Text
    provenance: Literal["confirmed", "memory"] = "confirmed"
    note: str = ""


class Step(_Model):
    """One step (档位) of a rubric: its number, what it looks like (zh/en) and optionally its score 0-100."""

    step: int
    descriptor: Text
    score: float | None = Field(None, ge=0, le=100)


def _check_steps(steps: list[Step], what: str) -> None:
    nums = [s.step for s in steps]
    if any(b <= a for a, b in zip(nums, nums[1:], strict=False)):
        raise ValueError(f"{what}: step numbers must increase strictly, got {nums}")
    given = [s.score is not None for s in steps]
    if any(given) and not all(given):
        raise ValueError(f"{what}: give a score for every step or for none")
    if all(given) and steps:
        sc = [float(s.score) for s in steps]  # type: ignore[arg-type]
        if any(b < a for a, b in zip(sc, sc[1:], strict=False)):
            raise ValueError(f"{what}: step scores must not decrease, got {sc}")


class Scale(_Model):
    """A shared rubric, referenced by ``scoring.scale``."""

    id: str = Field(pattern=ID)
    name: Text
    steps: list[Step] = Field(min_length=2)

    @model_validator(mode="after")
    def _steps(self) -> Scale:
        _check_steps(self.steps, f"scale {self.id}")
        return self


class Scoring(_Model):
    """How an indicator is scored.

    * ``rubric``: a shared ``scale`` or its own ``steps`` (a descriptor per step);
    * ``quantitative``: ``thresholds`` map a value (in ``unit``) to steps 0..k: with ``direction: 1`` the
      thresholds increase and step j means value >= the j-th threshold; with ``direction: -1`` they decrease
      and step j means value <= the j-th threshold (lower is better, e.g. hours to recover). ``steps`` may
      give descriptors (and scores) for the k+1 steps; otherwise they are written from the thresholds.
    """

    type: Literal["rubric", "quantitative"]
    scale: str | None = None
    steps: list[Step] = []
    thresholds: list[float] = []
    direction: Literal[1, -1] = 1
    unit: Unit | None = None

    @model_validator(mode="after")
    def _shape(self) -> Scoring:
        if self.type == "rubric":
            if (self.scale is None) == (not self.steps):
                raise ValueError("a rubric needs exactly one of 'scale' (a shared scale id) or 'steps'")
            if self.thresholds:
                raise ValueError("thresholds are for quantitative scoring only")
            if self.steps:
                if len(self.steps) < 2:
                    raise ValueError("a rubric needs at least 2 steps")
                _check_steps(self.steps, "rubric")
        else:
            if self.scale is not None:
                raise ValueError("quantitative scoring takes thresholds, not a scale")
            if not self.thresholds:
                raise ValueError("quantitative scoring needs thresholds")
            if not self.unit:
                raise ValueError("quantitative scoring needs a unit")
            t = self.thresholds
            if any(not np.isfinite(x) for x in t):
                raise ValueError(f"thresholds must be finite numbers, got {t}")
            pairs = list(zip(t, t[1:], strict=False))
            if self.direction == 1 and any(b <= a for a, b in pairs):
                raise ValueError(f"thresholds must increase strictly when direction is 1, got {t}")
            if self.direction == -1 and any(b >= a for a, b in pairs):
                raise ValueError(f"thresholds must decrease strictly when direction is -1 (lower is better), got {t}")
            if self.steps:
                if [s.step for s in self.steps] != list(range(len(t) + 1)):
                    raise ValueError(f"{len(t)} thresholds make steps 0..{len(t)}; steps given: "
                                     f"{[s.step for s in self.steps]}")
                _check_steps(self.steps, "quantitative")
        return self


class Mandatory(_Model):
    """"step >= ``min_step``" is a mandatory requirement of ``level`` (in ``models``; empty = every model
    that uses the indicator)."""

    level: int
    min_step: int
    models: list[str] = []


class Grounding(_Model):
    """Why the indicator is there: Plan tasks (codes of the ``plan`` framework), standards (ids) and a
    one-line rationale."""

    plan: list[str] = []
    standards: list[str] = []
    rationale: Text


class Indicator(_Model):
    code: str = Field(pattern=CODE)
    name: Text
    definition: Text
    scoring: Scoring
    evidence: list[Text] = Field(min_length=1)
    applies_to: list[str] = []  # provider type codes; empty = every type
    mandatory: list[Mandatory] = []
    grounding: Grounding | None = None
    weight: float | None = Field(None, gt=0)
    notes: list[str] = []


class Element(_Model):
    """A capability element (能力要素), grouping indicators."""

    code: str = Field(pattern=CODE)
    name: Text
    description: Text | None = None
    weight: float | None = Field(None, gt=0)
    judgements: Matrix | None = None
    indicators: list[Indicator] = Field(min_length=1)


class Capability(_Model):
    code: str = Field(pattern=CODE)
    name: Text
    description: Text | None = None
    weight: float | None = Field(None, gt=0)
    judgements: Matrix | None = None
    elements: list[Element] = []
    indicators: list[Indicator] = []

    @model_validator(mode="after")
    def _one_kind_of_children(self) -> Capability:
        if bool(self.elements) == bool(self.indicators):
            raise ValueError("a capability holds either elements or indicators (exactly one of them, non-empty)")
        return self

    @property
    def children(self) -> list[Element] | list[Indicator]:
        return self.elements or self.indicators


class Level(_Model):
    level: int = Field(ge=1)
    name: Text
    description: Text | None = None


class RuleSpec(_Model):
    """The level rule as data: ``bands`` (level → lower score bound, 0-100), ``staged`` mandatory
    requirements, or both. Level L needs a score in L's band AND every requirement of levels 1..L."""

    bands: dict[int, float] | None = None
    staged: bool = True

    @model_validator(mode="after")
    def _something(self) -> RuleSpec:
        if not self.bands and not self.staged:
            raise ValueError("a level rule needs score bands, staged requirements, or both")
        return self


class EvalModel(_Model):
    """An evaluation model (评价模型)."""

    id: str = Field(pattern=ID)
    name: Text
    description: Text | None = None
    capabilities: list[str] = Field(min_length=1)
    include: list[str] = []
    judgements: Matrix | None = None
    weights: dict[str, float] | None = None
    overrides: dict[str, Matrix] = {}
    rule: RuleSpec


class Counts(_Model):
    indicators: int = Field(ge=1)
    capabilities: int = Field(ge=1)
    levels: int = Field(ge=1)
    models: int = Field(ge=1)
    provider_types: int | None = Field(None, ge=1)


# --- compiled weights ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Requirement:
    """One mandatory requirement of a model: indicator step >= ``min_step`` from ``level`` up."""

    code: str  # "<indicator>@L<level>"
    indicator: str
    level: int
    min_step: int


@dataclass(frozen=True)
class ModelTree:
    """A model compiled to a weighted tree: rows (code, parent, level, local weight, name); level 1 =
    indicators, top = the model's root (its id). ``ahp`` holds the AHP result of every node weighted by a
    judgement matrix (λmax, CI, CR)."""

    model_id: str
    rows: list[dict[str, Any]]
    ahp: dict[str, Any] = field(default_factory=dict)
    weight_source: dict[str, str] = field(default_factory=dict)  # parent → "ahp" | "weights" | "equal"

    @property
    def root(self) -> str:
        return self.model_id

    @property
    def indicators(self) -> list[str]:
        return [r["code"] for r in self.rows if r["level"] == 1]

    @property
    def local_weights(self) -> dict[str, float]:
        return {r["code"]: float(r["weight"]) for r in self.rows}

    @property
    def parent_of(self) -> dict[str, str | None]:
        return {r["code"]: r["parent"] for r in self.rows}

    def children(self, code: str) -> list[str]:
        return [r["code"] for r in self.rows if r["parent"] == code]

    def tree(self):
        from ..engine.tree import Tree

        return Tree.from_rows([{k: r[k] for k in ("code", "parent", "level", "weight", "name")} for r in self.rows])

    def effective_weights(self, applicable: set[str] | None = None) -> pd.Series:
        """Global indicator weights (products of local weights down the path), with the weights of
        siblings renormalised where some children are not applicable (a node is applicable when any leaf
        under it is). Sum to 1 over applicable indicators; 0 for the others."""
        kids: dict[str | None, list[str]] = {}
        for r in self.rows:
            kids.setdefault(r["parent"], []).append(r["code"])
        w = self.local_weights
        leaves = set(self.indicators)
        app = leaves if applicable is None else (leaves & set(applicable))

        def live(code: str) -> bool:
            return code in app if code in leaves else any(live(k) for k in kids.get(code, []))

        out: dict[str, float] = {c: 0.0 for c in self.indicators}

        def down(code: str, acc: float) -> None:
            ks = [k for k in kids.get(code, []) if live(k)]
            tot = sum(w[k] for k in ks)
            for k in ks:
                share = acc * w[k] / tot if tot > 0 else 0.0
                if k in leaves:
                    out[k] = share
                else:
                    down(k, share)

        down(self.root, 1.0)
        return pd.Series(out, name="effective_weight", dtype=float)


# --- the framework -------------------------------------------------------------------------------------
class CapabilityFramework(_Model):
    id: str = Field(pattern=ID)
    version: str = Field(min_length=1)
    title: Text
    issuer: Text
    issued: dt.date | None = None
    status: Literal["official", "draft", "unofficial"] = "unofficial"
    disclaimer: Text | None = None
    source: str = ""
    notes: list[str] = []
    counts: Counts
    code_scheme: Literal["dotted", "free"] = "dotted"
    plan: str | None = None  # catalog framework id whose task codes grounding.plan refers to
    provider_types: list[ProviderType] = Field(min_length=1)
    standards: list[Standard] = []
    scales: list[Scale] = []
    levels: list[Level] = Field(min_length=1)
    capabilities: list[Capability] = Field(min_length=1)
    models: list[EvalModel] = Field(min_length=1)

    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    # ---- navigation -------------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[tuple[str, ...], Capability | Element | Indicator]]:
        """Every node with the codes of its ancestors, depth first in file order."""
        for c in self.capabilities:
            yield (), c
            for e in c.elements:
                yield (c.code,), e
                for i in e.indicators:
                    yield (c.code, e.code), i
            for i in c.indicators:
                yield (c.code,), i

    def indicators(self) -> list[Indicator]:
        return [n for _, n in self.walk() if isinstance(n, Indicator)]

    @property
    def _index(self) -> dict[str, tuple[tuple[str, ...], Any]]:
        idx = self._cache.get("index")
        if idx is None:
            idx = {}
            for path, n in self.walk():
                idx.setdefault(n.code, (path, n))
            self._cache["index"] = idx
        return idx

    def node(self, code: str) -> Capability | Element | Indicator:
        try:
            return self._index[code][1]
        except KeyError:
            raise KeyError(code) from None

    def indicator(self, code: str) -> Indicator:
        n = self.node(code)
        if not isinstance(n, Indicator):
            raise KeyError(f"{code} is not an indicator")
        return n

    def path_of(self, code: str) -> tuple[str, ...]:
        return self._index[code][0]

    def capability_of(self, code: str) -> Capability:
        path = self.path_of(code)
        return self.node(path[0]) if path else self.node(code)  # type: ignore[return-value]

    def element_of(self, code: str) -> Element | None:
        path = self.path_of(code)
        if len(path) >= 2:
            return self.node(path[1])  # type: ignore[return-value]
        return None

    def level(self, number: int) -> Level:
        for lv in self.levels:
            if lv.level == number:
                return lv
        raise KeyError(number)

    def level_numbers(self) -> list[int]:
        return [lv.level for lv in self.levels]

    def model(self, model_id: str) -> EvalModel:
        for m in self.models:
            if m.id == model_id:
                return m
        raise KeyError(model_id)

    def provider_type(self, code: str) -> ProviderType:
        for p in self.provider_types:
            if p.code == code:
                return p
        raise KeyError(code)

    def scale(self, scale_id: str) -> Scale:
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise KeyError(scale_id)

    def standard(self, std_id: str) -> Standard:
        for s in self.standards:
            if s.id == std_id:
                return s
        raise KeyError(std_id)

    # ---- scoring ----------------------------------------------------------------------------------
    def steps(self, code: str) -> list[Step]:
        """The resolved steps of an indicator (its scale's, its own, or written from its thresholds)."""
        cache = self._cache.setdefault("steps", {})
        if code in cache:
            return cache[code]
        sc = self.indicator(code).scoring
        if sc.type == "rubric":
            steps = list(self.scale(sc.scale).steps) if sc.scale is not None else list(sc.steps)
        elif sc.steps:
            steps = list(sc.steps)
        else:
            steps = threshold_steps(sc.thresholds, sc.direction, sc.unit or Text(zh="-", en=""))
        cache[code] = steps
        return steps

    def step_numbers(self, code: str) -> list[int]:
        return [s.step for s in self.steps(code)]

    def step_scores(self, code: str) -> dict[int, float]:
        """Step → score 0-100 (the rubric's scores, else linear from lowest = 0 to highest = 100)."""
        steps = self.steps(code)
        if steps[0].score is not None:
            return {s.step: float(s.score) for s in steps}  # type: ignore[arg-type]
        lo, hi = steps[0].step, steps[-1].step
        return {s.step: 100.0 * (s.step - lo) / (hi - lo) for s in steps}

    def value_to_step(self, code: str, value: float) -> int:
        """The step a quantitative value reaches."""
        sc = self.indicator(code).scoring
        if sc.type != "quantitative":
            raise ValueError(f"{code} is scored by a rubric, not by thresholds")
        if sc.direction == 1:
            return int(sum(value >= t for t in sc.thresholds))
        return int(sum(value <= t for t in sc.thresholds))

    def applies(self, code: str, provider_type: str | None) -> bool:
        ind = self.indicator(code)
        return not ind.applies_to or provider_type is None or provider_type in ind.applies_to

    # ---- models -----------------------------------------------------------------------------------
    def model_indicators(self, model_id: str) -> list[str]:
        """Codes of the indicators a model uses, in file order."""
        return self.compile(model_id).indicators

    def requirements(self, model_id: str) -> list[Requirement]:
        """The mandatory requirements of a model: entries naming the model, and unnamed entries of the
        indicators the model uses."""
        used = set(self.model_indicators(model_id))
        out = []
        for ind in self.indicators():
            for m in ind.mandatory:
                if (m.models and model_id in m.models) or (not m.models and ind.code in used):
                    out.append(Requirement(f"{ind.code}@L{m.level}", ind.code, m.level, m.min_step))
        return out

    def compile(self, model_id: str) -> ModelTree:
        """The model's weighted tree (AHP run on every judgement matrix; raises on a bad one)."""
        cache = self._cache.setdefault("compiled", {})
        if model_id not in cache:
            cache[model_id] = compile_model(self, self.model(model_id))
        return cache[model_id]


def threshold_steps(thresholds: list[float], direction: int, unit: Text) -> list[Step]:
    """Descriptors (zh, en) for the steps 0..k that thresholds make."""

    def f(x: float, lang: str) -> str:
        u = unit.get(lang)
        if not u or u == "-":
            return f"{x:g}"
        return f"{x:g}{u}" if (u == "%" or lang == "zh") else f"{x:g} {u}"

    t = thresholds
    k = len(t)
    out = []
    for j in range(k + 1):
        if direction == 1:
            if j == 0:
                zh, en = f"< {f(t[0], 'zh')}", f"< {f(t[0], 'en')}"
            elif j == k:
                zh, en = f"≥ {f(t[-1], 'zh')}", f"≥ {f(t[-1], 'en')}"
            else:
                zh = f"≥ {f(t[j - 1], 'zh')} 且 < {f(t[j], 'zh')}"
                en = f"≥ {f(t[j - 1], 'en')} and < {f(t[j], 'en')}"
        else:
            if j == 0:
                zh, en = f"> {f(t[0], 'zh')}", f"> {f(t[0], 'en')}"
            elif j == k:
                zh, en = f"≤ {f(t[-1], 'zh')}", f"≤ {f(t[-1], 'en')}"
            else:
                zh = f"≤ {f(t[j - 1], 'zh')} 且 > {f(t[j], 'zh')}"
                en = f"≤ {f(t[j - 1], 'en')} and > {f(t[j], 'en')}"
        out.append(Step(step=j, descriptor=Text(zh=zh, en=en)))
    return out


def _included(fw: CapabilityFramework, model: EvalModel) -> set[str]:
    """Codes of every node the model uses (capabilities, elements, indicators). ``include`` empty: the whole
    of every listed capability; else, per capability, the listed elements/indicators (with their subtrees
    and ancestors), or the whole capability when nothing under it is listed."""
    inc = set(model.include)
    out: set[str] = set()
    for cc in model.capabilities:
        below = [(path, n) for path, n in fw.walk() if path and path[0] == cc]
        out.add(cc)
        if not any(n.code in inc for _, n in below):
            out.update(n.code for _, n in below)
            continue
        for path, n in below:
            if n.code in inc or any(a in inc for a in path[1:]):
                out.add(n.code)
                out.update(path)
                if isinstance(n, Element):
                    out.update(i.code for i in n.indicators)
    return out


def compile_model(fw: CapabilityFramework, model: EvalModel) -> ModelTree:
    """Weights of every node of ``model``: AHP from the judgement matrix of its parent (the model's
    ``judgements`` for the capabilities, ``overrides`` or the framework's matrices below; when a model uses
    only some children of a node, the principal sub-matrix of the node's matrix over those children), else
    the children's ``weight``, else equal. Raises the AHP errors (DataError, InconsistentJudgementError)."""
    from ..methods.ahp import ahp as run_ahp

    used = _included(fw, model)
    depth = 3 if any(fw.node(c).elements for c in model.capabilities) else 2  # type: ignore[union-attr]
    top = depth + 1
    rows: list[dict[str, Any]] = [{"code": model.id, "parent": None, "level": top, "weight": 1.0,
                                   "name": model.name.zh}]
    ahp_results: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def weigh(parent: str, all_kids: list[Any], kids: list[Any], matrix: Matrix | None,
              explicit: dict[str, float] | None) -> dict[str, float]:
        codes = [k.code if hasattr(k, "code") else k for k in kids]
        all_codes = [k.code if hasattr(k, "code") else k for k in all_kids]
        if matrix is not None:
            a = np.array(matrix, dtype=float)
            if a.shape != (len(all_codes), len(all_codes)):
                from ..errors import DataError

                raise DataError(f"judgement matrix of {parent} is {a.shape[0]}×{a.shape[1] if a.ndim > 1 else 0}, "
                                f"but it has {len(all_codes)} children", rule="weights.size", node=parent)
            pos = [all_codes.index(c) for c in codes]
            sub = a[np.ix_(pos, pos)]
            if len(codes) == 1:
                sources[parent] = "ahp"
                return {codes[0]: 1.0}
            res = run_ahp(sub, labels=codes, node=parent)
            ahp_results[parent] = res
            sources[parent] = "ahp"
            return {c: float(res.weights[c]) for c in codes}
        if explicit:
            sources[parent] = "weights"
            return {c: float(explicit[c]) for c in codes}
        sources[parent] = "equal"
        return {c: 1.0 / len(codes) for c in codes}

    caps = [fw.node(c) for c in model.capabilities]
    cap_w = weigh(model.id, caps, caps, model.judgements,
                  model.weights or ({c.code: c.weight for c in caps} if all(c.weight for c in caps) else None))
    for cap in caps:
        rows.append({"code": cap.code, "parent": model.id, "level": top - 1, "weight": cap_w[cap.code],
                     "name": cap.name.zh})
        kids = [k for k in cap.children if k.code in used]
        matrix = model.overrides.get(cap.code, cap.judgements)
        all_kids = kids if cap.code in model.overrides else cap.children
        w = weigh(cap.code, all_kids, kids, matrix,
                  {k.code: k.weight for k in kids} if all(k.weight for k in kids) else None)
        for k in kids:
            rows.append({"code": k.code, "parent": cap.code, "level": top - 2, "weight": w[k.code],
                         "name": k.name.zh})
            if isinstance(k, Element):
                inds = [i for i in k.indicators if i.code in used]
                m2 = model.overrides.get(k.code, k.judgements)
                all2 = inds if k.code in model.overrides else k.indicators
                w2 = weigh(k.code, all2, inds, m2,
                           {i.code: i.weight for i in inds} if all(i.weight for i in inds) else None)
                for i in inds:
                    rows.append({"code": i.code, "parent": k.code, "level": 1, "weight": w2[i.code],
                                 "name": i.name.zh})
    # file order within each level, indicators first, as Tree expects nothing more than valid parents
    rows.sort(key=lambda r: r["level"])
    return ModelTree(model_id=model.id, rows=rows, ahp=ahp_results, weight_source=sources)
