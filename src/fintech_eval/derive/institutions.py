"""Institution (J) indicators from raw variables: DataFrames in, DataFrames out, vectorised.

    import fintech_eval as fe
    from fintech_eval.derive import derive_institutions

    fw = fe.load_framework("jrt0201-2020")
    j = derive_institutions(obs, institutions, fw)                    # bulk: ``inputs`` left empty
    j = derive_institutions(obs, institutions, fw, with_inputs=True)  # audit: every input recorded

How it works: the long observations are pivoted once into a wide array (one row per institution ×
period, one column per variable; NaN where nothing was observed, never 0). Each indicator's formula
is then parsed once and evaluated on whole columns, once per distinct formula: an indicator with
sector variants (J-A3B2-C5, J-A3B2-C6) is evaluated once per variant on the rows of that variant's
sectors. Statuses and reasons are derived with array operations too (a missing-input bit pattern per
row, interned reason strings), so the cost is a few numpy passes per indicator, not a Python loop
per row.

Statuses (``STATUSES``):

* ``ok``: the formula gave a finite value inside the indicator's declared range;
* ``flagged``: a finite value outside the declared ``range`` (kept, with the reason; never dropped);
* ``missing``: at least one input variable is missing: value NaN, the reason names the variable(s).
  A missing input is never read as zero;
* ``undefined``: every input is present but the formula has no finite value, e.g. a zero
  denominator: value NaN, the reason names the denominator;
* ``not_applicable``: the indicator (or every one of its variants) does not apply to the
  institution's sector: value NaN, the reason names the sector restriction.

This module also holds the pieces shared with :mod:`.rollup`: parameter resolution, the long → wide
pivot and the vectorised formula evaluation.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import formula as fml
from ..catalog.models import SECTORS, SUM_TOLERANCE, Framework, Indicator
from ..errors import DataError, SpecError
from ..vocab import FLAGGED, MISSING, NOT_APPLICABLE, OK, UNDEFINED  # noqa: E402, F401 - one vocabulary
from ..vocab import VALUE_STATUSES as STATUSES  # noqa: E402

_CODE = {s: np.int8(i) for i, s in enumerate(STATUSES)}

J_COLUMNS = ["entity_id", "period", "code", "value", "status", "reason", "inputs", "formula", "framework_version"]
OBS_COLUMNS = ("entity_id", "period", "variable", "value")

#: relative tolerance of the range check, so that a share computed as 1.0000000000000002 is not flagged
RANGE_TOL = 1e-9


# ----------------------------------------------------------------------------------------------------
# framework and parameters
# ----------------------------------------------------------------------------------------------------
def as_framework(framework: Framework | str) -> Framework:
    """A :class:`Framework`, loading it by id or path when given a string."""
    if isinstance(framework, Framework):
        return framework
    from ..catalog import load_framework

    return load_framework(framework)


def framework_version(fw: Framework) -> str:
    """``id@version``, plus ``+extension`` for each extension applied (so a value says exactly which
    definitions produced it)."""
    return f"{fw.id}@{fw.version}" + "".join(f"+{e}" for e in fw.extensions)


def resolve_params(framework: Framework, params: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The framework's parameter defaults with ``params`` laid over them.

    Raises :class:`~fintech_eval.errors.SpecError` naming every unknown parameter (and the declared
    ones), a value that is not a finite number, a value outside the parameter's declared
    ``[min, max]``, or overrides that break a ``constraints`` rule of the framework (rule ``params.sum``:
    the weights of a pair are given together and sum to 1; one alone is an error).
    """
    defaults = framework.parameter_defaults()
    if params is None:
        return dict(defaults)
    if not isinstance(params, Mapping):
        raise SpecError(
            f"parameters must be a mapping name → value, got {type(params).__name__}",
            rule="params.type", step="derive",
        )
    unknown = sorted(str(k) for k in params if k not in defaults)
    if unknown:
        raise SpecError(
            f"unknown parameter(s) {', '.join(unknown)}; {framework.id} declares "
            f"{', '.join(sorted(defaults)) or 'none'}",
            rule="params.unknown", step="derive", parameter=", ".join(unknown),
        )
    out = dict(defaults)
    declared = {p.name: p for p in framework.parameters}
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise SpecError(
                f"parameter {name} must be a number, got {value!r}", rule="params.type", step="derive", parameter=name
            )
        v = float(value)
        p = declared[name]
        if not math.isfinite(v):
            raise SpecError(f"parameter {name} must be finite, got {v}", rule="params.range", step="derive", parameter=name)
        if (p.min is not None and v < p.min) or (p.max is not None and v > p.max):
            raise SpecError(
                f"parameter {name} = {v:g} is outside its declared range [{p.min}, {p.max}]",
                rule="params.range", step="derive", parameter=name,
            )
        if p.choices is not None and v not in p.choices:
            raise SpecError(
                f"parameter {name} = {v:g} is not one of its choices {', '.join(f'{c:g}' for c in p.choices)}",
                rule="params.range", step="derive", parameter=name,
            )
        out[name] = v
    _check_sums(framework, params, out)
    return out


