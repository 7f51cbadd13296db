"""kill -9 at random moments of a 200,000-row ``import`` leaves either the whole file or nothing, and a
database whose integrity holds (SQLite ``PRAGMA integrity_check``; both: counts agree with the submission).

Bounded: a few trials per database on one generated file (the demo generator's returns), then the import
run to its end. Slow (tens of seconds): ``-m "not slow"`` leaves it out.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

import fintech_eval as fe
from fintech_eval.demo.generator import generate
from fintech_eval.store import init_db, make_engine, session_factory, upsert_institutions

pytestmark = pytest.mark.slow

TRIALS = 3


@pytest.fixture(scope="module")
def returns(tmp_path_factory):
    """About 200,000 rows of institution returns and the register they need."""
    fw = fe.load_framework("jrt0201-2020")
    data = generate(n_institutions=560, years=range(2020, 2025), framework=fw, seed=7)
    obs = data.observations
    obs = obs[obs["entity_kind"] == "institution"].rename(columns={"entity_id": "entity"})
    folder = tmp_path_factory.mktemp("kill")
    cols = ["entity_kind", "entity", "period", "variable", "value", "unit", "source"]
    obs[cols].to_csv(folder / "returns.csv", index=False, na_rep="N/A")  # missing values declared, as returns do
    obs[cols].assign(source="restated").to_csv(folder / "returns2.csv", index=False, na_rep="N/A")
    inst = data.institutions.rename(columns={"entity_id": "id"})[["id", "name_zh", "name_en", "sector"]]
    return folder / "returns.csv", inst, len(obs)


def _state(db: str) -> tuple[int, int]:
    eng = make_engine(db)
    try:
        with eng.connect() as c:
            n_obs = c.execute(text("SELECT count(*) FROM observation")).scalar_one()
            n_sub = c.execute(text("SELECT count(*) FROM submission")).scalar_one()
            if eng.dialect.name == "sqlite":
                assert c.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                assert c.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    finally:
        eng.dispose()
    return n_obs, n_sub


def _import(path: Path, db: str) -> subprocess.Popen:
    code = "from fintech_eval.cli.app import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, "import", str(path), "--db", db, "--user", "kill-test"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})


def test_kill_9_leaves_all_or_nothing(returns, db_url):
    path, inst, n = returns
    assert n >= 190_000
    with session_factory(init_db(db_url))() as s, s.begin():
        upsert_institutions(s, inst)
    rng = random.Random(16)
    t0 = time.monotonic()
    first = _import(path, db_url)
    first.wait(timeout=600)
    assert first.returncode == 0, first.stderr.read().decode()[-2000:] if first.stderr else ""
    full = time.monotonic() - t0  # how long a whole import takes here (under this machine's load)
    assert _state(db_url) == (n, 1)
    # the same rows again under other bytes (a new submission that rewrites every value) killed mid-way
    path2 = path.with_name("returns2.csv")
    interrupted = 0
    for _ in range(TRIALS):
        proc = _import(path2, db_url)
        time.sleep(rng.uniform(0.3, full))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        n_obs, n_sub = _state(db_url)
        assert n_obs == n and n_sub in (1, 2)  # the values of one file or the other, never a mix of counts
        if n_sub == 2:
            break  # it finished before the kill: nothing left to interrupt
        interrupted += 1
    assert interrupted >= 1  # at least one kill landed inside the import
    eng = make_engine(db_url)
    try:
        with eng.connect() as c:
            sources = {r[0] for r in c.execute(text("SELECT DISTINCT source FROM observation"))}
    finally:
        eng.dispose()
    assert len(sources) == 1  # all rows from the same file: either every value restated or none
