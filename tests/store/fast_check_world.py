"""A world and generated JSON returns for the differential test of :func:`fintech_eval.app.submissions.check`
(``fast=True`` against ``fast=False``, tests/store/test_fast_check.py).

The **world**: JR/T 0201 with an extension (a share, a ratio with min and max, a time with min and max, a money
value with a max and its carry-over, a part and its whole, a bank-only count), six institutions of every sector
(two with stored history and a registered operating revenue, two with history only, one new with a registered
size, one new without), their previous period's values and some of this period's parts and wholes stored through
the import (:func:`fintech_eval.app.intake.import_files`), so that the unit-factor check (previous value and
registered size), the part-whole check against stored values and the carry-over check have something to compare.

The **returns**: :func:`make_case` draws one institution's return from a :class:`random.Random`. Most are clean:
this period's values of the institution (consistent with what is stored), a random subset of the variables its
sector answers, each encoded in one of the many ways the readers accept (float, int, ``"1,234.5"``, full-width
digits, ``{"value", "unit"}`` in another admitted unit, ``"12.5%"``, yes/no words and JSON booleans, declared
N/A, ``-0.0``, ``1e-300``, values on their bounds, near-whole counts, 19-digit integers). Some carry one to three
:data:`MUTATIONS`, each aimed at a rule the reading and validation of a JSON return can raise (the rule names are
aims only: which rules a generated return really hits is measured by running the import path, never claimed).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from fintech_eval.app import Workspace
from fintech_eval.app.campaigns import create_campaign
from fintech_eval.app.intake import import_files
from fintech_eval.catalog import load_extension, load_framework
from fintech_eval.catalog.models import SECTORS, Framework, Variable
from fintech_eval.collect.units import UnitError, conversion_factor
from fintech_eval.collect.validate import applicable_variables
from fintech_eval.store import upsert_institutions, upsert_size_attributes

PERIOD, PREV = "2024", "2023"
PREFIX = {"bank": "BK", "securities": "SC", "insurance": "IN", "payment": "PY", "other": "OT"}
#: per sector: institution number → (stored history, registered operating revenue, this period's STORED_NOW)
KINDS = {1: (True, True, True), 2: (True, True, False), 3: (True, False, True), 4: (True, False, False),
         5: (False, True, False), 6: (False, False, False)}
UNREGISTERED = "ZZ99"
#: this period's values stored before the returns arrive (parts and wholes: the checks against stored values)
STORED_NOW = ("employees", "fintech_staff", "fc_whole", "fc_part", "personal_users", "transaction_amount")

#: the variables the extension adds: name → (type, unit, min, max, part_of, carry_over_of, sectors)
EXTRA: dict[str, tuple[str, str, float | None, float | None, str | None, str | None, list[str]]] = {
    "fc_share": ("share", "fraction", 0.0, 1.0, None, None, []),
    "fc_ratio": ("ratio", "ratio", -1.0, 10.0, None, None, []),
    "fc_speed": ("time", "ms", 5.0, 1000.0, None, None, []),
    "fc_budget": ("money", "CNY 10k", 0.0, 1e6, None, None, []),
    "fc_budget_prev_end": ("money", "CNY 10k", 0.0, 1e6, None, "fc_budget", []),
    "fc_whole": ("count", "count", 0.0, None, None, None, []),
    "fc_part": ("count", "count", 0.0, None, "fc_whole", None, []),
    "fc_bank_only": ("count", "count", 0.0, None, None, None, ["bank"]),
}


def extended_framework(tmp: Path) -> Framework:
    """JR/T 0201 with :data:`EXTRA` (one count indicator reading each, so that each applies to its sectors)."""
    variables = []
    for name, (typ, unit, lo, hi, part, carry, sectors) in EXTRA.items():
        v: dict[str, Any] = {"name": name, "unit": unit, "type": typ, "help": {"zh": f"测试{name}", "en": f"test {name}"},
                             "min": lo, "max": hi}
        if part:
            v["part_of"] = part
        if carry:
            v["carry_over_of"] = carry
        if sectors:
            v["sectors"] = sectors
        variables.append(v)
    inds = [{"code": f"fc:J-A1B1-C{80 + k}", "name": {"zh": f"测试指标{k}", "en": f"test indicator {k}"},
             "definition": {"zh": "测试", "en": "test"}, "unit": "count", "type": "count", "collection": ["S"],
             "formula": name, **({"sectors": EXTRA[name][6]} if EXTRA[name][6] else {})}
            for k, name in enumerate(EXTRA)]
    doc = {"extends": "jrt0201-2020", "id": "fast-check", "namespace": "fc", "variables": variables,
           "add": [{"parent": "J-A1B1", "indicators": inds}]}
    path = tmp / "fast-check-ext.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_extension(path, base=load_framework("jrt0201-2020"))


# ---------------------------------------------------------------------------------------------- the world


@dataclass
class World:
    ws: Workspace  # checks against the extended framework (its id is JR/T 0201's: an extension keeps the id)
    fw: Framework
    sector: dict[str, str]  # institution → sector
    answers: dict[str, dict[str, Variable]]  # sector → applicable variables by name
    values: dict[tuple[str, str], dict[str, float]]  # (institution, period) → every value it would give
    history: set[str]  # institutions with stored values of PREV
    stored_now: set[str]  # institutions with STORED_NOW values of PERIOD stored
    sized: dict[str, float]  # institution → registered operating revenue of PERIOD (元)
    campaigns: list[int] = field(default_factory=list)
    ws_base: Workspace | None = None  # the same database, checked against JR/T 0201 as shipped

    @property
    def institutions(self) -> list[str]:
        return sorted(self.sector)

    def workspace(self, base: bool = False) -> Workspace:
        return self.ws_base if base and self.ws_base is not None else self.ws

    def close(self) -> None:
        self.ws.close()
        if self.ws_base is not None:
            self.ws_base.close()


def _baseline(fw: Framework, entity: str, sector: str) -> dict[str, dict[str, float]]:
    """Every applicable variable's value in PREV and PERIOD: wholes grow 0.8-1.25×, parts are a stable fraction of
    their whole, carry-overs restate the previous period, every value far from a unit slip."""
    rng = random.Random(f"baseline/{entity}")
    apps = [v for v, _ in applicable_variables(fw, sector)]
    names = {v.name for v in apps}
    out: dict[str, dict[str, float]] = {PREV: {}, PERIOD: {}}
    for v in sorted(apps, key=lambda v: v.part_of is not None or v.carry_over_of is not None):
        if v.part_of and v.part_of in names:
            frac = rng.uniform(0.1, 0.9)
            for p in (PREV, PERIOD):
                w = out[p][v.part_of]
                out[p][v.name] = math.floor(w * frac) if v.type == "count" else round(w * frac, 2)
            continue
        if v.carry_over_of:
            src = out[PREV].get(v.carry_over_of)
            out[PERIOD][v.name] = src if src is not None else float(rng.randint(200, 5000))
            out[PREV][v.name] = round(out[PERIOD][v.name] * rng.uniform(0.8, 1.0), 2 if v.type == "money" else 0)
            continue
        for p, scale in ((PREV, 1.0), (PERIOD, rng.uniform(0.8, 1.25))):
            base = out[PREV].get(v.name)
            if v.type == "binary":
                x = float(rng.randint(0, 1))
            elif v.type == "level":
                x = float(rng.randint(int(v.min or 1), int(v.max or 5)))
            elif v.type == "share":
                x = round(rng.uniform(0, 1), 4)
            elif v.type in ("ratio",):
                x = round(rng.uniform(-0.5, 5.0), 4)
            elif v.type == "score":
                x = round(rng.uniform(0, 100), 2)
            elif v.type == "time":
                x = round(rng.uniform(max(v.min or 0, 5.0), min(v.max or 500.0, 500.0)), 1)
            elif v.type == "count":
                x = float(round(base * scale)) if base is not None else float(rng.randint(200, 50000))
            elif v.type == "money":
                x = round(base * scale, 2) if base is not None else round(rng.uniform(1000, 500000), 2)
            else:
                x = round(rng.uniform(10, 1000), 2)
            out[p][v.name] = x
    return out


def _records(values: dict[tuple[str, str], dict[str, float]], keys: list[tuple[str, str]],
             only: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    return [{"entity": e, "period": p, "variable": k, "value": x}
            for e, p in keys for k, x in values[(e, p)].items() if only is None or k in only]


def build_world(url: str, tmp: Path, *, campaigns: int = 0) -> World:
    """The register, the sizes, the stored values (imported), ``campaigns`` campaigns of PERIOD asking everyone."""
    tmp.mkdir(parents=True, exist_ok=True)
    fw = extended_framework(tmp)
    ws = Workspace(url)
    ws.add_framework(fw)
    sector, values, history, stored_now, sized = {}, {}, set(), set(), {}
    for s in SECTORS:
        for k, (hist, size, now) in KINDS.items():
            e = f"{PREFIX[s]}{k:02d}"
            sector[e] = s
            base = _baseline(fw, e, s)
            values[(e, PREV)], values[(e, PERIOD)] = base[PREV], base[PERIOD]
            if hist:
                history.add(e)
            if now:
                stored_now.add(e)
            if size:
                rev = base[PERIOD].get("operating_revenue", 1000.0)
                sized[e] = round(rev * 1e4 * random.Random(f"size/{e}").uniform(0.9, 1.1), 2)
    with ws.sessions() as s, s.begin():
        upsert_institutions(s, pd.DataFrame([{"id": e, "name_zh": f"测试机构{e}", "name_en": f"Test {e}", "sector": sec,
                                              "region_code": "11"} for e, sec in sector.items()]), who="test", why="world")
        upsert_size_attributes(s, pd.DataFrame([{"entity_id": e, "period": PERIOD, "attribute": "operating_revenue",
                                                 "value": v} for e, v in sized.items()]), who="test", why="world")
    hist = sorted(history)
    prev_file, now_file = tmp / "stored_prev.json", tmp / "stored_now.json"
    prev_file.write_text(json.dumps(_records(values, [(e, PREV) for e in hist])), encoding="utf-8")
    now_file.write_text(json.dumps(_records(values, [(e, PERIOD) for e in sorted(stored_now)], STORED_NOW)),
                        encoding="utf-8")
    import_files(ws, [prev_file], fw, user="test")
    import_files(ws, [now_file], fw, user="test")
    answers = {s: {v.name: v for v, _ in applicable_variables(fw, s)} for s in SECTORS}
    w = World(ws, fw, sector, answers, values, history, stored_now, sized, ws_base=Workspace(url))
    for _ in range(campaigns):
        w.campaigns.append(create_campaign(ws, period=PERIOD, framework=fw.id, sample=w.institutions,
                                           deadline="2099-12-31", who="test"))
    return w


# ---------------------------------------------------------------------------------------------- returns


class Raw(str):
    """A JSON literal written as is into a payload's bytes (``1e999``, a 20-digit integer, ``-0``)."""


