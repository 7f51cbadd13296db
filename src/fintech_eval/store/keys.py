"""Keys and values as the audit trail stores them: an observation's key (:class:`ObsKey`), a row's
``audit_entry.key`` (:func:`row_key`), and audited values as JSON text (numpy scalars → Python, NaN → null)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["ObsKey", "row_key"]


class ObsKey(NamedTuple):
    """The key of an observation (and of its audit history)."""

    entity_kind: str
    entity_id: str
    period: str
    variable: str


def row_key(*parts: Any) -> str:
    """The ``audit_entry.key`` of a row: its key values as a compact JSON array."""
    return json.dumps([str(p) for p in parts], ensure_ascii=False, separators=(",", ":"))


def _enc(value: Any) -> str | None:
    """An audited value as JSON text (NaN/None → ``null``)."""
    value = _py(value)
    return json.dumps(value, ensure_ascii=False)


def _dec(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _py(value: Any) -> Any:
    """numpy scalars → Python, NaN/NA → None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy: numpy → Python, NaN/inf → None (JSONB rejects NaN)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # the common cells, answered at once
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [_jsonable(v) for v in value]
    value = _py(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
