"""The fast path of :func:`fintech_eval.app.submissions.check` against the import path, over generated returns.

A JSON value-mapping return may be validated by a fast path (``check(..., fast=True)``, the default) that answers
only when it is sure the import's reading and validation (``fast=False``) would find no problem, and builds the
same fields; otherwise it falls back. The contract proved here, return by return:

* **equality**: ``fast=True`` gives exactly the ``fields`` (same order, keys, values; floats bit for bit, -0.0
  and 0.0 told apart), ``problems`` (rule, message, severity, where), ``valid`` and ``clean`` rows (what
  accepting stores) of ``fast=False``; an import path that raises is matched by a fast path that raises the same;
* **soundness**: a return on which the import path finds any problem (error or warning) is never answered by
  the fast path (``path == "fast"``);
* the fast path is used: it answers at least 40% of the clean returns (a fast path that always falls back fails).

The returns come from tests/store/fast_check_world.py. :func:`test_the_generator_reaches_every_rule_and_most_
returns_are_clean` proves (by running the import path, not by the generator's own say) that they reach every rule
in :data:`REQUIRED` and that most of them are clean, so that the equality is tested on returns the fast path takes
and on returns of every kind it must refuse; every other rule of the import is in :data:`UNREACHABLE` with the
reason a JSON return cannot meet it. A fifth of the batches are checked against JR/T 0201 as shipped, on the same
database and under the same framework id as the extension; the fast path must also follow changes to the
register, the sizes and the stored values; and submit_many must store the same with it on and off (SQLite and
PostgreSQL). Messages are compared without the temporary directory check writes documents to (a new one per call)
and, across campaigns, without the campaign's id.

Until the fast path lands (``check`` has no ``fast`` parameter) the differential tests skip, and the harness
itself is tested against stand-ins: a faithful fast path passes, wrong ones (-0.0 as 0.0, one ulp off, a warning
dropped, errors claimed, NaN for None) are caught. Default run: a few tens of seconds; ``slow``: 564 more seeds.
"""

from __future__ import annotations

import functools
import inspect
import math
import random
import re
import struct
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fintech_eval.app import submissions as sub
from fintech_eval.store.returns import get_version

from .fast_check_world import MUTATIONS, NO_RULE, PERIOD, Case, World, build_world, make_batch, make_case

HAS_FAST = "fast" in inspect.signature(sub.check).parameters
needs_fast = pytest.mark.skipif(
    not HAS_FAST, reason="submissions.check has no `fast` parameter yet: the fast path for JSON value-mapping "
    "returns has not landed (the generator and the harness are tested meanwhile)")

#: the import path alone (today: check itself)
import_check: Callable[..., list[Any]] = functools.partial(sub.check, fast=False) if HAS_FAST else sub.check

#: every rule a JSON return of an institution can meet through check (rule, or rule (kind) for a kind of it that
#: is checked apart: the unit-factor check against the registered size and accepted with a reason, the part-whole
#: check against a stored value); ``outlier`` needs returns judged together (outliers=True)
REQUIRED = frozenset({
    # reading: bytes, JSON, cells, texts
    "file.empty", "file.no_data", "encoding.invalid", "encoding.mojibake", "json.invalid", "json.truncated",
    "json.structure", "json.duplicate_key", "cell.not_number", "cell.formula_injection", "cell.excel_error",
    "cell.unit_conflict", "text.too_long", "text.control_character",
    # the return's own scope
    "entity.mismatch", "period.mismatch",
    # validation
    "variable.unknown", "variable.not_applicable", "entity.kind", "entity.unknown", "period.invalid",
    "unit.unknown", "unit.incompatible", "value.not_finite", "type.not_whole", "type.binary", "range.negative",
    "range.min", "range.max", "range.level", "range.share", "duplicate", "value.blank_mandatory",
    "unit.factor", "unit.factor (previous)", "unit.factor (size)", "unit.factor (accepted)", "unit.accept_unused",
    "part_of.exceeds", "part_of.exceeds (stored)", "turnover.inconsistent", "outlier",
})