@dataclass
class Case:
    """One generated return: the entity, the values as ``(key, JSON value)`` pairs (a key may repeat), how it is
    sent (a mapping, or bytes with optional extra top-level keys or replaced by ``document`` bytes), and the
    rules its mutations aim at."""

    entity: str
    pairs: list[tuple[str, Any]]
    period: str = PERIOD
    as_bytes: bool = False
    wrapped: bool = True  # {"values": {...}} rather than the bare mapping
    top: dict[str, Any] = field(default_factory=dict)  # extra top-level keys (bytes only)
    document: bytes | None = None  # a payload that is not a value mapping at all
    units: dict[str, str] | None = None
    aims: list[str] = field(default_factory=list)
    style: tuple[bool, str, bool] = (False, ",", False)  # bytes: ASCII escapes, separator, a UTF-8 BOM
    plain: bool = False  # as an API client sends a clean return: JSON numbers, {value, unit}, a declared N/A

    def is_mapping(self) -> bool:
        """Sent as a mapping (not bytes): nothing that only bytes can carry."""
        keys = [k for k, _ in self.pairs]
        return (self.document is None and not self.as_bytes and not self.top and len(set(keys)) == len(keys)
                and not any(_has_raw(v) for _, v in self.pairs))

    def payload(self) -> tuple[bytes | dict[str, Any], str | None]:
        """What a client sends: a mapping, or JSON bytes (with the media type)."""
        if self.document is not None:
            return self.document, "application/json"
        if self.is_mapping():
            values = dict(self.pairs)
            return ({"values": values} if self.wrapped else values), None
        ascii_only, sep, bom = self.style
        body = _obj(self.pairs, ascii_only, sep)
        if self.wrapped or self.top:
            body = _obj([("values", Raw(body)), *self.top.items()], ascii_only, sep)
        return (b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8"), "application/json"


def _has_raw(v: Any) -> bool:
    return isinstance(v, Raw) or (isinstance(v, dict) and any(_has_raw(x) for x in v.values()))


def _enc(v: Any, ascii_only: bool = False, sep: str = ",") -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, dict):
        return _obj(list(v.items()), ascii_only, sep)
    return json.dumps(v, ensure_ascii=ascii_only)