def _check_sums(framework: Framework, given: Mapping[str, Any], values: Mapping[str, float]) -> None:
    """The framework's ``constraints``: the parameters of a sum group are overridden all together or not at
    all (one alone is an error: the others are never adjusted silently), and then sum to the total."""
    for c in framework.constraints:
        named = [n for n in c.parameters if n in given]
        if not named:
            continue
        group = " + ".join(c.parameters)
        where = {"rule": "params.sum", "step": "derive", "parameter": ", ".join(c.parameters)}
        if len(named) < len(c.parameters):
            rest = [n for n in c.parameters if n not in given]
            left = c.sum - sum(values[n] for n in named)
            hint = f" (e.g. {rest[0]} = {left:g})" if len(rest) == 1 else ""
            raise SpecError(
                f"parameters {group} must sum to {c.sum:g} (constraint {c.name}); "
                f"only {', '.join(named)} {'was' if len(named) == 1 else 'were'} given: "
                f"give {', '.join(rest)} too{hint}, the others of a group are never adjusted silently",
                **where,
            )
        total = sum(values[n] for n in c.parameters)
        if abs(total - c.sum) > SUM_TOLERANCE:
            raise SpecError(
                f"parameters {group} must sum to {c.sum:g} (constraint {c.name}), got "
                f"{' + '.join(f'{values[n]:g}' for n in c.parameters)} = {total:g}",
                **where,
            )


@lru_cache(maxsize=4096)
def parse_formula(text: str) -> fml.Formula:
    return fml.parse(text)