#: the rules of :data:`fintech_eval.collect.RULES` no JSON return can meet through check, and why
UNREACHABLE: dict[str, str] = {
    **{r: "CSV readers only: document() names a JSON return *.json, so it is never read as CSV" for r in (
        "csv.truncated", "csv.ragged", "csv.missing_column", "csv.accept_reason_wide", "csv.duplicate_column",
        "csv.invalid")},
    **{r: "questionnaire workbooks (.xlsx) only" for r in (
        "cell.formula", "cell.merged", "workbook.hidden", "workbook.unprotected", "file.format", "file.truncated",
        "file.too_large", "template.foreign", "template.version", "template.sheet_missing", "template.tampered",
        "template.framework_mismatch", "template.outdated", "template.entity_mismatch", "template.period_mismatch",
        "template.no_values")},
    "file.missing": "check writes every document to a file before reading it",
    "file.name": "document() refuses such a name (a DataError) before check is called",
    **{r: "the public bank disclosures' reader only" for r in (
        "public.conflict", "public.ratio_mismatch", "public.uncertain", "public.unknown_bank")},
    **{r: "writing a template, not reading a return" for r in ("template.entity", "template.empty")},
}

DEFAULT_SEEDS = range(36)
SLOW_SEEDS = range(36, 600)


def kinds_of(p: Any) -> list[str]:
    """A problem's rule, and the kind of it :data:`REQUIRED` names apart."""
    out = [p.rule]
    if p.rule == "unit.factor":
        out.append("unit.factor (accepted)" if p.severity == "warning" else
                   "unit.factor (size)" if "registered operating_revenue" in p.message else "unit.factor (previous)")
    if p.rule == "part_of.exceeds" and "stored already" in p.message:
        out.append("part_of.exceeds (stored)")
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp("fast-check")
    w = build_world(f"sqlite+pysqlite:///{tmp / 'world.sqlite'}", tmp)
    yield w
    w.close()


def items_of(cases: Iterable[Case]) -> list[tuple[sub.Document, str, str, None]]:
    out = []
    for c in cases:
        payload, media_type = c.payload()
        out.append((sub.document(payload, entity=c.entity, period=c.period, media_type=media_type, units=c.units),
                    c.entity, c.period, None))
    return out


def run(check: Callable[..., list[Any]], w: World, cases: list[Case], outliers: bool, base: bool = False,
        **kw: Any) -> tuple[list[Any] | None, BaseException | None]:
    """``check`` of the cases together (``base``: against JR/T 0201 as shipped, :meth:`World.workspace`), or the
    exception it raised."""
    try:
        return check(w.workspace(base), w.fw.id, items_of(cases), outliers=outliers, **kw), None
    except Exception as exc:  # noqa: BLE001 - the import path's exception is part of its answer
        return None, exc


# ---------------------------------------------------------------------------------------------- comparing


def _py(v: Any) -> Any:
    """numpy scalars as Python's (both paths may hold either; JSON stores the same)."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def same(a: Any, b: Any) -> bool:
    """Equal, floats bit for bit (-0.0 is not 0.0), None is not NaN, 1 is not 1.0, dicts in the same key order."""
    a, b = _py(a), _py(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _cell(v: Any) -> Any:
    """A cell of ``clean`` as storage reads it: every kind of missing is None; floats keep their sign."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float | np.floating) and math.isnan(v)):
        return None
    return _py(v)


#: the temporary file check writes a document to (``/tmp/fe-return-x1y2/0/return.json``): the import path names it
#: in some messages (``duplicate``: "… is given 2 times: /tmp/fe-return-…/0/return.json row 1 …"), a new name per
#: call, so two calls never agree on it; it is compared as ``<tmp>/``
TEMP_DIR = re.compile(r"(?:/[^\s'\"/]+)*/fe-return-[^/\s'\"]+/\d+/")