def _obj(pairs: list[tuple[str, Any]], ascii_only: bool = False, sep: str = ",") -> str:
    """A JSON object of ``pairs`` in order (a key may repeat), ``\\uXXXX`` escapes when ``ascii_only``."""
    return "{" + sep.join(f"{json.dumps(k, ensure_ascii=ascii_only)}:{_enc(v, ascii_only, sep)}" for k, v in pairs) + "}"


#: units a value may be given in, tried against each variable's declared unit (the admitted ones are used)
ALT_UNITS = ("元", "万元", "亿元", "千元", "CNY 10k", "%", "‰", "fraction", "s", "min", "小时", "万人", "万户", "万笔", "个",
             "count")
NA_TOKENS = ("不适用", "N/A", "-", "无", "n/a", "暂无")


def admitted_units(v: Variable) -> list[tuple[str, float]]:
    out = []
    for u in ALT_UNITS:
        try:
            out.append((u, conversion_factor(u, v.unit, variable=v.name)))
        except UnitError:
            pass
    return out


def _fullwidth(text: str) -> str:
    return text.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})


def encode_clean(rng: random.Random, v: Variable, x: float) -> Any:
    """``x`` (in ``v``'s declared unit) written in one of the ways the readers take as that value."""
    whole = float(x).is_integer()
    ways = ["float", "float", "str", "dict", "odd_dict", "raw"]
    if whole and abs(x) < 1e15:
        ways += ["int", "int"]
    if x >= 1000 and (whole or v.type == "money"):
        ways.append("thousands")
    if whole and 0 <= x < 1e6:
        ways.append("fullwidth")
    if v.type == "binary":
        ways += ["bool", "yesno"]
    if v.type == "share":
        ways += ["percent", "percent_dict"]
    alts = [(u, f) for u, f in admitted_units(v) if u != v.unit]
    if alts:
        ways += ["alt", "alt"]
    if v.type == "count" and whole:
        ways.append("near_whole")
    way = rng.choice(ways)
    if way == "int":
        return int(x)
    if way == "str":
        return rng.choice([repr(float(x)), f" {float(x)!r} ", f"+{float(x)!r}" if x >= 0 else repr(float(x))])
    if way == "raw":  # the same number as other JSON texts (sent as bytes): exponent forms, 17 digits
        texts = [f"{x:.17e}", f"{x:.17E}".replace("E+", "E")]
        if whole and abs(x) < 1e15:
            texts += [f"{int(x)}e0", f"{int(x)}.000", f"{int(x) * 10}e-1"]
        return Raw(rng.choice(texts))
    if way == "odd_dict":  # keys the reader does not read, and reasons that say nothing: still clean
        return rng.choice([{"value": x, "note": "as audited"}, {"value": x, "接受理由": "合并"},
                           {"value": x, "accept_reason": ""}, {"value": x, "accept_reason": None},
                           {"value": x, "accept_reason": "   "}, {"unit": v.unit, "value": x}])
    if way == "dict":
        return rng.choice([{"value": x, "unit": v.unit}, {"value": x}, {"value": x, "unit": None}, {"value": x, "unit": ""}])
    if way == "thousands":  # 1,234 / 342,629.41
        return f"{int(x):,}" if whole else f"{x:,}"
    if way == "fullwidth":
        return _fullwidth(str(int(x)))
    if way == "bool":
        return bool(x)
    if way == "yesno":
        return rng.choice(["是", "yes", "true"] if x else ["否", "no", "false"])
    if way == "percent":
        return f"{x * 100:g}%"
    if way == "percent_dict":
        return {"value": x * 100, "unit": "%"}
    if way == "alt":
        u, f = rng.choice(alts)
        return {"value": x / f, "unit": u}
    if way == "near_whole":
        return x + rng.choice([1e-11, -1e-11, 4e-10])  # within 1e-9: read as the whole number it is near
    return float(x)


