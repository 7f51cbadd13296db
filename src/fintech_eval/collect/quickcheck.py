"""The import's validation of a return's value mapping, compiled per (framework, sector): a verdict in plain
Python for the usual return, the import itself for every other one.

A return sent as JSON ``{"values": {variable: number | {"value": number, "unit": unit}}}`` is read and
validated by the import (:mod:`.readers`, :mod:`.validate`, :mod:`.unitcheck`) at a fixed cost of several
milliseconds: frames built, texts coded, every rule run over a hundred rows. Most returns break no rule. For
them :meth:`Compiled.fields` gives, in tens of microseconds, exactly the fields the import gives (the same
keys, values, units, raw texts, order; bit for bit: a number's raw text is its JSON text, which for a finite
float or an int is its ``repr``), and no problem. It answers only when it is sure that no
rule of the import fires; whenever one could, or the input is anything but plain numbers in known units, it
answers ``None`` and the caller runs the import, which says what is wrong in its own words. So the fast path
never decides that a return has a problem and never writes a message: it is a proof of "nothing to say".

The rules it proves silent, each as :func:`.validate.validate` states it (outliers are not judged: a return
alone has no peers):

* the reader's: JSON numbers, or a declared N/A written as the readers' token (``N/A``, ``不适用``: an answer,
  stored as missing); a number as text, yes/no words, a null (a blank) or a list go to the import; a unit that is a stripped registered
  unit convertible to the declared one; the entity is registered with a known sector, the period a period;
* variables known, measured on institutions, asked of the sector (``variable.not_applicable``), answered
  (``value.blank_mandatory``: a null goes to the import);
* types and ranges on the converted value: finite, whole (count, level; snapped as the import snaps),
  yes/no, level scale, share bounds, negative, min, max;
* ``part_of.exceeds`` within the return and against the stored whole (or part) of the period the return does
  not give itself (the import's comparison, verbatim, with every stored row);
* ``unit.factor`` against the previous period's stored value and the registered size (the import's floors;
  a band slightly wider than its tolerance: a near miss goes to the import);
* ``turnover.inconsistent`` against every stored value of the carried variable's source in the previous
  period (a margin on the import's half-unit tolerance).

``tests/app/test_fast_check.py`` compares it with the import over generated returns and worlds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog.models import Framework
from ..vocab import SECTORS
from .numbers import MISSING_TOKENS, ascii_digits
from .unitcheck import FACTORS, MIN_REFERENCE, SIZE_VARIABLES
from .units import UnitError, conversion_factor
from .validate import applicable_variables, carry_over_pairs, period_kind, previous_period

__all__ = ["Compiled", "Known", "compiled"]

#: an entity code the readers' text checks cannot object to (anything else goes to the import)
_PLAIN_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.\-]{0,63}")
#: ints the JSON reader keeps as ints (it reads a longer integer text as a float)
_INT_DIGITS = 17
#: the unit-factor band, widened by this much (log10) so that rounding never decides a near miss
_BAND_MARGIN = 1e-6


@dataclass
class Known:
    """What the database holds of one institution: ``stored`` values ``(period, variable) → [value_norm, …]``
    (every row, of any entity kind: more rows only make the check more careful) and registered ``sizes``
    ``(period, attribute) → [value in 元, …]``."""

    stored: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    sizes: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    @classmethod
    def of(cls, stored: Iterable[tuple[str, str, Any]], sizes: Iterable[tuple[str, str, Any]] = ()) -> Known:
        k = cls()
        for period, variable, value in stored:
            k.stored.setdefault((str(period), str(variable)), []).append(_float_or_nan(value))
        for period, attribute, value in sizes:
            k.sizes.setdefault((str(period), str(attribute)), []).append(_float_or_nan(value))
        return k


def _declared_missing(text: str) -> bool:
    """A text the readers take as a declared N/A (``N/A``, ``不适用``, …), exactly as written (no blank, no
    surrounding space, nothing the readers would normalise first)."""
    return bool(text) and text == text.strip() and ascii_digits(text) == text and text.lower() in MISSING_TOKENS


def _float_or_nan(v: Any) -> float:
    try:
        return float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class _Var:
    name: str
    unit: str
    column: str
    check: Callable[[float], float | None]  # the converted value → the stored value (snapped), None: a rule fires
    floor: float  # the unit-factor check's reference floor (inf: the variable is not checked)


def _bound(v: float | None, default: float) -> float:
    return default if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _checker(vtype: str, vmin: float | None, vmax: float | None) -> Callable[[float], float | None]:
    """The type and range rules of :func:`.validate.validate` (section 6) for one variable."""
    lo_any, hi_any = _bound(vmin, -math.inf), _bound(vmax, math.inf)

    if vtype in ("count", "level"):
        def whole(x: float) -> float | None:
            if not math.isfinite(x):
                return None
            r = float(round(x))
            if abs(x - r) > 1e-9 * max(1.0, abs(x)):
                return None  # type.not_whole
            r = math.copysign(r, x) if r == 0.0 else r  # numpy's round keeps the sign of a zero
            if vtype == "level":
                return r if lo_any <= r <= hi_any else None  # range.level
            if r < 0 and lo_any >= 0:
                return None  # range.negative
            return r if lo_any <= r <= hi_any else None  # range.min, range.max
        return whole
    if vtype == "binary":
        return lambda x: x if x in (0.0, 1.0) else None  # type.binary
    if vtype == "share":
        lo, hi = max(_bound(vmin, 0.0), 0.0), min(_bound(vmax, 1.0), 1.0)
        return lambda x: x if math.isfinite(x) and lo <= x <= hi else None  # range.share

    def rest(x: float) -> float | None:
        if not math.isfinite(x) or (x < 0 and lo_any >= 0) or x < lo_any or x > hi_any:
            return None  # value.not_finite, range.negative, range.min, range.max
        return x
    return rest


class Compiled:
    """The rules of one framework for one sector's institutions, ready to prove a value mapping clean."""

    def __init__(self, framework: Framework, sector: str):
        self.framework, self.sector = framework, sector
        self.vars: dict[str, _Var] = {}
        for v, _feeds in applicable_variables(framework, sector):
            if v.entity != "institution":
                continue
            floor = MIN_REFERENCE.get(v.type, math.inf) if v.type in ("money", "count") else math.inf
            self.vars[v.name] = _Var(v.name, v.unit, f"values.{v.name}", _checker(v.type, v.min, v.max), floor)
        self.parts = [(v.name, v.part_of) for v in framework.variables if v.part_of]
        self.part_names = {x for pair in self.parts for x in pair}
        self.carry = carry_over_pairs(framework)  # (the catalog checks that each source exists)
        self._factors: dict[tuple[str, str], float | None] = {}
        self._size_to_unit = {name: self._factor_of("元", self.vars[name].unit) for name in SIZE_VARIABLES
                              if name in self.vars}

    def _factor_of(self, unit: str, to: str) -> float | None:
        key = (unit, to)
        if key not in self._factors:
            try:
                self._factors[key] = conversion_factor(unit, to)
            except UnitError:
                self._factors[key] = None
        return self._factors[key]

    def fields(self, values: Mapping[str, Any], entity: str, period: str, known: Known) -> list[dict[str, Any]] | None:
        """The fields the import gives for ``values`` of ``entity`` in ``period`` when it finds no problem at
        all; ``None`` when it might find one (then run the import)."""
        if not values or not _PLAIN_ID.fullmatch(entity) or period_kind(period) is None:
            return None
        rows: list[tuple[_Var, Any, str | None, float]] = []
        for name, given in values.items():
            var = self.vars.get(name)
            if var is None:
                return None  # variable.unknown, variable.not_applicable, entity.kind: the import says which
            unit = None
            if type(given) is dict:
                if given.keys() != {"value", "unit"}:
                    return None
                given, unit = given["value"], given["unit"]
                if type(unit) is not str or not unit or unit != unit.strip():
                    return None
            factor = 1.0 if unit is None else self._factor_of(unit, var.unit)
            if factor is None:
                return None  # unit.unknown, unit.incompatible
            if type(given) is str:
                if not _declared_missing(given):
                    return None  # a number as text, yes/no words, a blank: the import reads it
                rows.append((var, given, unit, math.nan))
                continue
            if type(given) is int:
                if abs(given) >= 10**_INT_DIGITS:
                    return None
            elif type(given) is not float or not math.isfinite(given):
                return None  # null (a blank: value.blank_mandatory), bool, list: the import says what it is
            x = var.check(float(given) * factor)
            if x is None:
                return None
            rows.append((var, given, unit, x))
        norm = {var.name: x for var, _g, _u, x in rows if not math.isnan(x)}
        if not self._parts_fit(norm, period, known) or not self._units_plausible(norm, period, known) \
                or not self._carried_fit(norm, period, known):
            return None
        return [{"variable": var.name, "raw": given if type(given) is str else repr(given),
                 "value": None if type(given) is str else float(given), "unit": unit,
                 "value_norm": None if math.isnan(x) else x, "unit_norm": var.unit, "status": "ok",
                 "flag_reason": None, "row": 1, "column": var.column}
                for var, given, unit, x in rows]

    def _parts_fit(self, norm: Mapping[str, float], period: str, known: Known) -> bool:
        """part_of.exceeds, the import's comparison: a part above its whole within the return; a part above its
        stored whole of the period, or a whole below its stored part, where the return does not give the other
        itself (every stored row of it is compared)."""
        def exceeds(part: float, whole: float) -> bool:
            return part > whole * (1 + 1e-9) + 1e-12

        for part, whole in self.parts:
            if part in norm and whole in norm:
                if exceeds(norm[part], norm[whole]):
                    return False
            elif part in norm:
                if any(exceeds(norm[part], w) for w in known.stored.get((period, whole), ())):
                    return False
            elif whole in norm and any(exceeds(p, norm[whole]) for p in known.stored.get((period, part), ())):
                return False
        return True

    def _units_plausible(self, norm: Mapping[str, float], period: str, known: Known) -> bool:
        """unit.factor: no money or count value near 10^4 or 10^8 times (or 1/…) its previous period's stored
        value or its registered size."""
        prev = previous_period(period)
        band = math.log10(3.0) + _BAND_MARGIN
        for name, x in norm.items():
            var = self.vars[name]
            if var.floor == math.inf or not x > 0:
                continue
            refs = list(known.stored.get((prev, var.name), ())) if prev is not None else []
            to_unit = self._size_to_unit.get(var.name)
            if to_unit is not None:
                refs += [s * to_unit for s in known.sizes.get((period, SIZE_VARIABLES[var.name]), ())]
            for r in refs:
                if not (r > 0 and min(x, r) >= var.floor):
                    continue
                lr = math.log10(x / r)
                if any(abs(abs(lr) - math.log10(f)) <= band for f in FACTORS):
                    return False
        return True

    def _carried_fit(self, norm: Mapping[str, float], period: str, known: Known) -> bool:
        """turnover.inconsistent: a carried value equals every stored value of its source in the previous
        period (within the import's half unit, less a margin)."""
        prev = previous_period(period)
        for carried, src in self.carry:
            if carried not in norm or prev is None:
                continue
            x = norm[carried]
            for p in known.stored.get((prev, src), ()):
                if not math.isnan(p) and not abs(x - p) <= 0.5 + 1e-9 * abs(p) - 1e-9:
                    return False
        return True


_CACHE: dict[tuple[int, str], tuple[Framework, Compiled | None]] = {}


def compiled(framework: Framework, sector: Any) -> Compiled | None:
    """The compiled rules of ``framework`` for ``sector`` (None: not a sector, so the import decides); kept per
    framework object and sector."""
    if not isinstance(sector, str) or sector not in SECTORS:
        return None
    hit = _CACHE.get((id(framework), sector))
    if hit is None or hit[0] is not framework:
        if len(_CACHE) >= 256:
            _CACHE.clear()
        hit = _CACHE[(id(framework), sector)] = (framework, Compiled(framework, sector))
    return hit[1]