def _untemp(v: Any) -> Any:
    if isinstance(v, str):
        return TEMP_DIR.sub("<tmp>/", v)
    if isinstance(v, dict):
        return {k: _untemp(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return type(v)(_untemp(x) for x in v)
    return v


def differences(ref: Any, got: Any, limit: int = 12) -> list[str]:
    """What differs between the import path's ``_Checked`` and the fast path's (empty: nothing; the temporary
    directory a message may name is not compared, :data:`TEMP_DIR`)."""
    out: list[str] = []
    if ref.valid != got.valid:
        out.append(f"valid: import {ref.valid}, fast {got.valid}")
    if len(ref.fields) != len(got.fields):
        out.append(f"{len(ref.fields)} fields from the import path, {len(got.fields)} from the fast path")
    for i, (a, b) in enumerate(zip(ref.fields, got.fields, strict=False)):
        if list(a) != list(b):
            out.append(f"field {i} ({a.get('variable')!r}): keys {list(a)} vs {list(b)}")
        for k in a:
            if k in b and not same(a[k], b[k]):
                out.append(f"field {i} ({a.get('variable')!r}) {k}: import {a[k]!r}, fast {b[k]!r}")
    ra = [_untemp((p.rule, p.message, p.severity, p.where)) for p in ref.problems]
    rb = [_untemp((p.rule, p.message, p.severity, p.where)) for p in got.problems]
    if len(ra) != len(rb):
        out.append(f"problems: import {[p[0] for p in ra]}, fast {[p[0] for p in rb]}")
    for a, b in zip(ra, rb, strict=False):
        if not same(list(a), list(b)):
            out.append(f"problem: import {a!r}, fast {b!r}")
    ca, cb = ref.clean, got.clean
    if getattr(got, "path", None) == "fast":  # the fast path builds no clean frame: only accept imports it, and
        if cb is not None:                    # accept judges outliers, which the fast path never answers for
            out.append("the fast path built a clean frame")
    elif list(ca.columns) != list(cb.columns) or len(ca) != len(cb):
        out.append(f"clean rows: import {len(ca)} × {list(ca.columns)}, fast {len(cb)} × {list(cb.columns)}")
    else:
        for col in ca.columns:
            xa, xb = [_cell(v) for v in ca[col].tolist()], [_cell(v) for v in cb[col].tolist()]
            bad = [i for i, (x, y) in enumerate(zip(xa, xb, strict=True)) if not same(x, y)]
            if bad:
                out.append(f"clean {col} row {bad[0]}: import {xa[bad[0]]!r}, fast {xb[bad[0]]!r}")
    return out[:limit]


@dataclass
class Sweep:
    """What the differential run saw: returns, clean ones, answered by the fast path, rules, differences."""

    items: int = 0
    clean: int = 0
    fast: int = 0
    fast_clean: int = 0
    plain_clean: int = 0  # clean returns as an API client sends them (Case.plain)
    fast_plain: int = 0
    rules: Counter = field(default_factory=Counter)
    diffs: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)

    def report(self) -> str:
        return (f"{self.items} returns, {self.clean} clean, {self.fast_clean} of them answered by the fast path "
                f"({self.fast_plain} of the {self.plain_clean} clean ones sent as an API client sends them); "
                f"{len(self.crashes)} batches the import path raised on; differences:\n  " + "\n  ".join(self.diffs[:30]))


def compare(check: Callable[..., list[Any]], w: World, cases: list[Case], outliers: bool, what: str,
            sweep: Sweep, ref: tuple[list[Any] | None, BaseException | None] | None = None,
            base: bool = False) -> None:
    """Check ``cases`` both ways (``ref``: the import path's answer, when known already) and add to ``sweep``."""
    want, err = ref if ref is not None else run(check, w, cases, outliers, base, fast=False)
    got, err2 = run(check, w, cases, outliers, base, fast=True)
    if err is not None or err2 is not None:
        if err is not None:
            sweep.crashes.append(f"{what}: {err!r}")
        if type(err) is not type(err2):
            sweep.diffs.append(f"{what}: the import path raised {err!r}, the fast path {err2!r}")
        return
    assert want is not None and got is not None
    for c, a, b in zip(cases, want, got, strict=True):
        sweep.items += 1
        clean = not a.problems
        sweep.clean += clean
        sweep.rules.update(k for p in a.problems for k in kinds_of(p))
        tag = f"{what} {c.entity} aims={c.aims}"
        if getattr(a, "path", "import") != "import":
            sweep.diffs.append(f"{tag}: fast=False answered by path {getattr(a, 'path', None)!r}")
        path = getattr(b, "path", None)
        if path not in ("fast", "import"):
            sweep.diffs.append(f"{tag}: the fast=True answer has path {path!r}, not 'fast' or 'import'")
        sweep.plain_clean += clean and c.plain
        if path == "fast":
            sweep.fast += 1
            sweep.fast_clean += clean
            sweep.fast_plain += clean and c.plain
            if not clean:
                sweep.diffs.append(f"{tag}: UNSOUND: the fast path answered a return the import path finds "
                                   f"{[p.rule for p in a.problems]} in")
        sweep.diffs += [f"{tag}: {d}" for d in differences(a, b)]


def sweep_seeds(check: Callable[..., list[Any]], w: World, seeds: Iterable[int],
                refs: dict[int, Any] | None = None) -> Sweep:
    s = Sweep()
    for seed in seeds:
        cases, outliers, base = make_batch(random.Random(seed), w)
        compare(check, w, cases, outliers, f"seed {seed}", s, (refs or {}).get(seed), base)
    return s


@pytest.fixture(scope="module")
def reference(world) -> dict[int, tuple[list[Any] | None, BaseException | None]]:
    """The import path's answers to the default seeds' batches (computed once for the tests of this module)."""
    out = {}
    for seed in DEFAULT_SEEDS:
        cases, outliers, base = make_batch(random.Random(seed), world)
        out[seed] = run(import_check, world, cases, outliers, base)
    return out


def _mark_paths(out: list[Any], fast: bool) -> list[Any]:
    for c in out:
        c.path = "fast" if fast and not c.problems else "import"
        if c.path == "fast":
            c.clean = None  # as the fast path answers: no clean frame (accept, which imports it, judges outliers)
    return out


def faithful(ws: Any, framework: str, items: Any, *, outliers: bool = True, fast: bool = True) -> list[Any]:
    """A stand-in for a correct fast path: the import path's answer, labelled fast when it found nothing."""
    return _mark_paths(import_check(ws, framework, items, outliers=outliers), fast)


# ---------------------------------------------------------------------------------------------- the generator


def test_the_generator_reaches_every_rule_and_most_returns_are_clean(world, reference):
    """Every rule of :data:`REQUIRED` is raised by the import path on some generated return (each mutation forced
    once on its own return, the outlier batches judged together), and the default mix is mostly clean."""
    hit: Counter = Counter()
    for name in MUTATIONS:
        for k in range(3):  # a mutation may not apply to the return drawn (no such variable): try another
            case = make_case(random.Random(f"{name}/{k}"), world, force=[name])
            got, err = run(import_check, world, [case], outliers=False)
            assert err is None, f"{name}: the import path raised {err!r}"
            rules = {x for p in got[0].problems for x in kinds_of(p)}
            hit.update(rules)
            base, _, kind = name.partition("/")
            if name in NO_RULE or (f"{base} ({kind})" if f"{base} ({kind})" in REQUIRED else base) in rules:
                break
    for seed in range(4):
        cases, outliers, base = make_batch(random.Random(f"outliers/{seed}"), world, outliers_share=1.0)
        got, err = run(import_check, world, cases, outliers, base)
        if err is None:
            hit.update(x for r in got for p in r.problems for x in kinds_of(p))
    items = clean = 0
    for got, err in reference.values():
        if err is None:
            items += len(got)
            clean += sum(not r.problems for r in got)
            hit.update(x for r in got for p in r.problems for x in kinds_of(p))
    missing = sorted(REQUIRED - set(hit))
    assert not missing, f"no generated return reaches {missing} (reached: {dict(hit)})"
    assert items >= 40 and clean * 2 >= items, f"{clean} of {items} generated returns are clean: want a majority"


def test_every_rule_of_the_import_is_reached_or_said_unreachable():
    """A rule added to the import's validation must be generated here, or said why a JSON return cannot meet it."""
    from fintech_eval.collect import RULES

    bare = {r for r in REQUIRED if "(" not in r}
    assert not bare & set(UNREACHABLE)
    assert sorted(set(RULES) - bare - set(UNREACHABLE)) == []
    assert sorted((bare | set(UNREACHABLE)) - set(RULES)) == []


def test_generated_returns_are_checked_alike_when_sent_again(world, reference):
    """The import path is a function of the return and the stored data (checking changes nothing): a second
    check of the same batches answers the same, so any difference the fast path makes is its own."""
    s = Sweep()
    for seed in list(DEFAULT_SEEDS)[:8]:
        cases, outliers, base = make_batch(random.Random(seed), world)
        got, err = run(import_check, world, cases, outliers, base)
        want, err0 = reference[seed]
        assert type(err) is type(err0)
        if err is not None:
            continue
        for c, a, b in zip(cases, want or [], got or [], strict=True):
            s.diffs += [f"seed {seed} {c.entity}: {d}" for d in differences(a, b)]
    assert not s.diffs, "\n".join(s.diffs)


# ---------------------------------------------------------------------------------------------- the harness


def test_the_harness_passes_a_faithful_fast_path(world, reference):
    s = sweep_seeds(faithful, world, list(DEFAULT_SEEDS)[:10], reference)
    assert not s.diffs, s.report()
    assert s.fast_clean == s.clean > 0 and s.fast == s.clean


def _bad_fast(change: Callable[[Any], bool]) -> Callable[..., list[Any]]:
    """A stand-in fast path that answers like :func:`faithful` but applies ``change`` to what it answers (the
    change says whether it claimed the return as answered by the fast path)."""
    def stand_in(ws: Any, framework: str, items: Any, *, outliers: bool = True, fast: bool = True) -> list[Any]:
        out = faithful(ws, framework, items, outliers=outliers, fast=fast)
        if fast:
            for c in out:
                if change(c):
                    c.path = "fast"
        return out
    return stand_in


def _positive_zero(c: Any) -> bool:
    for f in c.fields:
        for k in ("value", "value_norm"):
            if isinstance(f.get(k), float) and f[k] == 0:
                f[k] = 0.0
    return False


def _one_ulp_off(c: Any) -> bool:
    for f in c.fields:
        if f.get("unit") not in (None, f.get("unit_norm")) and isinstance(f.get("value_norm"), float):
            f["value_norm"] = math.nextafter(f["value_norm"], math.inf)
    return False


def _warnings_dropped(c: Any) -> bool:
    if c.problems and all(p.severity == "warning" for p in c.problems):
        c.problems = []
        return True
    return False


def _claims_too_much(c: Any) -> bool:
    return bool(c.problems)


def _nan_for_none(c: Any) -> bool:
    for f in c.fields:
        if f.get("value") is None and f.get("raw") is not None:
            f["value"] = math.nan
    return False


@pytest.mark.parametrize("change", [_positive_zero, _one_ulp_off, _warnings_dropped, _claims_too_much, _nan_for_none])
def test_the_harness_catches_a_wrong_fast_path(world, change):
    """Each way a fast path could go wrong that a loose comparison would miss is caught on returns made to show
    it: -0.0 given as 0.0, a converted value one ulp off, a warning-only return answered as clean, a return with
    errors claimed, NaN where the import has None (a declared N/A)."""
    w = world
    e = sorted(w.history)[0]
    sector = w.sector[e]
    now = w.values[(e, PERIOD)]
    money = next(n for n, v in w.answers[sector].items() if v.type == "money" and n in ("fintech_investment",))
    cases = [
        Case(e, [("outlets", -0.0), ("coop_universities", 0), (money, {"value": now[money] / 1e4, "unit": "亿元"}),
                 ("it_om_cost", "不适用")]),
        Case(sorted(w.history)[1], [("outlets", {"value": w.values[(sorted(w.history)[1], PERIOD)]["outlets"],
                                                 "accept_reason": "just in case"})]),
        Case(sorted(w.history)[2], [("outlets", -1)]),
    ]
    s = Sweep()
    compare(_bad_fast(change), w, cases, False, change.__name__, s)
    assert s.diffs, f"{change.__name__} went unnoticed: {s.report()}"


# ---------------------------------------------------------------------------------------------- the fast path


@needs_fast
def test_fast_path_gives_the_import_paths_answer_for_every_generated_return(world, reference):
    s = sweep_seeds(sub.check, world, DEFAULT_SEEDS, reference)
    assert not s.diffs, s.report()
    assert s.clean * 2 >= s.items, s.report()
    # texts, yes/no words, odd keys and bytes go to the import by design; numbers and units as clients send them
    # are the fast path's: most of those it must answer (stored values of the same period send a few away)
    assert s.plain_clean >= 8 and s.fast_plain >= 0.7 * s.plain_clean, f"the fast path answered too few: {s.report()}"


@needs_fast
@pytest.mark.slow
def test_fast_path_gives_the_import_paths_answer_over_many_seeds(world):
    s = sweep_seeds(sub.check, world, SLOW_SEEDS)
    assert not s.diffs, s.report()
    assert s.plain_clean >= 50 and s.fast_plain >= 0.7 * s.plain_clean, f"the fast path answered too few: {s.report()}"
    assert len(set(s.rules) & REQUIRED) >= 0.9 * len(REQUIRED), sorted(REQUIRED - set(s.rules))  # (all: forced)


@needs_fast
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rnd=st.randoms(use_true_random=False), mutate=st.sampled_from([0.0, 0.4, 1.0]))
def test_fast_path_equals_import_path_on_drawn_returns(world, rnd, mutate):
    """The same contract on batches hypothesis draws (and shrinks to the smallest batch that differs)."""
    cases, outliers, base = make_batch(rnd, world, mutate=mutate)
    s = Sweep()
    compare(sub.check, world, cases, outliers, "drawn" + (" (JR/T 0201 as shipped)" if base else ""), s, base=base)
    assert not s.diffs, s.report()