def encode_plain(rng: random.Random, v: Variable, x: float) -> Any:
    """``x`` as an API client writes it: a JSON number, or ``{"value", "unit"}`` in a unit the variable admits."""
    ways = ["float", "float", "unit"]
    if float(x).is_integer() and abs(x) < 1e15:
        ways += ["int", "int"]
    alts = [(u, f) for u, f in admitted_units(v) if u != v.unit]
    if alts:
        ways.append("alt")
    way = rng.choice(ways)
    if way == "int":
        return int(x)
    if way == "unit":
        return {"value": float(x), "unit": v.unit}
    if way == "alt":
        u, f = rng.choice(alts)
        return {"value": x / f, "unit": u}
    return float(x)


def _free(w: World, e: str, names: list[str]) -> list[str]:
    """Variables no cross-value check reads (no part, whole, carry-over, size): safe for edge values."""
    linked = {x for v in w.fw.variables for x in (v.part_of, v.carry_over_of) if x}
    linked |= {v.name for v in w.fw.variables if v.part_of or v.carry_over_of} | {"operating_revenue"}
    return [n for n in names if n not in linked]


def edge_clean(rng: random.Random, v: Variable) -> Any | None:
    """A value on an edge that is still clean: -0.0, 1e-300, bounds, huge, 19-digit integers, N/A."""
    t = v.type
    if t in ("count", "money", "time", "number", "score"):
        lo = v.min if v.min is not None else 0.0
        opts: list[Any] = [lo, Raw(f"{lo:.1e}")] + ([-0.0, Raw("-0"), Raw("0.0e0")] if lo == 0 else [])
        if t != "count" and lo == 0:
            opts += [1e-300, 5e-324]
        if v.max is None:
            opts += [1e300 if t != "count" else 1e15, Raw("1234567890123456789"), 123456789012345678]
        else:
            opts += [v.max, {"value": v.max, "unit": v.unit}]
        return rng.choice(opts)
    if t == "share":
        return rng.choice([0.0, 1.0, -0.0, "100%", {"value": 100, "unit": "%"}, "0%"])
    if t == "ratio":
        return rng.choice([v.min, v.max, -0.0])
    if t == "level":
        return rng.choice([v.min, v.max, int(v.max or 5), f"{int(v.min or 1)}"])
    if t == "binary":
        return rng.choice([0, 1, True, False, -0.0, "1", "0.0"])
    return None


Mutation = Callable[[random.Random, World, "Case"], None]
MUTATIONS: dict[str, Mutation] = {}


def mutation(name: str) -> Callable[[Mutation], Mutation]:
    def put(fn: Mutation) -> Mutation:
        MUTATIONS[name] = fn
        return fn
    return put


def _pick(rng: random.Random, c: Case, w: World, pred: Callable[[Variable], bool]) -> Variable | None:
    cands = [v for v in w.answers[w.sector.get(c.entity, "bank")].values() if pred(v)]
    return rng.choice(cands) if cands else None


def _set(c: Case, name: str, value: Any) -> None:
    c.pairs = [(k, v) for k, v in c.pairs if k != name] + [(name, value)]


def _now(w: World, c: Case, name: str) -> float | None:
    return w.values.get((c.entity, PERIOD), {}).get(name)


@mutation("variable.unknown")
def _unknown_variable(rng, w, c):
    _set(c, rng.choice(["outlet", "zz_not_a_variable", "Outlets", "fintech_stafff", "值", "ｏｕｔｌｅｔｓ", "outlets_"]),
         rng.choice([1, 2.5, "3"]))


@mutation("variable.not_applicable")
def _other_sector(rng, w, c):
    sec = w.sector.get(c.entity, "bank")
    mine = set(w.answers[sec])
    others = sorted({n for s in SECTORS for n in w.answers[s]} - mine)
    if others:
        _set(c, rng.choice(others), rng.choice([10, 0, "12"]))