@lru_cache(maxsize=4096)
def _denominators(text: str) -> tuple[tuple[str, fml.Formula], ...]:
    """Every denominator of a division in ``text``, outermost first, as (text, parsed formula)."""
    out = []
    for node in ast.walk(parse_formula(text).tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            t = ast.unparse(node.right)
            out.append((t, parse_formula(t)))
    return tuple(out)


# ----------------------------------------------------------------------------------------------------
# long → wide
# ----------------------------------------------------------------------------------------------------
def _encode(s: pd.Series, column: str, *, sort: bool = True) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of ``s`` and its distinct values (sorted when they sort), in one hashing pass."""
    if len(s) == 0:
        return np.zeros(0, dtype=np.int64), pd.Index(s.array)
    uniques: pd.Index | None = None
    if isinstance(s.dtype, pd.CategoricalDtype):  # the codes are there: keep the categories in use
        cat_codes = s.cat.codes.to_numpy()
        if (cat_codes < 0).any():
            raise DataError(f"column {column}: {int((cat_codes < 0).sum())} empty value(s)", rule="data.key", column=column)
        n_cat = len(s.cat.categories)
        used = pd.unique(cat_codes)  # the categories in use, in order of first appearance
        new = np.full(n_cat, -1, dtype=np.int64)
        new[used] = np.arange(len(used))
        codes, uniques = new[cat_codes], pd.Index(s.cat.categories[used])
        return _sorted(codes, uniques) if sort else (codes, uniques)
    if sort and isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":  # integer periods, codes: no hashing
        v = s.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < 10_000_000:
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[v - lo] = True
            found = np.flatnonzero(present)
            rank = np.zeros(hi - lo + 1, dtype=np.int32)
            rank[found] = np.arange(len(found), dtype=np.int32)
            return rank[v - lo], pd.Index((found + lo).astype(s.dtype))
    try:
        arr = pa.array(s, from_pandas=True)  # zero-copy for the (pyarrow-backed) string dtype
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed Python objects
        arr = None
    if arr is not None:
        if arr.null_count:
            raise DataError(f"column {column}: {arr.null_count} empty value(s)", rule="data.key", column=column)
        enc = pc.dictionary_encode(arr)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.unify_dictionaries()
            dictionary = enc.chunk(0).dictionary if enc.num_chunks else pa.array([], type=arr.type)
            codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in enc.chunks])
        else:
            dictionary = enc.dictionary
            codes = enc.indices.to_numpy(zero_copy_only=False)
        if isinstance(s.dtype, pd.StringDtype):
            uniques = pd.Index(pd.array(dictionary, dtype=s.dtype))
        elif s.dtype != object:
            try:
                uniques = pd.Index(dictionary.to_numpy(zero_copy_only=False).astype(s.dtype, copy=False))
            except (TypeError, ValueError, pa.ArrowException):
                uniques = None
        if uniques is None:  # keep the caller's values exactly: take them from the column
            at = pd.Series(codes).drop_duplicates().index.to_numpy()  # first occurrence of each code
            first = np.empty(len(dictionary), dtype=np.int64)
            first[codes[at]] = at
            uniques = pd.Index(s.iloc[first].array)
    else:
        codes, uniq = pd.factorize(s, use_na_sentinel=True)
        if (codes < 0).any():
            raise DataError(
                f"column {column}: {int((codes < 0).sum())} empty value(s)", rule="data.key", column=column
            )
        uniques = pd.Index(uniq)
    return _sorted(codes, uniques) if sort else (codes, uniques)


def _sorted(codes: np.ndarray, uniques: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Recode so that the distinct values are sorted (left in place when they do not sort)."""
    try:
        order = np.argsort(uniques.to_numpy(), kind="stable")
    except TypeError:  # values of mixed types: keep the order of first appearance
        return codes, uniques
    rank = np.empty(len(order), dtype=codes.dtype)
    rank[order] = np.arange(len(order), dtype=codes.dtype)
    return rank[codes], uniques[order]


def take_values(uniques: pd.Index, codes: np.ndarray) -> Any:
    """``uniques[codes]`` as an array (fast for strings: a pyarrow take)."""
    if isinstance(uniques.dtype, pd.StringDtype):
        return pd.array(pa.array(uniques.array).take(pa.array(codes)), dtype=uniques.dtype)
    return uniques.take(codes).array


def categories(pool: Sequence[str], codes: np.ndarray) -> pd.Categorical:
    """A categorical of ``pool[codes]`` (code -1 = missing): no string is copied per row."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(pool), dtype="str"), validate=False)


def _lookup(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1 absent), matching as text when the dtypes differ."""
    pos = index.get_indexer(pd.Index(values))
    if (pos < 0).any():
        alt = pd.Index(index.astype(str)).get_indexer(pd.Index(values).astype(str))
        pos = np.where(pos < 0, alt, pos)
    return pos


@dataclass
class Wide:
    """Observations of one entity kind, pivoted: ``data[v]`` is variable ``v``'s column over the rows.

    Rows are the (entity, period) pairs that have at least one observation (a NaN observation counts:
    it says the value is missing), ordered by entity then period.
    """

    entities: pd.Index
    periods: pd.Index
    row_entity: np.ndarray  # per row: position in ``entities``
    row_period: np.ndarray  # per row: position in ``periods``
    variables: dict[str, int]
    data: np.ndarray  # (n_variables, n_rows), float64

    @property
    def n(self) -> int:
        return len(self.row_entity)

    def column(self, name: str) -> np.ndarray:
        """The column of ``name``; all NaN when nothing was observed for it (missing, not zero)."""
        i = self.variables.get(name)
        if i is None:
            return np.full(self.n, np.nan)
        return self.data[i]

    def rows_of(self, entity_id: pd.Series, period: pd.Series) -> np.ndarray:
        """The row of each (entity_id, period) pair; -1 where the pair has no row."""
        e = _lookup(self.entities, entity_id)
        p = _lookup(self.periods, period)
        n_p = len(self.periods)
        lookup = np.full(len(self.entities) * n_p, -1, dtype=np.int64)
        lookup[self.row_entity * n_p + self.row_period] = np.arange(self.n)
        ok = (e >= 0) & (p >= 0)
        out = np.full(len(e), -1, dtype=np.int64)
        out[ok] = lookup[e[ok] * n_p + p[ok]]
        return out

    def entity_of_rows(self, rows: np.ndarray) -> Any:
        return take_values(self.entities, self.row_entity[rows])

    def period_of_rows(self, rows: np.ndarray) -> Any:
        return take_values(self.periods, self.row_period[rows])


def _values(obs: pd.DataFrame) -> np.ndarray:
    v = obs["value"]
    if not (pd.api.types.is_numeric_dtype(v.dtype) or pd.api.types.is_bool_dtype(v.dtype)):
        num = pd.to_numeric(v, errors="coerce")
        bad = num.isna() & v.notna() & (v.astype(str).str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"value must be a number (NaN = missing); {int(bad.sum())} row(s) are not, e.g. {v.iloc[i]!r} "
                f"for {obs['entity_id'].iloc[i]} / {obs['period'].iloc[i]} / {obs['variable'].iloc[i]}",
                rule="data.numeric", column="value", row=i,
            )
        v = num
    out = v.to_numpy(dtype=np.float64, na_value=np.nan)
    inf = np.isinf(out)
    if inf.any():
        i = int(np.flatnonzero(inf)[0])
        raise DataError(
            f"value must be finite or NaN; {int(inf.sum())} row(s) are infinite, e.g. "
            f"{obs['entity_id'].iloc[i]} / {obs['period'].iloc[i]} / {obs['variable'].iloc[i]}",
            rule="data.numeric", column="value", row=i,
        )
    return out


def check_columns(df: Any, required: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(df).__name__}", rule="data.type")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{what} lack column(s) {', '.join(missing)} (need {', '.join(required)})",
            rule="data.columns", column=", ".join(missing),
        )