@needs_fast
def test_fast_path_follows_changes_to_the_register_and_the_stored_values(tmp_path):
    """A fast path compiled per framework and sector must not keep what the database said: the same returns are
    checked both ways again after each change (a previous period imported that makes a value a unit slip, a size
    registered, this period's whole stored below the return's part, the institution moved to another sector)."""
    import json

    from fintech_eval.app.intake import import_files
    from fintech_eval.store import upsert_institutions, upsert_size_attributes

    w = build_world(f"sqlite+pysqlite:///{tmp_path / 'changes.sqlite'}", tmp_path)
    try:
        e = "BK06"  # nothing stored, no size registered
        now = w.values[(e, PERIOD)]
        case = Case(e, [(n, now[n]) for n in sorted(w.answers["bank"])])
        s = Sweep()

        def again(step: str, expect: str | None) -> None:
            before = Counter(s.rules)
            compare(sub.check, w, [case], False, step, s)
            new = set(s.rules - before)
            assert (expect in new) if expect else not new, f"{step}: the import path found {sorted(new)}"

        def store(name: str, records: list[dict[str, Any]]) -> None:
            f = tmp_path / name
            f.write_text(json.dumps(records), encoding="utf-8")
            import_files(w.ws, [f], w.fw, user="test")

        again("nothing stored", None)
        store("prev.json", [{"entity": e, "period": "2023", "variable": "fintech_investment",
                             "value": now["fintech_investment"] * 1e4}])
        again("a previous value 10,000 times this one", "unit.factor (previous)")
        with w.ws.sessions() as ses, ses.begin():
            upsert_size_attributes(ses, pd.DataFrame([{"entity_id": e, "period": PERIOD, "attribute": "operating_revenue",
                                                       "value": now["operating_revenue"]}]), who="test", why="change")
        again("a size registered in 元 equal to the 万元 value", "unit.factor (size)")
        case.pairs = [(k, v) for k, v in case.pairs if k not in ("employees", "outlets")]
        store("whole.json", [{"entity": e, "period": PERIOD, "variable": "employees", "value": now["fintech_staff"] - 1}])
        again("this period's whole stored below the part", "part_of.exceeds (stored)")
        with w.ws.sessions() as ses, ses.begin():
            upsert_institutions(ses, pd.DataFrame([{"id": e, "sector": "payment"}]), who="test", why="change")
        again("moved to another sector", "variable.not_applicable")
        assert s.items == 5 and s.clean == 1 and s.fast_clean == 1, s.report()
        assert not s.diffs, s.report()
    finally:
        w.close()


