"""Uncertain assumptions, declared by meaning and checked against the result's spec before anything runs.

Each assumption is one *factor* of the uncertainty and sensitivity analyses: a map from ``u`` in [0, 1) to a
set of spec changes (address → value, the addresses :meth:`fintech_eval.engine.Spec.with_changes` takes).
COINr's convention is kept (a discrete factor cuts U(0, 1) into equal bins; a continuous one is uniform on
``[a, b]``), but every address is resolved and every possible value checked against the spec first, so a
mistyped or impossible assumption is an error naming it (COINr issues #50, #60: silently ignored there).

Kinds (registry :data:`ASSUMPTIONS`; the CLI form ``--uncertainty TEXT`` in brackets):

* ``choice`` — one of several values of a parameter: the normaliser, the aggregator, the imputation method,
  treatment on/off (``treat.method=coinr,none``), a weight set [``normalise.method=minmax,zscore``]. When a
  ``method`` changes, stage parameters that only the nominal method reads (``normalise.range``) are unset.
* ``uniform`` — a number uniform on ``[a, b]``; integers when both ends are integers (``treat.winmax``)
  [``aggregate.dat_thresh=0.5..0.9``, ``treat.winmax=1..5``]. ``ADDRESS.KEY`` changes one key of a mapping
  parameter [``aggregate.weights.Physical=0.5..2``].
* ``weights`` — noise on the nominal weights, uniform ±x (a fraction) per node of the chosen levels
  (COINr ``get_noisy_weights``), or a Dirichlet around the nominal weights of each group of siblings
  [``weights=0.25``, ``weights=0.25@2,3``, ``weights=dirichlet:50``]. A pool of weight sets is drawn once
  from the seed; ``u`` picks one. Or alternative weight sets given in full (``{kind: weights, sets:
  [nominal, {Physical: 2}]}``: each over the nominal weights).
* ``step`` — whole parameter sets of one step [``normalise=[{method: minmax, range: [1, 100]}, {method:
  zscore, m_sd: [10, 2]}]``]: parameters of the nominal step an alternative does not give are removed.
* ``param`` — an open parameter of the framework, its sum partner taking the complement
  [``param.w_users_personal=0.3..0.7``]; checked by the derivation's own rules.
* ``exclude`` — leave out one of the listed indicators or aggregates (weight 0), or none
  [``exclude=Flights,Ship``; ``exclude=level:2`` lists every node of a level].

Several assumptions on one mapping parameter (weights noise and exclusion) are merged; two on the same
scalar address are an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from ..engine.spec import UNSET
from ..errors import FintechEvalError, Problem, SpecError
from ..registry import Registry

ASSUMPTIONS = Registry("assumption")

#: stage parameters that only one method of the stage reads (unset when the method changes)
METHOD_ONLY = {("normalise", "range"): {"minmax"}}


@dataclass
class Factor:
    """One uncertain assumption, resolved: ``changes(u)`` gives the spec changes for ``u`` in [0, 1)."""

    name: str
    kind: str
    levels: list[Any] | None  # the discrete values (None: continuous)
    bounds: tuple[float, float] | None = None
    integer: bool = False
    make: Callable[[Any], dict[str, Any]] = field(default=lambda v: {}, repr=False)
    label: Callable[[Any], Any] = field(default=lambda v: v, repr=False)
    declared: str = ""
    table: Any = field(default=None, repr=False)  # a drawn pool (weight sets: set number × node), saved beside the results

    def value(self, u: float) -> Any:
        """The factor's value for ``u`` (COINr: discrete values take equal bins of [0, 1))."""
        if self.levels is not None:
            return self.levels[min(int(u * len(self.levels)), len(self.levels) - 1)]
        a, b = self.bounds  # type: ignore[misc]
        return a + u * (b - a)

    def changes(self, u: float) -> dict[str, Any]:
        return self.make(self.value(u))

    def possible(self) -> list[Any]:
        """Values checked against the spec before anything runs (a continuous factor: both ends)."""
        return list(self.levels) if self.levels is not None else list(self.bounds)  # type: ignore[arg-type]