@mutation("entity.kind")
def _region_variable(rng, w, c):
    _set(c, rng.choice(["q_payment_amount", "q_licensed_institutions"]), rng.choice([100, 3.5]))


@mutation("entity.unknown")
def _industry_variable(rng, w, c):
    _set(c, rng.choice(["h_fintech_investment", "h_employees"]), 100)


@mutation("unit.unknown")
def _unknown_unit(rng, w, c):
    v = _pick(rng, c, w, lambda v: True)
    if v:
        _set(c, v.name, {"value": _now(w, c, v.name) or 1, "unit": rng.choice(["furlongs", "万", "unknown", "CNY 7k"])})


@mutation("unit.incompatible")
def _incompatible_unit(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type in ("money", "count", "share", "time"))
    if v:
        bad = {"money": ["person", "%", "ms"], "count": ["万元", "元", "hour"], "share": ["元", "person"],
               "time": ["元", "%"]}[v.type]
        _set(c, v.name, {"value": _now(w, c, v.name) or 1, "unit": rng.choice(bad)})


@mutation("unit.incompatible/yes-no")
def _yes_no_for_a_number(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type in ("money", "count", "time"))
    if v:
        _set(c, v.name, rng.choice([True, False, "是", "no"]))


@mutation("value.not_finite")
def _infinite(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type in ("money", "count", "time", "score"))
    if v:
        _set(c, v.name, rng.choice([math.inf, -math.inf, Raw("1e999"), Raw("9" * 400), "1e999"]))


@mutation("type.not_whole")
def _not_whole(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type in ("count", "level"))
    if v:
        base = _now(w, c, v.name) or 3.0
        _set(c, v.name, rng.choice([base + 0.5, base + 1e-7, Raw(f"{int(base)}.0000001"), f"{base + 0.25}"]))


@mutation("type.binary")
def _binary(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type == "binary")
    if v:
        _set(c, v.name, rng.choice([2, 0.5, -1, "3", 1 + 2**-52]))


@mutation("range.negative")
def _negative(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type in ("count", "money", "time") and (v.min or 0) >= 0 and v.name != "fc_speed")
    if v:
        _set(c, v.name, rng.choice([-1, -0.01, "-5", -5e-324, {"value": -1, "unit": v.unit}]))


@mutation("range.min")
def _below_min(rng, w, c):
    _set(c, *rng.choice([("fc_speed", rng.choice([4.999, 0.0, math.nextafter(5.0, 0)])),
                         ("fc_ratio", rng.choice([-1.5, math.nextafter(-1.0, -2)]))]))


@mutation("range.max")
def _above_max(rng, w, c):
    _set(c, *rng.choice([("fc_speed", rng.choice([1000.5, math.nextafter(1000.0, 2e3), {"value": 2, "unit": "s"}])),
                         ("fc_ratio", math.nextafter(10.0, 11)), ("fc_budget", rng.choice([1e6 + 1, {"value": 101, "unit": "亿元"}]))]))


@mutation("range.level")
def _level(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type == "level")
    if v:
        _set(c, v.name, rng.choice([0, int(v.max or 5) + 1, -1, 99]))


@mutation("range.share")
def _share(rng, w, c):
    _set(c, "fc_share", rng.choice([math.nextafter(1.0, 2), 50, 1.5, -1e-300, "150%", {"value": 101, "unit": "%"}]))


@mutation("duplicate")
def _duplicate(rng, w, c):
    v = _pick(rng, c, w, lambda v: True)
    if v:
        x = _now(w, c, v.name) or 1
        c.pairs = [(k, y) for k, y in c.pairs if k.strip() != v.name] + [(v.name, x), (rng.choice([" ", "  "]) + v.name, x)]


@mutation("value.blank_mandatory")
def _blank(rng, w, c):
    v = _pick(rng, c, w, lambda v: True)
    if v:
        _set(c, v.name, rng.choice([None, "", "  ", {"value": None, "unit": v.unit}, {"unit": v.unit}]))


def _factor_value(rng: random.Random, ref: float, *, edge: bool, floor: float = 1.0) -> float:
    """``ref`` times a unit slip's factor (one the check can see: both values above the type's floor); ``edge``:
    at the ends of the tolerance band, just inside or just outside."""
    f = rng.choice([f for f in (1e4, 1e8, 1e-4, 1e-8) if ref * f / 3 >= floor] or [1e4])
    if edge:  # the tolerance band's ends (3×), either side
        f *= rng.choice([3.0, 1 / 3.0]) * rng.choice([1 - 1e-9, 1 + 1e-9, 1.0])
    else:
        f *= rng.uniform(0.5, 2.0)
    return ref * f


@mutation("unit.factor/size")
def _slip_size(rng, w, c):
    if c.entity in w.sized:
        ref = w.sized[c.entity] / 1e4  # the registered operating revenue in 万元
        _set(c, "operating_revenue", round(_factor_value(rng, ref, edge=rng.random() < 0.2), 6))


@mutation("unit.factor/previous")
def _slip_previous(rng, w, c):
    if c.entity not in w.history:
        return
    v = _pick(rng, c, w, lambda v: v.type in ("money", "count") and not v.part_of and not v.carry_over_of
              and w.values[(c.entity, PREV)].get(v.name, 0) >= 100)
    if v:
        x = _factor_value(rng, w.values[(c.entity, PREV)][v.name], edge=rng.random() < 0.2,
                          floor=100.0 if v.type == "count" else 1.0)
        _set(c, v.name, float(round(x)) if v.type == "count" else x)


