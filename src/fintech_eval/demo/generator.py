"""A seeded generator of a SYNTHETIC national sample of financial institutions (合成数据, not real data).

    from fintech_eval.demo import generate
    demo = generate(seed=2024)                  # 600 institutions, 31 provinces, 2020-2024
    demo.institutions, demo.sizes, demo.observations, demo.regions, demo.bad_rows, demo.notes
    demo.with_bad_rows()                        # the observations as a return with the bad rows in it

Everything it makes is labelled synthetic: ids start with ``SYN-``, names say 合成 / Synthetic, the
institutions have ``synthetic = True``, and every observation and size row has ``source = 'synthetic'``.

**What it makes** (:class:`DemoData`)

* ``institutions``: ``entity_id`` (``SYN-BANK-0001``, ``SYN-SEC-…``, ``SYN-INS-…``, ``SYN-PAY-…``, numbered
  by sub-type and size), ``name_zh``, ``name_en``, ``sector``, ``subtype``, ``region_code`` (6-digit GB/T
  2260 province code), ``listed``, ``synthetic``. Default mix (600): 240 banks (6 large state-owned, 12
  joint-stock, then city commercial / rural commercial / foreign 45:40:15), 120 securities firms
  (leading / mid-size / small 10:30:60), 140 insurers (property / life), 100 payment institutions (online
  payment / bank-card acquiring / prepaid card 40:40:20). Other sizes keep the proportions. Every
  province has institutions when there are at least 31 local (city/rural bank, small securities,
  prepaid-card) institutions; head offices of the large and joint-stock banks sit in the financial
  centres as they do in reality.
* ``sizes``: the four sampling variables of §4 per institution and period, long: ``entity_id, period,
  attribute, value, unit, source``. ``operating_revenue`` (CNY 10k, equal to the raw variable),
  ``market_share`` (fraction of the sector's revenue in the synthetic universe), ``total_financing``
  (CNY 10k, funds raised), ``market_value`` (CNY 10k, listed institutions only: unlisted ones have no row,
  so sampling by market value reports them as missing).
* ``observations``: the raw variables, long: ``entity_kind, entity_id, period, variable, value, unit,
  source`` with ``source = 'synthetic'``; for each institution every *institution* variable the framework
  asks of its sector, and for each of the 31 provinces (``entity_kind = 'region'``, ``entity_id`` the
  6-digit code) every *region* variable a complete indicator reads (the Q block). A missing value is a
  row with ``value`` NaN (about 3 %, more often at small institutions).
* ``regions``: the 31 provinces with the weights the generator used (approximate 2023 GDP) and the
  number of synthetic institutions headquartered there.
* ``bad_rows``: a few deliberately broken rows (same columns plus ``rule``, ``reason``, ``good_value``),
  each breaking exactly one validation rule of :mod:`fintech_eval.collect.validate` (the ``rule`` column
  names it): a part larger than its whole (two, one of them an off-counter "share" above 1), a negative
  count, a fractional count, a unit typo, a unit of the wrong kind, a yes/no answered 2, a level off its
  scale, a turnover input that disagrees with last year's staff, and a variable not asked of the sector.
  They *replace* the good value of the same key (:meth:`DemoData.with_bad_rows`), except the
  not-applicable one, which is an extra row.

**Which variables** come from the framework, not from a list here: a sector answers a variable when the
variable's ``sectors`` is empty or contains the sector *and* an indicator applicable to the sector reads
it (its formula, its variant for the sector, or its H roll-up), the rule the questionnaire templates and
validation use. Region variables: those a complete indicator reads. The generator then has a calibrated
*recipe* per known variable name; a variable it has no recipe for (an extension, a new version) gets a
generic recipe by type (count, money, level, binary, …) and is listed in ``notes``.

**The model.** Per institution a size factor ``z`` (lognormal operating revenue per sub-type) and a
latent *digital maturity* ``D`` (correlated with size, offset by sub-type, growing every year at an
institution-specific pace); ``m = sigmoid(D)`` in (0, 1) drives most shares and ratios (app penetration,
automation, chatbot use, cloud adoption, levels…), so the variables are correlated as in real returns,
and bigger institutions invest and file patents more. Noise is multiplicative lognormal with a
persistent (per institution) and a transient (per year) part. Rules every good row keeps: counts and
levels are whole, levels within 1..5 / 1..6, yes/no 0/1, nothing negative, ``part_of`` respected
(part <= whole; also the PC + app transaction amounts stay below the total), and
``fintech_staff_prev_end`` of a year is exactly ``fintech_staff`` of the year before (the generic rule
``X_prev_end`` = last period's ``X``, declared by the catalog's ``carry_over_of``; the generator simulates
the year before the first one for it).

**Calibration** (public figures in ``shared/data/public/banks_disclosed.csv``, 亿元 = CNY 10k × 10,000):
large state-owned banks' operating revenue ~ CNY 260-850 bn (2.6e7-8.5e7 in CNY 10k; median drawn
5.5e7), joint-stock banks ~ CNY 60-340 bn (median 1.5e7); FinTech investment / revenue 2.0-2.6 % in
2019-2020 rising to 3.2-3.8 % in 2023-2024 for the large banks (CCB 2024: 244.33 / 7501.5 = 3.26 %),
3.6-5.9 % for joint-stock banks; revenue per employee ~ CNY 1.9 m (ICBC 2023: 8430.7 亿 / ~434k staff);
FinTech staff share 1.6-8.6 % at the large banks (CCB 2024: 16,365 / 376,847 = 4.34 %), 5-9 % at
joint-stock banks; ~5,400 万元 of revenue per outlet (ICBC ~15,500 outlets); banking-sector off-counter
rates around 90 %. Other sectors use round, plausible magnitudes (securities firms invest 5-8 % of
revenue in IT, payment institutions have a quarter of their staff in technology) and are not
calibrated to data.

The generator is vectorised numpy (one pass per variable over every institution and year); each
variable draws from its own random stream (seeded by the seed and the variable name), so adding a
variable to the framework does not change the others. Same seed → identical frames.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..catalog.formula import parse as parse_formula
from ..catalog.models import Framework, Indicator, Variable

__all__ = [
    "DEMO_SECTORS",
    "DemoData",
    "generate",
    "region_variables",
    "sector_variables",
]

SOURCE = "synthetic"
DEMO_SECTORS: tuple[str, ...] = ("bank", "securities", "insurance", "payment")
#: institutions per sector in the default sample of 600 (other sizes keep the proportions)
SECTOR_MIX: dict[str, int] = {"bank": 240, "securities": 120, "insurance": 140, "payment": 100}
ID_PREFIX = {"bank": "BANK", "securities": "SEC", "insurance": "INS", "payment": "PAY"}
SECTOR_ZH = {"bank": "银行", "securities": "证券", "insurance": "保险", "payment": "支付"}
MISSING_RATE = 0.03
REGION_MISSING_RATE = 0.01

# Approximate 2023 GDP per province, CNY trillion (万亿元). Used ONLY as allocation weights and region
# magnitudes for the synthetic data; not a statistic this package publishes.
GDP_2023: dict[str, float] = {
    "110000": 4.38, "120000": 1.67, "130000": 4.39, "140000": 2.57, "150000": 2.46, "210000": 3.02,
    "220000": 1.35, "230000": 1.59, "310000": 4.72, "320000": 12.82, "330000": 8.26, "340000": 4.71,
    "350000": 5.44, "360000": 3.22, "370000": 9.21, "410000": 5.91, "420000": 5.58, "430000": 5.01,
    "440000": 13.57, "450000": 2.72, "460000": 0.76, "500000": 3.01, "510000": 6.01, "520000": 2.09,
    "530000": 3.00, "540000": 0.24, "610000": 3.38, "620000": 1.19, "630000": 0.38, "640000": 0.53,
    "650000": 1.91,
}  # fmt: skip
FINANCIAL_CENTRES = {"110000": 0.6, "310000": 0.6, "440000": 0.35, "330000": 0.2}  # maturity bonus


@dataclass(frozen=True)
class Profile:
    """A sub-type: its size distribution, calibration anchors and where its head offices are."""

    sector: str
    subtype: str
    zh: str
    en: str
    rev_median: float  # operating revenue 2022, CNY 10k (median of the lognormal)
    rev_sigma: float  # sd of log revenue
    rev_growth: float  # yearly log growth of revenue
    rev_per_employee: float  # CNY 10k of revenue per employee
    inv_ratio: float  # FinTech investment / operating revenue in 2020 (at average maturity)
    staff_share: float  # FinTech staff / employees in 2020 (at average maturity)
    maturity: float  # offset of the latent digital maturity
    listed_share: float  # share of the sub-type that is listed (the larger ones)
    location: str  # "capital" | "centres" | "hub" | "local": how head offices spread over provinces
    price_to_sales: float  # market value / revenue of the listed ones
    z_clip: float = 2.5


PROFILES: tuple[Profile, ...] = (
    Profile("bank", "large_state_owned", "大型国有商业银行", "Large State-owned Bank",
            5.5e7, 0.35, 0.01, 190, 0.021, 0.035, 1.0, 1.0, "capital", 0.6, 2.0),
    Profile("bank", "joint_stock", "股份制商业银行", "Joint-stock Bank",
            1.5e7, 0.50, 0.02, 280, 0.034, 0.055, 1.0, 0.9, "centres", 0.7, 2.0),
    Profile("bank", "city_commercial", "城市商业银行", "City Commercial Bank",
            6.0e5, 0.90, 0.04, 150, 0.025, 0.040, 0.0, 0.25, "local", 0.6),
    Profile("bank", "rural_commercial", "农村商业银行", "Rural Commercial Bank",
            1.5e5, 1.00, 0.04, 100, 0.015, 0.020, -0.6, 0.05, "local", 0.5),
    Profile("bank", "foreign", "外资银行", "Foreign Bank",
            2.0e5, 0.80, 0.02, 200, 0.030, 0.050, -0.1, 0.0, "hub", 1.0),
    Profile("securities", "leading", "头部证券公司", "Leading Securities Firm",
            2.0e6, 0.40, 0.03, 230, 0.070, 0.080, 0.9, 1.0, "hub", 4.0),
    Profile("securities", "mid_size", "中型证券公司", "Mid-size Securities Firm",
            4.0e5, 0.40, 0.03, 170, 0.050, 0.060, 0.3, 0.6, "hub", 3.5),
    Profile("securities", "small", "小型证券公司", "Small Securities Firm",
            8.0e4, 0.60, 0.03, 130, 0.040, 0.050, -0.2, 0.15, "local", 3.0),
    Profile("insurance", "property", "财产保险公司", "Property Insurer",
            3.0e5, 1.30, 0.05, 250, 0.015, 0.040, -0.1, 0.1, "hub", 1.2),
    Profile("insurance", "life", "人身保险公司", "Life Insurer",
            1.0e6, 1.30, 0.05, 400, 0.012, 0.035, -0.1, 0.1, "hub", 1.0),
    Profile("payment", "online_payment", "网络支付机构", "Online Payment Institution",
            5.0e4, 1.50, 0.08, 150, 0.080, 0.220, 1.0, 0.08, "hub", 6.0),
    Profile("payment", "card_acquiring", "银行卡收单机构", "Card-acquiring Institution",
            3.0e4, 1.00, 0.05, 120, 0.060, 0.200, 0.5, 0.05, "hub", 4.0),
    Profile("payment", "prepaid_card", "预付卡机构", "Prepaid-card Institution",
            5.0e3, 0.90, 0.00, 80, 0.040, 0.120, -0.2, 0.0, "local", 3.0),
)  # fmt: skip
#: share of a sector's institutions in each sub-type (large state-owned and joint-stock banks are
#: capped at 6 and 12, as in reality; the rest of the banks split 45:40:15)
SUBTYPE_WEIGHTS: dict[str, dict[str, float]] = {
    "bank": {"city_commercial": 0.45, "rural_commercial": 0.40, "foreign": 0.15},
    "securities": {"leading": 0.10, "mid_size": 0.30, "small": 0.60},
    "insurance": {"property": 0.50, "life": 0.50},
    "payment": {"online_payment": 0.40, "card_acquiring": 0.40, "prepaid_card": 0.20},
}
BANK_CAPS = {"large_state_owned": (6, 0.025), "joint_stock": (12, 0.05)}  # (cap, share of banks)

# Sector-level parameters of the recipes (per unit of operating revenue in CNY 10k, unless stated).
SECTOR_PARAMS: dict[str, dict[str, float]] = {
    #             users/rev  corp/pers  txn/user  amount/rev  rev/outlet  dev/outlet  off-counter lo, hi
    "bank": dict(users=8.0, corp=0.02, txn_per_user=150, amount=3e4, rev_per_outlet=5400, devices=4.0,
                 off_lo=0.80, off_hi=0.995, wm_txn=0.3, wm_amount=20, risk=30, prov_lo=0.02, prov_hi=0.045,
                 pay=0.4, bar_lo=0.02, bar_hi=0.25, scen_fin=1.0, scen_life=1.0, patents=1.0, financing=3.0,
                 claims=0.0, orders=0.0),
    "securities": dict(users=2.5, corp=0.005, txn_per_user=60, amount=5e3, rev_per_outlet=1.5e4, devices=1.0,
                       off_lo=0.90, off_hi=0.999, wm_txn=2.0, wm_amount=15, risk=8, prov_lo=0.01,
                       prov_hi=0.08, pay=0.0, bar_lo=0.0, bar_hi=0.0, scen_fin=0.6, scen_life=0.3,
                       patents=0.5, financing=2.5, claims=0.0, orders=80.0),
    "insurance": dict(users=3.0, corp=0.02, txn_per_user=3, amount=1.5, rev_per_outlet=2e4, devices=0.5,
                      off_lo=0.50, off_hi=0.95, wm_txn=0.2, wm_amount=3, risk=5, prov_lo=0.01, prov_hi=0.06,
                      pay=0.0, bar_lo=0.0, bar_hi=0.0, scen_fin=0.5, scen_life=0.4, patents=0.7,
                      financing=1.0, claims=0.05, orders=0.0),
    "payment": dict(users=50.0, corp=0.06, txn_per_user=400, amount=2e4, rev_per_outlet=3e4, devices=0.3,
                    off_lo=0.97, off_hi=1.0, wm_txn=0.0, wm_amount=0.0, risk=3, prov_lo=0.05, prov_hi=0.15,
                    pay=0.9, bar_lo=0.20, bar_hi=0.70, scen_fin=0.8, scen_life=1.2, patents=2.0,
                    financing=1.5, claims=0.0, orders=0.0),
}  # fmt: skip


# ---- what the framework asks of whom ------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _parsed_names(text: str) -> frozenset[str]:
    return parse_formula(text).names


def _names(text: str | None) -> set[str]:
    return set(_parsed_names(text)) if text else set()


def _reads(fw: Framework, ind: Indicator, sector: str | None, depth: int = 0) -> set[str]:
    """Names an indicator reads for ``sector`` (formula, the sector's variant, roll-up; recursively)."""
    out = _names(ind.formula)
    for v in ind.variants:
        if sector is None or sector in v.sectors:
            out |= _names(v.formula)
    r = ind.rollup
    if r is not None:
        for text in (r.numerator, r.denominator, r.condition):
            out |= _names(text)
        if r.of:
            try:
                out |= _reads(fw, fw.indicator(r.of), sector, depth + 1) if depth < 5 else set()
            except KeyError:
                out.add(r.of)
    return out


def sector_variables(fw: Framework, sectors: Iterable[str] = DEMO_SECTORS) -> dict[str, list[str]]:
    """Sector → the institution variables it answers, in framework order.

    A variable applies when its ``sectors`` is empty or holds the sector and an indicator applicable to
    the sector reads it (formula, the sector's variant, or roll-up).
    """
    out: dict[str, list[str]] = {}
    for s in sectors:
        read: set[str] = set()
        for ind in fw.indicators():
            if ind.applies_to(s):
                read |= _reads(fw, ind, s)
        out[s] = [
            v.name for v in fw.variables
            if v.entity == "institution" and (not v.sectors or s in v.sectors) and v.name in read
        ]  # fmt: skip
    return out


def region_variables(fw: Framework) -> list[str]:
    """The region variables some complete indicator reads, in framework order."""
    read: set[str] = set()
    for ind in fw.indicators():
        read |= _reads(fw, ind, None)
    return [v.name for v in fw.variables if v.entity == "region" and v.name in read]


def carry_over(fw: Framework) -> dict[str, str]:
    """``X_prev_end`` → ``X``: the variables restating the previous period's value of another, as the
    catalog declares them (``carry_over_of``)."""
    return {v.name: v.carry_over_of for v in fw.variables if v.carry_over_of}


# ---- result ----------------------------------------------------------------------------------------
@dataclass
class DemoData:
    """The synthetic sample (see the module doc). ``variables``: sector (and ``region``) → variables."""

    institutions: pd.DataFrame
    sizes: pd.DataFrame
    observations: pd.DataFrame
    regions: pd.DataFrame
    bad_rows: pd.DataFrame
    notes: list[str]
    seed: int = 2024
    years: tuple[int, ...] = ()
    framework: str = ""
    variables: dict[str, list[str]] = field(default_factory=dict)

    def with_bad_rows(self) -> pd.DataFrame:
        """The observations as a return that contains the bad rows: each bad row replaces the good row of
        the same key (or is added when there is none). Validating it rejects exactly the bad rows."""
        key = ["entity_kind", "entity_id", "period", "variable"]
        bad = self.bad_rows[self.observations.columns]
        k_obs = pd.MultiIndex.from_frame(self.observations[key])
        k_bad = pd.MultiIndex.from_frame(bad[key])
        kept = self.observations[~k_obs.isin(k_bad)]
        return pd.concat([kept, bad], ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """Institutions per sector and sub-type."""
        return self.institutions.groupby(["sector", "subtype"], sort=False).size().rename("n").reset_index()


# ---- the world: latent factors and memoised variables ---------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Largest-remainder allocation of ``total`` over ``weights`` (sums exactly to total)."""
    keys = list(weights)
    w = np.array([weights[k] for k in keys], dtype=float)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return dict(zip(keys, base.tolist(), strict=True))


def _stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per purpose / variable (stable across runs and Python versions)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


Recipe = Callable[["_World"], np.ndarray]
INSTITUTION_RECIPES: dict[str, Recipe] = {}
REGION_RECIPES: dict[str, Recipe] = {}


def _recipe(table: dict[str, Recipe], *names: str):
    def deco(f: Recipe) -> Recipe:
        for n in names:
            table[n] = f
        return f

    return deco


class _World:
    """Arrays of shape (entities, years) for one entity kind; ``get(name)`` computes a variable once."""

    def __init__(self, fw: Framework, seed: int, years: list[int], kind: str, n: int,
                 recipes: dict[str, Recipe]) -> None:  # fmt: skip
        self.fw = fw
        self.seed = seed
        self.kind = kind
        self.years = np.asarray(years)
        self.t = (self.years - 2020.0)[None, :]  # years since the calibration anchor
        self.n = n
        self.shape = (n, len(years))
        self.recipes = recipes
        self.vars = {v.name: v for v in fw.variables if v.entity == kind}
        self.carry = carry_over(fw)
        prev = {y: i for i, y in enumerate(years)}
        self.prev_col = np.array([prev.get(y - 1, -1) for y in years])
        self.memo: dict[str, np.ndarray] = {}
        self.fallbacks: list[str] = []
        self.D = np.zeros(self.shape)  # latent digital maturity (logit); set by the builder
        self.size = np.ones(self.shape)  # a size measure (revenue / GDP), set by the builder
        self.params: dict[str, np.ndarray] = {}

    # random helpers (each variable its own stream)
    def rng(self, name: str) -> np.random.Generator:
        return _stream(self.seed, f"{self.kind}:{name}")

    def noise(self, g: np.random.Generator, persistent: float, transient: float) -> np.ndarray:
        """Multiplicative lognormal noise with a per-entity and a per-year part (median 1)."""
        return np.exp(persistent * g.standard_normal((self.n, 1)) + transient * g.standard_normal(self.shape))

    def share(self, g: np.random.Generator, lo: float, hi: float, *, slope: float = 1.0, shift: float = 0.0,
              persistent: float = 0.4, transient: float = 0.1, trend: float = 0.0) -> np.ndarray:  # fmt: skip
        """A share in [lo, hi] rising with digital maturity (slope < 0: falling)."""
        x = slope * self.D + shift + trend * self.t
        x = x + persistent * g.standard_normal((self.n, 1)) + transient * g.standard_normal(self.shape)
        return lo + (hi - lo) * _sigmoid(x)

    @property
    def m(self) -> np.ndarray:
        return _sigmoid(self.D)

    def p(self, key: str) -> np.ndarray:
        return self.params[key]

    # variables
    def get(self, name: str) -> np.ndarray:
        if name in self.memo:
            return self.memo[name]
        if name not in self.vars:
            raise KeyError(f"{name} is not a {self.kind} variable of {self.fw.id}")
        v = self.vars[name]
        self.memo[name] = np.full(self.shape, np.nan)  # guards against cycles
        if name in self.carry:
            src = self.get(self.carry[name])
            x = np.where(self.prev_col[None, :] >= 0, src[:, np.maximum(self.prev_col, 0)], np.nan)
        elif name in self.recipes:
            x = np.asarray(self.recipes[name](self), dtype=float)
        else:
            self.fallbacks.append(name)
            x = _fallback(self, v)
        x = np.broadcast_to(x, self.shape).astype(float)
        x = self._finalise(v, x)
        self.memo[name] = x
        return x

    def _finalise(self, v: Variable, x: np.ndarray) -> np.ndarray:
        whole = self.get(v.part_of) if v.part_of and v.part_of in self.vars else None
        if whole is not None:
            x = np.where(np.isnan(whole), x, np.minimum(x, whole))
        lo = v.min if v.min is not None else -np.inf
        hi = v.max if v.max is not None else np.inf
        x = np.clip(x, lo, hi)
        if v.type in ("count", "level"):
            x = np.round(x)
        elif v.type == "binary":
            x = (x >= 0.5).astype(float)
        elif v.type in ("money", "time"):
            x = np.round(x, 2)
        elif v.type == "score":
            x = np.round(x, 1)
        elif v.type == "number":
            x = np.round(x)
        elif v.type in ("share", "ratio"):
            x = np.round(x, 6)
        if whole is not None:  # rounding is monotone, but keep the guarantee explicit
            x = np.where(np.isnan(whole), x, np.minimum(x, whole))
        return np.clip(x, lo, hi)


def _fallback(w: _World, v: Variable) -> np.ndarray:
    """A generic recipe by type for a variable the generator has no calibrated recipe for."""
    g = w.rng(v.name)
    scale = (w.size / np.median(w.size)) ** 0.4
    if v.part_of and v.part_of in w.vars:
        return w.get(v.part_of) * w.share(g, 0.05, 0.95)
    if v.type == "binary":
        return (w.m > g.uniform(0.2, 0.9, (w.n, 1))).astype(float)
    if v.type == "level":
        lo, hi = (v.min if v.min is not None else 1.0), (v.max if v.max is not None else 5.0)
        return lo + (hi - lo) * w.share(g, 0.0, 1.0, persistent=0.3)
    if v.type == "score":
        return w.share(g, 30.0, 100.0)
    if v.type in ("share", "ratio"):
        hi = v.max if v.max is not None else 1.0
        return w.share(g, 0.0, hi)
    if v.type == "money":
        return w.size * 0.01 * w.noise(g, 0.5, 0.1)
    if v.type == "time":
        return 24.0 * np.exp(-2 * w.m) * w.noise(g, 0.3, 0.1)
    return g.poisson(np.clip(3 * scale * (0.3 + w.m), 0, 1e9)).astype(float)


# ---- institution recipes (units: the framework's, money in CNY 10k) ---------------------------------------
_I = INSTITUTION_RECIPES


@_recipe(_I, "operating_revenue")
def _revenue(w: _World) -> np.ndarray:
    return w.size


@_recipe(_I, "fintech_investment")
def _fintech_investment(w: _World) -> np.ndarray:
    g = w.rng("fintech_investment")
    ratio = w.p("inv_ratio") * np.exp(0.6 * (w.m - 0.5) + 0.075 * w.t) * w.noise(g, 0.12, 0.06)
    return w.get("operating_revenue") * ratio


@_recipe(_I, "employees")
def _employees(w: _World) -> np.ndarray:
    g = w.rng("employees")
    return np.maximum(5, w.get("operating_revenue") / w.p("rev_per_employee") * w.noise(g, 0.2, 0.03))


@_recipe(_I, "fintech_staff")
def _fintech_staff(w: _World) -> np.ndarray:
    g = w.rng("fintech_staff")
    share = w.p("staff_share") * np.exp(1.0 * (w.m - 0.5) + 0.06 * w.t) * w.noise(g, 0.25, 0.03)
    return w.get("employees") * np.minimum(share, 0.6)


@_recipe(_I, "fintech_staff_leavers")
def _leavers(w: _World) -> np.ndarray:
    g = w.rng("fintech_staff_leavers")
    base = w.get("fintech_staff_prev_end") if "fintech_staff_prev_end" in w.vars else w.get("fintech_staff")
    base = np.where(np.isnan(base), w.get("fintech_staff"), base)
    rate = np.clip((0.02 + 0.10 * (1 - w.m)) * w.noise(g, 0.2, 0.2), 0, 0.5)
    return g.binomial(np.round(base).astype(np.int64), rate).astype(float)


@_recipe(_I, "fintech_training_person_times")
def _training(w: _World) -> np.ndarray:
    g = w.rng("fintech_training_person_times")
    return w.get("employees") * (0.2 + 2.5 * w.m) * w.noise(g, 0.3, 0.1)


@_recipe(_I, "personal_users")
def _personal_users(w: _World) -> np.ndarray:
    g = w.rng("personal_users")
    return w.get("operating_revenue") * w.p("users") * w.noise(g, 0.3, 0.03)


@_recipe(_I, "corporate_users")
def _corporate_users(w: _World) -> np.ndarray:
    g = w.rng("corporate_users")
    return np.maximum(1, w.get("personal_users") * w.p("corp") * w.noise(g, 0.4, 0.03))


@_recipe(_I, "personal_pc_users")
def _personal_pc(w: _World) -> np.ndarray:
    return w.get("personal_users") * w.share(w.rng("personal_pc_users"), 0.10, 0.60, slope=0.3, trend=-0.1)


@_recipe(_I, "corporate_pc_users")
def _corporate_pc(w: _World) -> np.ndarray:
    return w.get("corporate_users") * w.share(w.rng("corporate_pc_users"), 0.40, 0.95, slope=0.6)


@_recipe(_I, "personal_app_users")
def _personal_app(w: _World) -> np.ndarray:
    return w.get("personal_users") * w.share(w.rng("personal_app_users"), 0.25, 0.92, slope=1.0, shift=0.3)


@_recipe(_I, "corporate_app_users")
def _corporate_app(w: _World) -> np.ndarray:
    return w.get("corporate_users") * w.share(w.rng("corporate_app_users"), 0.05, 0.70, slope=1.0, shift=-0.5)


@_recipe(_I, "transaction_amount")
def _txn_amount(w: _World) -> np.ndarray:
    return w.get("operating_revenue") * w.p("amount") * w.noise(w.rng("transaction_amount"), 0.3, 0.05)


def _channel_shares(w: _World) -> tuple[np.ndarray, np.ndarray]:
    pc = w.share(w.rng("pc_transaction_amount"), 0.03, 0.45, slope=-0.6, trend=-0.05)
    app = w.share(w.rng("app_transaction_amount"), 0.10, 0.60, slope=1.0)
    return pc, np.minimum(app, 0.98 - pc)  # PC + app stay below the total


@_recipe(_I, "pc_transaction_amount")
def _pc_amount(w: _World) -> np.ndarray:
    return w.get("transaction_amount") * _channel_shares(w)[0]


@_recipe(_I, "app_transaction_amount")
def _app_amount(w: _World) -> np.ndarray:
    return w.get("transaction_amount") * _channel_shares(w)[1]


@_recipe(_I, "outlets")
def _outlets(w: _World) -> np.ndarray:
    g = w.rng("outlets")
    return np.maximum(1, w.get("operating_revenue") / w.p("rev_per_outlet") * w.noise(g, 0.3, 0.02))


@_recipe(_I, "self_service_devices")
def _devices(w: _World) -> np.ndarray:
    g = w.rng("self_service_devices")
    return w.get("outlets") * w.p("devices") * np.exp(-0.05 * w.t) * w.noise(g, 0.35, 0.05)


@_recipe(_I, "total_transactions")
def _total_txn(w: _World) -> np.ndarray:
    users = w.get("personal_users") + w.get("corporate_users")
    return users * w.p("txn_per_user") * w.noise(w.rng("total_transactions"), 0.3, 0.05)


@_recipe(_I, "off_counter_transactions")
def _off_counter(w: _World) -> np.ndarray:
    g = w.rng("off_counter_transactions")
    lo, hi = w.p("off_lo"), w.p("off_hi")
    return w.get("total_transactions") * (lo + (hi - lo) * w.share(g, 0.0, 1.0, slope=1.0, shift=0.5))


def _robo_adopted(w: _World) -> np.ndarray:
    threshold = _stream(w.seed, "robo_adoption").uniform(0.35, 0.85, (w.n, 1))
    return w.m > threshold


@_recipe(_I, "wealth_mgmt_txn")
def _wm_txn(w: _World) -> np.ndarray:
    return np.maximum(1, w.get("personal_users") * w.p("wm_txn") * w.noise(w.rng("wealth_mgmt_txn"), 0.4, 0.05))


@_recipe(_I, "robo_advisory_txn")
def _robo_txn(w: _World) -> np.ndarray:
    s = w.share(w.rng("robo_advisory_txn"), 0.005, 0.20, slope=1.2, shift=-1.0)
    return w.get("wealth_mgmt_txn") * np.where(_robo_adopted(w), s, 0.0)


@_recipe(_I, "wealth_mgmt_amount")
def _wm_amount(w: _World) -> np.ndarray:
    g = w.rng("wealth_mgmt_amount")
    return np.maximum(1, w.get("operating_revenue") * w.p("wm_amount") * w.noise(g, 0.4, 0.05))


@_recipe(_I, "robo_advisory_amount")
def _robo_amount(w: _World) -> np.ndarray:
    s = w.share(w.rng("robo_advisory_amount"), 0.002, 0.10, slope=1.2, shift=-1.0)
    return w.get("wealth_mgmt_amount") * np.where(_robo_adopted(w), s, 0.0)


@_recipe(_I, "app_financial_scenarios")
def _scen_fin(w: _World) -> np.ndarray:
    g = w.rng("app_financial_scenarios")
    return g.poisson(w.p("scen_fin") * (4 + 30 * w.m)).astype(float)


@_recipe(_I, "app_livelihood_scenarios")
def _scen_life(w: _World) -> np.ndarray:
    g = w.rng("app_livelihood_scenarios")
    return g.poisson(w.p("scen_life") * (1 + 50 * w.m**2)).astype(float)


@_recipe(_I, "personal_loans")
def _personal_loans(w: _World) -> np.ndarray:
    return np.maximum(1, w.get("personal_users") * 0.04 * w.noise(w.rng("personal_loans"), 0.3, 0.08))


@_recipe(_I, "personal_loans_auto_approved")
def _personal_auto(w: _World) -> np.ndarray:
    return w.get("personal_loans") * w.share(w.rng("personal_loans_auto_approved"), 0.05, 0.90, slope=1.2)


@_recipe(_I, "small_micro_loans")
def _sme_loans(w: _World) -> np.ndarray:
    return np.maximum(1, w.get("corporate_users") * 0.4 * w.noise(w.rng("small_micro_loans"), 0.3, 0.08))


@_recipe(_I, "small_micro_loans_auto_approved")
def _sme_auto(w: _World) -> np.ndarray:
    s = w.share(w.rng("small_micro_loans_auto_approved"), 0.02, 0.70, slope=1.2, shift=-0.8)
    return w.get("small_micro_loans") * s


@_recipe(_I, "claims")
def _claims(w: _World) -> np.ndarray:
    return np.maximum(1, w.get("personal_users") * np.maximum(w.p("claims"), 0.01) * w.noise(w.rng("claims"), 0.4, 0.08))


@_recipe(_I, "claims_auto_approved")
def _claims_auto(w: _World) -> np.ndarray:
    return w.get("claims") * w.share(w.rng("claims_auto_approved"), 0.05, 0.80, slope=1.2, shift=-0.5)


@_recipe(_I, "personal_loan_approval_hours")
def _pl_hours(w: _World) -> np.ndarray:
    return 0.5 + 72 * np.exp(-3 * w.m) * w.noise(w.rng("personal_loan_approval_hours"), 0.3, 0.1)


@_recipe(_I, "small_micro_loan_approval_hours")
def _sme_hours(w: _World) -> np.ndarray:
    return 2 + 240 * np.exp(-2.5 * w.m) * w.noise(w.rng("small_micro_loan_approval_hours"), 0.3, 0.1)


@_recipe(_I, "claim_approval_hours")
def _claim_hours(w: _World) -> np.ndarray:
    return 1 + 200 * np.exp(-2.5 * w.m) * w.noise(w.rng("claim_approval_hours"), 0.3, 0.1)


@_recipe(_I, "core_channel_orders")
def _orders(w: _World) -> np.ndarray:
    per_user = np.maximum(w.p("orders"), 10.0)
    return np.maximum(1, w.get("personal_users") * per_user * w.noise(w.rng("core_channel_orders"), 0.3, 0.1))


@_recipe(_I, "core_order_latency_total_ms")
def _latency_total(w: _World) -> np.ndarray:
    ms_per_order = 0.3 + 8 * np.exp(-3 * w.m) * w.noise(w.rng("core_order_latency_total_ms"), 0.3, 0.1)
    return w.get("core_channel_orders") * ms_per_order


@_recipe(_I, "it_om_cost")
def _it_om(w: _World) -> np.ndarray:
    return w.get("fintech_investment") * 0.35 * w.noise(w.rng("it_om_cost"), 0.15, 0.05)


@_recipe(_I, "smart_rec_impressions")
def _impressions(w: _World) -> np.ndarray:
    g = w.rng("smart_rec_impressions")
    return w.get("personal_users") * 30 * (0.2 + w.m) * w.noise(g, 0.4, 0.1)


@_recipe(_I, "smart_rec_clicks")
def _clicks(w: _World) -> np.ndarray:
    return w.get("smart_rec_impressions") * w.share(w.rng("smart_rec_clicks"), 0.003, 0.08, slope=0.8)


def _make_score(name: str, base: float, span: float) -> Recipe:
    def f(w: _World) -> np.ndarray:  # assessed scores on a 0-100 scale (the standard fixes none)
        g = w.rng(name)
        return base + span * w.m + 6 * g.standard_normal((w.n, 1)) + 2 * g.standard_normal(w.shape)

    return f


for _n, _b in (("fintech_units_score", 35), ("pc_function_score", 50), ("app_function_score", 45),
               ("pc_ux_score", 50), ("app_ux_score", 45), ("pc_security_score", 55), ("app_security_score", 50)):
    _I[_n] = _make_score(_n, _b, 45)


@_recipe(_I, "customer_services")
def _services(w: _World) -> np.ndarray:
    users = w.get("personal_users") + w.get("corporate_users")
    return np.maximum(10, users * 0.8 * w.noise(w.rng("customer_services"), 0.4, 0.08))


@_recipe(_I, "chatbot_services")
def _chatbot(w: _World) -> np.ndarray:
    return w.get("customer_services") * w.share(w.rng("chatbot_services"), 0.20, 0.95, slope=1.0)


@_recipe(_I, "chatbot_questions")
def _questions(w: _World) -> np.ndarray:
    return w.get("chatbot_services") * 1.6 * w.noise(w.rng("chatbot_questions"), 0.2, 0.05)


@_recipe(_I, "chatbot_questions_resolved")
def _resolved(w: _World) -> np.ndarray:
    return w.get("chatbot_questions") * w.share(w.rng("chatbot_questions_resolved"), 0.55, 0.97, slope=0.8)


@_recipe(_I, "consumer_education_reach")
def _education(w: _World) -> np.ndarray:
    return w.get("personal_users") * w.share(w.rng("consumer_education_reach"), 0.05, 1.20, slope=0.8)


@_recipe(_I, "risk_assets")
def _risk_assets(w: _World) -> np.ndarray:
    return w.get("operating_revenue") * w.p("risk") * w.noise(w.rng("risk_assets"), 0.3, 0.05)


@_recipe(_I, "risk_provisions")
def _provisions(w: _World) -> np.ndarray:
    g = w.rng("risk_provisions")
    lo, hi = w.p("prov_lo"), w.p("prov_hi")
    return w.get("risk_assets") * (lo + (hi - lo) * _sigmoid(0.8 * g.standard_normal((w.n, 1))
                                                            + 0.2 * g.standard_normal(w.shape)))


@_recipe(_I, "fraud_rejected_amount")
def _fraud_rejected(w: _World) -> np.ndarray:
    g = w.rng("fraud_rejected_amount")
    return w.get("transaction_amount") * 2e-6 * (0.3 + w.m) * w.noise(g, 0.5, 0.2)


@_recipe(_I, "fraud_loss_amount")
def _fraud_loss(w: _World) -> np.ndarray:
    return w.get("fraud_rejected_amount") * w.share(w.rng("fraud_loss_amount"), 0.01, 0.25, slope=-1.0)


def _make_level(name: str, top: float, size_weight: float) -> Recipe:
    def f(w: _World) -> np.ndarray:
        g = w.rng(name)
        lz = np.log(w.size / np.median(w.size)) / 3.0
        x = _sigmoid(1.2 * w.D + size_weight * lz + 0.5 * g.standard_normal((w.n, 1))
                     + 0.1 * g.standard_normal(w.shape))
        return 1 + (top - 1) * x

    return f


_I["dc_maturity_level"] = _make_level("dc_maturity_level", 5, 0.8)
_I["cloud_dr_level"] = _make_level("cloud_dr_level", 6, 0.6)
_I["dr_level"] = _make_level("dr_level", 6, 1.0)


def _scaled(w: _World, power: float) -> np.ndarray:
    """(revenue / CNY 1bn) ** power: bigger institutions have more projects, patents, partners."""
    return (w.get("operating_revenue") / 1e5) ** power


@_recipe(_I, "fintech_patent_applications")
def _patents(w: _World) -> np.ndarray:
    g = w.rng("fintech_patent_applications")
    lam = w.p("patents") * np.exp(-0.5 + 1.5 * (w.m - 0.5)) * _scaled(w, 1.0) * w.noise(g, 0.4, 0.1)
    return g.poisson(np.clip(lam, 0, 1e7)).astype(float)


@_recipe(_I, "fintech_patents_granted")
def _granted(w: _World) -> np.ndarray:
    g = w.rng("fintech_patents_granted")
    return g.binomial(w.get("fintech_patent_applications").astype(np.int64), 0.45).astype(float)


@_recipe(_I, "software_copyrights")
def _copyrights(w: _World) -> np.ndarray:
    g = w.rng("software_copyrights")
    lam = w.p("patents") * np.exp(0.2 + 1.5 * (w.m - 0.5)) * _scaled(w, 0.8) * w.noise(g, 0.4, 0.1)
    return g.poisson(np.clip(lam, 0, 1e7)).astype(float)


@_recipe(_I, "systems_investment")
def _systems(w: _World) -> np.ndarray:
    return w.get("fintech_investment") * 0.4 * w.noise(w.rng("systems_investment"), 0.2, 0.1)


@_recipe(_I, "inhouse_systems_investment")
def _inhouse(w: _World) -> np.ndarray:
    return w.get("systems_investment") * w.share(w.rng("inhouse_systems_investment"), 0.10, 0.90, slope=1.0)


def _make_projects(name: str, base: float, trend: float) -> Recipe:
    def f(w: _World) -> np.ndarray:
        g = w.rng(name)
        lam = base * _scaled(w, 0.5) * np.exp(2 * (w.m - 0.5) + trend * w.t) * w.noise(g, 0.3, 0.1)
        return g.poisson(np.clip(lam, 0, 1e7)).astype(float)

    return f


for _n, _b, _tr in (("bigdata_projects", 2.0, 0.05), ("cloud_projects", 1.5, 0.08), ("blockchain_projects", 0.3, 0.2),
                    ("ai_projects", 1.0, 0.15), ("infosec_projects", 2.0, 0.05), ("iot_5g_projects", 0.3, 0.2),
                    ("external_it_projects", 0.15, 0.1)):  # fmt: skip
    _I[_n] = _make_projects(_n, _b, _tr)


@_recipe(_I, "it_applications")
def _apps(w: _World) -> np.ndarray:
    return 20 + 40 * _scaled(w, 0.45) * w.noise(w.rng("it_applications"), 0.3, 0.03)


@_recipe(_I, "it_applications_on_cloud")
def _apps_cloud(w: _World) -> np.ndarray:
    s = w.share(w.rng("it_applications_on_cloud"), 0.02, 0.95, slope=1.2, shift=-0.8, trend=0.15)
    return w.get("it_applications") * s


@_recipe(_I, "standards_total")
def _standards(w: _World) -> np.ndarray:
    g = w.rng("standards_total")
    return g.poisson(np.clip(0.3 * _scaled(w, 0.45) * np.exp(2 * (w.m - 0.5)) * w.noise(g, 0.3, 0.1), 0, 1e6)).astype(float)


@_recipe(_I, "standards_group")
def _standards_group(w: _World) -> np.ndarray:
    return _stream(w.seed, "institution:standards_group").binomial(w.get("standards_total").astype(np.int64), 0.4).astype(float)


def _api_adopted(w: _World) -> np.ndarray:
    return w.m > _stream(w.seed, "api_adoption").uniform(0.25, 0.75, (w.n, 1))


@_recipe(_I, "open_apis_sdks")
def _apis(w: _World) -> np.ndarray:
    g = w.rng("open_apis_sdks")
    lam = (2 + 3 * _scaled(w, 0.4) * w.m) * w.noise(g, 0.3, 0.1)
    return np.where(_api_adopted(w), 1 + g.poisson(np.clip(lam, 0, 1e6)), 0.0)


@_recipe(_I, "open_api_daily_calls")
def _api_calls(w: _World) -> np.ndarray:
    return w.get("open_apis_sdks") * 2e4 * w.m * w.noise(w.rng("open_api_daily_calls"), 0.8, 0.2)


@_recipe(_I, "payment_amount")
def _payments(w: _World) -> np.ndarray:
    g = w.rng("payment_amount")
    return w.get("transaction_amount") * np.maximum(w.p("pay"), 0.05) * w.noise(g, 0.2, 0.05)


@_recipe(_I, "barcode_payment_amount")
def _barcode(w: _World) -> np.ndarray:
    lo, hi = w.p("bar_lo"), np.maximum(w.p("bar_hi"), 0.05)
    return w.get("payment_amount") * (lo + (hi - lo) * w.share(w.rng("barcode_payment_amount"), 0, 1, trend=0.2))


def _make_coop(name: str, base: float, k: float) -> Recipe:
    def f(w: _World) -> np.ndarray:
        g = w.rng(name)
        lam = (base + k * _scaled(w, 0.35) * w.m) * w.noise(g, 0.3, 0.05)
        return g.poisson(np.clip(lam, 0, 1e6)).astype(float)

    return f


for _n, _b, _k in (("coop_universities", 0.3, 1.5), ("coop_research_institutes", 0.2, 0.8),
                   ("coop_enterprises", 0.5, 3.0), ("industry_orgs_joined", 1.0, 2.0)):  # fmt: skip
    _I[_n] = _make_coop(_n, _b, _k)


def _make_adoption(name: str, lo: float, hi: float) -> Recipe:
    def f(w: _World) -> np.ndarray:  # adopted once maturity passes an institution's threshold: stays adopted
        return (w.m > w.rng(name).uniform(lo, hi, (w.n, 1))).astype(float)

    return f


_I["fintech_strategy_plan"] = _make_adoption("fintech_strategy_plan", 0.1, 0.75)
_I["flexible_org_forms"] = _make_adoption("flexible_org_forms", 0.35, 0.95)


# ---- region recipes (31 provinces; size = GDP in CNY 10k) --------------------------------------------------
R = REGION_RECIPES


def _region_whole(factor: float) -> Recipe:
    def f(w: _World) -> np.ndarray:
        return w.size * factor

    return f


def _region_part(whole: str, lo: float, hi: float, slope: float = 1.0, shift: float = 0.0, trend: float = 0.0):
    def f(w: _World) -> np.ndarray:
        g = w.rng(f"{whole}>{lo}")
        return w.get(whole) * w.share(g, lo, hi, slope=slope, shift=shift, persistent=0.2, transient=0.05,
                                      trend=trend)

    return f


for _n, _f in (("q_payment_amount", 40.0), ("q_loan_amount", 1.9), ("q_fund_sales", 0.5),
               ("q_property_premium", 0.011), ("q_life_premium", 0.025), ("q_consumer_finance_amount", 0.4)):
    R[_n] = _region_whole(_f)
for _n, _w, _lo, _hi, _sl, _tr in (
    ("q_internet_payment_amount", "q_payment_amount", 0.08, 0.30, -0.5, -0.1),
    ("q_mobile_payment_amount", "q_payment_amount", 0.30, 0.65, 1.0, 0.1),
    ("q_barcode_payment_amount", "q_payment_amount", 0.05, 0.35, 1.0, 0.15),
    ("q_online_loan_amount", "q_loan_amount", 0.03, 0.35, 1.0, 0.15),
    ("q_internet_fund_sales", "q_fund_sales", 0.20, 0.80, 1.0, 0.1),
    ("q_property_online_tele_premium", "q_property_premium", 0.05, 0.30, 0.8, 0.05),
    ("q_life_online_tele_premium", "q_life_premium", 0.02, 0.15, 0.8, 0.05),
    ("q_online_consumer_finance_amount", "q_consumer_finance_amount", 0.20, 0.75, 1.0, 0.1),
):
    R[_n] = _region_part(_w, _lo, _hi, _sl, 0.0, _tr)


@_recipe(R, "q_licensed_institutions")
def _q_licensed(w: _World) -> np.ndarray:
    # the sample is not the population: the region count is the sample's institutions plus others
    g = w.rng("q_licensed_institutions")
    others = g.poisson(np.clip(10 + 12 * w.size / 1e8 * np.exp(0.01 * w.t), 0, 1e6)).astype(float)
    return w.p("n_sample") + others


@_recipe(R, "q_fintech_key_enterprises")
def _q_key(w: _World) -> np.ndarray:
    g = w.rng("q_fintech_key_enterprises")
    return g.poisson(np.clip(4 * w.size / 1e8 * np.exp(w.D) * np.exp(0.08 * w.t), 0, 1e6)).astype(float)


@_recipe(R, "q_fintech_key_financing")
def _q_financing(w: _World) -> np.ndarray:
    return w.get("q_fintech_key_enterprises") * 5e4 * w.noise(w.rng("q_fintech_key_financing"), 0.4, 0.2)


@_recipe(R, "q_fintech_key_listed_market_cap")
def _q_cap(w: _World) -> np.ndarray:
    g = w.rng("q_fintech_key_listed_market_cap")
    return w.get("q_fintech_key_enterprises") * 0.05 * 1e6 * w.noise(g, 0.5, 0.25)


# ---- building -------------------------------------------------------------------------------------------
def _institutions(seed: int, n_total: int, provinces: pd.DataFrame):
    """The institution register and its latent factors (size z, maturity offset, growth)."""
    rng = _stream(seed, "institutions")
    by_sector = _allocate(n_total, SECTOR_MIX)
    profiles = {(p.sector, p.subtype): p for p in PROFILES}
    plan: list[tuple[Profile, int]] = []
    for sector in DEMO_SECTORS:
        n_sec = by_sector[sector]
        counts: dict[str, int] = {}
        rest = n_sec
        if sector == "bank":
            for sub, (cap, share) in BANK_CAPS.items():
                k = min(cap, max(1 if n_sec >= 20 else 0, round(share * n_sec)), rest)
                counts[sub] = k
                rest -= k
        counts.update(_allocate(rest, SUBTYPE_WEIGHTS[sector]))
        plan += [(profiles[(sector, s)], k) for s, k in counts.items() if k > 0]
    prof_idx = np.concatenate([np.full(k, i) for i, (_, k) in enumerate(plan)]) if plan else np.zeros(0, int)
    profs = [p for p, _ in plan]
    n = len(prof_idx)
    z_raw = rng.standard_normal(n)
    clip = np.array([p.z_clip for p in profs])[prof_idx]
    z = np.clip(z_raw, -clip, clip)
    # order within a sub-type by size (largest first), then number within the sector
    order = np.lexsort((-z, prof_idx))
    prof_idx, z = prof_idx[order], z[order]
    sector = np.array([profs[i].sector for i in prof_idx], dtype=object)
    subtype = np.array([profs[i].subtype for i in prof_idx], dtype=object)
    # latent maturity: offset by sub-type, correlated with size (0.5), own part, own pace of growth
    offset = np.array([profs[i].maturity for i in prof_idx])
    d0 = offset + 0.5 * z + 0.8 * rng.standard_normal(n) - 0.3
    pace = np.clip(rng.normal(0.18, 0.05, n), 0.02, None)

    # head-office province
    codes = provinces["code"].to_numpy(dtype=str)
    gdp = np.array([GDP_2023[c] for c in codes])
    loc_w = {
        "capital": np.where(codes == "110000", 5.0, np.where(codes == "310000", 1.0, 0.0)),
        "centres": np.array([{"110000": 4, "310000": 1.5, "440000": 3, "350000": 1, "330000": 1, "120000": 1,
                              "370000": 1}.get(c, 0.0) for c in codes], dtype=float),  # fmt: skip
        "hub": gdp * np.array([{"110000": 6, "310000": 6, "440000": 2.5, "330000": 1.5}.get(c, 1.0) for c in codes]),
        "local": gdp**0.7,
    }
    loc = np.array([profs[i].location for i in prof_idx], dtype=object)
    region = np.empty(n, dtype=int)
    for kind, wts in loc_w.items():
        idx = np.flatnonzero(loc == kind)
        if len(idx):
            region[idx] = rng.choice(len(codes), size=len(idx), p=wts / wts.sum())
    # every province gets institutions: the first 31 local institutions (in random order) cover them all
    local = np.flatnonzero(loc == "local")
    pool = local if len(local) >= len(codes) else np.arange(n)
    if len(pool) >= len(codes):
        chosen = rng.permutation(pool)[: len(codes)]
        region[chosen] = rng.permutation(len(codes))
    # listing: the larger institutions of a sub-type (with some noise) are the listed ones
    score = z + 0.7 * rng.standard_normal(n)
    listed = np.zeros(n, dtype=bool)
    for i, p in enumerate(profs):
        idx = np.flatnonzero(prof_idx == i)
        k = round(p.listed_share * len(idx))
        if k:
            listed[idx[np.argsort(-score[idx], kind="stable")[:k]]] = True
    # ids and names (numbered within the sector, in sub-type and size order)
    num = pd.Series(sector).groupby(sector).cumcount().to_numpy() + 1
    prefix = np.array([ID_PREFIX[s] for s in sector], dtype=object)
    ids = np.array([f"SYN-{p}-{k:04d}" for p, k in zip(prefix, num, strict=True)], dtype=object)
    short_zh = provinces["short_zh"].to_numpy(dtype=str)[region]
    name_en_p = provinces["name_en"].to_numpy(dtype=str)[region]
    sub_zh = np.array([profs[i].zh for i in prof_idx], dtype=object)
    sub_en = np.array([profs[i].en for i in prof_idx], dtype=object)
    name_zh = [f"合成{a}{b}{k:04d}（合成数据）" for a, b, k in zip(short_zh, sub_zh, num, strict=True)]
    name_en = [f"Synthetic {a} {b} {k:04d} (synthetic data)" for a, b, k in zip(name_en_p, sub_en, num, strict=True)]
    table = pd.DataFrame({
        "entity_id": pd.array(ids, dtype="str"),
        "name_zh": pd.array(name_zh, dtype="str"),
        "name_en": pd.array(name_en, dtype="str"),
        "sector": pd.array(sector, dtype="str"),
        "subtype": pd.array(subtype, dtype="str"),
        "region_code": pd.array(codes[region], dtype="str"),
        "listed": listed,
        "synthetic": np.ones(n, dtype=bool),
    })  # fmt: skip
    latent = {"z": z, "d0": d0, "pace": pace, "prof_idx": prof_idx, "profs": profs, "region": region}
    return table, latent


_STR = pd.Series(["x"], dtype="str").dtype


def _str_col(values: np.ndarray, codes: np.ndarray) -> pd.Series:
    """A ``str`` column ``values[codes]`` built in Arrow (a take of a small dictionary; no Python objects)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.array(np.asarray(values, dtype=str).tolist(), type=pa.large_string())
    idx = np.asarray(codes, dtype=np.int32)
    if idx.size and (idx.min() < 0 or idx.max() >= len(table)):
        raise IndexError("string column codes out of range")
    taken = pc.take(table, pa.array(idx), boundscheck=False)
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([taken]), dtype=_STR), copy=False)


def generate(
    seed: int = 2024,
    n_institutions: int = 600,
    years: Iterable[int] = range(2020, 2025),
    framework: Framework | str | None = None,
) -> DemoData:
    """A synthetic national sample (module doc). ``framework``: a Framework, a reference, or the default
    ``jrt0201-2020``; its variables decide what is generated."""
    from ..catalog.loader import load_framework
    from ..geo.regions import provinces as _provinces

    fw = load_framework(framework or "jrt0201-2020") if not isinstance(framework, Framework) else framework
    out_years = sorted({int(y) for y in years})
    if not out_years:
        raise ValueError("years is empty")
    if n_institutions < len(DEMO_SECTORS):
        raise ValueError(f"n_institutions must be at least {len(DEMO_SECTORS)}")
    all_years = sorted(set(out_years) | {y - 1 for y in out_years})  # the year before: carry-over inputs
    out_cols = np.array([all_years.index(y) for y in out_years])
    periods = np.array([str(y) for y in out_years], dtype=object)
    prov = _provinces().reset_index(drop=True)

    inst, lat = _institutions(seed, n_institutions, prov)
    n = len(inst)
    profs = lat["profs"]
    pi = lat["prof_idx"]
    yrs = np.asarray(all_years, dtype=float)[None, :]

    # ---- institutions world
    w = _World(fw, seed, all_years, "institution", n, INSTITUTION_RECIPES)
    w.D = lat["d0"][:, None] + lat["pace"][:, None] * (yrs - 2020)
    rev_med = np.array([p.rev_median for p in profs])[pi][:, None]
    rev_sig = np.array([p.rev_sigma for p in profs])[pi][:, None]
    rev_g = np.array([p.rev_growth for p in profs])[pi][:, None]
    g_rev = _stream(seed, "revenue")
    w.size = np.round(
        rev_med * np.exp(rev_sig * lat["z"][:, None] + rev_g * (yrs - 2022) + 0.04 * g_rev.standard_normal(w.shape)), 2
    )
    for key in ("rev_per_employee", "inv_ratio", "staff_share"):
        w.params[key] = np.array([getattr(p, key) for p in profs])[pi][:, None]
    sectors = inst["sector"].to_numpy(dtype=str)
    for key in SECTOR_PARAMS["bank"]:
        w.params[key] = np.array([SECTOR_PARAMS[s][key] for s in sectors])[:, None]

    applicable = sector_variables(fw, DEMO_SECTORS)
    inst_vars = [v.name for v in fw.variables if v.entity == "institution" and any(v.name in a for a in applicable.values())]
    vals_i = np.stack([w.get(v)[:, out_cols] for v in inst_vars], axis=2) if inst_vars else np.zeros((n, len(out_years), 0))
    sec_idx = np.array([DEMO_SECTORS.index(s) for s in sectors])
    app_tab = np.array([[v in set(applicable[s]) for v in inst_vars] for s in DEMO_SECTORS], dtype=bool).reshape(
        len(DEMO_SECTORS), len(inst_vars)
    )
    app_i = app_tab[sec_idx]  # (n, V)

    # ---- regions world
    codes = prov["code"].to_numpy(dtype=str)
    r_n = len(codes)
    rw = _World(fw, seed, all_years, "region", r_n, REGION_RECIPES)
    gdp = np.array([GDP_2023[c] for c in codes])[:, None] * 1e8  # 万亿元 -> CNY 10k
    rw.size = gdp * np.exp(0.05 * (yrs - 2023))
    macro = prov["macro_region"].map({"east": 0.4, "central": 0.0, "west": -0.4, "northeast": -0.3}).to_numpy(float)
    bonus = np.array([FINANCIAL_CENTRES.get(c, 0.0) for c in codes])
    g_reg = _stream(seed, "regions")
    rw.D = (macro + bonus + 0.2 * g_reg.standard_normal(r_n))[:, None] + 0.25 * (yrs - 2020)
    n_sample = np.bincount(lat["region"], minlength=r_n).astype(float)
    rw.params["n_sample"] = n_sample[:, None]
    reg_vars = region_variables(fw)
    vals_r = np.stack([rw.get(v)[:, out_cols] for v in reg_vars], axis=2) if reg_vars else np.zeros((r_n, len(out_years), 0))

    # ---- gaps: about 3 % of institution cells (small institutions leave more blanks), 1 % of region cells
    rank_in_sector = pd.Series(lat["z"]).groupby(sectors).rank(pct=True).to_numpy()
    p_miss = MISSING_RATE * np.where(rank_in_sector <= 0.5, 1.6, 0.4)
    g_miss = _stream(seed, "missing")
    miss_i = g_miss.random(vals_i.shape) < p_miss[:, None, None]
    miss_r = g_miss.random(vals_r.shape) < REGION_MISSING_RATE
    vals_i = np.where(miss_i, np.nan, vals_i)
    vals_r = np.where(miss_r, np.nan, vals_r)

    # ---- long frames
    var_unit = {v.name: v.unit for v in fw.variables}
    # institutions are contiguous by sector, so each sector's rows are one (year, variable) block repeated
    n_t = len(out_years)
    ii_parts, tt_parts, vv_parts = [], [], []
    for k in range(len(DEMO_SECTORS)):
        members = np.flatnonzero(sec_idx == k)
        if not len(members):
            continue
        assert np.all(np.diff(members) == 1), "institutions must be contiguous by sector"
        vidx = np.flatnonzero(app_tab[k])
        ii_parts.append(np.repeat(members, n_t * len(vidx)))
        tt_parts.append(np.tile(np.repeat(np.arange(n_t), len(vidx)), len(members)))
        vv_parts.append(np.tile(np.tile(vidx, n_t), len(members)))
    ii = np.concatenate(ii_parts) if ii_parts else np.zeros(0, np.int64)
    tt = np.concatenate(tt_parts) if tt_parts else np.zeros(0, np.int64)
    vv = np.concatenate(vv_parts) if vv_parts else np.zeros(0, np.int64)
    inst_values = vals_i[np.broadcast_to(app_i[:, None, :], vals_i.shape)]  # same (C) order as ii, tt, vv
    n_rv = len(reg_vars)
    ri = np.repeat(np.arange(r_n), n_t * n_rv)
    rt = np.tile(np.repeat(np.arange(n_t), n_rv), r_n)
    rv = np.tile(np.arange(n_rv), r_n * n_t)
    names_all = np.array(inst_vars + reg_vars, dtype=object)
    units_all = np.array([var_unit[x] for x in names_all], dtype=object)
    ent_all = np.concatenate([inst["entity_id"].to_numpy(dtype=str), codes]).astype(object)
    n_i = len(ii)
    ent_code = np.concatenate([ii, n + ri])
    var_code = np.concatenate([vv, len(inst_vars) + rv])
    obs = pd.DataFrame({
        "entity_kind": _str_col(np.array(["institution", "region"], dtype=object),
                                np.concatenate([np.zeros(n_i, np.int8), np.ones(len(ri), np.int8)])),
        "entity_id": _str_col(ent_all, ent_code),
        "period": _str_col(periods, np.concatenate([tt, rt])),
        "variable": _str_col(names_all, var_code),
        "value": np.concatenate([inst_values, vals_r.reshape(-1)]),
        "unit": _str_col(units_all, var_code),
        "source": _str_col(np.array([SOURCE]), np.zeros(n_i + len(ri), dtype=np.int64)),
    })  # fmt: skip

    # ---- sizes (§4 sampling variables)
    rev = w.size[:, out_cols]
    sec_tot = np.zeros((len(DEMO_SECTORS), len(out_years)))
    np.add.at(sec_tot, sec_idx, rev)
    share = rev / sec_tot[sec_idx]
    g_size = _stream(seed, "sizes")
    fin_mult = np.array([SECTOR_PARAMS[s]["financing"] for s in sectors])[:, None]
    financing = np.round(rev * fin_mult * np.exp(0.5 * g_size.standard_normal((n, 1)) + 0.05 * g_size.standard_normal(rev.shape)), 2)
    ps = np.array([p.price_to_sales for p in profs])[pi][:, None]
    mvalue = np.round(rev * ps * np.exp(0.3 * g_size.standard_normal((n, 1)) + 0.15 * g_size.standard_normal(rev.shape)), 2)
    listed = inst["listed"].to_numpy()
    attrs = np.array(["operating_revenue", "market_share", "total_financing", "market_value"], dtype=object)
    units = np.array(["CNY 10k", "fraction", "CNY 10k", "CNY 10k"], dtype=object)
    stack = np.stack([rev, np.round(share, 8), financing, mvalue], axis=2)  # (n, T, 4)
    have = np.ones(stack.shape, dtype=bool)
    have[:, :, 3] = listed[:, None]
    si, st, sa = np.nonzero(have)
    sizes = pd.DataFrame({
        "entity_id": _str_col(inst["entity_id"].to_numpy(dtype=str).astype(object), si),
        "period": _str_col(periods, st),
        "attribute": _str_col(attrs, sa),
        "value": stack[si, st, sa],
        "unit": _str_col(units, sa),
        "source": _str_col(np.array([SOURCE]), np.zeros(len(si), dtype=np.int64)),
    })  # fmt: skip

    # ---- regions table
    regions = pd.DataFrame({
        "code": prov["code"].astype("str"), "name_zh": prov["name_zh"].astype("str"),
        "name_en": prov["name_en"].astype("str"), "macro_region": prov["macro_region"].astype("str"),
        "gdp_weight": np.array([GDP_2023[c] for c in codes]), "n_institutions": n_sample.astype(int),
        "synthetic": True,
    })  # fmt: skip

    # ---- bad rows
    bad = _bad_rows(fw, seed, inst, applicable, inst_vars, vals_i, out_years, periods, var_unit)

    variables = {**applicable, "region": reg_vars}
    fallbacks = sorted(set(w.fallbacks) | set(rw.fallbacks))
    notes = [
        "SYNTHETIC DATA (合成数据): generated by fintech_eval.demo.generate; no row describes a real institution.",
        f"seed={seed}, institutions={n}, years={out_years[0]}-{out_years[-1]}, framework={fw.id}@{fw.version}.",
        "Units are the framework's: money in CNY 10k (万元); market_share is a fraction of the sector's revenue "
        "in the synthetic universe; counts are whole numbers; levels 1..5 / 1..6; yes/no 0/1.",
        "Region rows: entity_kind 'region', entity_id the 6-digit GB/T 2260 code (the store keeps 2 digits).",
        f"Missing values: {np.isnan(obs['value'].to_numpy()).mean():.1%} of the observation rows have value NaN.",
        "Bank sizes and FinTech ratios are calibrated to shared/data/public/banks_disclosed.csv; other sectors "
        "use plausible round magnitudes.",
        f"bad_rows: {len(bad)} deliberately broken rows ({', '.join(bad['rule'])}); "
        "DemoData.with_bad_rows() puts them into the return.",
    ]
    if not any(v.type == "share" for v in fw.variables):
        notes.append("The framework has no raw variable of type 'share' (every share is a ratio of counts or "
                     "amounts), so 'share > 1' is shown as a part larger than its whole (rule part_of.exceeds).")
    if fallbacks:
        notes.append(f"Generic recipes (no calibrated recipe for these variables): {', '.join(fallbacks)}.")
    return DemoData(
        institutions=inst, sizes=sizes, observations=obs, regions=regions, bad_rows=bad, notes=notes,
        seed=seed, years=tuple(out_years), framework=f"{fw.id}@{fw.version}", variables=variables,
    )  # fmt: skip


# ---- bad rows ---------------------------------------------------------------------------------------------
def _bad_rows(fw: Framework, seed: int, inst: pd.DataFrame, applicable: dict[str, list[str]], inst_vars: list[str],
              vals: np.ndarray, years: list[int], periods: np.ndarray, var_unit: dict[str, str]) -> pd.DataFrame:  # fmt: skip
    """A few rows, each breaking exactly one validation rule, chosen from cells that have a good value."""
    g = _stream(seed, "bad_rows")
    vars_ = {v.name: v for v in fw.variables}
    vpos = {name: k for k, name in enumerate(inst_vars)}
    sectors = inst["sector"].to_numpy(dtype=str)
    ids = inst["entity_id"].to_numpy(dtype=str)
    wholes = {v.part_of for v in fw.variables if v.part_of}
    carry = carry_over(fw)
    carried = set(carry) | set(carry.values())
    plain = {n for n, v in vars_.items() if n not in wholes and not v.part_of and n not in carried}
    used: set[int] = set()
    rows: list[dict[str, Any]] = []

    def pick(sector: str, need: list[str], years_from: int = 0) -> tuple[int, int] | None:
        """A random (institution, year column) of ``sector`` with good values of ``need``, not used yet."""
        cand = np.flatnonzero((sectors == sector) & ~np.isin(np.arange(len(sectors)), list(used)))
        if not len(cand) or any(x not in vpos for x in need):
            return None
        ok = np.ones((len(cand), len(years)), dtype=bool)
        for x in need:
            ok &= ~np.isnan(vals[cand, :, vpos[x]])
        ok[:, :years_from] = False
        ci, ti = np.nonzero(ok)
        if not len(ci):
            return None
        j = g.integers(len(ci))
        used.add(int(cand[ci[j]]))
        return int(cand[ci[j]]), int(ti[j])

    def add(i: int, t: int, var: str, value: float, rule: str, reason: str, unit: str | None = None,
            good: float | None = None) -> None:  # fmt: skip
        rows.append({
            "entity_kind": "institution", "entity_id": ids[i], "period": periods[t], "variable": var,
            "value": float(value), "unit": unit or var_unit[var], "source": SOURCE, "rule": rule,
            "reason": reason, "good_value": np.nan if good is None else float(good),
        })  # fmt: skip

    def first(sector: str, pred: Callable[[Variable], bool]) -> str | None:
        names = [n for n in applicable.get(sector, []) if pred(vars_[n])]
        return names[int(g.integers(len(names)))] if names else None

    # 1-2. part > whole: an off-counter "share" above 1 at a bank, and another part at an insurer
    pairs = {s: [(n, vars_[n].part_of) for n in applicable.get(s, [])
                 if vars_[n].part_of in applicable.get(s, []) and n not in wholes and n not in carried]
             for s in DEMO_SECTORS}  # fmt: skip
    for sector, prefer in (("bank", "off_counter_transactions"), ("insurance", None)):
        cands = pairs.get(sector, [])
        if not cands:
            continue
        part, whole = next(((p, w_) for p, w_ in cands if p == prefer), cands[int(g.integers(len(cands)))])
        hit = pick(sector, [part, whole])
        if hit:
            i, t = hit
            wv = vals[i, t, vpos[whole]]
            bad_v = math.ceil(max(wv, 10) * 1.08) + 1 if vars_[part].type in ("count", "level") else round(max(wv, 10) * 1.08, 2)
            add(i, t, part, bad_v, "part_of.exceeds",
                f"{part} = {bad_v:g} exceeds its whole {whole} = {wv:g} (part/whole = {bad_v / wv:.2f} > 1)",
                good=vals[i, t, vpos[part]])  # fmt: skip
    # 3. a negative count
    var = first("securities", lambda v: v.type == "count" and v.name in plain)
    if var and (hit := pick("securities", [var])):
        i, t = hit
        good = vals[i, t, vpos[var]]
        add(i, t, var, -max(good, 12.0), "range.negative", f"{var} is a count and cannot be negative", good=good)
    # 4. a count with a fraction
    var = first("payment", lambda v: v.type == "count" and v.name in plain)
    if var and (hit := pick("payment", [var])):
        i, t = hit
        good = vals[i, t, vpos[var]]
        add(i, t, var, good + 0.5, "type.not_whole", f"{var} is a count, {good + 0.5:g} is not a whole number",
            good=good)
    # 5. a unit typo (CYN for CNY): an unknown unit
    var = first("bank", lambda v: v.type == "money" and v.name in plain)
    if var and (hit := pick("bank", [var])):
        i, t = hit
        good = vals[i, t, vpos[var]]
        typo = var_unit[var].replace("CNY", "CYN") if "CNY" in var_unit[var] else var_unit[var] + "x"
        add(i, t, var, good, "unit.unknown", f"unit {typo!r} is a typo of {var_unit[var]!r}", unit=typo, good=good)
    # 6. a unit of the wrong kind (persons for money)
    var = first("insurance", lambda v: v.type == "money" and v.name in plain)
    if var and (hit := pick("insurance", [var])):
        i, t = hit
        good = vals[i, t, vpos[var]]
        add(i, t, var, good, "unit.incompatible", f"{var} is money ({var_unit[var]}) but the unit says 'person'",
            unit="person", good=good)
    # 7. a yes/no answered 2
    var = first("bank", lambda v: v.type == "binary" and v.name in plain)
    if var and (hit := pick("bank", [var])):
        i, t = hit
        add(i, t, var, 2.0, "type.binary", f"{var} is yes/no (1/0), got 2", good=vals[i, t, vpos[var]])
    # 8. a level off its scale
    var = first("securities", lambda v: v.type == "level" and v.max is not None and v.name in plain)
    if var and (hit := pick("securities", [var])):
        i, t = hit
        top = vars_[var].max
        add(i, t, var, top + 1, "range.level",
            f"{var} is a level on {vars_[var].min:g}..{top:g}, got {top + 1:g}", good=vals[i, t, vpos[var]])  # fmt: skip
    # 9. turnover input that disagrees with last year's staff
    for carried_var, src in sorted(carry.items()):
        if carried_var not in vpos or src not in vpos or carried_var not in applicable.get("bank", []):
            continue
        cand = np.flatnonzero((sectors == "bank") & ~np.isin(np.arange(len(sectors)), list(used)))
        consecutive = [t for t in range(1, len(years)) if years[t] - 1 == years[t - 1]]
        ok = [(i, t) for t in consecutive for i in cand[
            ~np.isnan(vals[cand, t, vpos[carried_var]]) & ~np.isnan(vals[cand, t - 1, vpos[src]])]]
        if not ok:
            continue
        i, t = (int(x) for x in ok[int(g.integers(len(ok)))])
        used.add(i)
        prev = vals[i, t - 1, vpos[src]]
        bad_v = prev + max(5.0, round(0.1 * prev))
        add(i, t, carried_var, bad_v, "turnover.inconsistent",
            f"{carried_var} = {bad_v:g} but {src} for {years[t] - 1} was {prev:g}", good=vals[i, t, vpos[carried_var]])  # fmt: skip
        break
    # 10. a variable not asked of the sector (a payment institution answering a bank-only question)
    not_asked = [n for n in inst_vars if n not in applicable.get("payment", []) and n in plain]
    if not_asked and (cand := np.flatnonzero(sectors == "payment")).size:
        var = not_asked[int(g.integers(len(not_asked)))]
        i = int(cand[int(g.integers(len(cand)))])
        t = int(g.integers(len(years)))
        asked = [s for s in DEMO_SECTORS if var in applicable.get(s, [])]
        add(i, t, var, 12.0, "variable.not_applicable",
            f"{var} is asked of {', '.join(asked)} institutions only, not of payment institutions")
    cols = ["entity_kind", "entity_id", "period", "variable", "value", "unit", "source", "rule", "reason", "good_value"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("entity_kind", "entity_id", "period", "variable", "unit", "source", "rule", "reason"):
        out[c] = out[c].astype("str")
    out["value"] = out["value"].astype(float)
    out["good_value"] = out["good_value"].astype(float)
    out["synthetic"] = True
    return out
