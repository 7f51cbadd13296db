"""Cross-reference checks on a framework, beyond what the schema can say.

Each check is a function ``(framework, ctx) -> Iterator[Problem]`` registered in ``CHECKS``; the loader
runs them all and raises one :class:`FrameworkError` listing every problem, each with file, line, node
path and rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import FormulaError, Problem
from . import formula as fml
from .models import SUM_TOLERANCE, Framework, Indicator, Task, Variable


@dataclass
class Context:
    """Where the framework came from, to place problems; and what other frameworks it may link to."""

    file: str = ""
    code_lines: dict[str, int] = field(default_factory=dict)  # node code → line
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)  # data path → line (yamlsource.LineMap)
    code_files: dict[str, str] = field(default_factory=dict)  # node code → file (extensions)
    resolve: Callable[[str], Framework] | None = None  # load a linked framework by id

    def where(self, fw: Framework, code: str | None, **extra: Any) -> dict[str, Any]:
        w: dict[str, Any] = {"file": self.code_files.get(code or "", self.file)}
        if code is not None:
            w["line"] = self.code_lines.get(code)
            try:
                w["path"] = " > ".join((*fw.path_of(code), code))
            except KeyError:
                w["path"] = code
        w.update(extra)
        return w

    def at(self, *path: Any, **extra: Any) -> dict[str, Any]:
        """The place of a top-level entry by its data path, e.g. ``at("variables", 3, variable="x")``."""
        return {"file": self.file, "line": self.lines.get(path), **extra}


CHECKS: list[Callable[[Framework, Context], Iterator[Problem]]] = []


def check(fn: Callable[[Framework, Context], Iterator[Problem]]):
    CHECKS.append(fn)
    return fn


def run_checks(fw: Framework, ctx: Context) -> list[Problem]:
    return [p for fn in CHECKS for p in fn(fw, ctx)]


# --- codes ---------------------------------------------------------------------------------------------

_NS = r"(?:(?P<ns>[a-z][a-z0-9_-]*):)?"
_JRT_LEVEL = [
    re.compile(_NS + r"(?P<c>[JHQ])$"),
    re.compile(_NS + r"(?P<c>[JHQ]-A\d+)$"),
    re.compile(_NS + r"(?P<c>[JHQ]-A\d+B\d+)$"),
    re.compile(_NS + r"(?P<c>[JHQ]-A\d+B\d+-C\d+)$"),
]
_PLAN_LEVEL = [re.compile(r"(?P<c>PLAN-A\d+)$"), re.compile(r"(?P<c>PLAN-T\d{2})$")]
_LEVEL_NAMES = ["block", "level-1 item (A)", "level-2 item (B)", "indicator (C)"]


def _bare(code: str) -> str:
    return code.split(":", 1)[1] if ":" in code else code


@check
def unique_codes(fw: Framework, ctx: Context) -> Iterator[Problem]:
    seen: set[str] = set()
    for _, n in fw.walk():
        if n.code in seen:
            yield Problem("code.duplicate", f"code {n.code} is used twice", ctx.where(fw, n.code))
        seen.add(n.code)


@check
def code_scheme(fw: Framework, ctx: Context) -> Iterator[Problem]:
    """§6 of JR/T 0201: block letter, -A<n>, B<n>, -C<n>, each code extending its parent's."""
    if fw.code_scheme == "free":
        return
    for path, n in fw.walk():
        depth = len(path)
        if fw.code_scheme == "plan":
            expect_task = isinstance(n, Task)
            pat = _PLAN_LEVEL[1] if expect_task else _PLAN_LEVEL[0]
            if depth != (1 if expect_task else 0) or not pat.match(n.code):
                yield Problem(
                    "code.scheme",
                    f"{n.code!r}: a plan has areas PLAN-A<n> at the top and tasks PLAN-T<nn> directly in them",
                    ctx.where(fw, n.code),
                )
            continue
        if depth >= len(_JRT_LEVEL):
            yield Problem("code.depth", f"{n.code} is nested deeper than block > A > B > C", ctx.where(fw, n.code))
            continue
        m = _JRT_LEVEL[depth].match(n.code)
        if not m:
            yield Problem(
                "code.scheme",
                f"code {n.code!r} is not a valid {_LEVEL_NAMES[depth]} code under §6 "
                f"(e.g. {['J', 'J-A3', 'J-A3B2', 'J-A3B2-C6'][depth]})",
                ctx.where(fw, n.code),
            )
            continue
        if isinstance(n, Indicator) != (depth == 3):
            yield Problem(
                "code.level",
                f"{n.code}: indicators sit at level C, under a level-2 (B) heading",
                ctx.where(fw, n.code),
            )
        if path:
            parent = _bare(path[-1])
            mine = m.group("c")
            if not mine.startswith(parent):
                yield Problem(
                    "code.nesting",
                    f"code {n.code} does not extend its parent's code {path[-1]}",
                    ctx.where(fw, n.code),
                )


