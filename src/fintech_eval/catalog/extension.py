"""Extensions: a user YAML that adds indicators to a shipped framework or overrides its metadata.

    extends: jrt0201-2020
    id: myorg-q-2024            # recorded in results (Framework.extensions)
    namespace: myorg            # every added code is "myorg:<code>", never an official code
    variables: [...]            # new raw variables
    parameters: [...]           # new parameters
    constraints: [...]          # new parameter constraints ({name, parameters, sum})
    add:
      - parent: Q-A2B1          # an existing heading
        indicators: [...]       # new indicators
        children: [...]         # or new headings
    override:
      - code: J-A3B1-C1
        set: {notes: [...], definition: {...}}

The result is validated exactly like a framework file.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import FrameworkError, Problem
from .models import Framework, Heading, Indicator, Parameter, ParameterSum, Variable

_OVERRIDABLE = {
    "name", "definition", "unit", "type", "direction", "collection", "sectors", "formula", "variants",
    "rollup", "range", "notes", "description", "clause", "table", "complete",
}


class Addition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    parent: str
    indicators: list[Indicator] = []
    children: list[Heading] = []


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    set: dict[str, Any] = Field(min_length=1)


class Extension(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    extends: str
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    namespace: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: dict[str, str] = {}
    variables: list[Variable] = []
    parameters: list[Parameter] = []
    constraints: list[ParameterSum] = []
    add: list[Addition] = []
    override: list[Override] = []


def _codes(h: Heading | Indicator) -> list[str]:
    if isinstance(h, Indicator):
        return [h.code]
    return [h.code, *[c for x in h.children for c in _codes(x)], *[i.code for i in h.indicators]]


def apply_extension(base: Framework, ext: Extension, *, file: str, code_lines: dict[str, int]) -> Framework:
    """Merge ``ext`` into ``base`` at the data level and re-validate the whole framework."""
    problems: list[Problem] = []
    if ext.extends != base.id:
        problems.append(Problem("extension.extends", f"extends {ext.extends!r} but was applied to {base.id!r}", {"file": file}))
    doc = base.model_dump(mode="python")
    index: dict[str, dict[str, Any]] = {}

    def rec(node: dict[str, Any]):
        index[node["code"]] = node
        for c in node.get("children", []):
            rec(c)
        for i in node.get("indicators", []):
            index[i["code"]] = i

    for b in doc["blocks"]:
        rec(b)

    prefix = ext.namespace + ":"
    for add in ext.add:
        where = {"file": file, "line": code_lines.get(add.parent), "path": add.parent}
        parent = index.get(add.parent)
        if parent is None or "indicators" not in parent:
            problems.append(Problem("extension.parent", f"parent {add.parent!r} is not a heading of {base.id}", where))
            continue
        for new in [*add.indicators, *add.children]:
            for code in _codes(new):
                if not code.startswith(prefix):
                    problems.append(
                        Problem(
                            "extension.namespace",
                            f"added code {code!r} must start with the extension's namespace {prefix!r} "
                            "(official codes are never invented)",
                            {"file": file, "line": code_lines.get(code), "path": code},
                        )
                    )
        parent["indicators"] = [*parent["indicators"], *[i.model_dump(mode="python") for i in add.indicators]]
        parent["children"] = [*parent["children"], *[c.model_dump(mode="python") for c in add.children]]

    for ov in ext.override:
        where = {"file": file, "line": code_lines.get(ov.code), "path": ov.code}
        node = index.get(ov.code)
        if node is None:
            problems.append(Problem("extension.override", f"override of unknown code {ov.code!r}", where))
            continue
        bad = sorted(set(ov.set) - _OVERRIDABLE)
        if bad:
            problems.append(Problem("extension.override", f"cannot override field(s) {', '.join(bad)} of {ov.code}", where))
            continue
        node.update(ov.set)

    doc["variables"] = [*doc["variables"], *[v.model_dump(mode="python") for v in ext.variables]]
    doc["parameters"] = [*doc["parameters"], *[p.model_dump(mode="python") for p in ext.parameters]]
    doc["constraints"] = [*doc.get("constraints", []), *[c.model_dump(mode="python") for c in ext.constraints]]
    doc["extensions"] = [*doc.get("extensions", []), ext.id]
    if problems:
        raise FrameworkError(problems)
    try:
        return Framework.model_validate(doc)
    except Exception as exc:  # pydantic ValidationError from an override
        raise FrameworkError(f"after applying the extension: {exc}", rule="extension.invalid", file=file) from None
