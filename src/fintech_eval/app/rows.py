"""Rows of a frame as plain Python dicts, for printing (the CLI) and for JSON (the web)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts: every missing value (NaN, NaT, NA) as None, numpy scalars as Python ones."""
    def plain(v: Any) -> Any:
        if pd.api.types.is_scalar(v) and pd.isna(v):
            return None
        return v.item() if hasattr(v, "item") and type(v).__module__ == "numpy" else v

    return [{k: plain(v) for k, v in rec.items()} for rec in df.to_dict("records")]