# --- parsing ------------------------------------------------------------------------------------------------
def _scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse(text: str) -> dict[str, Any]:
    """The CLI form ``NAME=VALUE`` as a declaration mapping (see the module doc)."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise SpecError(f"--uncertainty {text!r}: write NAME=VALUE, e.g. weights=0.25 or normalise.method=minmax,zscore",
                        rule="uncertainty.syntax", parameter=text)
    if name == "weights":
        if value.startswith("dirichlet:"):
            return {"kind": "weights", "dirichlet": _scalar(value.split(":", 1)[1])}
        noise, _, lv = value.partition("@")
        out: dict[str, Any] = {"kind": "weights", "noise": _scalar(noise)}
        if lv:
            out["levels"] = [_scalar(x) for x in lv.split(",")]
        return out
    if name == "exclude":
        if value.startswith("level:"):
            return {"kind": "exclude", "level": _scalar(value.split(":", 1)[1])}
        return {"kind": "exclude", "codes": [x.strip() for x in value.split(",") if x.strip()]}
    if name.startswith("param."):
        pname = name.split(".", 1)[1]
        if ".." in value and "," not in value:
            a, b = value.split("..", 1)
            return {"kind": "param", "parameter": pname, "range": [_scalar(a), _scalar(b)]}
        return {"kind": "param", "parameter": pname, "values": [_scalar(x) for x in value.split(",")]}
    if "." not in name:
        alts = _scalar(value)
        return {"kind": "step", "step": name, "alternatives": alts}
    if ".." in value and "," not in value:
        a, b = value.split("..", 1)
        return {"kind": "uniform", "address": name, "range": [_scalar(a), _scalar(b)]}
    return {"kind": "choice", "address": name, "values": [_scalar(x) for x in value.split(",")]}


def _where(decl: Mapping[str, Any]) -> dict[str, Any]:
    return {"parameter": decl.get("address") or decl.get("kind")}


# --- the kinds --------------------------------------------------------------------------------------------
def _split_key(spec, address: str) -> tuple[str, str | None]:
    """``stage.param`` or ``stage.param.KEY`` (one key of a mapping parameter)."""
    parts = address.split(".")
    if len(parts) < 2:
        raise SpecError(f"assumption {address!r}: an address is 'stage.parameter' (or 'N.parameter', 'data.params.KEY')",
                        rule="uncertainty.address", parameter=address)
    if len(parts) == 2:
        return address, None
    return ".".join(parts[:2]), ".".join(parts[2:])


def _current(spec, address: str) -> Any:
    head, _, param = address.partition(".")
    if head == "data":
        return getattr(spec.data, param, None)
    i = spec.step_index(head, address)
    (params,) = spec.steps[i].values()
    return params.get(param)


def _setter(result, address: str) -> Callable[[Any], dict[str, Any]]:
    """value → changes for ``address``; a method change unsets stage parameters only the old method reads."""
    spec = result.spec
    base, key = _split_key(spec, address)
    if key is not None:
        nominal = _current(spec, base)
        if nominal is not None and not isinstance(nominal, Mapping):
            raise SpecError(f"assumption {address!r}: {base} is not a mapping", rule="uncertainty.address", parameter=address)
        nominal = dict(nominal or {})
        return lambda v: {base: {**nominal, key: v}}
    head, _, param = base.partition(".")
    if head != "data" and param == "method":
        return _method_switch(spec, head, base)
    return lambda v: {base: v}


def _method_switch(spec, head: str, base: str) -> Callable[[Any], dict[str, Any]]:
    """A new method drops the nominal step's parameters it does not read (the old method's own, and stage
    parameters only the old method reads, e.g. ``normalise.range`` of minmax)."""
    from ..engine import STAGES

    (stage,) = spec.steps[spec.step_index(head, base)]
    entry = STAGES.entry(stage)
    nominal = dict(next(iter(spec.steps[spec.step_index(head, base)].values())))
    declared = entry.meta.get("params", {})
    reg = entry.meta.get("registry")

    def make(v: Any) -> dict[str, Any]:
        out: dict[str, Any] = {base: v}
        m_params = reg.entry(v).meta.get("params", {}) if reg is not None and isinstance(v, str) and v in reg else None
        for p in nominal:
            if p == "method":
                continue
            only = METHOD_ONLY.get((entry.name, p))
            if p in declared:
                if only is not None and v not in only:
                    out[f"{head}.{p}"] = UNSET
            elif m_params is not None and p not in m_params:
                out[f"{head}.{p}"] = UNSET
        return out

    return make


def _compact(v: Any) -> str:
    if isinstance(v, Mapping):
        m = v.get("method")
        rest = ", ".join(f"{k}={_compact(x)}" for k, x in v.items() if k != "method")
        return f"{m}({rest})" if m is not None else "{" + rest + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_compact(x) for x in v) + "]"
    return str(v)


@ASSUMPTIONS.register("step")
def step(result, decl: Mapping[str, Any], n: int, rng: np.random.Generator) -> Factor:
    """Whole parameter sets of one step: ``normalise=[{method: minmax, range: [1, 100]}, {method: zscore,
    m_sd: [10, 2]}]`` (COINr's ``f_n`` with ``f_n_para`` alternatives)."""
    head, alts = str(decl.get("step")), decl.get("alternatives")
    spec = result.spec
    spec.step_index(head, head)  # an unknown step first ("winmax=1..5" names no step: say so)
    if not isinstance(alts, list) or len(alts) < 2 or not all(isinstance(x, Mapping) for x in alts):
        raise SpecError(f"assumption {head!r}: give a list of at least two parameter mappings, got {alts!r}",
                        rule="uncertainty.values", parameter=head)
    nominal = dict(next(iter(spec.steps[spec.step_index(head, head)].values())))

    def make(alt: Mapping[str, Any]) -> dict[str, Any]:
        return {**{f"{head}.{p}": UNSET for p in nominal if p not in alt}, **{f"{head}.{k}": v for k, v in alt.items()}}

    return Factor(decl.get("name") or head, "step", [dict(x) for x in alts], make=make, label=_compact)


@ASSUMPTIONS.register("choice")
def choice(result, decl: Mapping[str, Any], n: int, rng: np.random.Generator) -> Factor:
    """One of several values of a parameter (``normalise.method=minmax,zscore``): equal bins of U(0, 1)."""
    address, values = decl.get("address"), decl.get("values")
    if not isinstance(values, list) or len(values) < 2:
        raise SpecError(f"assumption {address!r}: give at least two values, got {values!r}", rule="uncertainty.values", parameter=address)
    return Factor(decl.get("name") or address, "choice", list(values), make=_setter(result, address))


@ASSUMPTIONS.register("uniform")
def uniform(result, decl: Mapping[str, Any], n: int, rng: np.random.Generator) -> Factor:
    """A number uniform on [a, b], or each integer of a..b with equal chance (``treat.winmax=1..5``)."""
    address, rg = decl.get("address"), decl.get("range")
    ok = isinstance(rg, list) and len(rg) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in rg)
    if not ok or rg[0] >= rg[1]:
        raise SpecError(f"assumption {address!r}: a range is a..b with a < b, got {rg!r}", rule="uncertainty.range", parameter=address)
    make = _setter(result, address)
    if all(isinstance(x, int) for x in rg):
        return Factor(decl.get("name") or address, "uniform", list(range(rg[0], rg[1] + 1)), integer=True, make=make)
    return Factor(decl.get("name") or address, "uniform", None, bounds=(float(rg[0]), float(rg[1])), make=lambda v: make(float(v)))


