"""Reporting periods, as codes: ``'2024'`` (annual, JR/T 0201 §4's default), ``'2024Q1'`` (quarterly),
``'2024-03'`` (monthly). One definition for the readers, the validator and the store."""

from __future__ import annotations

import re

PERIOD_KINDS: tuple[str, ...] = ("annual", "quarterly", "monthly")

_PATTERNS = (
    # ASCII digits only (``\d`` matches every script's digits) and no trailing newline (``$`` allows one)
    ("annual", re.compile(r"^(19|20|21)[0-9]{2}\Z")),
    ("quarterly", re.compile(r"^(19|20|21)[0-9]{2}Q[1-4]\Z")),
    ("monthly", re.compile(r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])\Z")),
)


def period_kind(code: str) -> str | None:
    """``'2024'`` → annual, ``'2024Q1'`` → quarterly, ``'2024-03'`` → monthly; None if malformed."""
    if not isinstance(code, str):
        return None
    for kind, pattern in _PATTERNS:
        if pattern.match(code):
            return kind
    return None
