"""Derivation: raw variables → J, H and Q indicator values. DataFrames in, DataFrames out (no database).

    import fintech_eval as fe
    from fintech_eval.derive import derive_all, derive_institutions, to_engine_panel

    fw = fe.load_framework("jrt0201-2020")
    j = derive_institutions(obs, institutions, fw)      # 51 J indicators per institution × period
    panel = derive_all(obs, institutions, fw)           # J + H (industries) + Q (regions), long
    data, not_applicable = to_engine_panel(panel, "J")  # wide, for the composite engine

``obs`` is long: ``entity_kind`` ('institution' | 'region'), ``entity_id``, ``period``, ``variable``,
``value`` (float, NaN = missing). ``institutions``: ``entity_id``, ``sector``, ``region_code``.
Statuses: ok, flagged (out of the declared range, kept), missing (an input is missing: never zero),
undefined (e.g. zero denominator), not_applicable (sector restriction); each with a reason.
"""

from .institutions import (
    FLAGGED,
    MISSING,
    NOT_APPLICABLE,
    OK,
    STATUSES,
    UNDEFINED,
    derive_institutions,
    resolve_params,
)
from .panel import PANEL_COLUMNS, EnginePanel, derive_all, to_engine_panel
from .rollup import INDUSTRIES, derive_industry, derive_regions

__all__ = [
    "FLAGGED", "INDUSTRIES", "MISSING", "NOT_APPLICABLE", "OK", "PANEL_COLUMNS", "STATUSES", "UNDEFINED",
    "EnginePanel", "derive_all", "derive_industry", "derive_institutions", "derive_regions",
    "resolve_params", "to_engine_panel",
]
