"""The framework model: a versioned tree of headings and indicators, validated on load (pydantic v2).

A framework file (YAML, see ``docs/framework-format.md``) holds:

* identity: ``id``, ``version``, ``kind`` (indicators | plan), titles zh/en, issuer, issue date, status;
* ``parameters``: named numbers the standard leaves open (e.g. the personal/corporate user weights of
  J-A3B1-C1), each with a documented default;
* ``constraints``: rules between parameters (``{name, parameters: [...], sum: 1}``: weights that sum to 1);
* ``variables``: the raw inputs that questionnaires and public data supply (name, unit, type, help zh/en);
* ``blocks``: the tree. Block (J/H/Q) → level-1 heading (A) → level-2 heading (B) → indicators (C).
  Headings of a plan hold ``tasks`` instead of indicators.

Cross-references (formula names, roll-up codes, task → indicator links, code nesting) are checked in
:mod:`fintech_eval.catalog.checks`, which reports every problem with its place in the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Sector = Literal["bank", "securities", "insurance", "payment", "other"]
from ..vocab import SECTORS as SECTORS  # noqa: E402 - one vocabulary (fintech_eval.vocab)

#: The industries (the H block's units), by sector: (zh, en).
INDUSTRY_NAMES: dict[str, tuple[str, str]] = {
    "bank": ("银行业", "Banking"), "securities": ("证券业", "Securities"), "insurance": ("保险业", "Insurance"),
    "payment": ("非银行支付行业", "Non-bank payment"), "other": ("其他", "Other"),
}
Collection = Literal["S", "G", "A", "R"]
IndicatorType = Literal["ratio", "count", "money", "time", "score", "level", "binary"]
VariableType = Literal["count", "money", "ratio", "share", "time", "level", "binary", "score", "number"]
EntityKind = Literal["institution", "industry", "region"]

COLLECTION_METHODS = {
    "S": {"zh": "调查问卷", "en": "questionnaire survey"},
    "G": {"zh": "政府公开数据", "en": "government open data"},
    "A": {"zh": "上市公司年报", "en": "listed-company annual report"},
    "R": {"zh": "行业自律、权威机构有关报告", "en": "self-regulatory or authoritative-body report"},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A bilingual string. Chinese is the text of the source; English is ours unless stated."""

    zh: str = Field(min_length=1)
    en: str = ""

    def get(self, lang: str) -> str:
        return (self.en or self.zh) if lang == "en" else self.zh


class Parameter(_Model):
    """A number the standard leaves open; an evaluation may override the default."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    default: float
    min: float | None = None
    max: float | None = None
    #: the only values allowed (a switch between readings of the text, e.g. 0 or 1); None: any in [min, max]
    choices: list[float] | None = None
    description: Text

    @model_validator(mode="after")
    def _default_in_range(self) -> Parameter:
        if (self.min is not None and self.default < self.min) or (
            self.max is not None and self.default > self.max
        ):
            raise ValueError(f"default {self.default} outside [{self.min}, {self.max}]")
        if self.choices is not None and self.default not in self.choices:
            raise ValueError(f"default {self.default} is not one of the choices {self.choices}")
        return self


class ParameterSum(_Model):
    """Parameters that must sum to a total, e.g. the personal and corporate user weights of J-A3B1-C1.

    Checked on load (the defaults sum to ``sum``; every name is a declared parameter) and when an evaluation
    overrides parameters (:func:`fintech_eval.derive.resolve_params`): the parameters of a group are given
    all together or not at all, and then sum to ``sum`` (within 1e-9); none is ever adjusted silently.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    parameters: list[str] = Field(min_length=2)
    sum: float
    description: Text | None = None


SUM_TOLERANCE = 1e-9