@mutation("unit.factor/accepted")
def _unit_slip_accepted(rng, w, c):
    (_slip_size if c.entity in w.sized and rng.random() < 0.4 else _slip_previous)(rng, w, c)
    k, x = c.pairs[-1] if c.pairs else (None, None)
    if k is not None and not isinstance(x, dict):
        c.pairs[-1] = (k, {"value": x, "accept_reason": rng.choice(["merger with X", "并购", "new business line"])})


@mutation("unit.accept_unused")
def _reason_unused(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.name in dict(c.pairs) and v.type in ("money", "count"))
    if v:
        _set(c, v.name, {"value": _now(w, c, v.name), "accept_reason": rng.choice(["just in case", "合并"])})


@mutation("part_of.exceeds")
def _part_exceeds(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.part_of is not None)
    if v:
        whole = _now(w, c, v.part_of) or 100.0
        bump = rng.choice([whole + 1, whole * (1 + 1e-6), whole * 2])
        part = float(math.ceil(bump)) if v.type == "count" else bump
        _set(c, v.name, part)
        if rng.random() < 0.6:
            _set(c, v.part_of, whole)


@mutation("part_of.exceeds/stored")
def _part_vs_stored(rng, w, c):
    if c.entity not in w.stored_now:
        return
    part, whole = rng.choice([("fintech_staff", "employees"), ("fc_part", "fc_whole")])
    now = w.values[(c.entity, PERIOD)]
    c.pairs = [(k, x) for k, x in c.pairs if k.strip() not in (part, whole)]
    if rng.random() < 0.5:
        c.pairs.append((part, now[whole] + rng.choice([1, 10])))
    else:
        c.pairs.append((whole, max(now[part] - rng.choice([1, 10]), 0)))


@mutation("turnover.inconsistent")
def _carry_over(rng, w, c):
    if c.entity not in w.history:
        return
    name = rng.choice(["fintech_staff_prev_end", "fc_budget_prev_end"])
    src = {"fintech_staff_prev_end": "fintech_staff", "fc_budget_prev_end": "fc_budget"}[name]
    prev = w.values[(c.entity, PREV)].get(src)
    if prev is not None:
        _set(c, name, prev + rng.choice([1, -1, 2, 0.51 if name.startswith("fc_") else 3]))


@mutation("cell.not_number")
def _not_number(rng, w, c):
    v = _pick(rng, c, w, lambda v: True)
    if v:
        _set(c, v.name, rng.choice(["abc", "1,23", "1.2.3", "１２abc", [1, 2], {"value": [1]}, {"value": {"a": 1}}]))


@mutation("cell.formula_injection")
def _injection(rng, w, c):
    if rng.random() < 0.7:
        v = _pick(rng, c, w, lambda v: True)
        if v:
            _set(c, v.name, rng.choice(["=SUM(A1:A3)", "@cmd", "+abc", "-abc", "＝1+1"]))
    else:
        _set(c, rng.choice(["=cmd|' /C calc'!A0", "@SUM(1)"]), 1)


@mutation("cell.excel_error")
def _excel_error(rng, w, c):
    v = _pick(rng, c, w, lambda v: True)
    if v:
        _set(c, v.name, rng.choice(["#DIV/0!", "#N/A", "#REF!", "#value!"]))


@mutation("cell.unit_conflict")
def _unit_conflict(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type in ("money", "count"))
    if v and rng.random() < 0.75:
        _set(c, v.name, rng.choice([{"value": "12%", "unit": v.unit}, {"value": "是", "unit": v.unit}]))
    else:  # a percentage beside another fraction unit
        _set(c, "fc_share", {"value": "12%", "unit": rng.choice(["fraction", "‰"])})


@mutation("text.control_character")
def _control(rng, w, c):
    v = _pick(rng, c, w, lambda v: True)
    if v:
        if rng.random() < 0.5:
            _set(c, v.name, {"value": _now(w, c, v.name) or 1, "unit": rng.choice(["万\u200b元", "person\x1b[0m", "\x00"])})
        else:
            _set(c, v.name + rng.choice(["\x07", "\u202e", "\n"]), 1)


@mutation("text.too_long")
def _too_long(rng, w, c):
    if rng.random() < 0.5:
        _set(c, "v" * rng.choice([65, 201, 1000]), 1)
    else:
        v = _pick(rng, c, w, lambda v: True)
        if v:
            _set(c, v.name, {"value": 1, "unit": "万" * 40})


@mutation("encoding.mojibake")
def _mojibake(rng, w, c):
    v = _pick(rng, c, w, lambda v: v.type == "money")
    if v:
        _set(c, v.name, {"value": _now(w, c, v.name) or 1, "unit": "ä¸‡å…ƒ"})


@mutation("json.duplicate_key")
def _duplicate_key(rng, w, c):
    if c.pairs:
        k, x = rng.choice(c.pairs)
        c.pairs.append((k, x if rng.random() < 0.5 else 0))
        c.as_bytes = True


