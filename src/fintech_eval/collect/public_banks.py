"""The public bank disclosures (``shared/data/public/banks_disclosed.csv``) as framework variables.

The file (columns ``bank_zh, bank_en, year, item, value, unit, source, note``; see its README) holds
press-reported figures from 2019-2024 annual reports. :func:`read_public_banks` turns it into

* ``observations``: the long frame of the readers (plus ``value_norm``/``unit_norm`` in the variable's
  declared unit, ``status``, ``flag_reason``, ``note``, ``citation``), one row per bank, year and
  variable, for the items that *are* framework variables (:data:`ITEM_VARIABLES`): ``fintech_investment``
  and ``operating_revenue`` (亿元 → 万元, ×10,000), ``total_employees`` → ``employees``,
  ``fintech_staff``, ``mobile_banking_users`` → ``personal_app_users`` (万户 → users, ×10,000), and
  ``outlets``, ``self_service_devices``, ``off_counter_transactions`` (亿笔 → ×10^8) when a bank gives them;
* ``ratios``: every disclosed ratio *beside* the ratio recomputed from the variables, never overwriting
  it: ``fintech_investment_ratio_to_revenue`` vs J-A2B1-C1 = fintech_investment / operating_revenue,
  ``fintech_staff_ratio`` vs J-A2B2-C1 = fintech_staff / employees, and ``fintech_investment_yoy`` vs the
  growth of consecutive ``fintech_investment``; ``status`` is ``match``, ``differs`` (flagged) or
  ``not_recomputable`` (an input is missing); bank-years with both inputs and no disclosed ratio are
  listed as ``not_disclosed``;
* ``conflicts``: every row whose note says CONFLICT, and every bank-year-item given more than once
  (e.g. CCB 2024 operating revenue 7285.7 and 7501.5), with the value chosen for ``observations``;
* ``unmapped``: rows not imported, with the reason (sector aggregates such as "Big-6 (aggregate)", items
  with no framework variable such as ``mobile_banking_mau`` or ``operating_revenue_ifrs``);
* ``institutions``: the banks (our own short ids, names zh/en, sector ``bank``, sub-type, head-office
  province code, listing status);
* ``problems``: warnings (``public.conflict``, ``public.ratio_mismatch``, ``public.uncertain``,
  ``public.unknown_bank``) — the file is public data to be reviewed, not rejected; unit problems would
  be errors.

Tolerance of the ratio check
----------------------------
A disclosed ratio is a rounded number (``3.23`` %), computed by the bank from unrounded inputs; the
file's inputs are rounded too (``272.46`` 亿元). The recomputed ratio *matches* when the difference is
within what rounding alone explains: half a unit in the last decimal the ratio is shown with
(``3.23`` → 0.005 pp, ``2.5`` → 0.05 pp, ``9`` → 0.5 pp) plus the first-order effect of rounding the
inputs, ``100 · r · (h_num / num + h_den / den)`` pp with ``h`` half a unit of each input's last
decimal. Anything larger cannot come from rounding — it is a different denominator or definition (CMB
divides by bank-level revenue; BoCom's 5.41 % vs 4.40 % on group revenue) — and is flagged.

When a bank-year gives two values of an input (CCB 2024 revenue), the one that reproduces the
disclosed ratio within that tolerance is chosen, otherwise the first in the file; the choice and the
alternatives are recorded (status ``flagged``), never silently dropped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import math
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from ..catalog.models import Framework
from ..errors import shown
from .units import UnitError, conversion_factor
from .validate import LONG_COLUMNS, CollectProblem, problem

__all__ = [
    "BANKS",
    "ITEM_VARIABLES",
    "PublicBanks",
    "default_path",
    "public_bank_institutions",
    "read_public_banks",
]

_BANK_EN: dict[str, str] = {}
SOURCE = "banks_disclosed.csv: public data, press-reported (A/R)"

#: bank_en in the file → (id, name_zh, name_en, sub-type, head-office province prefix, listed)
BANKS: dict[str, tuple[str, str, str, str, str, bool]] = {
    "ICBC": ("ICBC", "中国工商银行", "Industrial and Commercial Bank of China", "large_state_owned", "11", True),
    "CCB": ("CCB", "中国建设银行", "China Construction Bank", "large_state_owned", "11", True),
    "ABC": ("ABC", "中国农业银行", "Agricultural Bank of China", "large_state_owned", "11", True),
    "BOC": ("BOC", "中国银行", "Bank of China", "large_state_owned", "11", True),
    "BoCom": ("BOCOM", "交通银行", "Bank of Communications", "large_state_owned", "31", True),
    "PSBC": ("PSBC", "中国邮政储蓄银行", "Postal Savings Bank of China", "large_state_owned", "11", True),
    "CMB": ("CMB", "招商银行", "China Merchants Bank", "joint_stock", "44", True),
    "China CITIC Bank": ("CITIC", "中信银行", "China CITIC Bank", "joint_stock", "11", True),
    "Industrial Bank (CIB)": ("CIB", "兴业银行", "Industrial Bank", "joint_stock", "35", True),
    "Ping An Bank": ("PAB", "平安银行", "Ping An Bank", "joint_stock", "44", True),
    "China Everbright Bank": ("CEB", "中国光大银行", "China Everbright Bank", "joint_stock", "11", True),
    "SPDB": ("SPDB", "上海浦东发展银行", "Shanghai Pudong Development Bank", "joint_stock", "31", True),
    "China Minsheng Bank": ("CMBC", "中国民生银行", "China Minsheng Bank", "joint_stock", "11", True),
    "China Zheshang Bank": ("CZB", "浙商银行", "China Zheshang Bank", "joint_stock", "33", True),
    "China Guangfa Bank": ("CGB", "广发银行", "China Guangfa Bank", "joint_stock", "44", False),
    "Bank of Shanghai": ("BOSC", "上海银行", "Bank of Shanghai", "city_commercial", "31", True),
    "Bank of Chongqing": ("BCQ", "重庆银行", "Bank of Chongqing", "city_commercial", "50", True),
    "WeBank": ("WEBANK", "深圳前海微众银行", "WeBank", "private", "44", False),
}

_BANK_EN.update({v[0]: k for k, v in BANKS.items()})

#: file item → framework variable (the variable's help names the same item; a test checks both agree)
ITEM_VARIABLES: dict[str, str] = {
    "fintech_investment": "fintech_investment",
    "operating_revenue": "operating_revenue",
    "total_employees": "employees",
    "fintech_staff": "fintech_staff",
    "mobile_banking_users": "personal_app_users",
    "outlets": "outlets",
    "self_service_devices": "self_service_devices",
    "off_counter_transactions": "off_counter_transactions",
}

#: disclosed ratios: item → (code compared, numerator variable, denominator variable)
RATIO_ITEMS: dict[str, tuple[str, str, str]] = {
    "fintech_investment_ratio_to_revenue": ("J-A2B1-C1", "fintech_investment", "operating_revenue"),
    "fintech_staff_ratio": ("J-A2B2-C1", "fintech_staff", "employees"),
}
GROWTH_ITEMS: dict[str, str] = {"fintech_investment_yoy": "fintech_investment"}

UNMAPPED_REASONS: dict[str, str] = {
    "fintech_investment_ratio_change": "change of a ratio in percentage points: no variable (kept for reference)",
    "operating_revenue_ifrs": "IFRS revenue: another accounting basis than operating_revenue (kept for reference)",
    "mobile_banking_mau": "monthly active users: no framework variable (personal_app_users counts all users)",
    "mobile_banking_transactions": "no framework variable",
    "it_investment_total": "sector-wide IT investment: no institution variable",
    "atms": "ATMs alone: self_service_devices counts all self-service devices",
    "off_counter_rate": "a rate without its counts: J-A3B1-C6 needs off_counter_transactions and total_transactions",
    "electronic_channel_split_rate": "no framework variable",
    "personal_mobile_banking_user_ratio": "survey share: no framework variable",
}
#: why a row is not imported, in Chinese (the reasons of :data:`UNMAPPED_REASONS` and of the bank checks)
UNMAPPED_ZH: dict[str, str] = {
    "change of a ratio in percentage points: no variable (kept for reference)": "比率的百分点变化：无对应变量（留作参考）",
    "IFRS revenue: another accounting basis than operating_revenue (kept for reference)":
        "IFRS 口径收入：与 operating_revenue 会计口径不同（留作参考）",
    "monthly active users: no framework variable (personal_app_users counts all users)":
        "月活跃用户：无对应指标体系变量（personal_app_users 统计全部用户）",
    "no framework variable": "无对应指标体系变量",
    "sector-wide IT investment: no institution variable": "全行业 IT 投入：无机构层面变量",
    "ATMs alone: self_service_devices counts all self-service devices": "仅 ATM：self_service_devices 统计全部自助设备",
    "a rate without its counts: J-A3B1-C6 needs off_counter_transactions and total_transactions":
        "只有比率没有计数：J-A3B1-C6 需要 off_counter_transactions 和 total_transactions",
    "survey share: no framework variable": "调查占比：无对应指标体系变量",
    "sector or group aggregate, not an institution": "行业或集团汇总数，不是单个机构",
    "bank not in the institutions table": "银行不在机构表中",
}


def default_path() -> Path:
    """``$FINTECH_EVAL_BANKS_FILE``, else the copy shipped in the package (``fintech_eval/data``)."""
    env = os.environ.get("FINTECH_EVAL_BANKS_FILE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "data" / "banks_disclosed.csv"


def public_bank_institutions() -> pd.DataFrame:
    """The banks of the file as an institutions table (id, names, sector, subtype, region_code, listed)."""
    rows = [{"id": i, "name_zh": zh, "name_en": en, "sector": "bank", "subtype": sub, "region_code": reg,
             "listed": listed} for i, zh, en, sub, reg, listed in BANKS.values()]
    return pd.DataFrame(rows)


@dataclass
class PublicBanks:
    observations: pd.DataFrame
    ratios: pd.DataFrame
    conflicts: pd.DataFrame
    unmapped: pd.DataFrame
    institutions: pd.DataFrame
    problems: list[CollectProblem] = field(default_factory=list)
    file: str = ""
    sha256: str = ""

    def ratio(self, bank_id: str, year: int | str, code: str = "J-A2B1-C1") -> pd.DataFrame:
        r = self.ratios
        return r[(r["entity_id"] == bank_id) & (r["period"] == str(year)) & (r["code"] == code)]


def _decimals(text: str) -> int:
    try:
        exp = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 0
    return max(0, -int(exp)) if isinstance(exp, int) else 0


def _half_unit(text: str) -> float:
    return 0.5 * 10.0 ** (-_decimals(text))


def _is_aggregate(bank_zh: str, bank_en: str) -> bool:
    en, zh = bank_en.lower(), bank_zh
    return "aggregate" in en or "sector" in en or zh.endswith("合计") or zh in ("银行业",)


#: the columns of the public bank file
COLUMNS = ("bank_zh", "bank_en", "year", "item", "value", "unit", "source", "note")


def read_public_banks(path: str | Path | None = None, framework: Framework | None = None, *,
                      text: str | None = None) -> PublicBanks:
    """Read the public bank file (module doc). ``framework`` (default jrt0201-2020) gives the units;
    ``text``: the file's text when the caller decoded it already (any encoding the readers accept)."""
    if framework is None:
        from ..catalog import load_framework

        framework = load_framework("jrt0201-2020")
    p = Path(path) if path is not None else default_path()
    file = str(p)
    data = p.read_bytes()
    if text is None:
        text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    units = {v.name: v.unit for v in framework.variables}
    probs: list[CollectProblem] = []
    obs: list[dict[str, Any]] = []
    unmapped: list[dict[str, Any]] = []
    disclosed: list[dict[str, Any]] = []
    unknown_banks: set[str] = set()
    for line, r in enumerate(rows, start=2):
        bank_en, bank_zh = (r.get("bank_en") or "").strip(), (r.get("bank_zh") or "").strip()
        item, vtext, unit = (r.get("item") or "").strip(), (r.get("value") or "").strip(), (r.get("unit") or "").strip()
        note = (r.get("note") or "").strip()
        year = (r.get("year") or "").strip()
        base = {"line": line, "bank_en": bank_en, "bank_zh": bank_zh, "year": year, "item": item,
                "value_text": vtext, "unit": unit, "note": note, "citation": (r.get("source") or "").strip()}
        if not _plain_number(vtext):
            probs.append(problem("cell.not_number", f"value {shown(vtext)} is not a plain number (the public file "
                                 "gives figures like 272.46)",
                                 zh=f"数值 {shown(vtext, lang='zh')} 不是普通数字（公开数据文件中的数字形如 272.46）", file=file, row=line, column="value", variable=item))
            continue
        if bank_en not in BANKS:
            reason = "sector or group aggregate, not an institution" if _is_aggregate(bank_zh, bank_en) \
                else "bank not in the institutions table"
            if reason.startswith("bank not"):
                unknown_banks.add(bank_en)
            unmapped.append({**base, "reason": reason})
            continue
        bid = BANKS[bank_en][0]
        if item in RATIO_ITEMS or item in GROWTH_ITEMS:
            disclosed.append({**base, "entity_id": bid})
            continue
        var = ITEM_VARIABLES.get(item)
        if var is None:
            unmapped.append({**base, "reason": UNMAPPED_REASONS.get(item, "no framework variable")})
            continue
        try:
            f = conversion_factor(unit, units[var], variable=var)
        except UnitError as exc:
            p0 = exc.problems[0]
            probs.append(problem(p0.rule, p0.message, zh=p0.message_zh, file=file, row=line, column="unit", entity=bid,
                                 period=year, variable=var))
            continue
        value = float(vtext)
        obs.append({
            "entity_kind": "institution", "entity_id": bid, "period": year, "variable": var, "value": value,
            "unit": unit, "source": SOURCE, "file": file, "sheet": None, "row": line, "column": "value",
            "raw": vtext, "value_norm": value * f, "unit_norm": units[var], "half_unit_norm": _half_unit(vtext) * f,
            "status": "ok", "flag_reason": None, "note": note, "citation": base["citation"], "item": item,
        })
    for b in sorted(unknown_banks):
        probs.append(problem("public.unknown_bank", f"bank {b!r} is not in the institutions table: its rows are "
                             "not imported", "warning", zh=f"银行 {b!r} 不在机构表中：其数据行不予导入", file=file))
    all_obs = pd.DataFrame(obs, columns=list(obs[0]) if obs else [
        "entity_kind", "entity_id", "period", "variable", "value", "unit", "source", "file", "sheet", "row", "column",
        "raw", "value_norm", "unit_norm", "half_unit_norm", "status", "flag_reason", "note", "citation", "item"])
    chosen, conflicts = _choose(all_obs, disclosed, file, probs)
    ratios = _ratios(chosen, disclosed, file, probs)
    for r in chosen[chosen["note"].str.contains("UNCERTAIN", na=False)].itertuples():
        probs.append(problem("public.uncertain", f"{r.variable} = {r.raw} {r.unit}: {r.note}", "warning",
                             zh=f"{r.variable} = {r.raw} {r.unit}：{r.note}（文件标注为不确定）", file=file,
                             row=r.row, column="value", entity=r.entity_id, period=r.period, variable=r.variable))
        i = chosen.index[chosen["row"] == r.row][0]
        chosen.at[i, "status"] = "flagged"
        chosen.at[i, "flag_reason"] = _join(chosen.at[i, "flag_reason"], f"UNCERTAIN in the file: {r.note}")
    for d in disclosed:
        if "CONFLICT" in d["note"]:
            conflicts.append({"entity_id": d["entity_id"], "bank_en": d["bank_en"], "period": d["year"],
                              "item": d["item"], "variable": None, "row": d["line"], "value": float(d["value_text"]),
                              "unit": d["unit"], "note": d["note"], "chosen": None,
                              "kind": "CONFLICT note (disclosed figure)"})
            probs.append(problem("public.conflict", f"{d['item']} = {d['value_text']} {d['unit']}: {d['note']}",
                                 "warning", zh=f"{d['item']} = {d['value_text']} {d['unit']}：{d['note']}（文件标注为冲突）",
                                 file=file, row=d["line"], column="value", entity=d["entity_id"],
                                 period=d["year"]))
    for u in unmapped:  # conflicts among rows that are not imported are surfaced too
        if "CONFLICT" in u["note"]:
            bid = BANKS[u["bank_en"]][0] if u["bank_en"] in BANKS else None
            conflicts.append({"entity_id": bid, "bank_en": u["bank_en"], "period": u["year"], "item": u["item"],
                              "variable": None, "row": u["line"], "value": float(u["value_text"]), "unit": u["unit"],
                              "note": u["note"], "chosen": None, "kind": f"CONFLICT note (not imported: {u['reason']})"})
            probs.append(problem("public.conflict", f"{u['item']} = {u['value_text']} {u['unit']}: {u['note']} "
                                 f"(not imported: {u['reason']})", "warning",
                                 zh=f"{u['item']} = {u['value_text']} {u['unit']}：{u['note']}（文件标注为冲突；"
                                 f"未导入：{UNMAPPED_ZH.get(u['reason'], u['reason'])}）", file=file, row=u["line"],
                                 column="value", entity=bid or u["bank_en"], period=u["year"]))
    cols = [*LONG_COLUMNS, "value_norm", "unit_norm", "status", "flag_reason", "note", "citation", "item"]
    observations = chosen[cols].sort_values("row").reset_index(drop=True) if len(chosen) else pd.DataFrame(columns=cols)
    probs.sort(key=lambda q: (q.where.get("row") or 0))
    return PublicBanks(
        observations=observations,
        ratios=ratios,
        conflicts=pd.DataFrame(conflicts).sort_values("row").reset_index(drop=True) if conflicts else pd.DataFrame(),
        unmapped=pd.DataFrame(unmapped),
        institutions=public_bank_institutions(),
        problems=probs,
        file=file,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _join(a: Any, b: str) -> str:
    return b if not a else f"{a}; {b}"


def _ratio_match(num: float, hnum: float, den: float, hden: float, disclosed_text: str) -> tuple[float, float, float]:
    """(recomputed %, difference pp, tolerance pp) for num/den against a disclosed percentage text."""
    r = num / den
    tol = 0.5 * 10.0 ** (-_decimals(disclosed_text)) + 100.0 * abs(r) * (hnum / abs(num) + hden / abs(den))
    return 100.0 * r, 100.0 * r - float(disclosed_text), tol


def _plain_number(text: str) -> bool:
    """The file's figures are plain finite decimals (``272.46``); anything else is reported, not guessed."""
    try:
        return math.isfinite(float(text)) and text.isascii()
    except ValueError:
        return False


def _choose(all_obs: pd.DataFrame, disclosed: list[dict[str, Any]], file: str, probs: list[CollectProblem]
            ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """One value per bank, year and variable; multi-valued groups resolved by the disclosed ratio."""
    conflicts: list[dict[str, Any]] = []
    if all_obs.empty:
        return all_obs, conflicts
    keep: list[int] = []
    key = ["entity_id", "period", "variable"]
    for (bid, year, var), g in all_obs.groupby(key, sort=False):
        if len(g) == 1:
            i = g.index[0]
            keep.append(i)
            if "CONFLICT" in str(g.at[i, "note"]):
                all_obs.at[i, "status"] = "flagged"
                all_obs.at[i, "flag_reason"] = f"CONFLICT in the file: {g.at[i, 'note']}"
                conflicts.append(_conflict_row(all_obs.loc[i], True, "CONFLICT note"))
                probs.append(problem("public.conflict", f"{var} = {g.at[i, 'raw']} {g.at[i, 'unit']}: {g.at[i, 'note']}",
                                     "warning", zh=f"{var} = {g.at[i, 'raw']} {g.at[i, 'unit']}：{g.at[i, 'note']}"
                                     "（文件标注为冲突）", file=file, row=int(g.at[i, "row"]), column="value", entity=bid,
                                     period=year, variable=var))
            continue
        pick, why, why_zh = g.index[0], "first in the file", "为文件中的第一个"
        for item, (_, nvar, dvar) in RATIO_ITEMS.items():
            if var not in (nvar, dvar):
                continue
            other = dvar if var == nvar else nvar
            others = all_obs[(all_obs["entity_id"] == bid) & (all_obs["period"] == year) & (all_obs["variable"] == other)]
            targets = [d for d in disclosed if d["entity_id"] == bid and d["year"] == year and d["item"] == item]
            found = None
            for i, (_, o), d in itertools.product(g.index, others.iterrows(), targets):
                num, den = (g.loc[i], o) if var == nvar else (o, g.loc[i])
                _, diff, tol = _ratio_match(num["value_norm"], num["half_unit_norm"], den["value_norm"],
                                            den["half_unit_norm"], d["value_text"])
                if abs(diff) <= tol:
                    found = i
                    why = (f"reproduces the disclosed {item} {d['value_text']}% (row {d['line']}) within rounding")
                    why_zh = f"在舍入误差内重现了披露的 {item} {d['value_text']}%（第 {d['line']} 行）"
                    break
            if found is not None:
                pick = found
                break
        keep.append(pick)
        alts = "; ".join(f"{r.raw} {r.unit} (row {r.row}{', ' + r.note if r.note else ''})"
                         for r in g.itertuples() if r.Index != pick)
        reason = (f"{len(g)} values in the file for {var} {bid} {year}: chose {g.at[pick, 'raw']} "
                  f"(row {g.at[pick, 'row']}), which {why}; alternatives: {alts}")
        alts_zh = "；".join(f"{r.raw} {r.unit}（第 {r.row} 行{'，' + r.note if r.note else ''}）"
                           for r in g.itertuples() if r.Index != pick)
        reason_zh = (f"文件中 {bid} {year} 的 {var} 有 {len(g)} 个数值：选用 {g.at[pick, 'raw']}"
                     f"（第 {g.at[pick, 'row']} 行），因其{why_zh}；其他数值：{alts_zh}")
        all_obs.at[pick, "status"] = "flagged"
        all_obs.at[pick, "flag_reason"] = reason
        for i in g.index:
            conflicts.append(_conflict_row(all_obs.loc[i], i == pick, "several values for one bank-year-item"))
        probs.append(problem("public.conflict", reason, "warning", zh=reason_zh, file=file, row=int(g.at[pick, "row"]),
                             column="value", entity=bid, period=year, variable=var))
    return all_obs.loc[keep].copy(), conflicts


def _conflict_row(r: pd.Series, chosen: bool, kind: str) -> dict[str, Any]:
    return {"entity_id": r["entity_id"], "bank_en": _BANK_EN.get(r["entity_id"]), "period": r["period"], "item": r["item"],
            "variable": r["variable"], "row": int(r["row"]), "value": r["value"], "unit": r["unit"],
            "note": r["note"], "chosen": chosen, "kind": kind}


def _ratios(obs: pd.DataFrame, disclosed: list[dict[str, Any]], file: str, probs: list[CollectProblem]) -> pd.DataFrame:
    look: dict[tuple[str, str, str], pd.Series] = {}
    if len(obs):
        for _, r in obs.iterrows():
            look[(r["entity_id"], r["period"], r["variable"])] = r
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for d in disclosed:
        bid, year, item = d["entity_id"], d["year"], d["item"]
        row: dict[str, Any] = {
            "entity_id": bid, "bank_en": d["bank_en"], "period": year, "item": item,
            "disclosed": float(d["value_text"]) / 100.0, "disclosed_text": f"{d['value_text']}%",
            "disclosed_row": d["line"], "conflict": "CONFLICT" in d["note"], "note": d["note"],
        }
        if item in RATIO_ITEMS:
            code, nvar, dvar = RATIO_ITEMS[item]
            seen.add((bid, year, code))
            num, den = look.get((bid, year, nvar)), look.get((bid, year, dvar))
            row.update(code=code, numerator=nvar, denominator=dvar,
                       numerator_value=None if num is None else num["value_norm"],
                       denominator_value=None if den is None else den["value_norm"],
                       inputs_rows=", ".join(str(int(x["row"])) for x in (num, den) if x is not None))
            if num is None or den is None or den["value_norm"] == 0:
                missing = [v for v, x in ((nvar, num), (dvar, den)) if x is None]
                row.update(recomputed=None, difference_pp=None, tolerance_pp=None, status="not_recomputable",
                           reason=f"missing {', '.join(missing) or dvar + ' = 0'} for {bid} {year}")
            else:
                pct, diff, tol = _ratio_match(num["value_norm"], num["half_unit_norm"], den["value_norm"],
                                              den["half_unit_norm"], d["value_text"])
                row.update(recomputed=pct / 100.0, difference_pp=diff, tolerance_pp=tol,
                           status="match" if abs(diff) <= tol else "differs",
                           reason=(f"{nvar} / {dvar} = {num['raw']} / {den['raw']} = {pct:.4f}% vs disclosed "
                                   f"{d['value_text']}% (difference {diff:+.4f} pp, rounding explains up to {tol:.4f} pp)"))
                reason_zh = (f"{nvar} / {dvar} = {num['raw']} / {den['raw']} = {pct:.4f}%，披露值为 {d['value_text']}%"
                             f"（相差 {diff:+.4f} 个百分点，舍入误差最多可解释 {tol:.4f} 个百分点）")
        else:
            var = GROWTH_ITEMS[item]
            prev_year = str(int(year) - 1)
            cur, prev = look.get((bid, year, var)), look.get((bid, prev_year, var))
            row.update(code=item, numerator=f"{var} {year}", denominator=f"{var} {prev_year}",
                       numerator_value=None if cur is None else cur["value_norm"],
                       denominator_value=None if prev is None else prev["value_norm"],
                       inputs_rows=", ".join(str(int(x["row"])) for x in (cur, prev) if x is not None))
            if cur is None or prev is None:
                row.update(recomputed=None, difference_pp=None, tolerance_pp=None, status="not_recomputable",
                           reason=f"missing {var} for {bid} {year if cur is None else prev_year}")
            else:
                pct, _, tol = _ratio_match(cur["value_norm"], cur["half_unit_norm"], prev["value_norm"],
                                           prev["half_unit_norm"], d["value_text"])
                growth = pct - 100.0
                diff = growth - float(d["value_text"])
                row.update(recomputed=growth / 100.0, difference_pp=diff, tolerance_pp=tol,
                           status="match" if abs(diff) <= tol else "differs",
                           reason=(f"{cur['raw']} / {prev['raw']} - 1 = {growth:+.4f}% vs disclosed {d['value_text']}% "
                                   f"(difference {diff:+.4f} pp, rounding explains up to {tol:.4f} pp)"))
                reason_zh = (f"{cur['raw']} / {prev['raw']} - 1 = {growth:+.4f}%，披露值为 {d['value_text']}%"
                             f"（相差 {diff:+.4f} 个百分点，舍入误差最多可解释 {tol:.4f} 个百分点）")
        if row["status"] == "differs":
            probs.append(problem(
                "public.ratio_mismatch",
                f"{row['code']} for {bid} {year}: {row['reason']}; the disclosed figure is kept beside the "
                "recomputed one (different denominator or definition)",
                "warning", zh=f"{bid} {year} 的 {row['code']}：{reason_zh}；披露值与重算值并列保留（分母或口径不同）",
                file=file, row=d["line"], column="value", entity=bid, period=year,
                indicator=row["code"] if row["code"].startswith("J-") else None))
        out.append(row)
    # bank-years with both inputs and no disclosed ratio
    for code, nvar, dvar in RATIO_ITEMS.values():
        for (bid, year, var), num in look.items():
            if var != nvar or (bid, year, code) in seen:
                continue
            den = look.get((bid, year, dvar))
            if den is None or not den["value_norm"]:
                continue
            out.append({"entity_id": bid, "bank_en": None, "period": year, "item": None, "disclosed": None,
                        "disclosed_text": None, "disclosed_row": None, "conflict": False, "note": None,
                        "code": code, "numerator": nvar, "denominator": dvar, "numerator_value": num["value_norm"],
                        "denominator_value": den["value_norm"], "inputs_rows": f"{int(num['row'])}, {int(den['row'])}",
                        "recomputed": num["value_norm"] / den["value_norm"], "difference_pp": None,
                        "tolerance_pp": None, "status": "not_disclosed",
                        "reason": f"{nvar} / {dvar} = {num['raw']} / {den['raw']}; no disclosed ratio in the file"})
    cols = ["entity_id", "bank_en", "period", "code", "item", "disclosed", "disclosed_text", "recomputed",
            "difference_pp", "tolerance_pp", "status", "conflict", "numerator", "numerator_value", "denominator",
            "denominator_value", "disclosed_row", "inputs_rows", "reason", "note"]
    frame = pd.DataFrame(out, columns=cols)
    for c in ("disclosed", "recomputed", "difference_pp", "tolerance_pp", "numerator_value", "denominator_value"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    return frame.sort_values(["entity_id", "period", "code"], kind="stable").reset_index(drop=True)

