"""Unit screening: drop units (rows) with too little data or too many zeros, as COINr's ``Screen()``.

For each unit: ``N_missing`` (NaN count), ``N_zero`` (zeros among the available values),
``Dat_Avail = 1 − N_missing / n_indicators`` and ``Non_Zero = 1 − N_zero / (n_indicators − N_missing)``
(zeros as a share of the *available* values). ``LowData = Dat_Avail < dat_thresh``,
``LowNonZero = Non_Zero < nonzero_thresh``. The rule (``by``) decides which flag excludes a unit;
``force`` overrides the rule per unit (``{"AUS": True}`` keeps AUS, ``False`` drops it). Indicators are
never screened. Example: ``screen(data, by="byNA", dat_thresh=0.9).summary`` is COINr's
``$Analysis$Screened$DataSummary``.

Differences from COINr (1.1.14): ``by="none"`` keeps every unit (COINr stops); a unit with no data at all
has ``Non_Zero`` NaN and is not flagged as "low non-zero" (COINr gives NA and a row of NAs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, SpecError
from ..registry import Registry
from ._frame import Param, as_matrix, is_panel, problem, resolve_params, unit_level

STEP = "screen"
SCREENERS = Registry(STEP)

_FRACTION = Param(kind="number", check=lambda v: None if 0 <= v <= 1 else f"must be between 0 and 1, got {v}")


@dataclass(frozen=True, eq=False)
class ScreenResult:
    """``data``: the kept units; ``summary``: one row per input unit (COINr's DataSummary, index uCode)."""

    data: pd.DataFrame
    summary: pd.DataFrame
    removed: list[Any] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@SCREENERS.register("byNA", aliases=["by_na"])
def by_na(low_data: np.ndarray, low_nonzero: np.ndarray) -> np.ndarray:
    """Keep units whose data availability is at least ``dat_thresh``."""
    return ~low_data


@SCREENERS.register("byzeros", aliases=["by_zeros"])
def by_zeros(low_data: np.ndarray, low_nonzero: np.ndarray) -> np.ndarray:
    """Keep units whose share of non-zero values is at least ``nonzero_thresh``."""
    return ~low_nonzero


@SCREENERS.register("byNAandzeros", aliases=["by_na_and_zeros"])
def by_na_and_zeros(low_data: np.ndarray, low_nonzero: np.ndarray) -> np.ndarray:
    """Keep units that pass both rules (dropped if either flag is raised)."""
    return ~(low_data | low_nonzero)


@SCREENERS.register("none")
def no_screen(low_data: np.ndarray, low_nonzero: np.ndarray) -> np.ndarray:
    """Keep every unit (the summary is still computed)."""
    return np.ones_like(low_data, dtype=bool)


_STAGE_PARAMS = {"dat_thresh": _FRACTION, "nonzero_thresh": _FRACTION}


def data_availability(data: pd.DataFrame) -> pd.DataFrame:
    """COINr's ``get_data_avail``: N_missing, N_zero, N_miss_or_zero, Dat_Avail, Non_Zero per unit."""
    x = as_matrix(data, STEP, copy=False)
    m = x.shape[1]
    na = np.isnan(x)
    n_missing = na.sum(axis=1)
    n_zero = (x == 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        avail = 1 - n_missing / m
        nonzero = 1 - n_zero / (m - n_missing)
    return pd.DataFrame(
        {
            "N_missing": n_missing,
            "N_zero": n_zero,
            "N_miss_or_zero": n_missing + n_zero,
            "Dat_Avail": avail,
            "Non_Zero": nonzero,
        },
        index=data.index.copy(),
    )


def screen(
    data: pd.DataFrame,
    by: str = "byNA",
    dat_thresh: float = 0.66,
    nonzero_thresh: float = 0.05,
    force: Mapping[Any, bool] | pd.DataFrame | None = None,
) -> ScreenResult:
    """Screen units by data availability and/or zeros; ``force`` = {uCode: include?} overrides the rule."""
    entry = SCREENERS.entry(by)
    resolve_params(entry, {}, STEP)
    for name, value in (("dat_thresh", dat_thresh), ("nonzero_thresh", nonzero_thresh)):
        msg = _STAGE_PARAMS[name].validate(value)
        if msg:
            raise SpecError(f"screen: parameter {name!r} {msg}", step=STEP, parameter=name)
    summary = data_availability(data)
    low_data = summary["Dat_Avail"].to_numpy() < dat_thresh
    low_nonzero = summary["Non_Zero"].to_numpy() < nonzero_thresh  # NaN (no data) compares False
    summary["LowData"] = low_data
    summary["LowNonZero"] = low_nonzero
    summary["LowDatOrZeroFlag"] = low_data | low_nonzero
    included = np.asarray(entry.func(low_data, low_nonzero), dtype=bool).copy()
    warnings: list[Problem] = []
    if force is not None:
        units = data.index.get_level_values(unit_level(data)) if is_panel(data) else data.index
        for unit, keep in _force_items(force, units):
            included[np.asarray(units == unit)] = bool(keep)
            warnings.append(problem(STEP, entry.name, f"unit forced {'in' if keep else 'out'}", unit=unit))
    summary["Included"] = included
    removed = list(data.index[~included])
    return ScreenResult(data=data.loc[included].copy(), summary=summary, removed=removed, warnings=warnings)


def _force_items(force: Mapping[Any, bool] | pd.DataFrame, index: pd.Index) -> list[tuple[Any, bool]]:
    if isinstance(force, pd.DataFrame):
        if not {"uCode", "Include"} <= set(force.columns):
            raise SpecError("screen: force table needs columns uCode and Include", step=STEP, parameter="force")
        items = list(zip(force["uCode"], force["Include"], strict=True))
    elif isinstance(force, Mapping):
        items = list(force.items())
    else:
        raise SpecError("screen: force must be a mapping {uCode: include?} or a table", step=STEP, parameter="force")
    for unit, keep in items:
        if unit not in index:
            raise SpecError(f"screen: forced unit {unit!r} is not in the data", step=STEP, parameter="force", unit=unit)
        if not isinstance(keep, (bool, np.bool_)):
            raise SpecError(
                f"screen: force value for {unit!r} must be true or false, got {keep!r}", step=STEP, parameter="force",
                unit=unit,
            )
    return items
