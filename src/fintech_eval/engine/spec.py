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
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import Problem, SpecError
from ..methods._frame import Param
from ..registry import Registry
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
            "store": {"db", "framework", "block", "period", "groups", "params", "names"},
        }[self.source]
        extra = [f for f in ("idata", "imeta", "db", "framework", "block", "groups", "params", "names") if getattr(self, f) is not None and f not in used]
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
    base_dir: str = "."  # directory that relative paths resolve against (the spec file's)

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
        items = self.stage_items()
        canon = STAGES.entry(head).name if head in STAGES else head
        idx = [i for i, (n, stage, _) in enumerate(items) if _canon(stage) == canon or str(n) == head]
        if not idx:
            have = ", ".join(f"{n}.{s}" for n, s, _ in items)
            raise SpecError(f"address {address or head!r}: no step {head!r} in this spec (steps: {have})", rule="spec.address", parameter=address)
        if len(idx) > 1:
            raise SpecError(f"address {address or head!r}: several {head!r} steps; use the step number", rule="spec.address", parameter=address)
        return idx[0]

    def with_changes(self, changes: Mapping[str, Any]) -> Spec:
        """A copy with parameters changed, each addressed by meaning: ``"normalise.method"``, ``"3.winmax"``,
        or ``"data.period"`` (the value :data:`UNSET` removes the parameter). Every address must name a step present in the spec, and the result is checked
        like the original, so a mistyped address or an impossible value is an error, never silently ignored."""
        steps = copy.deepcopy(self.steps)
        data = self.data.model_dump(exclude_none=True)
        for address, value in changes.items():
            head, _, param = address.partition(".")
            if not param:
                raise SpecError(f"address {address!r} must be 'stage.parameter' or 'N.parameter'", rule="spec.address", parameter=address)
            if head == "data":
                if value is UNSET:
                    data.pop(param, None)
                else:
                    data[param] = value
                continue
            i = self.step_index(head, address)
            (stage,) = steps[i]
            if value is UNSET:
                steps[i][stage].pop(param, None)
            else:
                steps[i][stage][param] = value
        try:
            out = Spec.model_validate({**self.model_dump(), "steps": steps, "data": data})
        except ValidationError as exc:
            raise _validation_error(exc, "spec") from None
        check_spec(out)
        return out

    def with_change(self, address: str, value: Any) -> Spec:
        """A copy with one parameter changed (see :meth:`with_changes`)."""
        return self.with_changes({address: value})


def _canon(stage: str) -> str:
    return STAGES.entry(stage).name if stage in STAGES else stage


def _validation_error(exc: ValidationError, name: str) -> SpecError:
    return SpecError(
        [
            Problem(f"spec.{e['type']}", f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}", {"file": name})
            for e in exc.errors()
        ]
    )


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
    return spec


# --- checking ----------------------------------------------------------------------------------------------


def _suggest(name: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_value(p: Param, value: Any, per_indicator_ok: bool) -> str | None:
    """A parameter's value against its declaration; a per-indicator parameter may be a mapping code → value
    (each checked) or ``use_iMeta`` (read from iMeta's columns when the data comes with one)."""
    if p.per_indicator and per_indicator_ok:
        if isinstance(value, str) and value == "use_iMeta":
            return None
        if isinstance(value, Mapping):
            for code, v in value.items():
                msg = p.validate(v)
                if msg:
                    return f"for indicator {code!r} {msg}"
            return None
    return p.validate(value)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, rule: str, message: str, where: dict[str, Any], **more: Any) -> None:
        self.problems.append(Problem(rule, message, {**where, **more}))

    def params(self, declared: Mapping[str, Param], given: Mapping[str, Any], where: dict[str, Any], what: str,
               also: list[str] = (), method: str | None = None) -> None:
        """Every given name declared, every value valid, every required one present. ``also``: the stage's own
        parameters when ``declared`` are its method's (named in ``method``)."""
        for key, value in given.items():
            p = declared.get(key)
            if p is None:
                choices = sorted({*declared, *also})
                takes = ", ".join(sorted(also)) if method else ", ".join(choices)
                if method:
                    takes += f"; method {method!r} takes: {', '.join(sorted(declared)) or 'nothing more'}"
                self.add("spec.parameter", f"{what} has no parameter {key!r}{_suggest(key, choices)}; it takes: {takes or 'none'}",
                         where, parameter=key)
                continue
            msg = _check_value(p, value, per_indicator_ok=True)
            if msg:
                self.add("spec.value", f"{what}: parameter {key!r} {msg}", where, parameter=key)
        for key, p in declared.items():
            if p.default is _required() and key not in given:
                self.add("spec.parameter", f"{what} needs parameter {key!r}", where, parameter=key)

    @staticmethod
    def missing(declared: Mapping[str, Param], given: Mapping[str, Any]) -> list[str]:
        return [k for k, p in declared.items() if p.default is _required() and k not in given]

    def method(self, reg: Registry, name: Any, where: dict[str, Any], param: str = "method"):
        if not isinstance(name, str) or name not in reg:
            choices = reg.names()
            self.add("spec.method", f"unknown {reg.stage} method {name!r}{_suggest(name, choices)}; choose one of: {', '.join(choices)}",
                     where, parameter=param)
            return None
        return reg.entry(name)


