"""The spec's ``uncertainty:`` section: the uncertain assumptions of an evaluation written beside it, by meaning.

    uncertainty:
      replications: 100          # uncertainty analysis: replications (default 100)
      seed: 1                    # same seed, same replications
      design: lhs                # random (COINr's) | lhs | sobol
      level: 0.9                 # the central interval of ranks and scores
      weights: {noise: 0.25, levels: [2, 3]}      # or {dirichlet: 50}, or {sets: [nominal, {Physical: 2, ...}]}
      normalise: [minmax, zscore]                 # the normaliser; or whole parameter sets:
                                                  #   [{method: minmax, range: [1, 100]}, {method: zscore, m_sd: [10, 2]}]
      aggregate: {method: [amean, gmean], dat_thresh: 0.5..0.9}   # the aggregator and the data threshold
      impute: [mean, median]                      # the imputation method
      treat: {method: [coinr, none], winmax: 1..5}                # treatment on/off, and winmax
      exclude: [Flights, Ship]                    # leave out one of them (or none); {level: 2}: each node of a level
      params: {w_users_personal: 0.3..0.7}        # JR/T 0201's open parameters (data.source store)
      assumptions: [{kind: uniform, address: aggregate.weights.Physical, range: [0.5, 2]}]   # anything else, by address
      sensitivity: {method: sobol, n: 64, entities: [GBR]}   # also Sobol (or Morris) indices of these assumptions

A stage key (any stage of the spec: ``impute``, ``treat``, ``normalise``, ``aggregate``, ``screen``, …) takes a
list (the method's alternatives; a list holding mappings gives whole parameter sets) or a mapping parameter →
values, where a list is a choice of values and ``"a..b"`` (or ``{range: [a, b]}``) a range (integers when both
ends are). Each entry becomes a declaration of :mod:`.assumptions` carrying its ``path`` in the spec, so every
error names where it is: ``uncertainty.treat.winmx: ... (did you mean 'winmax'?)``.

:func:`check_section` runs when a spec is loaded (:func:`fintech_eval.engine.load_spec`): unknown keys, wrong
types and every value a choice or range can take against the spec (methods, parameters, ranges), before
anything runs. What needs the tree (the nodes of ``exclude`` and of weight sets, the levels of ``weights``) is
checked by :func:`fintech_eval.analysis.assumptions.resolve` once the data is read, before the first
replication. :func:`combine` merges the section with the command line's ``--uncertainty``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import FintechEvalError, Problem, SpecError

#: the run settings of the section and their defaults
SETTINGS: dict[str, Any] = {"replications": 100, "seed": None, "design": "random", "level": 0.9}
#: the section's keys that are not stages (besides the run settings)
MEANINGS = ("weights", "exclude", "params", "assumptions", "sensitivity")
#: ``sensitivity:`` — a sensitivity analysis of the same assumptions, and its defaults
SENSITIVITY: dict[str, Any] = {"method": "sobol", "n": None, "entities": [], "nboot": 200}
SA_METHODS = ("sobol", "morris")
WEIGHT_KEYS = ("noise", "dirichlet", "sets", "levels", "pool")
PREFIX = "uncertainty"


def _suggest(name: Any, choices: Sequence[str]) -> str:
    from ..engine.checks import suggest

    return suggest(name, list(choices))


def _values(v: Any, path: str, address: str) -> dict[str, Any]:
    """``[a, b, c]`` → a choice; ``"a..b"`` or ``{range: [a, b]}`` → a range."""
    if isinstance(v, str) and ".." in v:
        import yaml

        a, b = v.split("..", 1)
        return {"kind": "uniform", "address": address, "range": [yaml.safe_load(a), yaml.safe_load(b)], "path": path}
    if isinstance(v, Mapping) and set(v) == {"range"}:
        return {"kind": "uniform", "address": address, "range": v["range"], "path": path}
    if isinstance(v, list):
        return {"kind": "choice", "address": address, "values": list(v), "path": path}
    raise SpecError(f"give a list of values or a range 'a..b', got {v!r}", rule="uncertainty.values", path=path)


def _stage(key: str, v: Any, path: str) -> list[dict[str, Any]]:
    if isinstance(v, list):
        if any(isinstance(x, Mapping) for x in v):  # whole parameter sets
            alts = [x if isinstance(x, Mapping) else {"method": x} for x in v]
            return [{"kind": "step", "step": key, "alternatives": alts, "path": path}]
        return [{"kind": "choice", "address": f"{key}.method", "values": list(v), "path": path}]
    if isinstance(v, Mapping):
        if not v:
            raise SpecError("empty: give parameters and their values", rule="uncertainty.values", path=path)
        return [_values(x, f"{path}.{p}", f"{key}.{p}") for p, x in v.items()]
    raise SpecError(f"give a list of methods or a mapping parameter → values, got {v!r}", rule="uncertainty.values", path=path)


def _weights(v: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, Mapping):
        raise SpecError(f"a mapping with noise, dirichlet or sets (and levels), got {v!r}", rule="uncertainty.values", path=path)
    unknown = [k for k in v if k not in WEIGHT_KEYS]
    if unknown:
        raise SpecError(f"no key {unknown[0]!r}{_suggest(unknown[0], WEIGHT_KEYS)}; it takes: {', '.join(WEIGHT_KEYS)}",
                        rule="uncertainty.key", path=f"{path}.{unknown[0]}")
    how = [k for k in ("noise", "dirichlet", "sets") if k in v]
    if len(how) != 1:
        raise SpecError(f"give exactly one of noise, dirichlet, sets (got {', '.join(how) or 'none'})",
                        rule="uncertainty.values", path=path)
    return {"kind": "weights", **dict(v), "path": path}


def _exclude(v: Any, path: str) -> dict[str, Any]:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return {"kind": "exclude", "codes": list(v), "path": path}
    if isinstance(v, Mapping) and set(v) == {"level"}:
        return {"kind": "exclude", "level": v["level"], "path": path}
    raise SpecError(f"a list of node codes or {{level: N}}, got {v!r}", rule="uncertainty.values", path=path)


def _params(v: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(v, Mapping) or not v:
        raise SpecError(f"a mapping parameter → values, got {v!r}", rule="uncertainty.values", path=path)
    out = []
    for name, x in v.items():
        d = _values(x, f"{path}.{name}", f"param.{name}")
        d = ({"kind": "param", "parameter": name, "range": d["range"]} if d["kind"] == "uniform"
             else {"kind": "param", "parameter": name, "values": d["values"]})
        out.append({**d, "path": f"{path}.{name}"})
    return out


def _declared(v: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(v, list) or not all(isinstance(x, Mapping) for x in v):
        raise SpecError(f"a list of declarations ({{kind: ..., ...}}), got {v!r}", rule="uncertainty.values", path=path)
    return [{**dict(x), "path": f"{path}[{i}]"} for i, x in enumerate(v)]


def _sensitivity_problems(v: Any, path: str) -> list[Problem]:
    if not isinstance(v, Mapping):
        return [Problem("uncertainty.sensitivity", f"a mapping (method, n, entities, nboot), got {v!r}", {"path": path})]
    out = [Problem("uncertainty.key", f"no key {k!r}{_suggest(k, list(SENSITIVITY))}; it takes: {', '.join(SENSITIVITY)}", {"path": f"{path}.{k}"})
           for k in v if k not in SENSITIVITY]
    m = v.get("method", "sobol")
    if m not in SA_METHODS:
        out.append(Problem("sensitivity.method", f"method must be sobol or morris, got {m!r}{_suggest(m, SA_METHODS)}", {"path": f"{path}.method"}))
    for k in ("n", "nboot"):
        x = v.get(k)
        if x is not None and (isinstance(x, bool) or not isinstance(x, int) or x < 2):
            out.append(Problem("sensitivity.n", f"{k} must be an integer >= 2, got {x!r}", {"path": f"{path}.{k}"}))
    e = v.get("entities", [])
    if not isinstance(e, list) or not all(isinstance(x, str) for x in e):
        out.append(Problem("sensitivity.entities", f"entities is a list of unit codes, got {e!r}", {"path": f"{path}.entities"}))
    return out


def sensitivity_settings(section: Mapping[str, Any] | None, **given: Any) -> dict[str, Any] | None:
    """The sensitivity analysis to run: ``given`` values that are not None (``method``, ``n``, ``entities``)
    over the section's ``sensitivity:`` over the defaults; None when neither asks for one."""
    sec = section.get("sensitivity") if isinstance(section, Mapping) else None
    if sec is None and given.get("method") is None:
        return None
    sec = sec if isinstance(sec, Mapping) else {}
    return {k: given[k] if given.get(k) is not None else sec.get(k, d) for k, d in SENSITIVITY.items()}