# --- formulas ------------------------------------------------------------------------------------------


def _names_for(fw: Framework, entity: str) -> set[str]:
    return {v.name for v in fw.variables if v.entity == entity} | {p.name for p in fw.parameters}


def _entity_of(fw: Framework, code: str) -> str:
    return fw.block_of(code).entity or "institution"


@check
def formulas(fw: Framework, ctx: Context) -> Iterator[Problem]:
    """Every formula parses and reads only declared variables (of the block's entity) and parameters."""
    for _, n in fw.walk():
        if not isinstance(n, Indicator):
            continue
        ent = _entity_of(fw, n.code)
        texts: list[tuple[str, str, str]] = []  # (field, text, entity)
        if n.formula is not None:
            texts.append(("formula", n.formula, ent))
        for i, v in enumerate(n.variants):
            texts.append((f"variants[{i}].formula ({'/'.join(v.sectors)})", v.formula, ent))
        if n.rollup is not None:
            for f in ("numerator", "denominator", "condition"):
                t = getattr(n.rollup, f)
                if t is not None:
                    texts.append((f"rollup.{f}", t, "institution"))
            if n.rollup.reported is not None:
                texts.append(("rollup.reported", n.rollup.reported, ent))
        for fname, text, scope in texts:
            try:
                fml.parse(text, known=_names_for(fw, scope))
            except FormulaError as exc:
                msg = exc.problems[0].message
                yield Problem("formula.invalid", msg, ctx.where(fw, n.code, field=fname, indicator=n.code))


@check
def rollups(fw: Framework, ctx: Context) -> Iterator[Problem]:
    """A roll-up's ``of`` names an institution indicator (or variable) of this framework."""
    inst = {i.code for i in fw.indicators() if _entity_of(fw, i.code) == "institution"}
    inst_vars = {v.name for v in fw.variables if v.entity == "institution"}
    for _, n in fw.walk():
        if isinstance(n, Indicator) and n.rollup is not None and n.rollup.of is not None:
            if n.rollup.of not in inst | inst_vars:
                yield Problem(
                    "rollup.unknown",
                    f"roll-up of {n.rollup.of!r}: no institution indicator or variable has that name",
                    ctx.where(fw, n.code, indicator=n.code),
                )
            if _entity_of(fw, n.code) == "institution":
                yield Problem(
                    "rollup.block",
                    "an institution indicator cannot be a roll-up; use a formula",
                    ctx.where(fw, n.code, indicator=n.code),
                )


@check
def variables(fw: Framework, ctx: Context) -> Iterator[Problem]:
    names = [v.name for v in fw.variables]
    params = {p.name for p in fw.parameters}
    for v in fw.variables:
        if names.count(v.name) > 1:
            yield Problem("variable.duplicate", f"variable {v.name} is declared twice", {"file": ctx.file, "variable": v.name})
        if v.name in params:
            yield Problem("variable.shadow", f"variable {v.name} has the name of a parameter", {"file": ctx.file, "variable": v.name})
        if v.part_of is not None and v.part_of not in names:
            yield Problem(
                "variable.part_of",
                f"variable {v.name} is part of {v.part_of!r}, which is not declared",
                {"file": ctx.file, "variable": v.name},
            )
        if v.carry_over_of is not None or v.name.endswith(_PREV_END):
            yield from _carry_over(fw, v, ctx.at("variables", names.index(v.name), variable=v.name))
        if v.min is not None and v.max is not None and v.min > v.max:
            yield Problem("variable.range", f"variable {v.name}: min {v.min} > max {v.max}", {"file": ctx.file, "variable": v.name})
    pnames = [p.name for p in fw.parameters]
    for p in sorted({p for p in pnames if pnames.count(p) > 1}):
        yield Problem("parameter.duplicate", f"parameter {p} is declared twice", {"file": ctx.file, "parameter": p})


@check
def parameter_sums(fw: Framework, ctx: Context) -> Iterator[Problem]:
    """A ``constraints`` entry names declared parameters, each once, whose defaults sum to its ``sum`` and
    whose declared ranges can reach it."""
    declared = {p.name: p for p in fw.parameters}
    for i, c in enumerate(fw.constraints):
        where = ctx.at("constraints", i, constraint=c.name)
        unknown = [n for n in c.parameters if n not in declared]
        for n in unknown:
            yield Problem(
                "parameter.sum",
                f"constraint {c.name} names parameter {n}, which is not declared "
                f"(declared: {', '.join(declared) or 'none'})",
                {**where, "parameter": n},
            )
        twice = sorted({n for n in c.parameters if c.parameters.count(n) > 1})
        if twice:
            yield Problem("parameter.sum", f"constraint {c.name} names {', '.join(twice)} more than once", {**where, "parameter": ", ".join(twice)})
        if unknown or twice:
            continue
        ps = [declared[n] for n in c.parameters]
        names = ", ".join(c.parameters)
        total = sum(p.default for p in ps)
        if abs(total - c.sum) > SUM_TOLERANCE:
            yield Problem(
                "parameter.sum",
                f"defaults of {' + '.join(c.parameters)} must sum to {c.sum:g} (constraint {c.name}), got "
                f"{' + '.join(f'{p.default:g}' for p in ps)} = {total:g}",
                {**where, "parameter": names},
            )
        lo = sum(p.min for p in ps) if all(p.min is not None for p in ps) else None
        hi = sum(p.max for p in ps) if all(p.max is not None for p in ps) else None
        if (lo is not None and lo > c.sum + SUM_TOLERANCE) or (hi is not None and hi < c.sum - SUM_TOLERANCE):
            yield Problem(
                "parameter.sum",
                f"{' + '.join(c.parameters)} cannot reach {c.sum:g} within the declared ranges "
                f"({f'at least {lo:g}' if lo is not None and lo > c.sum else f'at most {hi:g}'})",
                {**where, "parameter": names},
            )


