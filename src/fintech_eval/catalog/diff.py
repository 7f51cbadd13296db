"""Compare two versions of a framework (§5, the revision mechanism): added, removed, changed — field by field."""

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
    return out


def diff_frameworks(a: Framework, b: Framework) -> list[dict[str, Any]]:
    """Rows ``{change: added|removed|changed, code, field, old, new}`` in code order."""
    na, nb = _nodes(a), _nodes(b)
    rows: list[dict[str, Any]] = []
    for code in sorted(set(na) | set(nb)):
        if code not in na:
            rows.append({"change": "added", "code": code, "field": None, "old": None, "new": nb[code]["name"]})
        elif code not in nb:
            rows.append({"change": "removed", "code": code, "field": None, "old": na[code]["name"], "new": None})
        else:
            for field in sorted(set(na[code]) | set(nb[code])):
                old, new = na[code].get(field), nb[code].get(field)
                if old != new:
                    rows.append({"change": "changed", "code": code, "field": field, "old": old, "new": new})
    return rows
