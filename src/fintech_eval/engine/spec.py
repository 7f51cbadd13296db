"""The evaluation spec: one YAML document (or dict) that describes a run completely.

    name: ASEM, COINr pipeline C
    data: {source: coinr, idata: input_ASEM_iData.csv, imeta: input_ASEM_iMeta.csv}
    steps:
      - impute: {method: mean}
      - treat: {method: coinr}
      - normalise: {method: minmax, range: [0, 100]}
      - aggregate: {method: amean}
    ranks: {groups: [EurAsia_group]}

``data.source`` is one of the registered sources (:mod:`fintech_eval.engine.sources`): ``coinr`` (COINr's
iData/iMeta files; ``format: coinr`` is accepted too), ``frame`` (DataFrames given in code) or ``store``
(the values imported into the database, derived with the framework:
``{source: store, framework: jrt0201-2020, block: J, period: 2024, groups: [sector, region_code]}``).

Paths are relative to the spec file. Each step is a one-key mapping ``stage: {parameters}``. Before anything
runs, :func:`check_spec` checks every step against the declarations of the stage registry and of the
method registries (stage, method, every parameter's name, type and range, per-indicator overrides, weight
sets, AHP matrices), so a typo fails at once with the step number, the stage and the parameter named, and a
close name suggested (COINr's silent log-address failures cannot happen here). Same spec + same data →
identical output.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ..errors import Problem, SpecError
from .checks import Checker, check_step, suggest
from .stages import STAGES

SOURCE_NAMES = ("coinr", "frame", "store")


class _Unset:
    """``Spec.with_changes({"normalise.m_sd": UNSET})`` removes the parameter (a method switch drops the old
    method's parameters); one instance, kept across pickling (variants sent to worker processes)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"


UNSET = _Unset()


class DataSpec(BaseModel):
    """Where the data comes from (see the module doc); the fields a source does not use must be absent."""

    model_config = ConfigDict(extra="forbid")
    source: str = "coinr"
    format: str | None = None  # the earlier name of ``source``
    # coinr
    idata: str | None = None
    imeta: str | None = None
    period: int | str | None = None  # coinr panel: this period only; store: the period scored
    # store
    db: str | None = None  # a SQLite path or database URL (default: $FINTECH_EVAL_DB, else ./fintech-eval.sqlite)
    framework: str | None = None
    block: str | None = None
    groups: list[str] | None = None  # register columns to group by (e.g. sector, region_code)
    params: dict[str, float] | None = None  # the framework's open parameters (e.g. w_users_personal)
    names: Literal["zh", "en"] | None = None  # the language of unit names read from the register (default zh)
    campaign: int | None = None  # store: the campaign whose sample is the round (the H shares' denominator)
    # store with a campaign: also score institutions outside its sample (their returns and reference data such as
    # the listed banks' disclosures); None/false: the campaign's sample only (docs/web.md "Scoring a campaign")
    outside_sample: bool | None = None

    @model_validator(mode="after")
    def _source(self) -> DataSpec:
        if self.format is not None:
            if self.source != "coinr" and self.source != self.format:
                raise ValueError(f"give source or format, not both ({self.source!r} vs {self.format!r})")
            self.source, self.format = self.format, None
        if self.source not in SOURCE_NAMES:
            raise ValueError(f"unknown source {self.source!r}; choose one of: {', '.join(SOURCE_NAMES)}")
        used = {
            "coinr": {"idata", "imeta", "period"},
            "frame": {"period"},
            "store": {"db", "framework", "block", "period", "groups", "params", "names", "campaign", "outside_sample"},
        }[self.source]
        extra = [f for f in ("idata", "imeta", "db", "framework", "block", "groups", "params", "names", "outside_sample") if getattr(self, f) is not None and f not in used]
        if extra:
            raise ValueError(f"source {self.source} takes no {', '.join(extra)}")
        if self.source == "coinr" and (not self.idata or not self.imeta):
            raise ValueError("source coinr needs both idata and imeta")
        if self.source == "store":
            missing = [f for f in ("block", "period") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"source store needs {' and '.join(missing)}")
        return self


class RankSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[str] = []


class Spec(BaseModel):
    """A complete, validated description of one evaluation run."""

    model_config = ConfigDict(extra="forbid")
    name: str = "evaluation"
    data: DataSpec
    steps: list[dict[str, dict[str, Any]]] = Field(min_length=1)
    ranks: RankSpec = RankSpec()
    # the uncertain assumptions of the analysis, by meaning (fintech_eval.analysis.section); checked on load
    uncertainty: dict[str, Any] | None = None
    base_dir: str = "."  # directory that relative paths resolve against (the spec file's)
    _checked: bool = PrivateAttr(default=False)  # every step passed check_spec (a change then checks its steps only)

    @model_validator(mode="after")
    def _one_stage_per_step(self) -> Spec:
        for i, step in enumerate(self.steps, start=1):
            if len(step) != 1:
                raise ValueError(f"step {i} must be a mapping with exactly one stage, got {sorted(step)}")
        return self

    def path(self, rel: str) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def stage_items(self) -> list[tuple[int, str, dict[str, Any]]]:
        return [(i, *next(iter(s.items()))) for i, s in enumerate(self.steps, start=1)]

    def step_index(self, head: str, address: str = "") -> int:
        """0-based position of the step named ``head`` (stage name or alias, or step number)."""
        idx = _step_positions(tuple(next(iter(s)) for s in self.steps), head)
        if not idx:
            have = ", ".join(f"{n}.{s}" for n, s, _ in self.stage_items())
            raise SpecError(f"address {address or head!r}: no step {head!r} in this spec (steps: {have})", rule="spec.address", parameter=address)
        if len(idx) > 1:
            raise SpecError(f"address {address or head!r}: several {head!r} steps; use the step number", rule="spec.address", parameter=address)
        return idx[0]

    def with_changes(self, changes: Mapping[str, Any]) -> Spec:
        """A copy with parameters changed, each addressed by meaning: ``"normalise.method"``, ``"3.winmax"``,
        or ``"data.period"`` (the value :data:`UNSET` removes the parameter). Every address must name a step present in the spec, and the result is checked
        like the original, so a mistyped address or an impossible value is an error, never silently ignored."""
        steps = list(self.steps)  # unchanged steps shared (a spec is never changed in place), changed ones copied
        data = None
        changed: set[int] = set()
        for address, value in changes.items():
            head, _, param = address.partition(".")
            if not param:
                raise SpecError(f"address {address!r} must be 'stage.parameter' or 'N.parameter'", rule="spec.address", parameter=address)
            if head == "data":
                data = data if data is not None else self.data.model_dump(exclude_none=True)
                if value is UNSET:
                    data.pop(param, None)
                else:
                    data[param] = value
                continue
            i = self.step_index(head, address)
            (stage,) = steps[i]
            if i not in changed:
                steps[i] = copy.deepcopy(steps[i])
                changed.add(i)
            if value is UNSET:
                steps[i][stage].pop(param, None)
            else:
                steps[i][stage][param] = value
        if data is None and self._checked:
            # only step parameters changed: the spec's structure stands, the changed steps are checked below
            out = self.model_copy(update={"steps": steps})
            check_spec(out, only=changed)
            return out
        try:
            out = Spec.model_validate({**self.model_dump(), "steps": steps, "data": data if data is not None else self.data.model_dump(exclude_none=True)})
        except ValidationError as exc:
            raise _validation_error(exc, "spec") from None
        check_spec(out)
        return out

    def document(self) -> dict[str, Any]:
        """The spec as ``spec.yaml`` holds it: JSON types, no ``base_dir``, no empty ``uncertainty`` section."""
        return self.model_dump(mode="json", exclude={"base_dir", *(() if self.uncertainty is not None else ("uncertainty",))})

    def with_change(self, address: str, value: Any) -> Spec:
        """A copy with one parameter changed (see :meth:`with_changes`)."""
        return self.with_changes({address: value})


def _canon(stage: str) -> str:
    return STAGES.entry(stage).name if stage in STAGES else stage


@functools.lru_cache(maxsize=1024)
def _step_positions(stages: tuple[str, ...], head: str) -> list[int]:
    """Positions of the steps ``head`` names (a stage name or alias, or a 1-based step number)."""
    canon = _canon(head)
    return [i for i, stage in enumerate(stages) if _canon(stage) == canon or str(i + 1) == head]


def _validation_error(exc: ValidationError, name: str) -> SpecError:
    return SpecError(
        [
            Problem(f"spec.{e['type']}", f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}{_close_key(e)}", {"file": name})
            for e in exc.errors()
        ]
    )


def _close_key(e: Any) -> str:
    """`` (did you mean 'uncertainty'?)`` for a misspelt key of the spec or of its data section."""
    loc = tuple(e.get("loc") or ())
    if e.get("type") != "extra_forbidden" or not loc:
        return ""
    fields = {1: Spec.model_fields, 2: DataSpec.model_fields if loc[0] == "data" else {}}.get(len(loc), {})
    return suggest(str(loc[-1]), sorted(fields)) if fields else ""


def load_spec(source: str | Path | dict[str, Any]) -> Spec:
    """A spec from a YAML path or a dict; errors name the field and the rule broken."""
    if isinstance(source, dict):
        doc, base = dict(source), source.get("base_dir", ".")
        name = "spec"
    else:
        path = Path(source)
        name = str(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SpecError(f"cannot read: {exc.strerror}", rule="spec.read", file=name) from None
        except yaml.YAMLError as exc:
            raise SpecError(f"YAML syntax error: {exc}", rule="spec.yaml", file=name) from None
        if not isinstance(doc, dict):
            raise SpecError("a spec is a YAML mapping (data, steps)", rule="spec.document", file=name)
        base = str(path.resolve().parent)
    doc.setdefault("base_dir", base)
    try:
        spec = Spec.model_validate(doc)
    except ValidationError as exc:
        raise _validation_error(exc, name) from None
    check_spec(spec)
    if spec.uncertainty is not None:  # the analysis' section: checked now, as every other parameter
        from ..analysis.section import check_section

        check_section(spec, file=name)
    return spec


# --- checking ----------------------------------------------------------------------------------------------


def check_spec(spec: Spec, *, only: Iterable[int] | None = None) -> None:
    """Every step names a registered stage and method, with parameters the stage or its method declares, of
    the declared type and range (see :mod:`fintech_eval.engine.checks`); all problems are reported at once.
    ``only``: the 0-based steps to check (the others known good: a change of a checked spec)."""
    ck = Checker()
    wanted = None if only is None else set(only)
    for n, stage, params in spec.stage_items():
        if wanted is not None and n - 1 not in wanted:
            continue
        where = {"step": n, "stage": stage}
        if stage not in STAGES:
            ck.add("spec.stage", f"unknown stage {stage!r}{suggest(stage, STAGES.names())}; choose one of: {', '.join(STAGES.names())}", where)
            continue
        if not isinstance(params, dict):
            ck.add("spec.params", f"parameters of {stage} must be a mapping", where)
            continue
        check_step(ck, STAGES.entry(stage), params, where)
    if ck.problems:
        raise SpecError(ck.problems)
    if only is None:
        spec._checked = True