def _required() -> Any:
    from ..methods._frame import REQUIRED

    return REQUIRED


def check_spec(spec: Spec) -> None:
    """Every step names a registered stage and method, with parameters the stage or its method declares, of
    the declared type and range (see the module doc); all problems are reported at once."""
    ck = _Checker()
    for n, stage, params in spec.stage_items():
        where = {"step": n, "stage": stage}
        if stage not in STAGES:
            ck.add("spec.stage", f"unknown stage {stage!r}{_suggest(stage, STAGES.names())}; choose one of: {', '.join(STAGES.names())}", where)
            continue
        if not isinstance(params, dict):
            ck.add("spec.params", f"parameters of {stage} must be a mapping", where)
            continue
        entry = STAGES.entry(stage)
        declared: dict[str, Param] = entry.meta.get("params", {})
        reg: Registry | None = entry.meta.get("registry")
        mparam = entry.meta.get("method_param", "method")
        special = getattr(_SPECIAL, entry.name, None)
        if special is not None:
            special(ck, declared, params, where, reg)
            continue
        stage_given = {k: v for k, v in params.items() if k in declared}
        ck.params(declared, stage_given, where, stage)
        rest = {k: v for k, v in params.items() if k not in declared}
        if reg is None or mparam is None:
            ck.params(declared, rest, where, stage)
            continue
        m_entry = ck.method(reg, params.get(mparam, declared[mparam].default), where, mparam)
        if m_entry is None:
            continue
        m_declared: dict[str, Param] = m_entry.meta.get("params", {})
        ck.params(m_declared, rest, where, stage, also=list(declared), method=m_entry.name)
        if "indiv" in params and isinstance(params["indiv"], Mapping):
            for code, ind in params["indiv"].items():
                w = {**where, "indicator": code, "parameter": "indiv"}
                if isinstance(ind, str):
                    ck.method(reg, ind, w)
                elif isinstance(ind, Mapping):
                    ind = dict(ind)
                    name = ind.pop("method", ind.pop("f_n", None))
                    e = m_entry if name is None else ck.method(reg, name, w)
                    if e is not None:
                        ck.params(e.meta.get("params", {}), ind, w, f"{stage} method {e.name!r} for {code}")
                else:
                    ck.add("spec.value", f"indiv: the entry for {code!r} must be a method name or a mapping", w)
    if ck.problems:
        raise SpecError(ck.problems)