# ---------------------------------------------------------------------------------------------- submit_many


def _campaignless(v: Any, campaign: int) -> Any:
    """``v`` without the campaign's id (``… not in the sample of campaign 2``, ``评估项目 2``): the two runs use two
    campaigns."""
    if isinstance(v, str):
        return re.sub(rf"(\bcampaign |评估项目 ){campaign}\b", r"\1<id>", v)
    if isinstance(v, dict):
        return {k: _campaignless(x, campaign) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return type(v)(_campaignless(x, campaign) for x in v)
    return v


def _stored(ws: Any, campaign: int) -> dict[str, tuple[Any, ...]]:
    """Per entity: the state, version, validity, fields and problems stored for its return in ``campaign``."""
    df = sub.returns_list(ws, campaign)
    out = {}
    with ws.sessions() as s:
        for r in df.itertuples():
            v = get_version(s, int(r.id), int(r.version))
            out[r.entity_id] = _untemp(_campaignless(
                (r.state, int(r.version), v.valid, v.final, list(v.fields), list(v.problems)), campaign))
    return out


@needs_fast
def test_submit_many_stores_the_same_with_the_fast_path_on_and_off(db_url, tmp_path, monkeypatch):
    """The same submissions (mappings, bytes, units per field, institutions outside the sample) through
    submit_many with the fast path off (campaign A) and on (campaign B): the same results and the same stored
    versions, states and problems, on SQLite and PostgreSQL."""
    w = build_world(db_url, tmp_path, campaigns=0)
    try:
        left_out = "OT06"
        sample = [e for e in w.institutions if e != left_out]
        from fintech_eval.app.campaigns import create_campaign

        camp = [create_campaign(w.ws, period=PERIOD, framework=w.fw.id, sample=sample, deadline="2099-12-31", who="test")
                for _ in range(2)]
        rng = random.Random(20261206)
        # two batches: institutions with this period's parts and wholes stored, and the others (a batch mixing
        # them meets the KeyError of test_returns_checked_together_with_parts_and_stored_wholes)
        groups = [sorted(w.stored_now), sorted(set(w.institutions) - w.stored_now)]
        batches = [[make_case(rng, w, e, mutate=0.35) for e in g] for g in groups]
        finals = [[rng.random() < 0.85 for _ in cases] for cases in batches]  # some only saved as drafts
        real = sub.check
        results = {}
        paths: dict[bool, Counter] = {False: Counter(), True: Counter()}
        for cid, fast in zip(camp, (False, True), strict=True):
            def forced(*args: Any, fast: Any = None, _want: bool = fast, **kw: Any) -> list[Any]:
                out = real(*args, fast=_want, **kw)  # whatever submit_many asks for
                paths[_want].update(getattr(c, "path", None) for c in out)
                return out

            monkeypatch.setattr(sub, "check", forced)
            out = []
            for cases, final in zip(batches, finals, strict=True):
                reqs = []
                for c, fin in zip(cases, final, strict=True):
                    payload, media_type = c.payload()
                    reqs.append(sub.SubmitRequest(c.entity, cid, payload, "tester", media_type=media_type, units=c.units,
                                                  final=fin))
                out += sub.submit_many(w.ws, reqs)
            results[fast] = out
        monkeypatch.setattr(sub, "check", real)
        diffs = []
        n_clean = 0
        for a, b in zip(results[False], results[True], strict=True):
            if isinstance(a, Exception) or isinstance(b, Exception):
                if type(a) is not type(b) or str(a) != str(b):
                    diffs.append(f"raised: {a!r} vs {b!r}")
                continue
            n_clean += not a.problems
            for k in ("version", "state", "valid", "submitted", "replayed"):
                if getattr(a, k) != getattr(b, k):
                    diffs.append(f"{k}: {getattr(a, k)!r} vs {getattr(b, k)!r}")
            if not same(a.fields, b.fields):
                diffs.append(f"fields of {a.return_id} vs {b.return_id} differ")
            pa = _untemp(_campaignless([p.as_dict() for p in a.problems], camp[0]))
            pb = _untemp(_campaignless([p.as_dict() for p in b.problems], camp[1]))
            if not same(pa, pb):
                diffs.append(f"problems: {[p.rule for p in a.problems]} vs {[p.rule for p in b.problems]}")
        sa, sb = _stored(w.ws, camp[0]), _stored(w.ws, camp[1])
        assert sorted(sa) == sorted(sb) and len(sa) >= len(w.institutions) - 1
        for e in sa:
            if not same(list(sa[e]), list(sb[e])):
                diffs.append(f"{e}: stored {sa[e][:4]} vs {sb[e][:4]}")
        assert not diffs, "\n".join(diffs[:30])
        assert n_clean >= 10
        assert set(paths[False]) == {"import"} and paths[True]["fast"] > 0, f"submit_many went past check: {paths}"
        assert any(p["rule"] == "campaign.outside_sample" for p in sa[left_out][5])
    finally:
        w.close()


# ---------------------------------------------------------------------------------------------- found on the way


def test_returns_checked_together_with_parts_and_stored_wholes(world):
    """Once a KeyError (validate._part_whole_vs_stored filtered an empty merge with an empty list: no column
    left). SC03 (this period's employees and fintech_staff stored) restates employees; PY05 (nothing stored) gives
    fc_part: checked together, the part-whole check against stored values must not fail."""
    a = Case("SC03", [("employees", world.values[("SC03", PERIOD)]["employees"])])
    b = Case("PY05", [("fc_part", 5)])
    for alone in ([a], [b]):
        got, err = run(import_check, world, alone, outliers=False)
        assert err is None and not got[0].problems
    got = import_check(world.ws, world.fw.id, items_of([a, b]), outliers=False)
    assert [r.problems for r in got] == [[], []]


def test_problem_messages_name_the_return_not_a_temporary_file(world):
    """Once the messages of duplicate and part_of.exceeds named check()'s temporary file, not the return's."""
    e = "BK03"
    now = world.values[(e, PERIOD)]
    case = Case(e, [("outlets", now["outlets"]), (" outlets", now["outlets"]),
                    ("fintech_staff", now["employees"] + 1), ("employees", now["employees"])])
    got = import_check(world.ws, world.fw.id, items_of([case]), outliers=False)[0]
    assert {"duplicate", "part_of.exceeds"} <= {p.rule for p in got.problems}
    leaked = [p.message for p in got.problems if "fe-return-" in p.message or "fe-return-" in str(p.where)]
    assert not leaked, leaked