def _nominal_weights(result) -> dict[str, float]:
    """The weights the aggregation uses: the tree's, with the aggregate step's ``weights`` over them."""
    tree = result.tree
    top = set(tree.codes(tree.n_levels))
    w = {str(k): float(v) for k, v in tree.weights.items() if k not in top}
    try:
        w.update({str(k): float(v) for k, v in (_current(result.spec, "aggregate.weights") or {}).items()})
    except FintechEvalError:
        pass
    return w


@ASSUMPTIONS.register("weights")
def weights(result, decl: Mapping[str, Any], n: int, rng: np.random.Generator) -> Factor:
    """Noisy weights: ±x uniform per node of the levels (``weights=0.25@2,3``) or a Dirichlet around the
    nominal weights of each sibling group (``weights=dirichlet:50``); a seeded pool of sets, u picks one."""
    tree = result.tree
    top = tree.n_levels
    levels = decl.get("levels") or list(range(1, top))
    bad = [lv for lv in levels if not isinstance(lv, int) or not 1 <= lv < top]
    if bad:
        raise SpecError(f"assumption weights: levels must be within 1..{top - 1} (the index has no weight), got {bad}",
                        rule="uncertainty.levels", parameter="weights")
    nominal = _nominal_weights(result)
    if "sets" in decl:
        return _weight_sets(result, decl, nominal)
    nodes = [c for lv in levels for c in tree.codes(lv)]
    pool = int(decl.get("pool") or max(n, 100))
    sets: list[dict[str, float]] = []
    if "dirichlet" in decl:
        conc = decl["dirichlet"]
        if isinstance(conc, bool) or not isinstance(conc, (int, float)) or not conc > 0:
            raise SpecError(f"assumption weights: the Dirichlet concentration must be > 0, got {conc!r}", rule="uncertainty.range", parameter="weights")
        parents = {tree.parent_of[c] for c in nodes}
        for _ in range(pool):
            w = dict(nominal)
            for p in sorted(parents, key=str):
                kids = [k for k in tree.children(p) if k in nominal]
                base = np.array([nominal[k] for k in kids])
                if base.sum() <= 0 or len(kids) < 2:
                    continue
                draw = rng.dirichlet(conc * len(kids) * base / base.sum() + 1e-12)
                w.update({k: float(v * base.sum()) for k, v in zip(kids, draw, strict=True)})
            sets.append({k: v for k, v in w.items() if k in nodes})
        what = f"Dirichlet (concentration {conc}) around the nominal weights at levels {levels}"
    else:
        x = decl.get("noise")
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 < x < 1:
            raise SpecError(f"assumption weights: the noise is a fraction in (0, 1) (0.25 = ±25 %), got {x!r}",
                            rule="uncertainty.range", parameter="weights")
        for _ in range(pool):
            noise = rng.uniform(-x, x, len(nodes))
            sets.append({c: nominal[c] * (1 + e) for c, e in zip(nodes, noise, strict=True)})
        what = f"±{x:g} uniform noise at levels {levels}"
    import pandas as pd

    table = pd.DataFrame(sets).rename_axis("set")
    return Factor(decl.get("name") or "weights", "weights", list(range(pool)),
                  make=lambda k: {"aggregate.weights": sets[k]}, declared=what, table=table)