class Variable(_Model):
    """A raw input variable, as a questionnaire asks for it or public data gives it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    unit: str = Field(min_length=1)
    type: VariableType
    help: Text
    entity: EntityKind = "institution"
    min: float | None = 0.0
    max: float | None = None
    part_of: str | None = None  # name of the whole this variable is a part of (part <= whole)
    # name of the variable whose previous-period value this one restates (fintech_staff_prev_end →
    # fintech_staff): the return of period t must agree with the stored value of period t-1
    carry_over_of: str | None = None
    sectors: list[Sector] = []  # empty = asked of every sector
    collection: list[Collection] = []


class Variant(_Model):
    """A per-sector definition (J-A3B2-C5, J-A3B2-C6): the same code, defined differently by sector."""

    sectors: list[Sector] = Field(min_length=1)
    definition: Text
    formula: str
    unit: str | None = None


RollupMethod = Literal["ratio_of_sums", "mean", "sum", "share", "count"]


class Rollup(_Model):
    """How an industry (H) or region (Q) indicator derives from the institutions in it.

    * ``ratio_of_sums``: Σ numerator / Σ denominator (formulas over raw variables);
    * ``mean``: simple mean of the institution indicator ``of`` (the literal reading of 均值);
    * ``sum``: sum of the institution indicator or variable ``of``;
    * ``share``: institutions for which ``condition`` holds / institutions reporting;
    * ``count``: institutions for which ``condition`` holds (or all institutions).

    ``reported``: a formula over the group's own figures (variables of the block's entity, collected from
    reports or government data, collection R or G); where the group reports every variable it reads, it gives
    the value instead of the roll-up of the institutions that answered (it covers the whole industry).
    """

    method: RollupMethod
    of: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    condition: str | None = None
    group_by: Literal["sector", "region"] = "sector"
    reported: str | None = None

    @model_validator(mode="after")
    def _fields_for_method(self) -> Rollup:
        need = {
            "ratio_of_sums": ("numerator", "denominator"),
            "mean": ("of",),
            "sum": ("of",),
            "share": ("condition",),
            "count": (),
        }[self.method]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"roll-up method {self.method!r} needs {', '.join(missing)}")
        return self


class Indicator(_Model):
    """A level-3 indicator (C): what it measures, how it is collected and how it is computed."""

    code: str
    name: Text
    definition: Text
    unit: str | None = Field(None, min_length=1)  # required when complete
    type: IndicatorType | None = None  # required when complete
    direction: Literal[1, -1] = 1
    collection: list[Collection] = []  # required (non-empty) when complete
    sectors: list[Sector] = []  # empty = every sector
    formula: str | None = None
    variants: list[Variant] = []
    rollup: Rollup | None = None
    range: tuple[float | None, float | None] | None = None
    clause: str | None = None
    table: str | None = None
    notes: list[str] = []
    complete: bool = True

    @field_validator("collection", "sectors")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate entries in {v}")
        return v

    @model_validator(mode="after")
    def _one_definition(self) -> Indicator:
        ways = sum(x is not None and x != [] for x in (self.formula, self.variants, self.rollup))
        if self.complete and ways != 1:
            raise ValueError("a complete indicator needs exactly one of formula, variants or rollup")
        if self.complete:
            missing = [f for f in ("unit", "type", "collection") if not getattr(self, f)]
            if missing:
                raise ValueError(f"a complete indicator needs {', '.join(missing)} (only complete: false may omit them)")
        if self.variants:
            seen: list[str] = [s for v in self.variants for s in v.sectors]
            dup = sorted({s for s in seen if seen.count(s) > 1})
            if dup:
                raise ValueError(f"sector(s) {', '.join(dup)} defined by more than one variant")
            if self.sectors and not set(seen) <= set(self.sectors):
                raise ValueError("variant sectors must be among the indicator's sectors")
        if self.range is not None and None not in self.range and self.range[0] > self.range[1]:
            raise ValueError(f"range {self.range} is empty")
        return self

    @property
    def reverse(self) -> bool:
        return self.direction == -1

    def formula_for(self, sector: str | None) -> str | None:
        """The formula that applies to an institution of ``sector`` (None: not applicable)."""
        if self.sectors and sector is not None and sector not in self.sectors:
            return None
        if self.variants:
            for v in self.variants:
                if sector in v.sectors:
                    return v.formula
            return None
        return self.formula

    def applies_to(self, sector: str | None) -> bool:
        return not self.sectors or sector is None or sector in self.sectors


class TaskLink(_Model):
    """A Plan task is measured by an indicator, for a stated reason."""

    code: str
    reason: Text


class Task(_Model):
    """A key task of the FinTech Development Plan."""

    code: str
    number: int
    name: Text
    summary: Text
    indicators: list[TaskLink] = []
    clause: str | None = None
    notes: list[str] = []


class Heading(_Model):
    """A block (J/H/Q), a level-1 (A) or a level-2 (B) heading, or a Plan area."""

    code: str
    name: Text
    clause: str | None = None
    table: str | None = None
    description: Text | None = None
    entity: EntityKind | None = None  # blocks only
    complete: bool = True
    notes: list[str] = []
    children: list[Heading] = []
    indicators: list[Indicator] = []
    tasks: list[Task] = []


class Framework(_Model):
    """A versioned indicator framework (JR/T 0201-2020) or a plan mapped onto one."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(min_length=1)
    kind: Literal["indicators", "plan"] = "indicators"
    title: Text
    issuer: Text
    issued: dt.date | None = None
    status: Literal["current", "draft", "superseded", "withdrawn", "unofficial"] = "current"
    source: str = ""
    code_scheme: Literal["jrt0201", "plan", "free"] = "jrt0201"
    measured_by: str | None = None  # for a plan: the framework id its tasks link to
    notes: list[str] = []
    parameters: list[Parameter] = []
    constraints: list[ParameterSum] = []  # rules between parameters (weights that sum to 1)
    variables: list[Variable] = []
    blocks: list[Heading] = Field(min_length=1)
    extensions: list[str] = []  # ids of the extensions applied (recorded in results)

    # ---- navigation -------------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[tuple[str, ...], Heading | Indicator | Task]]:
        """Every node with the codes of its ancestors (top first), depth first in file order."""

        def rec(h: Heading, path: tuple[str, ...]):
            yield path, h
            inner = (*path, h.code)
            for c in h.children:
                yield from rec(c, inner)
            for i in h.indicators:
                yield inner, i
            for t in h.tasks:
                yield inner, t

        for b in self.blocks:
            yield from rec(b, ())

    def indicators(self, *, block: str | None = None, include_incomplete: bool = False) -> list[Indicator]:
        out = [
            n
            for path, n in self.walk()
            if isinstance(n, Indicator) and (include_incomplete or n.complete)
            and (block is None or (path[0] if path else n.code) == block)
        ]
        return out

    def tasks(self) -> list[Task]:
        return [n for _, n in self.walk() if isinstance(n, Task)]

    def node(self, code: str) -> Heading | Indicator | Task:
        for _, n in self.walk():
            if n.code == code:
                return n
        raise KeyError(code)

    def indicator(self, code: str) -> Indicator:
        n = self.node(code)
        if not isinstance(n, Indicator):
            raise KeyError(f"{code} is a heading, not an indicator")
        return n

    def path_of(self, code: str) -> tuple[str, ...]:
        for path, n in self.walk():
            if n.code == code:
                return path
        raise KeyError(code)

    def variable(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    def parameter_defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}

    def block_of(self, code: str) -> Heading:
        path = self.path_of(code)
        top = path[0] if path else code
        return next(b for b in self.blocks if b.code == top)
