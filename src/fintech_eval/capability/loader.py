"""Find, load and validate capability frameworks, reporting every problem with file, line, node and rule.

Shipped frameworks live in ``capability/data/<id>.yaml`` (``fcsc-2023-default``: our default model, not
the official list); any other file loads by path, so the official indicator list loads the day a user has
it. :func:`load_capability_framework` parses the YAML with line numbers (:mod:`..catalog.yamlsource`),
validates the schema (:mod:`.models`), then runs the cross-checks below and raises one
:class:`~fintech_eval.errors.FrameworkError` listing every problem:

* ``counts.*``: the file holds exactly the declared numbers of indicators, capabilities, levels, models
  (and provider types, if declared);
* ``code.*``: codes are unique and (``code_scheme: dotted``) extend their parent's code;
* ``levels.order``: levels are numbered 1..N in order;
* ``ref.*``: provider types, scales, standards, Plan tasks, levels, models, capabilities, included nodes
  and override nodes named anywhere exist;
* ``mandatory.*``: a requirement's step is one of the indicator's steps and above its lowest step;
* ``weights.*`` / ``ahp.*``: a parent is weighted by a judgement matrix *or* child weights, never both nor
  some children only; every matrix is square over the children, positive, reciprocal, and consistent
  (CR < 0.1, checked with :func:`fintech_eval.methods.ahp.ahp`, also for the sub-matrices a model uses);
* ``rule.*``: bands cover exactly the levels, increase strictly within 0-100; a staged-only rule has
  requirements;
* ``framework.disclaimer``: a framework that is not official must say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..catalog.yamlsource import LineMap, line_of, load_ref, load_yaml, schema_problems, shipped_yaml
from ..errors import DataError, FintechEvalError, FrameworkError, Problem
from .models import Capability, CapabilityFramework, Indicator, _included

DATA = resources.files("fintech_eval.capability") / "data"
DEFAULT_FRAMEWORK = "fcsc-2023-default"


def shipped_files() -> dict[str, Path]:
    """Id → file of every shipped capability framework."""
    return shipped_yaml(DATA)


def load_capability_framework(ref: str | Path = DEFAULT_FRAMEWORK) -> CapabilityFramework:
    """Load a shipped capability framework by id, or a YAML file by path (validated, see module doc)."""
    return load_ref(str(ref), shipped_files(), "capability framework", shipped=_load_shipped, path=load_file)


@lru_cache(maxsize=8)
def _load_shipped(ref: str) -> CapabilityFramework:
    return load_file(shipped_files()[ref])


def load_file(path: str | Path) -> CapabilityFramework:
    """Load and validate one capability framework file."""
    file = str(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise FrameworkError("a capability framework file is a YAML mapping (id, version, counts, capabilities…)",
                             rule="schema.document", file=file, line=1)
    try:
        fw = CapabilityFramework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(schema_problems(exc, file, data, lines, path_key="node")) from None
    problems = check(fw, data, lines, file)
    if problems:
        raise FrameworkError(problems)
    return fw


def validate_file(path: str | Path) -> list[Problem]:
    """Every problem of a capability framework file (empty: it is valid)."""
    try:
        load_file(path)
    except FrameworkError as exc:
        return list(exc.problems)
    return []


# --------------------------------------------------------------------------------------------------------
# cross-checks
# --------------------------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    fw: CapabilityFramework
    data: dict[str, Any]
    lines: LineMap
    file: str
    paths: dict[str, tuple[Any, ...]]

    def at(self, path: tuple[Any, ...], node: str | None = None, **extra: Any) -> dict[str, Any]:
        w: dict[str, Any] = {"file": self.file, "line": line_of(self.lines, path), "node": node}
        w.update(extra)
        return w

    def node(self, code: str, *sub: Any, **extra: Any) -> dict[str, Any]:
        try:
            npath = " > ".join((*self.fw.path_of(code), code))
        except KeyError:
            npath = code
        return self.at((*self.paths.get(code, ()), *sub), npath, **extra)

    def model(self, i: int, *sub: Any, **extra: Any) -> dict[str, Any]:
        return self.at(("models", i, *sub), f"model {self.fw.models[i].id}", **extra)


def _node_paths(data: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for ci, cap in enumerate(data.get("capabilities") or []):
        if not isinstance(cap, dict):
            continue
        out.setdefault(str(cap.get("code")), ("capabilities", ci))
        for ei, el in enumerate(cap.get("elements") or []):
            out.setdefault(str(el.get("code")), ("capabilities", ci, "elements", ei))
            for ii, ind in enumerate(el.get("indicators") or []):
                out.setdefault(str(ind.get("code")), ("capabilities", ci, "elements", ei, "indicators", ii))
        for ii, ind in enumerate(cap.get("indicators") or []):
            out.setdefault(str(ind.get("code")), ("capabilities", ci, "indicators", ii))
    return out


def check(fw: CapabilityFramework, data: dict[str, Any], lines: LineMap, file: str) -> list[Problem]:
    ctx = _Ctx(fw, data, lines, file, _node_paths(data))
    problems: list[Problem] = []
    for fn in (_counts, _disclaimer, _codes, _levels, _vocabulary, _indicators, _shape, _weights, _models):
        problems.extend(fn(ctx))
    if not problems:  # the sub-matrices the models use, once the structure is sound
        problems.extend(_compiled(ctx))
    return problems


def _counts(ctx: _Ctx) -> Iterator[Problem]:
    fw = ctx.fw
    actual = {
        "indicators": len(fw.indicators()),
        "capabilities": len(fw.capabilities),
        "levels": len(fw.levels),
        "models": len(fw.models),
        "provider_types": len(fw.provider_types),
    }
    for key, n in actual.items():
        want = getattr(fw.counts, key)
        if want is not None and want != n:
            yield Problem(f"counts.{key}", f"the file declares {want} {key.replace('_', ' ')} (counts.{key}) "
                          f"but holds {n}", ctx.at(("counts", key)))


def _disclaimer(ctx: _Ctx) -> Iterator[Problem]:
    if ctx.fw.status != "official" and ctx.fw.disclaimer is None:
        yield Problem("framework.disclaimer", f"a framework with status {ctx.fw.status!r} must carry a disclaimer "
                      "saying it is not the official list", ctx.at(("status",)))


def _codes(ctx: _Ctx) -> Iterator[Problem]:
    fw = ctx.fw
    seen: dict[str, int] = {}
    for path, n in fw.walk():
        seen[n.code] = seen.get(n.code, 0) + 1
        if seen[n.code] == 2:
            yield Problem("code.duplicate", f"code {n.code} is used by more than one node", ctx.node(n.code))
        if fw.code_scheme == "dotted" and path and not n.code.startswith(path[-1] + "."):
            yield Problem("code.nesting", f"code {n.code} does not extend its parent's code {path[-1]} "
                          f"(expected {path[-1]}.<n>)", ctx.node(n.code, "code"))
    ids = [m.id for m in fw.models]
    for i, m in enumerate(fw.models):
        if ids.count(m.id) > 1 and ids.index(m.id) != i:
            yield Problem("code.duplicate", f"model id {m.id} is used twice", ctx.model(i, "id"))
        if m.id in seen:
            yield Problem("code.duplicate", f"model id {m.id} is also a node code", ctx.model(i, "id"))


def _levels(ctx: _Ctx) -> Iterator[Problem]:
    nums = ctx.fw.level_numbers()
    if nums != list(range(1, len(nums) + 1)):
        yield Problem("levels.order", f"levels must be numbered 1..{len(nums)} from low to high, got {nums}",
                      ctx.at(("levels",)))


def _dups(items: list[str]) -> list[str]:
    return sorted({x for x in items if items.count(x) > 1})


def _vocabulary(ctx: _Ctx) -> Iterator[Problem]:
    fw = ctx.fw
    for key, ids in (("provider_types", [p.code for p in fw.provider_types]), ("standards", [s.id for s in fw.standards]),
                     ("scales", [s.id for s in fw.scales])):
        for d in _dups(ids):
            yield Problem(f"{key}.duplicate", f"{key.replace('_', ' ')}: {d} is declared twice", ctx.at((key,)))


def _plan_tasks(ctx: _Ctx) -> set[str] | Problem:
    from ..catalog import load_framework

    try:
        plan = load_framework(ctx.fw.plan)  # type: ignore[arg-type]
    except FintechEvalError as exc:
        return Problem("ref.plan", f"cannot load the plan framework {ctx.fw.plan!r}: {exc.problems[0].message}",
                       ctx.at(("plan",)))
    return {t.code for t in plan.tasks()}


def _indicators(ctx: _Ctx) -> Iterator[Problem]:
    fw = ctx.fw
    ptypes = {p.code for p in fw.provider_types}
    scales = {s.id for s in fw.scales}
    stds = {s.id for s in fw.standards}
    levels = set(fw.level_numbers())
    models = {m.id for m in fw.models}
    tasks: set[str] | None = None
    if fw.plan is not None:
        got = _plan_tasks(ctx)
        if isinstance(got, Problem):
            yield got
        else:
            tasks = got
    for ind in fw.indicators():
        c = ind.code
        for p in ind.applies_to:
            if p not in ptypes:
                yield Problem("ref.provider_type", f"{c} applies to provider type {p!r}, which is not declared "
                              f"(declared: {', '.join(sorted(ptypes))})", ctx.node(c, "applies_to"))
        for d in _dups(list(ind.applies_to)):
            yield Problem("ref.provider_type", f"{c} lists provider type {d} twice", ctx.node(c, "applies_to"))
        if ind.scoring.scale is not None and ind.scoring.scale not in scales:
            yield Problem("ref.scale", f"{c} is scored on scale {ind.scoring.scale!r}, which is not declared "
                          f"(declared: {', '.join(sorted(scales)) or 'none'})", ctx.node(c, "scoring", "scale"))
            continue
        if ind.grounding is not None:
            for s in ind.grounding.standards:
                if s not in stds:
                    yield Problem("ref.standard", f"{c} is grounded in standard {s!r}, which is not declared",
                                  ctx.node(c, "grounding", "standards"))
            if ind.grounding.plan:
                if fw.plan is None:
                    yield Problem("ref.plan", f"{c} names Plan tasks but the framework names no plan (plan: <id>)",
                                  ctx.node(c, "grounding", "plan"))
                elif tasks is not None:
                    for t in ind.grounding.plan:
                        if t not in tasks:
                            yield Problem("ref.plan", f"{c} is grounded in {t!r}, which is not a task of {fw.plan}",
                                          ctx.node(c, "grounding", "plan"))
        steps = fw.step_numbers(c)
        seen: set[tuple[int, tuple[str, ...]]] = set()
        for j, m in enumerate(ind.mandatory):
            where = ctx.node(c, "mandatory", j)
            if m.level not in levels:
                yield Problem("ref.level", f"{c} is mandatory for level {m.level}, which is not declared "
                              f"(levels: {sorted(levels)})", where)
            if m.min_step not in steps:
                yield Problem("mandatory.step", f"{c}: mandatory step {m.min_step} is not one of its steps {steps}", where)
            elif m.min_step == steps[0]:
                yield Problem("mandatory.step", f"{c}: mandatory step {m.min_step} is its lowest step, so the "
                              "requirement is always met", where)
            for mid in m.models:
                if mid not in models:
                    yield Problem("ref.model", f"{c}: mandatory entry names model {mid!r}, which is not declared", where)
            key = (m.level, tuple(sorted(m.models)))
            if key in seen:
                yield Problem("mandatory.duplicate", f"{c} has two mandatory entries for level {m.level}", where)
            seen.add(key)


def _shape(ctx: _Ctx) -> Iterator[Problem]:
    kinds = {bool(c.elements) for c in ctx.fw.capabilities}
    if len(kinds) > 1:
        yield Problem("tree.shape", "either every capability holds elements or none does (the tree must have "
                      "the same depth everywhere)", ctx.at(("capabilities",)))


def _matrix_problems(ctx: _Ctx, where: dict[str, Any], node: str, labels: list[str], matrix: list[list[float]]
                     ) -> Iterator[Problem]:
    from ..methods.ahp import ahp

    n = len(labels)
    if len(matrix) != n or any(len(r) != n for r in matrix):
        shape = f"{len(matrix)}×{'/'.join(sorted({str(len(r)) for r in matrix})) or 0}"
        yield Problem("weights.size", f"judgement matrix of {node} is {shape} but it weighs {n} children "
                      f"({', '.join(labels)}), in that order", where)
        return
    if n == 1:
        return
    try:
        ahp(np.array(matrix, dtype=float), labels=labels, node=node)
    except FintechEvalError as exc:
        for p in exc.problems:
            extra = {k: v for k, v in p.where.items() if k in ("row", "column", "cr")}
            yield Problem(p.rule, p.message, {**where, **extra})


def _weights(ctx: _Ctx) -> Iterator[Problem]:
    """Framework-level weighting of every capability's and element's children."""
    for _, n in ctx.fw.walk():
        if isinstance(n, Indicator):
            continue
        kids: list[Any] = n.children if isinstance(n, Capability) else n.indicators
        labels = [k.code for k in kids]
        given = [k.weight is not None for k in kids]
        if n.judgements is not None and any(given):
            yield Problem("weights.both", f"{n.code} weighs its children by a judgement matrix and by child "
                          "weights: keep one", ctx.node(n.code, "judgements"))
            continue
        if any(given) and not all(given):
            missing = [k.code for k in kids if k.weight is None]
            yield Problem("weights.partial", f"children of {n.code} without a weight: {', '.join(missing)} "
                          "(give every child a weight, or none)", ctx.node(n.code))
        if n.judgements is not None:
            yield from _matrix_problems(ctx, ctx.node(n.code, "judgements"), n.code, labels, n.judgements)


def _models(ctx: _Ctx) -> Iterator[Problem]:
    fw = ctx.fw
    caps = {c.code for c in fw.capabilities}
    levels = fw.level_numbers()
    for i, m in enumerate(fw.models):
        bad = [c for c in m.capabilities if c not in caps]
        for c in bad:
            yield Problem("ref.capability", f"model {m.id} uses capability {c!r}, which is not declared "
                          f"(capabilities: {', '.join(c.code for c in fw.capabilities)})", ctx.model(i, "capabilities"))
        for d in _dups(list(m.capabilities)):
            yield Problem("ref.capability", f"model {m.id} lists capability {d} twice", ctx.model(i, "capabilities"))
        if bad:
            continue
        for code in m.include:
            try:
                path = fw.path_of(code)
            except KeyError:
                yield Problem("ref.include", f"model {m.id} includes {code!r}, which is not a node of the framework",
                              ctx.model(i, "include"))
                continue
            if not path:
                yield Problem("ref.include", f"model {m.id}: {code} is a capability; list capabilities under "
                              "'capabilities', elements or indicators under 'include'", ctx.model(i, "include"))
            elif path[0] not in m.capabilities:
                yield Problem("ref.include", f"model {m.id} includes {code}, but its capability {path[0]} is not "
                              "among the model's capabilities", ctx.model(i, "include"))
        if m.judgements is not None and m.weights is not None:
            yield Problem("weights.both", f"model {m.id} weighs its capabilities by a judgement matrix and by "
                          "weights: keep one", ctx.model(i, "judgements"))
        if m.weights is not None:
            if sorted(m.weights) != sorted(m.capabilities):
                yield Problem("weights.keys", f"model {m.id}: weights must be given for exactly its capabilities "
                              f"{m.capabilities}, got {sorted(m.weights)}", ctx.model(i, "weights"))
            elif any(not (v > 0 and np.isfinite(v)) for v in m.weights.values()):
                yield Problem("weights.positive", f"model {m.id}: weights must be positive numbers",
                              ctx.model(i, "weights"))
        if m.judgements is not None:
            yield from _matrix_problems(ctx, ctx.model(i, "judgements"), m.id, list(m.capabilities), m.judgements)
        for node, matrix in m.overrides.items():
            where = ctx.model(i, "overrides", node)
            try:
                n = fw.node(node)
            except KeyError:
                yield Problem("ref.override", f"model {m.id} overrides the matrix of {node!r}, which is not a node",
                              where)
                continue
            if isinstance(n, Indicator):
                yield Problem("ref.override", f"model {m.id}: {node} is an indicator and has no children to weigh",
                              where)
                continue
            path = fw.path_of(node)
            cap = path[0] if path else node
            if cap not in m.capabilities:
                yield Problem("ref.override", f"model {m.id} overrides {node}, which the model does not use", where)
                continue
            used = _included(fw, m)
            kids = [k.code for k in (n.children if isinstance(n, Capability) else n.indicators) if k.code in used]
            yield from _matrix_problems(ctx, where, node, kids, matrix)
        # the level rule
        bands = m.rule.bands
        if bands:
            if sorted(bands) != levels:
                yield Problem("rule.bands", f"model {m.id}: score bands must be given for exactly the levels "
                              f"{levels}, got {sorted(bands)}", ctx.model(i, "rule", "bands"))
            else:
                bounds = [float(bands[lv]) for lv in levels]
                if any(not (0 <= b <= 100) for b in bounds):
                    yield Problem("rule.bands", f"model {m.id}: band lower bounds must lie within 0-100, got {bounds}",
                                  ctx.model(i, "rule", "bands"))
                if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False)):
                    yield Problem("rule.bands", f"model {m.id}: band lower bounds must increase strictly with the "
                                  f"level, got {bounds}", ctx.model(i, "rule", "bands"))
        if not bands and m.rule.staged:
            named = any(m.id in md.models or not md.models for ind in fw.indicators() for md in ind.mandatory)
            if not named:
                yield Problem("rule.staged", f"model {m.id} rates by staged requirements only, but no indicator "
                              "has a mandatory entry", ctx.model(i, "rule"))


def _compiled(ctx: _Ctx) -> Iterator[Problem]:
    """Compile every model (the AHP on the sub-matrices it uses) and check it has indicators."""
    for i, m in enumerate(ctx.fw.models):
        try:
            tree = ctx.fw.compile(m.id)
        except (DataError, FintechEvalError) as exc:
            for p in exc.problems:
                yield Problem(p.rule, f"model {m.id}: {p.message}", ctx.model(i, **{k: v for k, v in p.where.items()
                                                                                  if k in ("cr",)}))
            continue
        if not tree.indicators:
            yield Problem("model.empty", f"model {m.id} uses no indicator", ctx.model(i))
        if m.rule.staged and not m.rule.bands and not ctx.fw.requirements(m.id):
            yield Problem("rule.staged", f"model {m.id} rates by staged requirements only, but none of its "
                          "indicators is mandatory", ctx.model(i, "rule"))


__all__ = [
    "DEFAULT_FRAMEWORK",
    "load_capability_framework",
    "load_file",
    "shipped_files",
    "validate_file",
]