def _weight_sets(result, decl: Mapping[str, Any], nominal: dict[str, float]) -> Factor:
    """Alternative weight sets, one chosen per replication: each a mapping node → weight over the nominal
    weights (nodes it does not name keep theirs), or ``nominal``."""
    import pandas as pd

    raw = decl["sets"]
    if not isinstance(raw, list) or len(raw) < 2:
        raise SpecError(f"assumption weights: give at least two weight sets, got {raw!r}", rule="uncertainty.values", parameter="weights")
    sets: list[dict[str, float]] = []
    for i, ws in enumerate(raw):
        if ws == "nominal":
            sets.append({})
            continue
        if not isinstance(ws, Mapping) or not ws:
            raise SpecError(f"assumption weights: set {i + 1} must be 'nominal' or a mapping node → weight, got {ws!r}",
                            rule="uncertainty.values", parameter="weights")
        unknown = [str(k) for k in ws if str(k) not in nominal]
        if unknown:
            from ..engine.checks import suggest

            raise SpecError(f"assumption weights: set {i + 1} names no node {unknown[0]!r} of the tree{suggest(unknown[0], sorted(nominal))}",
                            rule="uncertainty.node", parameter="weights")
        bad = [k for k, w in ws.items() if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0]
        if bad:
            raise SpecError(f"assumption weights: set {i + 1}: the weight of {bad[0]!r} must be a finite number >= 0, got {ws[bad[0]]!r}",
                            rule="uncertainty.range", parameter="weights")
        sets.append({str(k): float(w) for k, w in ws.items()})
    table = pd.DataFrame([{**nominal, **w} for w in sets]).rename_axis("set")
    return Factor(decl.get("name") or "weights", "weights", list(range(len(sets))),
                  make=lambda k: {"aggregate.weights": sets[k]} if sets[k] else {},
                  declared=f"{len(sets)} alternative weight sets", table=table)


