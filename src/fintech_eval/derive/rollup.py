"""Industry (H) and region (Q) indicators: roll-ups of institutions, and formulas over region data.

    h = derive_industry(obs, institutions, j_values, fw)
    q = derive_regions(obs, fw)                                          # Q formulas over q_* variables
    q = derive_regions(obs, fw, institutions=institutions, j_values=j)   # + Q roll-ups by region_code

A roll-up (:class:`~fintech_eval.catalog.models.Rollup`) groups the institutions by ``group_by``:

* ``sector``: the four industries of the standard, bank / securities / insurance / payment
  (institutions of sector ``other`` belong to no industry and are left out);
* ``region``: the institutions' ``region_code`` (institutions without one are left out); when the
  indicator lists ``sectors``, only the institutions of those sectors are rolled up (e.g. banks and
  payment institutions for a regional bar-code payment share).

and computes, per group and period, over the institutions that have observations in that period:

* ``ratio_of_sums``: Σ numerator ÷ Σ denominator over the institutions for which both formulas have a
  value (a zero Σ denominator gives ``undefined``);
* ``mean``: the simple (unweighted) mean of the institution indicator ``of`` over the institutions
  whose value is ``ok`` (a ``flagged`` out-of-range, ``missing`` or ``undefined`` value is left out);
  ``of`` may also name a raw variable (then: over the institutions that report it);
* ``sum``: the sum of the same values;
* ``share``: institutions for which ``condition`` holds ÷ **all the group's institutions in the round**
  (the text of H-A2B2-C1 and H-A4B2-C2: 占该行业机构总数的比例): the ``population`` passed in (a
  campaign's sample; by default every institution of the ``institutions`` table, i.e. the register) of
  that group, plus any institution of the group that reported without being in it. An institution that
  does not report the condition's inputs counts as not meeting it (and the reason names it). With the
  framework parameter ``share_reporting_only = 1`` the denominator is the institutions for which the
  condition can be evaluated (those that report its inputs) instead;
* ``count``: institutions for which ``condition`` holds (institutions without its inputs left out),
  or, without a condition, all the institutions of the group.

**Institutions with missing inputs** are excluded from the group's value, never counted as zero.
``n_institutions`` is the number of institutions that entered the value; ``reason`` reports the
exclusions ("2 of 3 institutions used; excluded: B3 (missing input: operating_revenue)", at most five
named). A group where no institution has the inputs gets ``missing``. Institutions to which the rolled-up
J indicator does not apply are left out without being counted as excluded.

**Not applicable.** An industry (sector group) gets ``not_applicable`` when the indicator is restricted
to other sectors (e.g. H-A2B1-C4: bank, payment), when the J indicator it averages does not apply to
the sector, or when every input variable it reads is asked of other sectors only (e.g. H-A2B2-C1 reads
``robo_advisory_txn``, asked of banks, securities firms and insurers: not applicable to payment).

The value of a roll-up is range-checked like a J value (``flagged``, kept).

**An industry's own figures.** A roll-up may declare ``reported``: a formula over the industry's own
figures (``entity_kind`` industry, variables ``h_*``, collected from reports or government open data,
collection R or G; e.g. H-A2B1-C4 from the PBoC's payment statistics, H-A4B2-C1 as a count of distinct
standard projects). Where an industry gives every variable that formula reads for a period, it is the value
(its reason says so, ``n_institutions`` is empty): it covers the whole industry, the roll-up only the
institutions that answered. Otherwise the roll-up stands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..catalog.models import SECTORS, Framework, Indicator, Rollup
from ..errors import DataError
from .institutions import (
    _CODE,
    FLAGGED,
    MISSING,
    NOT_APPLICABLE,
    OK,
    STATUSES,
    UNDEFINED,
    Evaluated,
    Wide,
    as_framework,
    assemble,
    check_columns,
    empty_frame,
    evaluate_indicators,
    evaluate_institutions,
    fmt_num,
    fmt_range,
    framework_version,
    institution_sectors,
    parse_formula,
    pivot_observations,
    range_violation,
    resolve_params,
)

INDUSTRIES: tuple[str, ...] = ("bank", "securities", "insurance", "payment")
AGG_COLUMNS = [
    "entity_id", "period", "code", "value", "status", "reason", "n_institutions", "inputs", "formula",
    "framework_version",
]
MAX_NAMED = 5
#: The framework parameter that switches the denominator of a ``share`` to the reporting institutions.
SHARE_BASE = "share_reporting_only"
#: Framework parameters a roll-up method reads (beside those of its formulas).
METHOD_PARAMETERS: dict[str, tuple[str, ...]] = {"share": (SHARE_BASE,)}


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------
def _formula_vars(text: str, params: Mapping[str, float]) -> list[str]:
    return sorted(n for n in parse_formula(text).names if n not in params)


def _rollup_text(r: Rollup, params: Mapping[str, float]) -> str:
    by = f" by {r.group_by}"
    if r.method == "ratio_of_sums":
        return f"ratio_of_sums: Σ({r.numerator}) / Σ({r.denominator}){by}"
    if r.method in ("mean", "sum"):
        return f"{r.method} of {r.of}{by}"
    if r.method == "share":
        base = "reporting" if params.get(SHARE_BASE) else "institutions in the round"
        return f"share: count({r.condition}) / count({base}){by}"
    return f"count({r.condition or 'institutions'}){by}"


def _rollup_vars(fw: Framework, r: Rollup, params: Mapping[str, float]) -> list[str]:
    names: set[str] = set()
    for t in (r.numerator, r.denominator, r.condition):
        if t is not None:
            names.update(_formula_vars(t, params))
    if r.of is not None and r.of in {v.name for v in fw.variables}:
        names.add(r.of)
    return sorted(names)


def _j_codes(fw: Framework) -> set[str]:
    return {i.code for i in fw.indicators(block="J")}


def _not_applicable(
    fw: Framework, ind: Indicator, sector: str, params: Mapping[str, float], jcodes: set[str]
) -> str | None:
    """Why the industry indicator ``ind`` does not apply to ``sector`` (None: it applies)."""
    r = ind.rollup
    assert r is not None
    if ind.sectors and sector not in ind.sectors:
        return f"{ind.code} applies to the {', '.join(ind.sectors)} industries only; this is {sector}"
    if r.of is not None and r.of in jcodes:
        j = fw.indicator(r.of)
        if j.formula_for(sector) is None:
            return f"{ind.code} rolls up {r.of}, which does not apply to {sector} institutions"
    names = _rollup_vars(fw, r, params)
    declared = {v.name: v for v in fw.variables}
    restricted = [declared[n] for n in names if n in declared]
    if restricted and len(restricted) == len(names) and all(v.sectors and sector not in v.sectors for v in restricted):
        asked = sorted({s for v in restricted for s in v.sectors}, key=SECTORS.index)
        return (
            f"{ind.code} reads {', '.join(names)}, asked of {', '.join(asked)} institutions only; "
            f"this is {sector}"
        )
    return None


def _eval_rows(text: str, wide: Wide, params: Mapping[str, float]) -> np.ndarray:
    f = parse_formula(text)
    env: dict[str, Any] = {n: (params[n] if n in params else wide.column(n)) for n in f.names}
    with np.errstate(all="ignore"):
        out = np.asarray(f.evaluate(env), dtype=np.float64)
    out = np.array(np.broadcast_to(out, (wide.n,)), dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _region_labels(regions: pd.Series) -> np.ndarray:
    """Region codes as text (110000, 110000.0 and "110000" alike); None where there is none."""
    out = np.full(len(regions), None, dtype=object)
    for i, x in enumerate(regions.to_numpy(dtype=object)):
        if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
            continue
        if isinstance(x, float | np.floating) and float(x).is_integer():
            x = int(x)
        out[i] = str(x).strip() or None
    return out


def _positions(s: pd.Series, labels: Sequence[str]) -> np.ndarray:
    """Position of each value of ``s`` in ``labels`` (-1 when absent); fast for a categorical."""
    index = pd.Index(list(labels), dtype="str")
    if isinstance(s.dtype, pd.CategoricalDtype):
        cat_pos = index.get_indexer(s.cat.categories.astype("str"))
        codes = s.cat.codes.to_numpy()
        return np.where(codes >= 0, cat_pos[codes], -1).astype(np.int64)
    return index.get_indexer(s.astype("str")).astype(np.int64)


class _JLookup:
    """J values and statuses of a set of codes, aligned on the rows of the institution :class:`Wide`."""

    def __init__(self, values: dict[str, np.ndarray], status: dict[str, np.ndarray]):
        self.values = values
        self.status = status  # status codes into STATUSES, -1 = absent

    @classmethod
    def from_evaluated(cls, res: Evaluated, codes: Sequence[str]) -> _JLookup:
        pos = {c: i for i, c in enumerate(res.codes)}
        return cls(
            {c: res.value[pos[c]] for c in codes if c in pos},
            {c: res.status[pos[c]].astype(np.int64) for c in codes if c in pos},
        )

    @classmethod
    def from_frame(cls, j_values: pd.DataFrame, codes: Sequence[str], wide: Wide) -> _JLookup:
        need = ("entity_id", "period", "code", "value", "status")
        check_columns(j_values, need, "j_values")
        code_of = _positions(j_values["code"], codes)  # -1: another code
        sel = np.flatnonzero(code_of >= 0)
        sub = j_values.iloc[sel]
        code_of = code_of[sel]
        row = wide.rows_of(sub["entity_id"], sub["period"])
        st_all = _positions(sub["status"], STATUSES)
        v_all = sub["value"].to_numpy(dtype=np.float64, na_value=np.nan)
        values: dict[str, np.ndarray] = {}
        status: dict[str, np.ndarray] = {}
        for k, code in enumerate(codes):
            m = (code_of == k) & (row >= 0)
            r = row[m]
            seen = np.zeros(wide.n, dtype=bool)
            seen[r] = True
            if np.count_nonzero(seen) != len(r):
                raise DataError(f"j_values: duplicate rows for {code}", rule="data.duplicate", indicator=code)
            v = np.full(wide.n, np.nan)
            st = np.full(wide.n, -1, dtype=np.int64)
            v[r] = v_all[m]
            st[r] = st_all[m]
            values[code], status[code] = v, st
        return cls(values, status)


def _exclusion_reason(row: int, wide: Wide, ind: Indicator, names: Sequence[str], jl: _JLookup | None) -> str:
    r = ind.rollup
    assert r is not None
    if r.of is not None and jl is not None and r.of in jl.status:
        s = int(jl.status[r.of][row])
        return f"{r.of} {'absent from j_values' if s < 0 else STATUSES[s]}"
    missing = [n for n in names if np.isnan(wide.column(n)[row])]
    if missing:
        return f"missing input{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    return "inputs give no finite value"


# ----------------------------------------------------------------------------------------------------
# roll-up engine
# ----------------------------------------------------------------------------------------------------
def _rollups(
    indicators: Sequence[Indicator],
    fw: Framework,
    params: Mapping[str, float],
    wide: Wide,
    table: pd.DataFrame,
    jl: _JLookup | None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per indicator × group × period (groups: industries or regions, by each roll-up).
    ``population``: the institutions of the round (``entity_id``, ``sector``, ``region_code``), the
    denominator of a ``share`` (module doc); None: the reporting institutions."""
    fw_v = framework_version(fw)
    var_names = {v.name for v in fw.variables}
    sectors = table["sector"].to_numpy()
    regions = table["region_code"]
    n_p = len(wide.periods)
    jcodes = _j_codes(fw)
    ent_names = [str(e) for e in wide.entities]
    out_rows: list[dict[str, Any]] = []
    groupings: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}

    def grouping(by: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(group labels, member rows mask, group-period cell per row, institutions per cell)."""
        if by not in groupings:
            if by == "sector":
                present = set(sectors)
                labels = [s for s in INDUSTRIES if s in present]
                ent_group = pd.Index(labels).get_indexer(sectors)
            else:
                reg = _region_labels(regions)
                labels = sorted({x for x in reg if x is not None})
                ent_group = pd.Index(labels).get_indexer(reg) if labels else np.full(len(reg), -1)
            row_group = ent_group[wide.row_entity]
            member = row_group >= 0
            gkey = np.where(member, row_group * n_p + wide.row_period, 0)
            n_members = np.bincount(gkey[member], minlength=len(labels) * n_p)
            groupings[by] = (labels, member, gkey, n_members)
        return groupings[by]

    pop_ids = None if population is None else set(population["entity_id"].astype(str))
    in_pop_row = None if pop_ids is None else np.isin(np.asarray(ent_names, dtype=object), list(pop_ids))[wide.row_entity]

    def round_counts(by: str, labels: list[str], member: np.ndarray, gkey: np.ndarray, only: Sequence[str]) -> np.ndarray:
        """Institutions of each group-period cell in the round: the population's, plus those that reported
        without being in it (an institution that reported is one of its industry's)."""
        size = len(labels) * n_p
        if population is None:
            return np.bincount(gkey[member], minlength=size)
        pop = population[population["sector"].isin(list(only))] if only else population
        key = pop["sector"].astype(str).to_numpy() if by == "sector" else _region_labels(pop["region_code"])
        g = pd.Index(labels).get_indexer(pd.Index(key, dtype=object)) if len(pop) else np.zeros(0, dtype=np.int64)
        per_group = np.bincount(g[g >= 0], minlength=len(labels))
        outside = member & ~in_pop_row  # type: ignore[operator]
        return np.repeat(per_group, n_p) + np.bincount(gkey[outside], minlength=size)

    for ind in indicators:
        r = ind.rollup
        assert r is not None
        labels, member, gkey, n_members = grouping(r.group_by)
        n_g = len(labels)
        if n_g == 0:
            continue
        size = n_g * n_p
        if r.group_by == "region" and ind.sectors:  # a region roll-up of some sectors' institutions only
            member = member & np.isin(sectors[wide.row_entity], list(ind.sectors))
            n_members = np.bincount(gkey[member], minlength=size)

        j_na = np.zeros(wide.n, dtype=bool)
        num = den = None
        if r.method == "ratio_of_sums":
            num = _eval_rows(r.numerator, wide, params)  # type: ignore[arg-type]
            den = _eval_rows(r.denominator, wide, params)  # type: ignore[arg-type]
            contrib = member & ~np.isnan(num) & ~np.isnan(den)
        elif r.method in ("mean", "sum"):
            if jl is not None and r.of in jl.values:
                st = jl.status[r.of]
                x = np.where(st == _CODE[OK], jl.values[r.of], np.nan)
                j_na = member & (st == _CODE[NOT_APPLICABLE])
            elif r.of in var_names:
                x = wide.column(r.of)  # type: ignore[arg-type]
            else:
                raise DataError(f"{ind.code}: roll-up of {r.of!r}, which is neither a J indicator nor a variable",
                                rule="rollup.unknown", indicator=ind.code)
            contrib = member & ~np.isnan(x)
        elif r.condition is not None:  # share, count with a condition
            x = _eval_rows(r.condition, wide, params)
            contrib = member & ~np.isnan(x)
        else:  # count of all institutions
            x = np.ones(wide.n)
            contrib = member
        excluded = member & ~contrib & ~j_na
        n_used = np.bincount(gkey[contrib], minlength=size)
        n_na = np.bincount(gkey[j_na], minlength=size)

        if r.method == "ratio_of_sums":
            s_num = np.bincount(gkey[contrib], weights=num[contrib], minlength=size)  # type: ignore[index]
            s_den = np.bincount(gkey[contrib], weights=den[contrib], minlength=size)  # type: ignore[index]
            with np.errstate(all="ignore"):
                value = s_num / s_den
            undefined = (n_used > 0) & (s_den == 0)
            extras = [{"sum_numerator": float(a), "sum_denominator": float(b)} for a, b in zip(s_num, s_den, strict=True)]
        elif r.method in ("mean", "sum"):
            s = np.bincount(gkey[contrib], weights=x[contrib], minlength=size)
            with np.errstate(all="ignore"):
                value = s / n_used if r.method == "mean" else s.astype(float)
            undefined = np.zeros(size, dtype=bool)
            extras = [{"sum": float(a)} for a in s]
        elif r.method == "share":
            hits = np.bincount(gkey[contrib], weights=(x[contrib] != 0).astype(float), minlength=size)
            of_all = not params.get(SHARE_BASE)
            n_round = round_counts(r.group_by, labels, member, gkey, ind.sectors if r.group_by == "region" else ())
            with np.errstate(all="ignore"):
                value = hits / (n_round if of_all else n_used)
            undefined = np.zeros(size, dtype=bool)
            extras = [{"n_condition_true": int(a), **({"n_reporting": int(b), "n_round": int(c)} if of_all else {})}
                      for a, b, c in zip(hits, n_used, n_round, strict=True)]
        else:  # count
            hits = np.bincount(gkey[contrib], weights=(x[contrib] != 0).astype(float), minlength=size)
            value = hits.astype(float)
            undefined = np.zeros(size, dtype=bool)
            extras = [{"n_condition_true": int(a)} for a in hits]

        out_of_range = range_violation(np.asarray(value, dtype=np.float64), ind.range)

        # exclusions, grouped by cell (only the first MAX_NAMED per cell are described)
        ex_rows = np.flatnonzero(excluded)
        ex_by_cell: dict[int, np.ndarray] = {}
        if len(ex_rows):
            order = np.argsort(gkey[ex_rows], kind="stable")
            ex_sorted = ex_rows[order]
            keys, starts = np.unique(gkey[ex_sorted], return_index=True)
            bounds = [*starts[1:], len(ex_sorted)]
            ex_by_cell = {int(k): ex_sorted[a:b] for k, a, b in zip(keys, starts, bounds, strict=True)}

        text = _rollup_text(r, params)
        in_names = _rollup_vars(fw, r, params)
        for g, label in enumerate(labels):
            na_reason = _not_applicable(fw, ind, label, params, jcodes) if r.group_by == "sector" else None
            for p in range(n_p):
                c = g * n_p + p
                row: dict[str, Any] = {
                    "entity_id": str(label), "period": wide.periods[p], "code": ind.code, "formula": text,
                    "framework_version": fw_v,
                }
                if na_reason is not None:
                    row.update(value=np.nan, status=NOT_APPLICABLE, reason=na_reason, n_institutions=0, inputs=None)
                    out_rows.append(row)
                    continue
                n_u, n_m, n_x = int(n_used[c]), int(n_members[c]), len(ex_by_cell.get(c, ()))
                notes = []
                share_of_all = r.method == "share" and not params.get(SHARE_BASE)
                if share_of_all and n_u:
                    n_all = extras[c]["n_round"]
                    named = ", ".join(ent_names[wide.row_entity[i]] for i in ex_by_cell.get(c, ())[:MAX_NAMED])
                    more = f" and {n_x - MAX_NAMED} more" if n_x > MAX_NAMED else ""
                    silent = n_all - n_u - n_x  # in the round, no observations at all in the period
                    parts = [f"{n_x} reported no {', '.join(in_names)} ({named}{more})"] if n_x else []
                    parts += [f"{silent} sent no return"] if silent > 0 else []
                    if parts:
                        notes.append(f"share of all {n_all} institutions in the round; {' and '.join(parts)}: "
                                     f"counted as not meeting {r.condition} (share_reporting_only=1 divides by the "
                                     f"{n_u} reporting)")
                elif n_x:
                    ex = ex_by_cell[c]
                    named = ", ".join(
                        f"{ent_names[wide.row_entity[i]]} ({_exclusion_reason(int(i), wide, ind, in_names, jl)})"
                        for i in ex[:MAX_NAMED]
                    )
                    more = f" and {n_x - MAX_NAMED} more" if n_x > MAX_NAMED else ""
                    notes.append(f"{n_u} of {n_u + n_x} institutions used; excluded: {named}{more}")
                if n_na[c]:
                    notes.append(f"{int(n_na[c])} institution(s) to which {r.of} does not apply left out")
                inputs = {"method": r.method, "n_institutions": n_u, "n_excluded": n_x, **extras[c]}
                if share_of_all:
                    inputs["n_institutions"] = extras[c]["n_round"]
                v = float(value[c])
                if n_m == 0:
                    who = (
                        f"no {label} institution"
                        if r.group_by == "sector"
                        else f"no institution{' of ' + ', '.join(ind.sectors) if ind.sectors else ''} in {label}"
                    )
                    status, v = MISSING, np.nan
                    reason = f"{who} has observations in period {wide.periods[p]}"
                elif n_u == 0:
                    status, v = MISSING, np.nan
                    reason = "no institution reports the inputs" + (f" ({'; '.join(notes)})" if notes else "")
                elif undefined[c]:
                    status, v = UNDEFINED, np.nan
                    reason = "; ".join([f"division by zero: Σ({r.denominator}) = 0", *notes])
                elif not np.isfinite(v):
                    status, v, reason = UNDEFINED, np.nan, "; ".join(["no finite value", *notes])
                elif out_of_range[c]:
                    status = FLAGGED
                    reason = "; ".join(
                        [f"value {fmt_num(v)} outside the declared range {fmt_range(ind.range)}", *notes]  # type: ignore[arg-type]
                    )
                else:
                    status, reason = OK, "; ".join(notes)
                row.update(value=v, status=status, reason=reason, n_institutions=inputs["n_institutions"] if status != MISSING else n_u,
                           inputs=json.dumps(inputs))
                out_rows.append(row)
    if not out_rows:
        return empty_frame(AGG_COLUMNS)
    return _frame(out_rows)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in ("entity_id", "code", "status", "reason", "inputs", "formula", "framework_version"):
        df[c] = df[c].astype("str") if c != "inputs" else pd.array(df[c].tolist(), dtype="str")
    df["value"] = df["value"].astype("float64")
    df["n_institutions"] = df["n_institutions"].astype("Int64")
    return df[AGG_COLUMNS]


def round_population(institutions: pd.DataFrame | None, ids: Sequence[str] | None = None) -> pd.DataFrame | None:
    """The institutions of the round (``entity_id``, ``sector``, ``region_code``): those of ``institutions``
    whose id is in ``ids`` (a campaign's sample), or all of them; None without a table."""
    if institutions is None:
        return None
    key = "entity_id" if "entity_id" in institutions.columns else "id"
    pop = institutions.assign(entity_id=institutions[key].astype(str))
    if "region_code" not in pop.columns:
        pop = pop.assign(region_code=None)
    if ids is not None:
        pop = pop[pop["entity_id"].isin({str(i) for i in ids})]
    return pop[["entity_id", "sector", "region_code"]]


def _reported(indicators: Sequence[Indicator], obs: pd.DataFrame, fw: Framework, params: Mapping[str, float],
              entity: str) -> pd.DataFrame | None:
    """The roll-up indicators' ``reported`` formulas over the groups' own figures (entity ``entity``: an
    industry's figures from reports or government data), for the groups and periods that give every variable
    a formula reads (a group that gives some of them gets the roll-up, and its reason names what is missing);
    a group outside an indicator's sectors gets none (the roll-up says not applicable)."""
    inds = [i for i in indicators if i.rollup is not None and i.rollup.reported]
    if not inds or "entity_kind" not in obs.columns or not (obs["entity_kind"] == entity).any():
        return None
    wide = pivot_observations(obs, entity)
    if not wide.n:
        return None
    as_formula = [i.model_copy(update={"formula": i.rollup.reported, "rollup": None, "sectors": []}) for i in inds]  # type: ignore[union-attr]
    res = evaluate_indicators(as_formula, wide, params, with_inputs=True, entity_word=entity)
    f = assemble(res, wide, framework_version(fw))
    sectors = {i.code: i.sectors for i in inds}
    applies = np.array([not sectors[c] or str(e) in sectors[c] for c, e in zip(f["code"], f["entity_id"], strict=True)], dtype=bool)
    keep = (f["status"].astype(str) != MISSING).to_numpy() & applies
    f = f[keep].copy()
    if f.empty:
        return None
    for c in ("entity_id", "code", "status", "formula", "framework_version"):
        f[c] = f[c].astype("str")
    src = {i.code: i.rollup.reported for i in inds}  # type: ignore[union-attr]
    f["reason"] = [("; ".join(x for x in (f"the {entity}'s own figures (reported: {src[c]}), not the roll-up of its institutions",
                                          str(r) if isinstance(r, str) else "") if x))
                   for c, r in zip(f["code"], f["reason"], strict=True)]
    f["n_institutions"] = pd.array([pd.NA] * len(f), dtype="Int64")
    return f[AGG_COLUMNS].reset_index(drop=True)


def _without(frame: pd.DataFrame, reported: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the (entity, period, code) cells that ``reported`` gives."""
    key = ["entity_id", "period", "code"]
    taken = pd.MultiIndex.from_frame(reported[key].astype(str))
    mine = pd.MultiIndex.from_frame(frame[key].astype(str))
    return frame[~mine.isin(taken)]


def _derive_block(
    block: str,
    obs: pd.DataFrame,
    fw: Framework,
    params: Mapping[str, Any] | None,
    institutions: pd.DataFrame | None,
    j_values: pd.DataFrame | None,
    *,
    shared: tuple[Wide, pd.DataFrame, Evaluated] | None = None,
    population: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The indicators of ``block`` (H or Q): formulas over the block's own entities, roll-ups of institutions.

    ``shared`` = (institution Wide, its institutions table, its evaluated J) from :func:`derive_all`,
    to pivot and evaluate the institutions once for all blocks. ``population``: the ids of the institutions
    in the round (the denominator of a ``share``); None: every institution of ``institutions``.
    """
    p = resolve_params(fw, params)
    head = next((b for b in fw.blocks if b.code == block), None)
    if head is None:
        return empty_frame(AGG_COLUMNS)
    indicators = fw.indicators(block=block)
    formula_inds = [i for i in indicators if i.rollup is None]
    rollup_inds = [i for i in indicators if i.rollup is not None]
    frames = []
    if formula_inds:
        wide = pivot_observations(obs, head.entity or "region")
        if wide.n:
            res = evaluate_indicators(formula_inds, wide, p, with_inputs=True, entity_word=head.entity or "entity")
            f = assemble(res, wide, framework_version(fw))
            for c in ("entity_id", "code", "status", "reason", "formula", "framework_version"):
                f[c] = f[c].astype("str")
            f["n_institutions"] = pd.array([pd.NA] * len(f), dtype="Int64")
            frames.append(f[AGG_COLUMNS])
    if rollup_inds:
        if institutions is None and shared is None:
            raise DataError(
                f"{', '.join(i.code for i in rollup_inds)} roll up institutions: pass the institutions table "
                "(and the institution observations)", rule="data.institutions", step="derive",
            )
        if shared is not None:
            wide, table, res_j = shared
        else:
            wide = pivot_observations(obs, "institution")
            table = institution_sectors(institutions, wide.entities) if wide.n else None  # type: ignore[arg-type]
            res_j = None
        if wide.n:
            need = sorted({i.rollup.of for i in rollup_inds if i.rollup.of in _j_codes(fw)})  # type: ignore[union-attr]
            jl = None
            if need:
                if res_j is not None:
                    jl = _JLookup.from_evaluated(res_j, need)
                elif j_values is None:
                    jl = _JLookup.from_evaluated(evaluate_institutions(wide, table, fw, p), need)  # type: ignore[arg-type]
                else:
                    jl = _JLookup.from_frame(j_values, need, wide)
            frames.append(_rollups(rollup_inds, fw, p, wide, table, jl,  # type: ignore[arg-type]
                                   round_population(institutions, population)))
    reported = _reported(rollup_inds, obs, fw, p, head.entity or "industry")
    if reported is not None:  # the group's own figures replace the roll-up where it gives them
        frames = [_without(f, reported) for f in frames]
        frames.append(reported)
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame(AGG_COLUMNS)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    order = {i.code: k for k, i in enumerate(indicators)}
    out = out.assign(_order=out["code"].map(order).astype("int64"))
    out = out.sort_values(["entity_id", "period", "_order"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------
# public
# ----------------------------------------------------------------------------------------------------
def derive_industry(
    obs: pd.DataFrame,
    institutions: pd.DataFrame,
    j_values: pd.DataFrame | None,
    framework: Framework | str,
    params: Mapping[str, Any] | None = None,
    *,
    population: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every H indicator for every industry present (bank, securities, insurance, payment) and period.

    ``obs`` and ``institutions`` are as for :func:`~fintech_eval.derive.derive_institutions`;
    ``j_values`` is its result (computed here when None), read for the ``mean`` and ``sum`` roll-ups
    of J indicators. Industries are those of the institutions with observations; periods those of the
    institution observations.

    Rule for missing inputs: an institution without the inputs of a roll-up (or whose J value is not
    ``ok``) is **excluded** from that industry-period's value (never read as zero); ``n_institutions``
    counts the institutions that **entered** the value, and ``reason`` names the excluded ones (up to
    five, with the count of the rest). A ``share`` (H-A2B2-C1, H-A4B2-C2) divides by all the industry's
    institutions in the round: ``population`` (ids, e.g. a campaign's sample; default: every institution
    of ``institutions``), those without the input counting as not meeting the condition (module doc;
    parameter ``share_reporting_only``). No contributing institution → ``missing``. See the module doc
    for each method, ``not_applicable`` and ``undefined``.

    Returns ``entity_id`` (the industry: bank / securities / insurance / payment), ``period``,
    ``code``, ``value``, ``status``, ``reason``, ``n_institutions``, and for provenance ``inputs``
    (JSON: the sums and counts used), ``formula`` (the roll-up) and ``framework_version``.
    """
    fw = as_framework(framework)
    return _derive_block("H", obs, fw, params, institutions, j_values, population=population)


def derive_regions(
    obs: pd.DataFrame,
    framework: Framework | str,
    params: Mapping[str, Any] | None = None,
    *,
    institutions: pd.DataFrame | None = None,
    j_values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every (complete) Q indicator for every region and period.

    Q indicators with a formula are evaluated, like J ones, over the region observations
    (``entity_kind == 'region'``, ``entity_id`` = the GB/T 2260 province code, variables ``q_*``):
    a missing input gives ``missing`` naming it, a zero denominator ``undefined``, a value out of range
    ``flagged``. Q indicators with a ``rollup`` (none in the shipped JR/T 0201-2020 file; extensions
    may add them) roll the institution data up by ``group_by`` — ``region`` groups institutions by
    their ``region_code`` — with the rules of :func:`derive_industry`; they need ``institutions``
    (a :class:`DataError` otherwise) and read ``j_values`` (computed when None).

    Returns the columns of :func:`derive_industry`; ``n_institutions`` is NA for formula indicators
    and ``inputs`` holds their input values as JSON.
    """
    fw = as_framework(framework)
    return _derive_block("Q", obs, fw, params, institutions, j_values)
