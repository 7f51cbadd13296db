"""The one number parser of every intake: CSV (fast and slow paths), JSON, questionnaire workbooks,
``correct`` on the command line and the vendor capability workbook all read a cell with :func:`parse_number`.

A cell is a number when, after :func:`ascii_digits` (Unicode NFKC, then every decimal digit of any script
to its ASCII digit: full-width ``３``, Arabic-Indic ``٣``, Devanagari ``३``, mathematical ``𝟑``; the
minus sign ``−`` to ``-``), it reads as

* a plain decimal: ``1234``, ``-1.5``, ``.5``, ``1e6`` (ASCII digits only, so that the vectorised fast path
  and this function agree);
* thousands groups of three: ``1,234`` / ``1，234,567.8``;
* a percentage: ``12.5%`` / ``１２％`` → 12.5 with the unit hint ``'%'``;
* a yes/no word (``是``, ``否``, ``yes``, ``no``, ``true``, ``false``, ``是 yes``…) → 1 / 0 with the hint ``'yes/no'``.

The missing tokens (``""``, ``N/A``, ``-``, ``无``, ``不适用``…) give NaN (missing, never 0). Anything else
is a rule: ``cell.excel_error`` (``#DIV/0!``), ``cell.formula_injection`` (a text starting with ``= + - @``,
tab or CR that is not a number; after NFKC, so a full-width ``＝`` counts), else ``cell.not_number``.
A number too large for a float (``1e999``, a 400-digit integer) is returned as ±inf and rejected by the
validator's ``value.not_finite``; Python's 4,300-digit limit on integers is never reached.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np

MISSING_TOKENS = frozenset({
    "", "n/a", "na", "n.a.", "-", "--", "---", "—", "–", "null", "none", "nan", "无", "不适用", "空", "暂无",
    "not available", "missing", "..", "…",
})  # fmt: skip
YES_TOKENS = frozenset({"是", "yes", "y", "true", "是 yes", "是/yes", "是yes", "1 是", "1 yes"})
NO_TOKENS = frozenset({"否", "no", "n", "false", "否 no", "否/no", "否no", "0 否", "0 no"})
EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!"})
#: a plain decimal in ASCII digits (``\d`` would also match other scripts' digits, which float() and
#: Arrow's cast do not agree on)
NUMERIC = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
THOUSANDS = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
PERCENT = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*%$")
INJECT = re.compile(r"^[=+\-@\t\r]")
_MINUS = str.maketrans({"\u2212": "-", "\ufe63": "-", "\uff0d": "-"})


def ascii_digits(text: str) -> str:
    """``text`` with NFKC applied and every Unicode decimal digit replaced by its ASCII digit (ASCII text
    is returned as it is, at no cost)."""
    if text.isascii():
        return text
    s = unicodedata.normalize("NFKC", text).translate(_MINUS)
    if s.isascii():
        return s
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in s)


def _float(x: Any) -> float:
    try:
        return float(x)
    except OverflowError:  # an int beyond the float range
        return float("inf") if x > 0 else float("-inf")


def parse_number(value: Any) -> tuple[float, str | None, str | None]:
    """One cell → ``(number, unit_hint, rule)``; ``rule`` is None when fine (a NaN number = missing).
    See the module doc for what is a number, the hints and the rules."""
    if value is None:
        return np.nan, None, None
    if isinstance(value, bool):
        return (1.0 if value else 0.0), "yes/no", None
    if isinstance(value, int | float | np.integer | np.floating):
        return _float(value), None, None
    s = ascii_digits(str(value)).strip()
    low = s.lower()
    if low in MISSING_TOKENS:
        return np.nan, None, None
    if NUMERIC.match(s):
        return float(s), None, None
    if THOUSANDS.match(s):
        return float(s.replace(",", "")), None, None
    m = PERCENT.match(s)
    if m:
        return float(m.group(1)), "%", None
    if low in YES_TOKENS:
        return 1.0, "yes/no", None
    if low in NO_TOKENS:
        return 0.0, "yes/no", None
    if s.upper() in EXCEL_ERRORS:
        return np.nan, None, "cell.excel_error"
    if INJECT.match(str(value).lstrip(" ")) or INJECT.match(s):
        return np.nan, None, "cell.formula_injection"
    return np.nan, None, "cell.not_number"


def is_injection(text: str) -> bool:
    """A text that a spreadsheet would run as a formula (starts with ``= + - @``, tab or CR, also after
    NFKC) and that is not a number."""
    for t in (text.lstrip(" "), ascii_digits(text).lstrip(" ")):
        if INJECT.match(t) and not NUMERIC.match(t.strip()):
            return True
    return False