def _equals(s: pd.Series, value: str) -> np.ndarray:
    """``s == value`` as a numpy bool array (a pyarrow kernel for the string dtype)."""
    if isinstance(s.dtype, pd.StringDtype):
        arr = pa.array(s, from_pandas=True)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            eq = pc.fill_null(pc.equal(arr, pa.scalar(value, type=arr.type)), False)
            return np.asarray(eq.to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(s.eq(value).fillna(False).to_numpy(), dtype=bool)


def pivot_observations(obs: pd.DataFrame, entity_kind: str = "institution") -> Wide:
    """Pivot the long observations of ``entity_kind`` (all rows when there is no ``entity_kind`` column).

    Duplicate (entity, period, variable) rows are rejected with a :class:`DataError` naming them: the
    import layer decides which value holds, derivation never picks one silently.
    """
    check_columns(obs, OBS_COLUMNS, "observations")
    cols = {c: obs[c] for c in OBS_COLUMNS}
    if "entity_kind" in obs.columns:
        keep = _equals(obs["entity_kind"], entity_kind)
        if not keep.all():
            cols = {c: v[keep] for c, v in cols.items()}
    values = _values(pd.DataFrame(cols, copy=False))
    e_codes, entities = _encode(cols["entity_id"], "entity_id")
    p_codes, periods = _encode(cols["period"], "period")
    v_codes, variables = _encode(cols["variable"], "variable", sort=False)
    n_e, n_p, n_v = len(entities), len(periods), len(variables)
    itype = np.int32 if n_e * n_p < 2**31 - 1 else np.int64  # int32 where it fits: half the memory traffic
    key = e_codes.astype(itype, copy=False) * itype(n_p) + p_codes.astype(itype, copy=False)
    if n_e * n_p <= 50_000_000:
        present = np.zeros(n_e * n_p, dtype=bool)
        present[key] = True
        keys = np.flatnonzero(present)
        row_of = np.empty(n_e * n_p, dtype=itype)
        row_of[keys] = np.arange(len(keys), dtype=itype)
        row = row_of[key]
    else:  # sparse: hash the keys instead
        row, keys = pd.factorize(key, sort=True)
    n_rows = len(keys)
    itype = np.int32 if n_v * n_rows < 2**31 - 1 else np.int64
    cell = v_codes.astype(itype, copy=False) * itype(n_rows) + row.astype(itype, copy=False)
    seen = np.zeros(n_v * n_rows, dtype=bool)
    seen[cell] = True
    if int(np.count_nonzero(seen)) != len(cell):  # a cell written twice: report the duplicates
        counts = np.bincount(cell, minlength=n_v * n_rows)
        dup = np.flatnonzero(counts > 1)
        shown = [
            f"{entities[keys[c % n_rows] // n_p]} / {periods[keys[c % n_rows] % n_p]} / {variables[c // n_rows]}"
            for c in dup[:5]
        ]
        raise DataError(
            f"{len(dup)} duplicate observation(s) (entity / period / variable): {'; '.join(shown)}"
            + (" …" if len(dup) > 5 else ""),
            rule="data.duplicate",
        )
    flat = np.full(n_v * n_rows, np.nan)
    flat[cell] = values
    return Wide(
        entities=entities,
        periods=periods,
        row_entity=(keys // n_p).astype(np.int64),
        row_period=(keys % n_p).astype(np.int64),
        variables={str(v): i for i, v in enumerate(variables)},
        data=flat.reshape(n_v, n_rows),
    )


def institution_sectors(institutions: pd.DataFrame, entities: pd.Index) -> pd.DataFrame:
    """``institutions`` reindexed on ``entities`` (sector and region_code), after checking it."""
    check_columns(institutions, ("entity_id", "sector"), "institutions")
    inst = institutions
    if inst["entity_id"].duplicated().any():
        dup = inst.loc[inst["entity_id"].duplicated(), "entity_id"].astype(str).unique()[:10]
        raise DataError(f"institutions: duplicate entity_id {', '.join(dup)}", rule="data.duplicate", column="entity_id")
    sec = inst["sector"]
    bad = sorted({str(s) for s in sec[~sec.isin(SECTORS)]})
    if bad:
        raise DataError(
            f"institutions: unknown sector(s) {', '.join(bad)}; allowed: {', '.join(SECTORS)}",
            rule="data.sector", column="sector",
        )
    cols = ["sector"] + (["region_code"] if "region_code" in inst.columns else [])
    table = inst.set_index("entity_id")[cols]
    table.index = table.index.astype(str)  # match ids whatever their dtype (e.g. int codes in one frame)
    out = table.reindex(entities.astype(str))
    out.index = entities
    unknown = entities[out["sector"].isna().to_numpy()]
    if len(unknown):
        raise DataError(
            f"observations for {len(unknown)} institution(s) missing from the institutions table: "
            f"{', '.join(map(str, unknown[:10]))}" + (" …" if len(unknown) > 10 else ""),
            rule="data.entity", column="entity_id",
        )
    if "region_code" not in out.columns:
        out["region_code"] = np.nan
    return out


# ----------------------------------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------------------------------
class Pool:
    """Interned strings: an id per distinct string (id 0 = the empty reason)."""

    def __init__(self, first: Sequence[str] = ("",)):
        self.items: list[str] = list(first)
        self._ids = {s: i for i, s in enumerate(self.items)}

    def id(self, s: str) -> int:
        i = self._ids.get(s)
        if i is None:
            i = self._ids[s] = len(self.items)
            self.items.append(s)
        return i


def fmt_num(x: float) -> str:
    return f"{x:.6g}"


def fmt_range(rng: tuple[float | None, float | None]) -> str:
    lo, hi = rng
    left = "(-inf" if lo is None else f"[{fmt_num(lo)}"
    right = "inf)" if hi is None else f"{fmt_num(hi)}]"
    return f"{left}, {right}"


def range_violation(values: np.ndarray, rng: tuple[float | None, float | None] | None) -> np.ndarray:
    """Where a finite value lies outside ``rng`` (beyond a relative tolerance of ``RANGE_TOL``)."""
    out = np.zeros(values.shape, dtype=bool)
    if rng is None:
        return out
    lo, hi = rng
    with np.errstate(invalid="ignore"):
        if lo is not None:
            out |= values < lo - RANGE_TOL * max(1.0, abs(lo))
        if hi is not None:
            out |= values > hi + RANGE_TOL * max(1.0, abs(hi))
    return out


def _missing_reason(names: Sequence[str]) -> str:
    return f"missing input{'s' if len(names) > 1 else ''}: {', '.join(names)}"


def _pattern_reasons(nan_cols: Sequence[np.ndarray], names: Sequence[str], pool: Pool) -> np.ndarray:
    """Reason ids for rows with missing inputs (``nan_cols[i]``: is ``names[i]`` missing, per row)."""
    if len(names) <= 16:  # a bit pattern per row; the distinct patterns found by counting
        pat = np.zeros(len(nan_cols[0]), dtype=np.int64)
        for b, c in enumerate(nan_cols):
            pat |= c.astype(np.int64) << b
        seen = np.flatnonzero(np.bincount(pat, minlength=1 << len(names)))
        lookup = np.zeros(1 << len(names), dtype=np.int32)
        for q in seen:
            lookup[q] = pool.id(_missing_reason([v for b, v in enumerate(names) if (int(q) >> b) & 1]))
        return lookup[pat]
    pats, inv = np.unique(np.stack(nan_cols, axis=1), axis=0, return_inverse=True)
    ids = np.array([pool.id(_missing_reason([v for v, b in zip(names, p, strict=True) if b])) for p in pats],
                   dtype=np.int32)
    return ids[np.ravel(inv)]


@dataclass
class Evaluated:
    """Results of a set of indicators over the rows of a :class:`Wide` (arrays are indicators × rows)."""

    codes: list[str]
    value: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    formula: np.ndarray
    inputs: list[list[tuple[np.ndarray | None, pa.Array]]] | None  # per indicator: (rows, JSON) pieces
    reasons: Pool
    formulas: Pool


def _evaluate_on(
    res: Evaluated, j: int, ind: Indicator, text: str, rows: np.ndarray | None, wide: Wide,
    params: Mapping[str, float], with_inputs: bool,
) -> None:
    """Evaluate ``text`` for indicator ``j`` on ``rows`` (None = all rows) and store value/status/reason."""
    f = parse_formula(text)
    var_names = sorted(n for n in f.names if n not in params)
    par_names = sorted(n for n in f.names if n in params)
    m = wide.n if rows is None else len(rows)
    env: dict[str, Any] = {}
    for v in var_names:
        col = wide.column(v)
        env[v] = col if rows is None else col[rows]
    for p in par_names:
        env[p] = params[p]
    with np.errstate(all="ignore"):
        raw = f.evaluate(env)
    val = np.array(np.broadcast_to(np.asarray(raw, dtype=np.float64), (m,)), dtype=np.float64)
    status = np.zeros(m, dtype=np.int8)  # ok
    reason = np.zeros(m, dtype=np.int32)
    pool = res.reasons

    # missing inputs: one bit per variable, one reason per distinct pattern
    if var_names:
        nan_cols = [np.isnan(env[v]) for v in var_names]
        any_miss = np.logical_or.reduce(nan_cols) if len(nan_cols) > 1 else nan_cols[0]
        if any_miss.any():
            rows_m = np.flatnonzero(any_miss)
            ids = _pattern_reasons([c[rows_m] for c in nan_cols], var_names, pool)
            status[rows_m] = _CODE[MISSING]
            reason[rows_m] = ids
            val[rows_m] = np.nan
    else:
        any_miss = np.zeros(m, dtype=bool)

    # undefined: every input present but no finite value (zero denominator, log of 0, …)
    bad = ~any_miss & ~np.isfinite(val)
    if bad.any():
        bad_idx = np.flatnonzero(bad)
        benv = {k: (v[bad_idx] if isinstance(v, np.ndarray) else v) for k, v in env.items()}
        rid = np.full(len(bad_idx), -1, dtype=np.int32)
        for dtext, dform in _denominators(text):
            with np.errstate(all="ignore"):
                d = np.broadcast_to(np.asarray(dform.evaluate(benv), dtype=np.float64), rid.shape)
            z = (d == 0) & (rid < 0)
            if z.any():
                rid[z] = pool.id(f"division by zero: {dtext} = 0")
        rid[rid < 0] = pool.id("undefined: the formula has no finite value for these inputs")
        status[bad_idx] = _CODE[UNDEFINED]
        reason[bad_idx] = rid
        val[bad_idx] = np.nan

    # range check: flagged, kept
    out = range_violation(val, ind.range) & (status == _CODE[OK])
    if out.any():
        rng = fmt_range(ind.range)  # type: ignore[arg-type]
        idx = np.flatnonzero(out)
        status[idx] = _CODE[FLAGGED]
        reason[idx] = [pool.id(f"value {fmt_num(x)} outside the declared range {rng}") for x in val[idx]]

    sel = slice(None) if rows is None else rows
    res.value[j, sel] = val
    res.status[j, sel] = status
    res.reason[j, sel] = reason
    res.formula[j, sel] = res.formulas.id(f.text)
    if with_inputs and res.inputs is not None:
        res.inputs[j].append((rows, _inputs_json(env, var_names, par_names, params, m)))


def _inputs_json(
    env: Mapping[str, Any], var_names: Sequence[str], par_names: Sequence[str], params: Mapping[str, float], m: int
) -> pa.Array:
    """Per row, a JSON object of the variables (``null`` when missing) and parameters read: built by
    pyarrow kernels (float → text casts and an element-wise join), not a Python loop per row."""
    items: list[Any] = []
    text = "{"
    for k, v in enumerate(var_names):
        a = pa.array(env[v])
        num = pc.if_else(pc.is_nan(a), pa.scalar("null", pa.large_string()), pc.cast(a, pa.large_string()))
        items += [pa.scalar(f'{text}{", " if k else ""}"{v}": ', pa.large_string()), num]
        text = ""
    pars = ", ".join(f'"{p}": {params[p]!r}' for p in par_names)
    tail = (", " if var_names and pars else "") + pars + "}"
    if not var_names:
        return pa.array(["{" + tail] * m, type=pa.large_string())
    items.append(pa.scalar(tail, pa.large_string()))
    return pc.binary_join_element_wise(*items, pa.scalar("", pa.large_string()))


def _sector_label(allowed: Sequence[str]) -> str:
    return ", ".join(allowed)


def evaluate_indicators(
    indicators: Sequence[Indicator],
    wide: Wide,
    params: Mapping[str, float],
    *,
    row_sector: np.ndarray | None = None,
    with_inputs: bool = False,
    entity_word: str = "institution",
) -> Evaluated:
    """Evaluate formula indicators on every row of ``wide``.

    ``row_sector`` (codes into ``SECTORS``) picks each row's variant and decides applicability; with
    None every row takes the indicator's plain formula (regions, industries).
    """
    k, n = len(indicators), wide.n
    res = Evaluated(
        codes=[i.code for i in indicators],
        value=np.full((k, n), np.nan),
        status=np.zeros((k, n), dtype=np.int8),
        reason=np.zeros((k, n), dtype=np.int32),
        formula=np.zeros((k, n), dtype=np.int32),  # 0 = no formula (not applicable)
        inputs=[[] for _ in range(k)] if with_inputs else None,
        reasons=Pool(),
        formulas=Pool([None]),  # type: ignore[list-item]
    )
    if row_sector is None:
        groups: list[tuple[str | None, np.ndarray | None]] = [(None, None)]
    else:
        present = np.unique(row_sector)
        groups = [(SECTORS[s], np.flatnonzero(row_sector == s)) for s in present]
        if len(groups) == 1:
            groups = [(groups[0][0], None)]
    for j, ind in enumerate(indicators):
        by_text: dict[str | None, list[tuple[str | None, np.ndarray | None]]] = {}
        for sector, rows in groups:
            by_text.setdefault(ind.formula_for(sector), []).append((sector, rows))
        for text, members in by_text.items():
            if len(members) == len(groups):
                rows = None
            else:
                parts = [r for _, r in members]
                rows = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))  # type: ignore[arg-type]
            if text is not None:
                _evaluate_on(res, j, ind, text, rows, wide, params, with_inputs)
                continue
            allowed = list(ind.sectors) or [s for s in SECTORS if any(s in v.sectors for v in ind.variants)]
            for sector, srows in members:
                sel = slice(None) if srows is None else srows
                if sector is None:
                    msg = f"{ind.code} has no formula for {entity_word}s without a sector"
                else:
                    msg = (
                        f"{ind.code} applies to {_sector_label(allowed)} only; "
                        f"this {entity_word} is {sector}"
                    )
                res.status[j, sel] = _CODE[NOT_APPLICABLE]
                res.reason[j, sel] = res.reasons.id(msg)
    return res


