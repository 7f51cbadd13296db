"""Shared plumbing of the stage functions: frames in and out, parameter rules declared as data.

Every stage function (``screen``, ``denominate``, ``impute``, ``treat``, ``normalise``) takes a wide
DataFrame (index = unit codes, or (uCode, Time) for a panel; columns = indicator codes; float64, NaN =
missing), turns it into a numpy 2-D array once, lets the registered method work on whole columns, and
rebuilds a frame with the same index and columns. Inputs are never modified.

Method parameters are declared next to the method (``params={"l_u": Param(...)}`` in the registry entry)
and checked in one place, :func:`resolve_params`, which fills defaults, rejects unknown names and runs the
declared checks, so that an error always names the step, the method and the parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, MethodError, Problem, SpecError
from ..registry import Entry, Registry

TIME_LEVEL = "Time"
REQUIRED = object()


# --------------------------------------------------------------------------------------------------
# frames <-> arrays
# --------------------------------------------------------------------------------------------------
def as_matrix(data: pd.DataFrame, step: str, copy: bool = True) -> np.ndarray:
    """``data``'s values as float64 (a copy unless ``copy=False``: then treat it as read-only) after checking
    the frame's shape rules."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}", rule="data.type", step=step)
    if data.columns.has_duplicates:
        dup = sorted(set(data.columns[data.columns.duplicated()].astype(str)))
        raise DataError(f"duplicate indicator columns: {', '.join(dup)}", rule="data.duplicate", step=step)
    if data.index.has_duplicates:
        dup = [str(u) for u in data.index[data.index.duplicated()][:10]]
        raise DataError(f"duplicate units: {', '.join(dup)}", rule="data.duplicate", step=step)
    kinds = {dt: pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt) for dt in set(data.dtypes.to_numpy())}
    if not all(kinds.values()):  # (each distinct dtype checked once: a wide frame has one or two)
        bad = [str(c) for c, dt in zip(data.columns.to_numpy(object), data.dtypes.to_numpy(), strict=True) if not kinds[dt]]
        raise DataError(
            f"indicator columns must be numeric: {', '.join(bad)}", rule="data.numeric", step=step, indicator=bad[0]
        )
    return data.to_numpy(dtype=np.float64, na_value=np.nan, copy=copy)


