"""Denomination: indicator ÷ denominator (per capita, per GDP, per km²…), as COINr's ``Denominate()``.

``denominate(data, denominators, {"Flights": "Population", "Goods": "GDP"})`` divides each mapped
indicator by its denominator column, unit by unit; unmapped indicators are returned unchanged. The mapping
usually comes from iMeta's ``Denominator`` column (:func:`mapping_from_imeta`). A zero denominator gives
±inf (as R does) and is a warning of :func:`denominate_output`; a missing one gives NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..engine.output import StageOutput, data_only
from ..errors import DataError, Problem, SpecError
from ..registry import Registry
from ._frame import as_matrix, like, problem, resolve_params

STEP = "denominate"
DENOMINATORS = Registry(STEP)


@DENOMINATORS.register("divide", aliases=["/"])
def divide(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """x / d, column by column (COINr's default ``f_denom = "/"``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return x / d


@DENOMINATORS.register("multiply", aliases=["*"])
def multiply(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """x × d (e.g. turning a per-capita figure back into a total)."""
    return x * d


def mapping_from_imeta(imeta: pd.DataFrame) -> dict[str, str]:
    """{indicator: denominator} from iMeta's ``Denominator`` column (indicators without one are skipped)."""
    if "Denominator" not in imeta:
        return {}
    rows = imeta[(imeta["Type"] == "Indicator") & imeta["Denominator"].notna()]
    return {str(i): str(d) for i, d in zip(rows["iCode"], rows["Denominator"], strict=True) if str(d).strip()}




def denominate_output(
    data: pd.DataFrame,
    denominators: pd.DataFrame,
    mapping: Mapping[str, str],
    method: str = "divide",
) -> StageOutput:
    """As :func:`denominate`, with a warning per zero denominator."""
    entry = DENOMINATORS.entry(method)
    resolve_params(entry, {}, STEP)
    x = as_matrix(data, STEP)
    if not isinstance(denominators, pd.DataFrame):
        raise SpecError("denominate: denominators must be a DataFrame", step=STEP, parameter="denominators")
    for ind, den in mapping.items():
        if ind not in data.columns:
            raise SpecError(f"denominate: indicator {ind!r} is not in the data", step=STEP, parameter="mapping", indicator=ind)
        if den not in denominators.columns:
            raise SpecError(
                f"denominate: denominator {den!r} (for {ind!r}) is not among the denominators "
                f"({', '.join(map(str, denominators.columns)) or 'none'})",
                step=STEP, parameter="mapping", indicator=ind,
            )
    missing = data.index.difference(denominators.index)
    if len(missing):
        raise DataError(
            f"denominate: no denominator row for unit {missing[0]!r}", rule="denominate.unit", step=STEP, unit=missing[0]
        )
    if not mapping:
        return StageOutput(like(data, x))
    inds = list(mapping)
    cols = data.columns.get_indexer(inds)
    dens = denominators.reindex(data.index)[[mapping[i] for i in inds]].to_numpy(dtype=np.float64, na_value=np.nan)
    x[:, cols] = entry.func(x[:, cols], dens)
    out = like(data, x)
    warnings: list[Problem] = []
    if entry.name == "divide":
        zr, zc = np.nonzero(dens == 0)
        for r, c in zip(zr, zc, strict=True):
            warnings.append(
                problem(STEP, entry.name, f"denominator {mapping[inds[c]]} is zero", indicator=inds[c], unit=data.index[r])
            )
    return StageOutput(out, warnings=warnings)


denominate = data_only(
    denominate_output,
    'Each indicator in ``mapping`` divided (``method``) by its denominator column; the rest unchanged. '
    'Returns the data set; the warnings are in :func:`denominate_output`.',
)
