"""An evaluation round at scale, on SQLite: register, campaign status, derive-and-store.

    python bench/bench_rounds.py [--institutions 10000] [--status-entities 5000] [--derive-institutions 5000] [--years 10]

1. ``register institutions``: a 10,000-row register CSV registered (read, checked, upserted, audited).
2. ``campaign status``: 5,000 institutions asked, 1,000,000 observations stored (5,000 × 10 periods × 20
   variables; the status reads the campaign's period); goal <= 1 s.
3. ``derive`` and store: 5,000 institutions × 10 years of every raw variable their sector is asked (about
   3.3 million observations, bench_derive's synthetic sample); one period derived (J, H, Q) and stored with
   fingerprints; goal <= 3 s.
Set-up (building the databases) is not timed. Prints seconds and a load note.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import pandas as pd

from _load import load_note
from bench_derive import synthetic
from bench_import import frame
from fintech_eval.app import Workspace
from fintech_eval.app.campaigns import campaign_status, create_campaign
from fintech_eval.app.derived import derive_and_store
from fintech_eval.app.registers import register_file
from fintech_eval.store import import_observations, upsert_institutions

SECTORS = np.array(["bank", "securities", "insurance", "payment", "other"])


def _register(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": [f"91110000{i:010d}" for i in range(n)],
        "name_zh": [f"合成机构{i}" for i in range(n)],
        "sector": rng.choice(SECTORS, n),
        "region_code": rng.choice(["11", "31", "44", "51", "61"], n),
    })


def bench_register(tmp: str, n: int) -> float:
    path = os.path.join(tmp, "register.csv")
    _register(n).to_csv(path, index=False)
    with Workspace(os.path.join(tmp, "register.sqlite")) as ws:
        t = time.perf_counter()
        r = register_file(ws, path)
        took = time.perf_counter() - t
    print(f"register {r.rows:,} institutions from CSV: {took:.2f} s")
    return took


def bench_status(tmp: str, n: int, years: int) -> float:
    obs = frame(n_entities=n, years=years)
    with Workspace(os.path.join(tmp, "status.sqlite")) as ws:
        with ws.sessions() as s, s.begin():
            upsert_institutions(s, _register(n).assign(id=sorted(obs["entity_id"].unique())))
            import_observations(s, b"bench", obs, file_name="bench.csv", fmt="csv", submitted_by="bench")
        period = str(obs["period"].max())
        cid = create_campaign(ws, period=period, deadline="2099-12-31")
        campaign_status(ws, cid)  # warm the framework cache, as a long-running process has it
        t = time.perf_counter()
        st = campaign_status(ws, cid)
        took = time.perf_counter() - t
    print(f"campaign status on {n:,} entities × {len(obs):,} observations: {took:.2f} s (goal <= 1 s); "
          f"reporting rate {st.rates.iloc[0]['reporting_rate']:.3f}")
    return took


def bench_derive(tmp: str, n: int, years: int) -> float:
    obs, inst = synthetic(n, years)
    with Workspace(os.path.join(tmp, "derive.sqlite")) as ws:
        with ws.sessions() as s, s.begin():
            reg = inst.rename(columns={"entity_id": "id"}).assign(name_zh=lambda d: d["id"])
            upsert_institutions(s, reg[["id", "name_zh", "sector", "region_code"]])
            obs_in = obs.assign(unit=None, source="bench")
            import_observations(s, b"bench", obs_in, file_name="bench.csv", fmt="csv", submitted_by="bench")
        period = str(obs["period"].astype(str).max())
        t = time.perf_counter()
        rep = derive_and_store(ws, period=period)
        took = time.perf_counter() - t
    print(f"derive and store {period} for {n:,} institutions ({len(obs):,} observations over {years} years): "
          f"{took:.2f} s (goal <= 3 s); {rep.stored:,} values stored")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--institutions", type=int, default=10_000, help="register size")
    ap.add_argument("--status-entities", type=int, default=5_000)
    ap.add_argument("--derive-institutions", type=int, default=5_000)
    ap.add_argument("--years", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_register(tmp, args.institutions)
        bench_status(tmp, args.status_entities, args.years)
        bench_derive(tmp, args.derive_institutions, args.years)
    if note := load_note():
        print(note)


if __name__ == "__main__":
    main()