@mutation("entity.mismatch")
def _other_entity(rng, w, c):
    c.as_bytes, c.wrapped = True, True
    c.top[rng.choice(["机构", "机构代码", "institution_id"])] = rng.choice([e for e in w.institutions if e != c.entity])


@mutation("period.mismatch")
def _other_period(rng, w, c):
    c.as_bytes, c.wrapped = True, True
    c.top[rng.choice(["year", "报告期", "年份"])] = rng.choice([PREV, "2025", 2023])


@mutation("json.structure")
def _structure(rng, w, c):
    if rng.random() < 0.5:
        c.as_bytes, c.wrapped = True, True
        c.top[rng.choice(["source", "kind", "来源"])] = rng.choice([[1], {"a": 1}])
    else:
        c.document = rng.choice([b"{}", b"[1, 2]", b'"values"', b"42", b'[{"values": {"outlets": 1}}]'])


@mutation("entity.kind/top")
def _kind_top(rng, w, c):
    c.as_bytes, c.wrapped = True, True
    c.top["entity_kind"] = rng.choice(["region", "bogus", "industry", "机构"])


@mutation("top/ignored")
def _ignored_top(rng, w, c):  # top-level keys a value mapping does not read (each value carries its own unit)
    c.as_bytes, c.wrapped = True, True
    c.top[rng.choice(["unit", "单位", "accept_reason", "接受理由", "comment"])] = rng.choice(["亿元", "元", "merger"])


@mutation("records/own")
def _own_records(rng, w, c):  # records naming the return's own entity and period: read alike, not a mapping
    c.document = _obj([("entity", c.entity), ("period", c.period), ("values", Raw(_obj(c.pairs or [("outlets", 1)])))]
                      ).encode("utf-8")


@mutation("json.structure/gbk")
def _gbk(rng, w, c):  # not UTF-8: read as GB18030 text, which the mapping wrapper never saw
    c.document = _obj([("values", Raw(_obj(c.pairs[:5] + [("outlets", {"value": 1, "unit": "个"})])))]).encode("gb18030")


@mutation("source/top")
def _source_top(rng, w, c):  # a source for every value: no rule, but what is stored changes
    c.as_bytes, c.wrapped = True, True
    c.top[rng.choice(["source", "来源"])] = rng.choice(["annual report", "年报", ""])


@mutation("json.invalid")
def _invalid(rng, w, c):
    c.document = rng.choice([b'{"values": {"outlets": nope}}', b"{'values': 1}", b'{"values": {"outlets": 1}} trailing',
                             b'{"values": {"outlets": 1,}}'])


