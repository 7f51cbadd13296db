"""What a questionnaire form needs beyond :func:`fintech_eval.app.submissions.return_form`: the values exactly as
they were last typed (with the unit chosen per money field), and the questionnaire workbook of
``fintech-eval template`` prefilled with them, so that a submitter can move between the browser and Excel.

Values are never converted here: a form sends what was typed with its unit, and the import's readers convert
it (万元 / 亿元 / 元 exactly as for any import) when :func:`~fintech_eval.app.submissions.submit` validates it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..collect.template import YES_NO, fill_template
from ..errors import DataError
from . import submissions as sub
from .templates import entity_template
from .workspace import Workspace


def typed_values(ws: Workspace, return_id: int, version: int | None = None) -> dict[str, dict[str, Any]]:
    """Per variable, ``{"raw", "unit"}`` as the version (default: the newest, a draft included) was sent: a
    form's JSON as typed (a value the reader refused is still there, with its unit); a workbook or CSV as the
    readers read it."""
    payload, media_type, _name = sub.return_payload(ws, return_id, version)
    if media_type == sub.MEDIA_TYPES["json"]:
        try:
            doc = json.loads(payload.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            doc = None
        values = doc.get("values", doc) if isinstance(doc, dict) else None
        if isinstance(values, dict) and all(isinstance(k, str) for k in values):
            out = {}
            for k, v in values.items():
                raw, unit = (v.get("value"), v.get("unit")) if isinstance(v, dict) else (v, None)
                out[k] = {"raw": None if raw is None else str(raw), "unit": unit if isinstance(unit, str) else None}
            return out
    detail = sub.return_detail(ws, return_id, version=version or _newest(ws, return_id))
    return {str(f["variable"]): {"raw": None if f["raw"] is None else str(f["raw"]),
                                 "unit": f["unit"] if isinstance(f["unit"], str) else None}
            for f in detail.fields.to_dict("records")}


def _newest(ws: Workspace, return_id: int) -> int:
    row = sub.returns_list(ws, ids=[return_id])
    if row.empty:
        raise DataError(f"no return {return_id}", rule="review.unknown", **{"return": return_id}, zh=f"报表 {return_id} 不存在")
    return int(row["version"].iloc[0])


def _workbook_value(f: Mapping[str, Any], var_type: str) -> Any:
    """A field as the workbook's value cell holds it: the value in the variable's own unit (a 亿元 entry
    becomes 万元 as the import converted it), 是 yes / 否 no for yes/no, else the text as typed."""
    value = f.get("value_norm") if f.get("status") != "error" else None
    if value is None or value != value:
        return f.get("raw")
    if var_type == "binary" and value in (0, 1):
        return YES_NO[0] if value == 1 else YES_NO[1]
    return value


def prefilled_workbook(ws: Workspace, entity: str, campaign_id: int, return_id: int | None = None) -> tuple[bytes, str]:
    """The questionnaire workbook of ``entity`` for the campaign (the file ``fintech-eval campaign templates``
    writes: same variables, validation, checksum), with the newest version's values filled in; ``(bytes,
    file name)``. Filled in, uploaded or imported, it reads back as the same return."""
    from .campaigns import resolve_campaign

    fw = ws.framework(resolve_campaign(ws, campaign_id).framework)
    types = {v.name: v.type for v in fw.variables}
    values: dict[str, Any] = {}
    if return_id is not None:
        detail = sub.return_detail(ws, return_id, version=_newest(ws, return_id))
        values = {str(f["variable"]): _workbook_value(f, types.get(str(f["variable"]), ""))
                  for f in detail.fields.to_dict("records") if str(f["variable"]) in types}
    with tempfile.TemporaryDirectory(prefix="fe-form-") as tmp:
        path = entity_template(ws, entity, campaign_id, out=tmp)
        asked = _asked(path)
        fill_template(path, {k: v for k, v in values.items() if k in asked})
        return path.read_bytes(), path.name


def _asked(path: Path) -> set[str]:
    from openpyxl import load_workbook

    from ..collect.template import META_SHEET

    wb = load_workbook(path, read_only=True)
    try:
        meta = {str(r[0]): r[1] for r in wb[META_SHEET].iter_rows(values_only=True) if r[0] is not None}
    finally:
        wb.close()
    return set(str(meta["variables"]).split(","))