_PREV_END = "_prev_end"


def _carry_over(fw: Framework, v: Variable, where: dict[str, Any]) -> Iterator[Problem]:
    """``carry_over_of`` names another declared variable of the same unit, type and entity; a variable named
    ``X_prev_end`` next to a declared ``X`` must say so (the name alone does not link them)."""
    if v.carry_over_of is None:
        whole = v.name[: -len(_PREV_END)]
        if any(w.name == whole for w in fw.variables):
            yield Problem(
                "variable.carry_over_of",
                f"variable {v.name} looks like last period's {whole}: declare it (carry_over_of: {whole}) "
                f"so that returns are checked against the stored {whole}, or rename it",
                where,
            )
        return
    if v.carry_over_of == v.name:
        yield Problem("variable.carry_over_of", f"variable {v.name} cannot carry over itself", where)
        return
    target = next((w for w in fw.variables if w.name == v.carry_over_of), None)
    if target is None:
        yield Problem(
            "variable.carry_over_of",
            f"variable {v.name} carries over {v.carry_over_of!r}, which is not declared",
            where,
        )
        return
    differ = [f for f in ("unit", "type", "entity") if getattr(v, f) != getattr(target, f)]
    if differ:
        mine = ", ".join(f"{f} {getattr(v, f)}" for f in differ)
        theirs = ", ".join(f"{f} {getattr(target, f)}" for f in differ)
        yield Problem(
            "variable.carry_over_of",
            f"variable {v.name} carries over {target.name}, so it must match it: it has {mine} but {target.name} has {theirs}",
            where,
        )


@check
def completeness(fw: Framework, ctx: Context) -> Iterator[Problem]:
    """An incomplete indicator lives only in a block marked incomplete, so the gap is visible."""
    for _, n in fw.walk():
        if isinstance(n, Indicator) and not n.complete and fw.block_of(n.code).complete:
            yield Problem(
                "complete.block",
                f"{n.code} is marked incomplete but its block {fw.block_of(n.code).code} is marked complete",
                ctx.where(fw, n.code),
            )


@check
def block_entities(fw: Framework, ctx: Context) -> Iterator[Problem]:
    if fw.kind != "indicators":
        return
    for b in fw.blocks:
        if b.entity is None:
            yield Problem("block.entity", f"block {b.code} must say its entity (institution, industry, region)", ctx.where(fw, b.code))


@check
def plan_links(fw: Framework, ctx: Context) -> Iterator[Problem]:
    """Every task of a plan links only to indicators of the framework named by ``measured_by``."""
    if fw.kind != "plan":
        if fw.tasks():
            yield Problem("plan.kind", "tasks are allowed only in a framework of kind 'plan'", {"file": ctx.file})
        return
    if not fw.measured_by:
        yield Problem("plan.measured_by", "a plan must name the framework its tasks link to (measured_by)", {"file": ctx.file})
        return
    if ctx.resolve is None:
        return
    try:
        target = ctx.resolve(fw.measured_by)
    except Exception as exc:  # noqa: BLE001 - reported as a problem of this file
        yield Problem("plan.measured_by", f"cannot load {fw.measured_by!r}: {exc}", {"file": ctx.file})
        return
    codes = {i.code for i in target.indicators()}
    numbers: list[int] = []
    for t in fw.tasks():
        numbers.append(t.number)
        for link in t.indicators:
            if link.code not in codes:
                yield Problem(
                    "plan.link",
                    f"task {t.code} links to {link.code}, which is not a complete indicator of {fw.measured_by}",
                    ctx.where(fw, t.code),
                )
    for t in fw.tasks():
        if t.code[-2:].isdigit() and int(t.code[-2:]) != t.number:
            yield Problem("plan.number", f"task {t.code} has number {t.number}", ctx.where(fw, t.code))
    if numbers != list(range(1, len(numbers) + 1)):
        yield Problem("plan.number", f"tasks must be numbered 1..{len(numbers)} in order, got {numbers}", {"file": ctx.file})
