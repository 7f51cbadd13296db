"""Correcting one stored observation, with a reason: every changed field is audited, so
:func:`~.audit.history` shows the value's whole life."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import DataError
from .audit import _write_audit
from .checks import _Problems
from .db import begin_write
from .keys import ObsKey, _enc, _py, row_key
from .models import OBSERVATION_STATUSES, Observation, ObservedEntity, ObservedVariable, utcnow

__all__ = ["correct_value"]


_KEEP: Any = object()


def correct_value(
    session: Session,
    key: ObsKey | Sequence[str],
    new_value: float | None,
    *,
    who: str,
    why: str,
    unit: str | None = _KEEP,
    value_norm: float | None = None,
    unit_norm: str | None = None,
    status: str | None = None,
    flag_reason: str | None = _KEEP,
) -> list[str]:
    """Correct one stored value, with a reason. Every changed field gets an :class:`AuditEntry`
    (``who``, UTC time, ``why``), so :func:`history` shows the value's whole life. Returns the
    changed field names (empty if nothing changed).

    ``new_value`` is in ``unit`` (default: the row's unit as received). If the row's value had been
    converted (a normalised unit other than that unit), give ``value_norm`` and ``unit_norm`` too."""
    k = ObsKey(*key)
    if not why or not str(why).strip():
        raise DataError("a correction needs a reason", rule="store.correction_reason")
    p = _Problems()
    nv = _py(new_value)
    if nv is not None:
        try:
            nv = float(nv)
        except (TypeError, ValueError):
            p.add("store.not_a_number", f"value {new_value!r} is not a number", column="value")
        else:
            if not math.isfinite(nv):
                p.add("store.not_finite", "value is not finite", column="value")
    if status is not None and status not in OBSERVATION_STATUSES:
        p.add("store.status", f"status {status!r} is not one of {', '.join(OBSERVATION_STATUSES)}")
    p.raise_if_any()
    begin_write(session)
    t, et, vt = Observation.__table__, ObservedEntity.__table__, ObservedVariable.__table__
    row = session.execute(
        select(t)
        .join(et, et.c.id == t.c.entity_ref)
        .join(vt, vt.c.id == t.c.variable_ref)
        .where(
            et.c.entity_kind == k.entity_kind, et.c.entity_id == k.entity_id, vt.c.name == k.variable,
            t.c.period == k.period,
        )
        .with_for_update(of=t)
    ).first()
    if row is None:
        raise DataError(
            f"no stored value for {'/'.join(k)}: import it, corrections change stored values",
            rule="store.unknown_key", **k._asdict(),
        )  # fmt: skip
    old = row._mapping
    new_unit = old["unit"] if unit is _KEEP else unit
    old_vn = old["value"] if old["value_norm"] is None else old["value_norm"]
    old_un = old["unit"] if old["unit_norm"] is None else old["unit_norm"]
    if value_norm is None and unit_norm is None:
        if nv is not None and old["unit_norm"] is not None and old_un != new_unit:
            raise DataError(
                f"the stored value of {'/'.join(k)} was converted from {old['unit']} to {old_un}: "
                f"give value_norm and unit_norm with the correction",
                rule="store.correction_unit", **k._asdict(),
            )  # fmt: skip
        vn_eff, un_eff = nv, new_unit
    else:
        vn_eff = _py(value_norm) if value_norm is not None else nv
        un_eff = unit_norm if unit_norm is not None else new_unit
        if nv is None:
            vn_eff = None
    same = (vn_eff == nv) and (un_eff == new_unit)
    new = {
        "value": nv,
        "unit": new_unit,
        "value_norm": None if same else vn_eff,
        "unit_norm": None if same else un_eff,
        "status": old["status"] if status is None else status,
        "flag_reason": old["flag_reason"] if flag_reason is _KEEP else flag_reason,
    }
    effective_old = {**dict(old), "value_norm": old_vn, "unit_norm": old_un}
    effective_new = {**new, "value_norm": vn_eff, "unit_norm": un_eff}
    mirrored = old_vn == old["value"] and old_un == old["unit"] and vn_eff == nv and un_eff == new_unit
    changed = [
        f
        for f in new
        if effective_old[f] != effective_new[f] and not (mirrored and f in ("value_norm", "unit_norm"))
    ]
    if not changed:
        return []
    session.execute(
        update(t)
        .where(t.c.entity_ref == old["entity_ref"], t.c.period == old["period"], t.c.variable_ref == old["variable_ref"])
        .values(**new)
    )
    at = utcnow()
    key_s = row_key(*k)
    _write_audit(
        session,
        [
            {"table": "observation", "key": key_s, "field": f, "old": _enc(effective_old[f]),
             "new": _enc(effective_new[f]), "who": who, "at": at, "why": why, "submission_id": None}
            for f in changed
        ],
    )  # fmt: skip
    return changed
