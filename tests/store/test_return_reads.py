"""Validating a return reads only its entity's rows (register entry, stored values, sizes) in one session,
and that gives exactly what the import's validation against the whole database gives: the same problems
(rule, place, message, severity) and the same clean rows, for stored wholes, last year's values restated,
a unit slipped by 10,000 against last year, and a file that names another institution (judged against the
whole register)."""

from __future__ import annotations

import pandas as pd
import pytest

from fintech_eval.app import Workspace
from fintech_eval.app.intake import import_files, read_and_validate
from fintech_eval.demo.generator import generate
from fintech_eval.store import upsert_institutions


@pytest.fixture(scope="module")
def synthetic():
    return generate(seed=11, n_institutions=8, years=range(2023, 2025))


def _csv(rows) -> bytes:
    return pd.DataFrame(rows, columns=["entity_kind", "entity", "period", "variable", "value", "unit"]).to_csv(index=False).encode()


def _key(res):
    probs = sorted((p.rule, str(sorted((k, str(v)) for k, v in p.where.items())), p.message, p.severity) for p in res.problems)
    clean = res.clean.sort_values(["row", "variable"]).reset_index(drop=True)
    return probs, clean


@pytest.mark.parametrize("case", ["clean", "slips", "other_entity"])
def test_a_return_s_own_reads_validate_as_the_whole_database_does(db_url, synthetic, tmp_path, case):
    ws = Workspace(db_url)
    try:
        inst = synthetic.institutions.rename(columns={"entity_id": "id"}).drop(columns=["synthetic"], errors="ignore")
        with ws.sessions() as s, s.begin():
            upsert_institutions(s, inst, who="test", why="register")
        obs = synthetic.observations
        obs = obs.assign(value=obs["value"].astype(object).where(obs["value"].notna(), "N/A"))  # declared, not blank
        last = obs[obs["period"].astype(str) == "2023"]
        last.assign(entity=last["entity_id"], unit="")[["entity_kind", "entity", "period", "variable", "value", "unit"]] \
            .to_csv(tmp_path / "last.csv", index=False)
        import_files(ws, [tmp_path / "last.csv"])
        e, other = sorted(inst["id"])[:2]
        now = obs[(obs["period"].astype(str) == "2024") & (obs["entity_id"] == e)]
        rows = [("institution", e, "2024", r.variable, r.value, "") for r in now.itertuples()]
        if case == "slips":  # a money value in 元 where 万元 is asked, and a value far off last year's
            rows = [(k, en, p, v, (x * 10000 if isinstance(x, float) and v == "fintech_investment" else x), u)
                    for k, en, p, v, x, u in rows]
            rows.append(("institution", e, "2024", "fintech_staff", 10**7, ""))
        if case == "other_entity":
            rows.append(("institution", other, "2024", "outlets", 3, ""))
            rows.append(("institution", "NOT-REGISTERED", "2024", "outlets", 3, ""))
        f = tmp_path / "return.csv"
        f.write_bytes(_csv(rows))
        fw = ws.framework("jrt0201-2020")
        own = read_and_validate(ws, [f], fw, entities=[e])
        whole = read_and_validate(ws, [f], fw)
        (p1, c1), (p2, c2) = _key(own), _key(whole)
        assert p1 == p2
        pd.testing.assert_frame_equal(c1, c2)
        if case != "clean":
            assert p1, "the case should raise problems"
    finally:
        ws.close()