@ASSUMPTIONS.register("exclude")
def exclude(result, decl: Mapping[str, Any], n: int, rng: np.random.Generator) -> Factor:
    """Leave out one of the listed nodes (weight 0) or none (``exclude=Flights,Ship``, ``exclude=level:2``)."""
    tree = result.tree
    if "level" in decl:
        lv = decl["level"]
        if not isinstance(lv, int) or not 1 <= lv < tree.n_levels:
            raise SpecError(f"assumption exclude: level must be within 1..{tree.n_levels - 1}, got {lv!r}", rule="uncertainty.levels", parameter="exclude")
        codes = list(tree.codes(lv))
    else:
        codes = list(decl.get("codes") or [])
    known = set(_nominal_weights(result))
    unknown = [c for c in codes if c not in known]
    if unknown or not codes:
        from ..engine.checks import suggest

        hint = suggest(unknown[0], sorted(known)) if unknown else ""
        raise SpecError(f"assumption exclude: no node {', '.join(map(repr, unknown)) or '(none given)'} in the tree{hint}",
                        rule="uncertainty.node", parameter="exclude")
    return Factor(decl.get("name") or "exclude", "exclude", [None, *codes],
                  make=lambda c: {} if c is None else {"aggregate.weights": {c: 0.0}},
                  label=lambda c: c or "(none)")


@ASSUMPTIONS.register("param")
def param(result, decl: Mapping[str, Any], n: int, rng: np.random.Generator) -> Factor:
    """An open parameter of the framework (JR/T 0201 leaves the personal/corporate weights open):
    ``param.w_users_personal=0.3..0.7``, or a list of values. Its partner in a sum constraint takes the
    complement (w_users_corporate = 1 − w_users_personal); every value is checked by the derivation's own
    rules (declared names, ranges, sums) before anything runs. Needs ``data.source: store``."""
    from ..catalog import load_framework
    from ..derive.institutions import resolve_params

    spec = result.spec
    pname = str(decl.get("parameter"))
    if spec.data.source != "store":
        raise SpecError(f"assumption param.{pname}: framework parameters apply to data.source store, not {spec.data.source}",
                        rule="uncertainty.param", parameter=f"param.{pname}")
    fw = load_framework(spec.data.framework or "jrt0201-2020")
    declared = {p.name: p for p in fw.parameters}
    if pname not in declared:
        from ..engine.checks import suggest

        raise SpecError(f"assumption param.{pname}: {fw.id} declares no parameter {pname!r}{suggest(pname, sorted(declared))}; "
                        f"it declares: {', '.join(sorted(declared))}", rule="uncertainty.param", parameter=f"param.{pname}")
    partners = [c for c in fw.constraints if pname in c.parameters]
    if any(len(c.parameters) != 2 for c in partners):
        raise SpecError(f"assumption param.{pname}: its sum constraint has more than two parameters; declare the set with data.params alternatives",
                        rule="uncertainty.param", parameter=f"param.{pname}")
    nominal = dict(spec.data.params or {})

    def make(v: Any) -> dict[str, Any]:
        out = {**nominal, pname: float(v)}
        for c in partners:
            (other,) = [x for x in c.parameters if x != pname]
            out[other] = c.sum - float(v)
        resolve_params(fw, out)  # names, ranges and sums, as the derivation will check them
        return {"data.params": out}

    if "values" in decl:
        values = list(decl["values"])
        if len(values) < 2:
            raise SpecError(f"assumption param.{pname}: give at least two values", rule="uncertainty.values", parameter=f"param.{pname}")
        return Factor(decl.get("name") or f"param.{pname}", "param", values, make=make)
    rg = decl.get("range")
    if not (isinstance(rg, list) and len(rg) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in rg)) or rg[0] >= rg[1]:
        raise SpecError(f"assumption param.{pname}: a range is a..b with a < b, got {rg!r}", rule="uncertainty.range", parameter=f"param.{pname}")
    return Factor(decl.get("name") or f"param.{pname}", "param", None, bounds=(float(rg[0]), float(rg[1])), make=make)


