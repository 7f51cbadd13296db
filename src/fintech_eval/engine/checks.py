"""Checking a spec's steps from the registries' declarations, before anything runs.

:class:`Checker` collects problems; :func:`check_step` checks one step: stage parameters against the stage's
declared :class:`~fintech_eval.methods._frame.Param`s, the method against its registry, the method's
parameters against the method's declaration, and ``indiv`` overrides. A stage whose parameters nest (per
level or node, per weighting method) declares its own checker with its registration (``check=``), written
here from the same declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import Problem, closest
from ..methods._frame import REQUIRED, Param
from ..registry import Entry, Registry


def suggest(name: Any, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for a mistyped name, else ""."""
    close = closest(name, choices)
    return f" (did you mean {close!r}?)" if close else ""


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


class Checker:
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
                self.add("spec.parameter", f"{what} has no parameter {key!r}{suggest(key, choices)}; it takes: {takes or 'none'}",
                         where, parameter=key)
                continue
            msg = _check_value(p, value, per_indicator_ok=True)
            if msg:
                self.add("spec.value", f"{what}: parameter {key!r} {msg}", where, parameter=key)
        for key, p in declared.items():
            if p.default is REQUIRED and key not in given:
                self.add("spec.parameter", f"{what} needs parameter {key!r}", where, parameter=key)

    @staticmethod
    def missing(declared: Mapping[str, Param], given: Mapping[str, Any]) -> list[str]:
        return [k for k, p in declared.items() if p.default is REQUIRED and k not in given]

    def method(self, reg: Registry, name: Any, where: dict[str, Any], param: str = "method"):
        if not isinstance(name, str) or name not in reg:
            choices = reg.names()
            self.add("spec.method", f"unknown {reg.stage} method {name!r}{suggest(name, choices)}; choose one of: {', '.join(choices)}",
                     where, parameter=param)
            return None
        return reg.entry(name)




def check_step(ck: Checker, entry: Entry, params: dict[str, Any], where: dict[str, Any]) -> None:
    """One step of a registered stage (see the module doc)."""
    stage = entry.name
    declared: dict[str, Param] = entry.meta.get("params", {})
    reg: Registry | None = entry.meta.get("registry")
    mparam = entry.meta.get("method_param", "method")
    own = entry.meta.get("check")
    if own is not None:
        own(ck, declared, params, where, reg)
        return
    stage_given = {k: v for k, v in params.items() if k in declared}
    ck.params(declared, stage_given, where, stage)
    rest = {k: v for k, v in params.items() if k not in declared}
    if reg is None or mparam is None:
        ck.params(declared, rest, where, stage)
        return
    m_entry = ck.method(reg, params.get(mparam, declared[mparam].default), where, mparam)
    if m_entry is None:
        return
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


def check_weight_step(ck: Checker, declared, params, where, reg: Registry) -> None:
    """The weight stage: ``manual`` and ``ahp`` are the stage's own methods (weights map, judgement
    matrices); every other method and its parameters come from the weighting registry."""
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

def check_aggregate_step(ck: Checker, declared, params, where, reg: Registry) -> None:
    """The aggregate stage: methods and parameters per level or node, inline or under ``params``."""
    stage_given = {k: v for k, v in params.items() if k in declared}
    ck.params(declared, stage_given, where, "aggregate")
    rest = [k for k in params if k not in declared]
    for key in rest:
        ck.add("spec.parameter", f"aggregate has no parameter {key!r}{suggest(key, sorted(declared))}; it takes: {', '.join(sorted(declared))}",
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
                ck.add("spec.parameter", f"aggregate: no method used here has a parameter {k!r}{suggest(k, sorted(known))}"
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
