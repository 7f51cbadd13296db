"""Small builders shared by the storage tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fintech_eval.store import AuditEntry, DerivedValue, Institution, Observation, Period, Submission

TABLES = (Submission, Observation, AuditEntry, Period, DerivedValue, Institution)


def frame(n_entities: int = 3, periods=("2023", "2024"), variables=("staff", "it_staff"), *, kind="institution",
          start: int = 0, value=None, unit="人", source="test") -> pd.DataFrame:  # fmt: skip
    rows = [(kind, f"E{start + e:04d}", p, v) for e in range(n_entities) for p in periods for v in variables]
    df = pd.DataFrame(rows, columns=["entity_kind", "entity_id", "period", "variable"])
    df["value"] = np.arange(len(df), dtype="float64") + 0.25 if value is None else value
    df["unit"] = unit
    df["source"] = source
    return df


def counts(session: Session) -> dict[str, int]:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")