def assemble(res: Evaluated, wide: Wide, fw_version: str, columns: Sequence[str] = J_COLUMNS) -> pd.DataFrame:
    """The long frame (one row per row of ``wide`` × indicator; rows in entity, period, code order)."""
    k, n = res.value.shape
    total = k * n
    rows = np.repeat(np.arange(n), k)
    data: dict[str, Any] = {
        "entity_id": wide.entity_of_rows(rows),
        "period": wide.period_of_rows(rows),
        "code": categories(res.codes, np.tile(np.arange(k, dtype=np.int64), n)),
        "value": res.value.T.ravel(),
        "status": categories(STATUSES, res.status.T.ravel()),
        "reason": categories(res.reasons.items, res.reason.T.ravel()),
        "inputs": pd.array(
            _inputs_column(res) if res.inputs is not None else pa.nulls(total, pa.large_string()), dtype="str"
        ),
        "formula": categories(res.formulas.items[1:], res.formula.T.ravel() - 1),  # id 0 (none) → NaN
        "framework_version": categories([fw_version], np.zeros(total, dtype=np.int8)),
    }
    return pd.DataFrame({c: data[c] for c in columns if c in data}, copy=False)


def _inputs_column(res: Evaluated) -> pa.Array:
    """The JSON pieces of every indicator, laid out in the frame's (row, indicator) order."""
    assert res.inputs is not None
    k, n = res.value.shape
    index = np.full((k, n), -1, dtype=np.int64)
    chunks: list[pa.Array] = []
    offset = 0
    for j, pieces in enumerate(res.inputs):
        for rows, arr in pieces:
            index[j, slice(None) if rows is None else rows] = np.arange(offset, offset + len(arr))
            offset += len(arr)
            chunks.append(arr.cast(pa.large_string()))
    if not chunks:
        return pa.nulls(k * n, pa.large_string())
    idx = index.T.ravel()
    return pa.concat_arrays(chunks).take(pa.array(idx, mask=idx < 0))


def empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    dtypes = {"value": "float64", "n_institutions": "Int64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "str")) for c in columns})


# ----------------------------------------------------------------------------------------------------
# public
# ----------------------------------------------------------------------------------------------------
def derive_institutions(
    obs: pd.DataFrame,
    institutions: pd.DataFrame,
    framework: Framework | str,
    params: Mapping[str, Any] | None = None,
    *,
    with_inputs: bool = False,
) -> pd.DataFrame:
    """Every J indicator for every (institution, period) that has observations.

    Parameters
    ----------
    obs:
        Long observations: ``entity_kind`` ('institution' | 'region'; optional, only the
        'institution' rows are read), ``entity_id``, ``period``, ``variable``, ``value`` (float,
        NaN = missing). Duplicate (entity, period, variable) rows are a :class:`DataError`.
    institutions:
        ``entity_id``, ``sector`` (bank / securities / insurance / payment / other) and optionally
        ``region_code``. Every institution in ``obs`` must be listed.
    framework:
        A :class:`Framework` or its id (e.g. ``"jrt0201-2020"``).
    params:
        Overrides of the framework's parameters (the weights the standard leaves open); unknown
        names raise :class:`SpecError` naming them.
    with_inputs:
        Record in ``inputs`` a JSON object of the input values used (``null`` for a missing one) and
        the parameters read, per row. Off by default: for a bulk derivation (50,000 institution-years
        × 51 indicators) building 2.5 million JSON strings costs several times the derivation itself,
        so ``inputs`` is then left empty (NaN). Turn it on for audit trails and small runs.

    Returns
    -------
    One row per institution × period × J indicator (in entity, period, framework order) with columns
    ``entity_id, period, code, value, status, reason, inputs, formula, framework_version``.
    ``status`` is one of :data:`STATUSES` (see the module doc); ``reason`` is "" for ``ok``;
    ``formula`` is the formula text applied (the sector's variant; NaN when not applicable);
    ``framework_version`` is ``"<id>@<version>"``. ``code``, ``status``, ``reason``, ``formula`` and
    ``framework_version`` are categorical (a few distinct strings over millions of rows: comparisons
    such as ``df.status == "ok"`` work as for strings; ``.astype(str)`` gives plain strings);
    ``entity_id`` and ``period`` keep the dtypes of ``obs``.
    """
    fw = as_framework(framework)
    p = resolve_params(fw, params)
    wide = pivot_observations(obs, "institution")
    if wide.n == 0:
        return empty_frame(J_COLUMNS)
    table = institution_sectors(institutions, wide.entities)
    res = evaluate_institutions(wide, table, fw, p, with_inputs=with_inputs)
    return assemble(res, wide, framework_version(fw))


def evaluate_institutions(
    wide: Wide, table: pd.DataFrame, fw: Framework, params: Mapping[str, float], *, with_inputs: bool = False
) -> Evaluated:
    """The J indicators over the rows of ``wide`` (``table``: the institutions aligned on its entities)."""
    indicators = [i for i in fw.indicators(block="J") if i.rollup is None]
    sec_code = pd.Index(SECTORS).get_indexer(table["sector"].to_numpy())
    row_sector = sec_code[wide.row_entity]
    return evaluate_indicators(indicators, wide, params, row_sector=row_sector, with_inputs=with_inputs)