# --- resolving and checking ---------------------------------------------------------------------------------
def _merge(out: dict[str, Any], c: Mapping[str, Any], name: str) -> None:
    """Add one factor's changes: weight maps combine (an excluded node keeps weight 0); a scalar set twice
    is a conflict."""
    for k, v in c.items():
        if k not in out:
            out[k] = v
        elif isinstance(out[k], Mapping) and isinstance(v, Mapping):
            out[k] = {**out[k], **{n: w for n, w in v.items() if out[k].get(n) != 0}}
        else:
            raise SpecError(f"assumption {name!r} sets {k}, which another assumption sets too", rule="uncertainty.conflict", parameter=k)


@dataclass
class Assumptions:
    """The resolved factors of one analysis; ``changes(u_row)`` is one variant of the spec."""

    factors: list[Factor]
    spec: Any = None  # the nominal spec: a mapping parameter changed in part keeps its other keys

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    def changes(self, u: Sequence[float]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f, x in zip(self.factors, u, strict=True):
            _merge(out, f.changes(float(x)), f.name)
        for k, v in out.items():
            if isinstance(v, Mapping) and self.spec is not None and k.partition(".")[0] != "data":
                out[k] = {**(_current(self.spec, k) or {}), **v}
        return out

    def labels(self, u: Sequence[float]) -> dict[str, Any]:
        return {f.name: f.label(f.value(float(x))) for f, x in zip(self.factors, u, strict=True)}

    def tables(self) -> dict[str, Any]:
        """Drawn pools by factor name (the weight sets a replication's ``weights`` number refers to)."""
        return {f.name: f.table for f in self.factors if f.table is not None}

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": f.name, "kind": f.kind,
             "values": None if f.kind == "weights" else ([f.label(v) for v in f.levels] if f.levels is not None else list(f.bounds)),
             "detail": f.declared or None}
            for f in self.factors
        ]


def resolve(result, declarations: Sequence[str | Mapping[str, Any]], *, n: int = 100, seed: int | None = None) -> Assumptions:
    """Declarations (CLI strings or mappings) → checked :class:`Assumptions` for ``result``.

    Every problem is collected and raised at once as a :class:`SpecError` before any run: unknown kinds,
    addresses that name no step or parameter, values the spec check rejects, names used twice and
    combinations that set the same scalar twice."""
    if not declarations:
        raise SpecError("declare at least one uncertain assumption (e.g. weights=0.25)", rule="uncertainty.none")
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0] if seed is not None else None)
    problems: list[Problem] = []
    factors: list[Factor] = []
    for d in declarations:
        try:
            decl = parse(d) if isinstance(d, str) else dict(d)
            kind = decl.get("kind")
            if kind not in ASSUMPTIONS:
                from ..engine.checks import suggest

                raise SpecError(f"unknown assumption kind {kind!r}{suggest(kind, ASSUMPTIONS.names())}; choose one of: "
                                f"{', '.join(ASSUMPTIONS.names())}", rule="uncertainty.kind")
            f = ASSUMPTIONS.get(kind)(result, decl, n, rng)
            for v in f.possible():  # every value against the spec: an impossible one fails now
                result.spec.with_changes(f.make(v))
            factors.append(f)
        except FintechEvalError as exc:
            for p in exc.problems:
                if isinstance(d, Mapping) and d.get("path"):  # declared in the spec's uncertainty section: where
                    p.where.setdefault("path", d["path"])
                else:
                    p.where.setdefault("assumption", d if isinstance(d, str) else str(dict(d)))
            problems.extend(exc.problems)
    names = [f.name for f in factors]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        problems.append(Problem("uncertainty.duplicate", f"assumption(s) declared twice: {', '.join(dup)}", {"parameter": dup[0]}))
    if problems:
        raise SpecError(problems)
    out = Assumptions(factors, result.spec)
    try:  # two factors on one scalar address, or a combination the spec rejects
        result.spec.with_changes(out.changes([0.0] * len(factors)))
        result.spec.with_changes(out.changes([0.999999] * len(factors)))
    except FintechEvalError as exc:
        raise SpecError([Problem(p.rule, f"these assumptions together: {p.message}", p.where) for p in exc.problems]) from None
    return out