def all_finite(x: np.ndarray) -> bool:
    """Whether every value is finite, from the plain sum (one pass, no temporary array): a NaN or ±Inf
    anywhere makes it NaN or ±Inf. A sum that overflows says no too: callers then look cell by cell."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(x, axis=None)))


def like(data: pd.DataFrame, values: np.ndarray, columns: Sequence[Any] | None = None) -> pd.DataFrame:
    """A new frame with ``data``'s index (and columns unless given) holding ``values`` (not copied: the stage
    functions only pass arrays they own)."""
    return pd.DataFrame(
        values, index=data.index.copy(), columns=data.columns.copy() if columns is None else columns, copy=False
    )


def is_panel(data: pd.DataFrame) -> bool:
    return isinstance(data.index, pd.MultiIndex)


def time_level(data: pd.DataFrame) -> str | int:
    names = list(data.index.names)
    return TIME_LEVEL if TIME_LEVEL in names else len(names) - 1


def unit_level(data: pd.DataFrame) -> str | int:
    names = list(data.index.names)
    return "uCode" if "uCode" in names else 0


def periods(data: pd.DataFrame) -> list[tuple[Any, np.ndarray]]:
    """(period label, row positions) for a panel, in sorted period order; one pseudo-period otherwise."""
    if not is_panel(data):
        return [(None, np.arange(len(data)))]
    t = data.index.get_level_values(time_level(data))
    codes, labels = pd.factorize(t, sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    return [(labels[k], order[bounds[k] : bounds[k + 1]]) for k in range(len(labels))]


def problem(step: str, method: str | None, message: str, *, rule: str | None = None, **where: Any) -> Problem:
    """One recorded warning: where and why (rule ``{step}.{method}`` unless given)."""
    loc: dict[str, Any] = {"step": step, "method": method}
    loc.update({k: v for k, v in where.items() if v is not None})
    return Problem(rule or f"{step}.{method}", message, loc)


# --------------------------------------------------------------------------------------------------
# parameter rules as data
# --------------------------------------------------------------------------------------------------
def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


@dataclass(frozen=True)
class Param:
    """One method parameter.

    ``kind``: ``number`` | ``int`` | ``bool`` | ``pair`` | ``triple`` | ``choice`` | ``unit`` | ``any``.
    ``per_indicator``: the value may be given per indicator (a mapping or Series code → value); the stage
    resolves it to one value per column (an array of shape (m,) or (m, 2|3)).
    ``check``: extra rule on one (scalar or tuple) value; returns an error message or ``None``.
    """

    default: Any = REQUIRED
    kind: str = "any"
    per_indicator: bool = False
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    check: Callable[[Any], str | None] | None = None
    stage: bool = False  # consumed by the stage (e.g. a base period), not passed to the method
    doc: str = ""

    def validate(self, value: Any) -> str | None:
        if value is None:
            return None if self.nullable else "must not be None"
        k = self.kind
        if k == "number" and not (_number(value) and np.isfinite(value)):
            return f"must be a finite number, got {value!r}"
        if k == "int" and not (isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
            return f"must be an integer, got {value!r}"
        if k == "bool" and not isinstance(value, (bool, np.bool_)):
            return f"must be true or false, got {value!r}"
        if k in ("pair", "triple"):
            size = 2 if k == "pair" else 3
            if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or len(value) != size:
                return f"must be {size} numbers, got {value!r}"
            if not all(_number(v) and np.isfinite(v) for v in value):
                return f"must be {size} finite numbers, got {value!r}"
        if k == "unit" and not isinstance(value, (str, int, np.integer)):
            return f"must be a unit code or a row number, got {value!r}"
        if k == "choice" and value not in self.choices:
            return f"must be one of {', '.join(map(repr, self.choices))}, got {value!r}"
        return self.check(value) if self.check else None


def resolve_params(
    entry: Entry, given: Mapping[str, Any], step: str, columns: Sequence[Any] | None = None, *, indicator: Any = None
) -> dict[str, Any]:
    """Fill defaults, reject unknown names, check values; per-indicator parameters become arrays."""
    spec: dict[str, Param] = entry.meta.get("params", {})
    unknown = sorted(set(given) - set(spec))
    if unknown:
        allowed = ", ".join(sorted(spec)) or "none"
        raise SpecError(
            f"{step} method {entry.name!r} has no parameter {unknown[0]!r} (parameters: {allowed})",
            step=step,
            method=entry.name,
            parameter=unknown[0],
            indicator=indicator,
        )
    out: dict[str, Any] = {}
    for name, p in spec.items():
        value = given.get(name, p.default)
        if value is REQUIRED:
            raise SpecError(
                f"{step} method {entry.name!r} needs parameter {name!r}", step=step, method=entry.name, parameter=name,
                indicator=indicator,
            )
        if p.per_indicator and columns is not None:
            out[name] = _per_indicator(value, p, columns, step, entry.name, name)
        else:
            msg = p.validate(value)
            if msg:
                raise SpecError(
                    f"{step} method {entry.name!r}: parameter {name!r} {msg}", step=step, method=entry.name,
                    parameter=name, indicator=indicator,
                )
            out[name] = value
    return out


def _per_indicator(value: Any, p: Param, columns: Sequence[Any], step: str, method: str, name: str) -> np.ndarray:
    cols = list(columns)
    if isinstance(value, pd.DataFrame):
        value = {c: tuple(value.loc[c]) for c in value.index}
    per_column_ndim = 2 if p.kind in ("pair", "triple") else 1
    if isinstance(value, np.ndarray) and value.ndim == per_column_ndim and len(value) == len(cols):
        value = dict(zip(cols, value.tolist(), strict=True))
    if isinstance(value, (Mapping, pd.Series)):
        mapping = dict(value.items())
        missing = [c for c in cols if c not in mapping]
        if missing:
            raise SpecError(
                f"{step} method {method!r}: parameter {name!r} has no value for indicator {missing[0]!r}",
                step=step, method=method, parameter=name, indicator=missing[0],
            )
        values = [mapping[c] for c in cols]
        checks = list(zip(cols, values, strict=True))
    else:
        values = [value] * len(cols)
        checks = [(cols[0] if len(cols) == 1 else None, value)]  # one value for all: check it once
    for c, v in checks:
        if p.kind == "number" and _number(v) and not np.isfinite(v):
            msg = f"is missing (NaN) for indicator {c!r}" if c is not None else "must be a finite number"
        else:
            msg = p.validate(v)
        if msg:
            raise SpecError(
                f"{step} method {method!r}: parameter {name!r} {msg}", step=step, method=method, parameter=name,
                indicator=c,
            )
    if p.kind in ("number", "pair", "triple", "int"):
        return np.asarray(values, dtype=np.float64)
    if p.kind == "bool":
        return np.asarray(values, dtype=bool)
    return np.asarray(values, dtype=object)


def example_params(registry: Registry, name: str) -> dict[str, Any]:
    """Parameters that make a method runnable on any data (used by the conformance tests and docs)."""
    return dict(registry.entry(name).meta.get("example", {}))


def method_error(step: str, method: str, message: str, **where: Any) -> MethodError:
    return MethodError(f"{step} method {method!r}: {message}", rule=f"{step}.{method}", step=step, method=method, **where)
