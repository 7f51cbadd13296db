"""The derived panel: J, H and Q values in one long frame, and its wide form for the composite engine.

    panel = derive_all(obs, institutions, fw)                  # long: block, entity_id, period, code, …
    data, na = to_engine_panel(panel, "J")                     # wide, (entity_id, period) × codes
    data, na = to_engine_panel(panel, "J", period=2024)        # one period: entity_id × codes

``data`` holds the values the engine aggregates: ``ok`` and (by default) ``flagged`` values — a flagged
value is an out-of-range value kept for review, never dropped — and NaN for ``missing``,
``undefined`` and ``not_applicable``. ``na`` is the matching boolean mask, True where the indicator
does not apply to the entity (e.g. a bank-only indicator for an insurer), to pass to the engine's
``aggregate(..., not_applicable=na)`` so that such cells are left out rather than treated as missing.

Caution for cross-sector J panels: J-A3B2-C6 (processing time) is in hours for banks and insurers but
in milliseconds for securities firms (the standard's three definitions), so its column mixes units;
normalise it within sector (or evaluate one sector at a time) before comparing institutions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..catalog.models import Framework
from ..errors import DataError
from .institutions import (
    FLAGGED,
    NOT_APPLICABLE,
    OK,
    STATUSES,
    _encode,
    as_framework,
    assemble,
    check_columns,
    evaluate_institutions,
    framework_version,
    institution_sectors,
    pivot_observations,
    resolve_params,
)
from .rollup import _derive_block

PANEL_COLUMNS = ["block", "entity_id", "period", "code", "value", "status", "reason"]


class EnginePanel(NamedTuple):
    """A wide frame of indicator values and its not-applicable mask (same index and columns)."""

    data: pd.DataFrame
    not_applicable: pd.DataFrame


def derive_all(
    obs: pd.DataFrame,
    institutions: pd.DataFrame,
    framework: Framework | str,
    params: Mapping[str, Any] | None = None,
    *,
    population: Sequence[str] | None = None,
) -> pd.DataFrame:
    """J, H and Q values in one long panel: ``block, entity_id, period, code, value, status, reason``.

    ``block`` is J / H / Q; ``entity_id`` is the institution id (J), the industry (H: bank,
    securities, insurance, payment) or the region code (Q), as strings; ``block``, ``code``,
    ``status`` and ``reason`` are categorical (few distinct values over many rows). The institution
    observations are pivoted and evaluated once for all three blocks. See
    :func:`~fintech_eval.derive.derive_institutions`, :func:`~fintech_eval.derive.derive_industry`
    and :func:`~fintech_eval.derive.derive_regions` for the rules; the full provenance columns
    (``inputs``, ``formula``, ``framework_version``, ``n_institutions``) are in their results.
    ``population``: the ids of the institutions in the round (a campaign's sample), the denominator of the
    H shares (H-A2B2-C1, H-A4B2-C2), with any institution that reported from outside it; ``()``: none beyond
    those that reported in each period; default (None) every institution of ``institutions``.
    """
    fw = as_framework(framework)
    p = resolve_params(fw, params)
    wide = pivot_observations(obs, "institution")  # pivoted and evaluated once, shared by J, H and Q
    shared = None
    parts: list[tuple[str, pd.DataFrame]] = []
    if wide.n:
        table = institution_sectors(institutions, wide.entities)
        res = evaluate_institutions(wide, table, fw, p)
        parts.append(("J", assemble(res, wide, framework_version(fw), columns=PANEL_COLUMNS[1:])))
        shared = (wide, table, res)
    parts.append(("H", _derive_block("H", obs, fw, p, institutions, None, shared=shared, population=population)))
    parts.append(("Q", _derive_block("Q", obs, fw, p, institutions, None, shared=shared, population=population)))
    parts = [(b, df) for b, df in parts if len(df)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else "str") for c in PANEL_COLUMNS})
    sizes = [len(df) for _, df in parts]
    data: dict[str, Any] = {
        "block": pd.Categorical.from_codes(
            np.repeat(np.arange(len(parts), dtype=np.int8), sizes), categories=[b for b, _ in parts]
        ),
        "entity_id": pd.concat(
            [df["entity_id"] if isinstance(df["entity_id"].dtype, pd.StringDtype) else df["entity_id"].astype("str")
             for _, df in parts], ignore_index=True,
        ).array,
        "period": pd.concat([df["period"] for _, df in parts], ignore_index=True).array,
        "code": _stack([df["code"] for _, df in parts]),
        "value": np.concatenate([df["value"].to_numpy(dtype=np.float64, na_value=np.nan) for _, df in parts]),
        "status": _stack([df["status"] for _, df in parts], STATUSES),
        "reason": _stack([df["reason"] for _, df in parts]),
    }
    return pd.DataFrame(data, copy=False)


def _stack(cols: list[pd.Series], first: Sequence[str] = ()) -> pd.Categorical:
    """Concatenate string / categorical columns into one categorical, recoding only the small ones.

    The categories are ``first``, then those of each column in turn; a column that is already
    categorical with exactly the categories so far (the big J part) keeps its codes as they are.
    """
    cats: list[str] = list(first)
    pos: dict[str, int] = {c: i for i, c in enumerate(cats)}
    codes = []
    for col in cols:
        c = col.array if isinstance(col.dtype, pd.CategoricalDtype) else pd.Categorical(col)
        own = [str(x) for x in c.categories]
        for x in own:
            if x not in pos:
                pos[x] = len(cats)
                cats.append(x)
        remap = np.array([pos[x] for x in own] + [-1], dtype=np.int64)  # code -1 (NaN) stays -1
        cc = np.asarray(c.codes, dtype=np.int64)
        codes.append(cc if own == cats[: len(own)] else remap[cc])
    return pd.Categorical.from_codes(
        np.concatenate(codes), categories=pd.Index(cats, dtype="str"), validate=False
    )


def to_engine_panel(
    panel: pd.DataFrame,
    block: str,
    *,
    period: Any = None,
    include_flagged: bool = True,
) -> EnginePanel:
    """The wide frame of one block for the composite engine, with its not-applicable mask.

    * index: ``entity_id`` when ``period`` is given (that period only), else the MultiIndex
      (``entity_id``, ``period``) — a panel, the engine's (unit, time) layout;
    * columns: the indicator codes, in the panel's (framework) order;
    * values: float64; ``ok`` values, ``flagged`` ones unless ``include_flagged=False``, NaN otherwise;
    * mask (``not_applicable``): True where the status is ``not_applicable``.

    Duplicate (entity, period, code) rows are a :class:`DataError`.
    """
    check_columns(panel, PANEL_COLUMNS, "panel")
    sub = panel.loc[panel["block"] == block]
    if period is not None:
        sub = sub.loc[sub["period"] == period]
    if not len(sub):
        known = sorted(map(str, panel["block"].unique()))
        raise DataError(
            f"panel has no rows for block {block!r}" + (f" and period {period!r}" if period is not None else "")
            + f" (blocks present: {', '.join(known) or 'none'})",
            rule="panel.empty", step="to_engine_panel",
        )
    e_codes, entities = _encode(sub["entity_id"], "entity_id")
    c_codes, codes = _encode(sub["code"], "code", sort=False)
    if period is None:
        p_codes, periods = _encode(sub["period"], "period")
    else:
        p_codes, periods = np.zeros(len(sub), dtype=np.int64), pd.Index([period])
    n_e, n_p, n_c = len(entities), len(periods), len(codes)
    full = e_codes.astype(np.int64) * n_p + p_codes.astype(np.int64)
    present = np.zeros(n_e * n_p, dtype=bool)
    present[full] = True
    keys = np.flatnonzero(present)
    row_of = np.empty(n_e * n_p, dtype=np.int64)
    row_of[keys] = np.arange(len(keys))
    row = row_of[full]
    cell = row * n_c + c_codes.astype(np.int64)
    counts = np.bincount(cell, minlength=len(keys) * n_c)
    if counts.max() > 1:
        c = int(np.flatnonzero(counts > 1)[0])
        raise DataError(
            f"panel has duplicate rows for {entities[keys[c // n_c] // n_p]} / {periods[keys[c // n_c] % n_p]} / "
            f"{codes[c % n_c]}", rule="panel.duplicate", step="to_engine_panel",
        )
    status = sub["status"]
    keep = status.eq(OK).to_numpy(dtype=bool, copy=True)
    if include_flagged:
        keep |= status.eq(FLAGGED).to_numpy(dtype=bool)
    vals = np.where(keep, sub["value"].to_numpy(dtype=np.float64, na_value=np.nan), np.nan)
    values = np.full(len(keys) * n_c, np.nan)
    values[cell] = vals
    mask = np.zeros(len(keys) * n_c, dtype=bool)
    mask[cell] = status.eq(NOT_APPLICABLE).to_numpy(dtype=bool)
    ent_idx = entities.take(keys // n_p)
    if period is None:
        index: pd.Index = pd.MultiIndex.from_arrays([ent_idx, periods.take(keys % n_p)], names=["entity_id", "period"])
    else:
        index = pd.Index(ent_idx, name="entity_id")
    columns = pd.Index(codes, name="code")
    data = pd.DataFrame(values.reshape(len(keys), n_c), index=index, columns=columns)
    na = pd.DataFrame(mask.reshape(len(keys), n_c), index=index.copy(), columns=columns.copy())
    return EnginePanel(data, na)