def settings(section: Mapping[str, Any] | None, **given: Any) -> dict[str, Any]:
    """The run settings: each ``given`` one that is not None (the command line, a library call), else the
    section's, else the default (checked by :func:`declarations`)."""
    sec = section if isinstance(section, Mapping) else {}
    return {k: given[k] if given.get(k) is not None else sec.get(k, d) for k, d in SETTINGS.items()}


def declarations(spec) -> list[dict[str, Any]]:
    """The section of ``spec`` as assumption declarations (each with its ``path``); every problem of its shape
    (unknown keys with a close name suggested, wrong types, impossible settings) raised at once."""
    out, problems = _declarations(spec)
    if problems:
        raise SpecError(problems)
    return out


def _declarations(spec) -> tuple[list[dict[str, Any]], list[Problem]]:
    from ..engine import STAGES
    from .uncertainty import DESIGNS

    section = spec.uncertainty
    if section is None:
        return [], []
    if not isinstance(section, Mapping):
        return [], [Problem("uncertainty.section", f"a mapping of assumptions, got {section!r}", {"path": PREFIX})]
    stages = [n for _, n, _ in spec.stage_items()]
    known = [*SETTINGS, *MEANINGS, *stages]
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []

    def bad(rule: str, message: str, path: str) -> None:
        problems.append(Problem(rule, message, {"path": path}))

    s = settings(section)
    n = s["replications"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        bad("uncertainty.n", f"replications must be an integer >= 2, got {n!r}", f"{PREFIX}.replications")
    if s["seed"] is not None and (isinstance(s["seed"], bool) or not isinstance(s["seed"], int) or s["seed"] < 0):
        bad("uncertainty.seed", f"seed must be an integer >= 0, got {s['seed']!r}", f"{PREFIX}.seed")
    if s["design"] not in DESIGNS:
        bad("uncertainty.design", f"design must be one of {', '.join(DESIGNS)}, got {s['design']!r}{_suggest(s['design'], DESIGNS)}",
            f"{PREFIX}.design")
    lv = s["level"]
    if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not 0 < lv < 1:
        bad("uncertainty.level", f"level must be within (0, 1), got {lv!r}", f"{PREFIX}.level")
    for key, v in section.items():
        path = f"{PREFIX}.{key}"
        try:
            if key in SETTINGS:
                continue
            if key == "sensitivity":
                problems += _sensitivity_problems(v, path)
                continue
            if key == "weights":
                out.append(_weights(v, path))
            elif key == "exclude":
                out.append(_exclude(v, path))
            elif key == "params":
                out += _params(v, path)
            elif key == "assumptions":
                out += _declared(v, path)
            elif key in STAGES and STAGES.entry(key).name in {STAGES.entry(x).name for x in stages if x in STAGES}:
                out += _stage(key, v, path)
            elif key in STAGES:
                raise SpecError(f"the spec has no {key} step (its steps: {', '.join(stages)})", rule="uncertainty.key", path=path)
            else:
                raise SpecError(f"unknown key {key!r}{_suggest(key, known)}; the section takes: {', '.join(known)}",
                                rule="uncertainty.key", path=path)
        except FintechEvalError as exc:
            problems += exc.problems
    return out, problems


#: kinds whose every value can be checked from the spec alone (the others need the tree)
SPEC_ONLY = ("choice", "uniform", "step", "param")


def check_section(spec, *, file: str | None = None) -> None:
    """Everything of the section that the spec alone decides, checked as the spec loads (module doc): every
    value of every choice and range applied to the spec and checked like any spec parameter. Problems name
    the path in the spec (and ``file``)."""
    from .assumptions import ASSUMPTIONS

    decls, problems = _declarations(spec)
    stub = SimpleNamespace(spec=spec, tree=None)
    for d in decls:
        kind = d.get("kind")
        if kind not in ASSUMPTIONS:
            problems.append(Problem("uncertainty.kind", f"unknown assumption kind {kind!r}{_suggest(kind, ASSUMPTIONS.names())}; "
                                    f"choose one of: {', '.join(ASSUMPTIONS.names())}", {"path": d["path"]}))
            continue
        if kind not in SPEC_ONLY:
            continue
        try:
            f = ASSUMPTIONS.get(kind)(stub, d, 2, np.random.default_rng(0))
            for v in f.possible():
                spec.with_changes(f.make(v))
        except FintechEvalError as exc:
            problems += [Problem(p.rule, p.message, {"path": d["path"], **{k: x for k, x in p.where.items() if k != "file"}})
                         for p in exc.problems]
    if problems:
        if file is not None:
            problems = [Problem(p.rule, p.message, {"file": file, **p.where}) for p in problems]
        raise SpecError(problems)


# --- the command line and the spec together ----------------------------------------------------------------
def meaning(decl: Mapping[str, Any], spec=None) -> tuple[str, str | None]:
    """What a declaration varies, for overriding: (``weights``|``exclude``|``param``|stage, parameter or None
    for a whole step). Stage names are canonical (``normalize`` and step numbers name their stage)."""
    kind = decl.get("kind")
    if kind in ("weights", "exclude"):
        return str(kind), None
    if kind == "param":
        return "param", str(decl.get("parameter"))
    head, _, param = (str(decl.get("step", "")) if kind == "step" else str(decl.get("address", ""))).partition(".")
    if spec is not None:
        try:
            (head,) = spec.steps[spec.step_index(head, head)]
        except FintechEvalError:
            pass
    from ..engine import STAGES

    head = STAGES.entry(head).name if head in STAGES else head
    return head, (param or None) if kind != "step" else None


def _overlap(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    return a[0] == b[0] and (a[1] is None or b[1] is None or a[1] == b[1])


def combine(spec, given: Sequence[str | Mapping[str, Any]], *, use_spec: bool = True) -> list[str | Mapping[str, Any]]:
    """The spec's declarations with the command line's (``given``: ``--uncertainty`` texts and ``--assumptions``
    mappings) added; a given one that varies what a spec one varies (the same address, the same whole step or
    a parameter of it, weights, exclude, the same open parameter) replaces it."""
    from .assumptions import parse

    mine = declarations(spec) if use_spec else []
    parsed = [parse(g) if isinstance(g, str) else dict(g) for g in given]
    keys = [meaning(g, spec) for g in parsed]
    kept = [d for d in mine if not any(_overlap(meaning(d, spec), k) for k in keys)]
    return [*kept, *given]
