"""Compare two versions of a framework (§5, the revision mechanism): added, removed, changed — field by field.

Indicators and plan tasks are named by their code; the raw variables, parameters and parameter
constraints a revision may also change by ``variable:NAME``, ``parameter:NAME`` and ``constraint:NAME``."""

from __future__ import annotations

from typing import Any

from .models import Framework, Indicator, Task


def _nodes(fw: Framework) -> dict[str, dict[str, Any]]:
    out = {}
    for path, n in fw.walk():
        if isinstance(n, Indicator | Task):
            d = n.model_dump(mode="json")
            d["path"] = list(path)
            out[n.code] = d
    for kind, items in (("variable", fw.variables), ("parameter", fw.parameters), ("constraint", fw.constraints)):
        for item in items:
            out[f"{kind}:{item.name}"] = item.model_dump(mode="json")
    return out


def diff_frameworks(a: Framework, b: Framework) -> list[dict[str, Any]]:
    """Rows ``{change: added|removed|changed, code, field, old, new}`` in code order."""
    na, nb = _nodes(a), _nodes(b)
    rows: list[dict[str, Any]] = []
    for code in sorted(set(na) | set(nb)):
        if code not in na:
            rows.append({"change": "added", "code": code, "field": None, "old": None, "new": _label(nb[code])})
        elif code not in nb:
            rows.append({"change": "removed", "code": code, "field": None, "old": _label(na[code]), "new": None})
        else:
            for field in sorted(set(na[code]) | set(nb[code])):
                old, new = na[code].get(field), nb[code].get(field)
                if old != new:
                    rows.append({"change": "changed", "code": code, "field": field, "old": old, "new": new})
    return rows


def _label(node: dict[str, Any]) -> Any:
    """What an added or removed row shows: an indicator's or task's name, else the item's own name."""
    return node["name"]