@mutation("json.truncated")
def _truncated(rng, w, c):
    body = _obj([("values", Raw(_obj(c.pairs or [("outlets", 1)])))]).encode()
    c.document = body[: rng.randint(max(1, len(body) // 2), len(body) - 1)]


@mutation("file.no_data")
def _no_data(rng, w, c):
    c.document = b"[]"


@mutation("file.empty")
def _empty(rng, w, c):
    c.document = rng.choice([b"", b"   \n"])


@mutation("encoding.invalid")
def _bad_bytes(rng, w, c):
    c.document = rng.choice([b'{"values": {"outlets\xff\xfe": 1}}', b"\xff\xfe\xfd{", b'{"values": {"\x80\x81": 1}}'])


@mutation("entity.unknown/unregistered")
def _unregistered(rng, w, c):
    c.entity = UNREGISTERED


@mutation("period.invalid")
def _bad_period(rng, w, c):
    c.period = rng.choice(["2024Q5", "24", "2024-13"])


#: mutations that aim at no rule: the return stays clean, sent another way
NO_RULE = frozenset({"source/top", "top/ignored", "records/own"})
#: how often each mutation is drawn (the documents that are not value mappings are rarer: the fast path cannot
#: take them at all)
WEIGHT = {name: 1.0 for name in MUTATIONS} | {
    "json.invalid": 0.3, "json.truncated": 0.3, "json.structure/gbk": 0.3, "records/own": 0.5, "top/ignored": 0.5, "file.no_data": 0.2, "file.empty": 0.2, "encoding.invalid": 0.3,
    "period.invalid": 0.3, "entity.unknown/unregistered": 0.4, "json.structure": 0.4, "source/top": 0.5,
    "unit.factor/previous": 1.5, "unit.factor/size": 1.0, "unit.factor/accepted": 1.0, "part_of.exceeds": 1.5, "part_of.exceeds/stored": 1.5,
    "turnover.inconsistent": 1.5, "range.share": 1.5, "range.min": 1.0, "range.max": 1.0,
}


#: mutations that need an institution with stored values (of PREV; of PERIOD) or a registered size
NEEDS = {"unit.factor/previous": "history", "unit.factor/accepted": "history", "turnover.inconsistent": "history",
         "unit.factor/size": "sized", "part_of.exceeds/stored": "stored_now"}


def make_case(rng: random.Random, w: World, entity: str | None = None, *, mutate: float = 0.3,
              force: list[str] | None = None) -> Case:
    """One institution's return: clean (probability ``1 - mutate``) or with one to three mutations (``force``:
    exactly these, on an institution they can apply to)."""
    if entity is None and force and any(m in NEEDS for m in force):
        need = next(NEEDS[m] for m in force if m in NEEDS)
        entity = rng.choice(sorted({"history": w.history, "sized": set(w.sized) - w.history,  # size the only reference
                                    "stored_now": w.stored_now}[need]))
    e = entity or rng.choice(w.institutions)
    apps = w.answers[w.sector[e]]
    now = w.values[(e, PERIOD)]
    names = sorted(apps)
    k = rng.choice([len(names), len(names), rng.randint(1, len(names)), rng.randint(1, 8)])
    chosen = rng.sample(names, k)
    free = set(_free(w, e, chosen))
    pairs: list[tuple[str, Any]] = []
    plain = rng.random() < 0.4
    for n in chosen:
        r = rng.random()
        v = apps[n]
        if r < 0.06:
            pairs.append((n, rng.choice(NA_TOKENS)))
        elif plain:
            pairs.append((n, encode_plain(rng, v, now[n])))
        elif r < 0.14 and n in free and (x := edge_clean(rng, v)) is not None:
            pairs.append((n, x))
        else:
            pairs.append((n, encode_clean(rng, v, now[n])))
    if rng.random() < 0.05:
        pairs.append((rng.choice(chosen) if chosen else "outlets", {"value": None, "unit": None}))  # blank: an error
        pairs = list(dict(pairs).items())
        blank = True
    else:
        blank = False
    c = Case(e, pairs, as_bytes=not plain and rng.random() < 0.3, wrapped=rng.random() < 0.8,
             aims=["value.blank_mandatory"] if blank else [],
             style=(rng.random() < 0.3, rng.choice([",", ",", ", ", ",\n  "]), rng.random() < 0.1))
    if rng.random() < 0.04:  # a quarterly or monthly return: nothing stored or registered to compare with
        c.period = rng.choice(["2024Q2", "2024-06"])
    names_m = list(MUTATIONS)
    todo = list(force) if force is not None else (
        rng.choices(names_m, weights=[WEIGHT[n] for n in names_m], k=rng.choice([1, 1, 1, 2, 3]))
        if rng.random() < mutate else [])
    for m in todo:
        c.aims.append(m)
        MUTATIONS[m](rng, w, c)
    c.plain = plain and not todo and not blank and c.is_mapping()
    if rng.random() < 0.1 and c.is_mapping():  # a unit per field beside the mapping (the form's 万元/亿元 choice)
        money = [(n, x) for n, x in c.pairs if n in apps and apps[n].type == "money" and isinstance(x, int | float)
                 and not isinstance(x, bool)]
        if money:
            n, x = rng.choice(money)
            u, f = rng.choice([("万元", 1.0), ("亿元", 1e4), ("元", 1e-4)])
            _set(c, n, x / f)
            c.units = {n: u}
    return c


def make_batch(rng: random.Random, w: World, *, mutate: float = 0.3, outliers_share: float = 0.1,
               base_share: float = 0.2) -> tuple[list[Case], bool, bool]:
    """Returns checked together (distinct institutions, as submit_many groups them), whether outliers are
    judged among them (then five or six of one sector, so that a group is large enough), and whether they are
    checked against JR/T 0201 as shipped (``base_share``; :meth:`World.workspace`: the same framework id as the
    extended one) rather than the extension: those returns mostly leave out the extension's variables (the rest
    are unknown to it)."""
    cases, outliers = _batch(rng, w, mutate, outliers_share)
    if rng.random() >= base_share:
        return cases, outliers, False
    for c in cases:
        c.pairs = [(k, x) for k, x in c.pairs if not k.strip().startswith("fc_") or rng.random() < 0.1]
    return cases, outliers, True


def _batch(rng: random.Random, w: World, mutate: float, outliers_share: float) -> tuple[list[Case], bool]:
    if rng.random() < outliers_share:
        sec = rng.choice(SECTORS)
        ents = [e for e in w.institutions if w.sector[e] == sec]
        ents = rng.sample(ents, rng.choice([5, 6]))
        cases = [make_case(rng, w, e, mutate=mutate / 2) for e in ents]
        known = [c for c in cases if c.entity in w.sector]  # (not one made unregistered)
        v = _pick(rng, cases[0], w, lambda v: v.type in ("money", "count") and not v.part_of and not v.carry_over_of
                  and all(v.name in w.values[(c.entity, PERIOD)] for c in known))  # (a baseline may lack a value)
        if v is not None and rng.random() < 0.7:  # one far from its peers: an outlier (and maybe a unit slip)
            for c in known:
                _set(c, v.name, w.values[(c.entity, PERIOD)][v.name])
            odd = rng.choice(known)
            _set(odd, v.name, w.values[(odd.entity, PERIOD)][v.name] * rng.choice([1e3, 50.0, 1e-3]))
            odd.aims.append("outlier")
        return _distinct(w, cases), True
    n = rng.choice([1, 1, 1, 2, 3, 4])
    ents = rng.sample(w.institutions, n)
    cases = [make_case(rng, w, e, mutate=mutate) for e in ents]
    return _distinct(w, cases), False


def _distinct(w: World, cases: list[Case]) -> list[Case]:
    """One return per institution in a call (an unregistered one may have been drawn twice)."""
    seen: set[str] = set()
    for c in cases:
        if c.entity in seen:
            c.entity = next(e for e in w.institutions if e not in seen and e not in {x.entity for x in cases})
        seen.add(c.entity)
    return cases