class _SPECIAL:
    """Stages whose parameters nest (per level or node, per weighting method): checked here, still from the
    registries' declarations."""

    @staticmethod
    def weight(ck: _Checker, declared, params, where, reg: Registry) -> None:
        stage_given = {k: v for k, v in params.items() if k in declared}
        ck.params(declared, stage_given, where, "weight")
        method = params.get("method", "equal")
        rest = {k: v for k, v in params.items() if k not in declared}
        if method == "manual":
            if not params.get("weights"):
                ck.add("spec.parameter", "weight method 'manual' needs 'weights' {node: weight}", where, parameter="weights")
            else:
                msg = _weights_msg(params["weights"])
                if msg:
                    ck.add("spec.value", f"weight: {msg}", where, parameter="weights")
            ck.params({}, rest, where, "weight method 'manual'", also=list(declared))
            return
        if method == "ahp":
            mats = params.get("matrices")
            if not mats:
                ck.add("spec.parameter", "weight method 'ahp' needs 'matrices' {node: judgement matrix}", where, parameter="matrices")
            elif isinstance(mats, Mapping):
                for node, m in mats.items():
                    msg = _ahp_msg(m)
                    if msg:
                        ck.add("spec.value", f"weight: AHP matrix of {node!r} {msg}", where, parameter="matrices", node=node)
            ck.params({}, rest, where, "weight method 'ahp'", also=list(declared))
            return
        for key in ("weights", "matrices"):
            if key in params:
                ck.add("spec.parameter", f"weight: {key!r} applies to method {'manual' if key == 'weights' else 'ahp'}, not {method!r}", where, parameter=key)
        e = ck.method(reg, method, where)
        if e is not None:
            ck.params(e.meta.get("params", {}), rest, where, "weight", also=list(declared), method=e.name)

    @staticmethod
    def aggregate(ck: _Checker, declared, params, where, reg: Registry) -> None:
        stage_given = {k: v for k, v in params.items() if k in declared}
        ck.params(declared, stage_given, where, "aggregate")
        rest = [k for k in params if k not in declared]
        for key in rest:
            ck.add("spec.parameter", f"aggregate has no parameter {key!r}{_suggest(key, sorted(declared))}; it takes: {', '.join(sorted(declared))}",
                   where, parameter=key)
        method = params.get("method", "amean")
        specs = method.items() if isinstance(method, Mapping) and "method" not in method else [("default", method)]
        used: dict[str, Any] = {}
        for key, m in specs:
            w = {**where, "parameter": "method", **({"node": key} if key != "default" else {})}
            inline: dict[str, Any] = {}
            if isinstance(m, Mapping):
                inline = dict(m)
                m = inline.pop("method", None)
            e = ck.method(reg, m, w)
            if e is not None:
                used[e.name] = e
                decl = e.meta.get("params", {})
                ck.params(decl, inline, w, f"aggregate method {e.name!r}")
                given = _given_anywhere(params.get("params"))
                for name in [n for n in ck.missing(decl, inline) if n in given]:  # given under `params` instead
                    ck.problems = [p for p in ck.problems if not (p.rule == "spec.parameter" and p.where.get("parameter") == name
                                                                  and "needs parameter" in p.message)]
        thr = params.get("dat_thresh")
        for key, v in (thr.items() if isinstance(thr, Mapping) else [("default", thr)]):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1):
                ck.add("spec.value", f"aggregate: dat_thresh must be within [0, 1], got {v!r}", where, parameter="dat_thresh",
                       **({"node": key} if key != "default" else {}))
        p = params.get("params")
        if isinstance(p, Mapping) and p:
            # flat (for every node) or keyed by method name, level or node: flat names must belong to a used method
            known = {k for e in used.values() for k in e.meta.get("params", {})}
            for k, v in p.items():
                if isinstance(v, Mapping):
                    e = used.get(k) or (reg.entry(k) if k in reg else None)
                    if e is not None:
                        ck.params(e.meta.get("params", {}), v, where, f"aggregate method {e.name!r}")
                    continue
                if k not in known:
                    ck.add("spec.parameter", f"aggregate: no method used here has a parameter {k!r}{_suggest(k, sorted(known))}"
                           f" (methods: {', '.join(sorted(used)) or 'none'})", where, parameter=k)
                else:
                    for e in used.values():
                        if k in e.meta.get("params", {}):
                            msg = _check_value(e.meta["params"][k], v, per_indicator_ok=False)
                            if msg:
                                ck.add("spec.value", f"aggregate method {e.name!r}: parameter {k!r} {msg}", where, parameter=k)
        if params.get("weights") is not None:
            msg = _weights_msg(params["weights"])
            if msg:
                ck.add("spec.value", f"aggregate: {msg}", where, parameter="weights")


def _given_anywhere(p: Any) -> set[str]:
    """Parameter names given in an aggregate step's ``params``, flat or under a method, level or node key."""
    if not isinstance(p, Mapping):
        return set()
    out: set[str] = set()
    for k, v in p.items():
        out |= set(v) if isinstance(v, Mapping) else {k}
    return out


def _weights_msg(w: Any) -> str | None:
    if not isinstance(w, Mapping) or not w:
        return f"weights must be a mapping {{node: weight}}, got {w!r}"
    for k, v in w.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            return f"weight of {k!r} must be a finite number >= 0, got {v!r}"
    return None


def _ahp_msg(m: Any) -> str | None:
    """A judgement matrix (or {labels, matrix}) checked by the AHP method's own validator."""
    from ..errors import FintechEvalError
    from ..methods import judgement_matrix

    labels = None
    if isinstance(m, Mapping):
        if set(m) != {"labels", "matrix"}:
            return "must be a square matrix or {labels, matrix}"
        labels, m = m["labels"], m["matrix"]
    try:
        judgement_matrix(m, labels)
    except FintechEvalError as exc:
        return "; ".join(p.message for p in exc.problems)
    except (TypeError, ValueError) as exc:
        return f"must be a square matrix of positive numbers ({exc})"
    return None
