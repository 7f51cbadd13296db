"""A whole evaluation round from the CLI, as a provincial statistics team runs it, on SQLite and PostgreSQL:
register from a file, campaign with a sample and a deadline, returns (one late, one missing), status and
the list to chase, score, publish, runs."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from sqlalchemy import text

from fintech_eval.demo.generator import generate
from fintech_eval.store import make_engine
from tests.clirun import run_cli


@pytest.fixture(scope="module")
def synthetic():
    return generate(seed=11, n_institutions=24, years=range(2023, 2025))


def _register_file(data, path):
    inst = data.institutions.rename(columns={"entity_id": "代码", "name_zh": "名称", "sector": "行业", "region_code": "省份代码"})
    inst[["代码", "名称", "name_en", "行业", "subtype", "省份代码", "listed"]].to_csv(path, index=False)


def _returns(data, entities, path):
    obs = data.observations
    part = obs[(obs["entity_kind"] == "institution") & obs["entity_id"].isin(entities)].rename(columns={"entity_id": "entity"})
    part[["entity_kind", "entity", "period", "variable", "value", "unit", "source"]].to_csv(path, index=False, na_rep="N/A")  # declared, not blank


def test_a_whole_round(db_url, synthetic, tmp_path, capsys, monkeypatch):
    def cli(*args):
        return run_cli([*args, "--db", db_url], capsys, monkeypatch)

    # 1. the register, from a file with Chinese headers; a bad file is refused whole, naming row and field
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"id": ["X1", "X2"], "name_zh": ["甲", ""], "sector": ["bnak", "bank"], "region_code": ["44", "99"]}).to_csv(bad, index=False)
    run = cli("register", "institutions", bad)
    assert run.code == 2
    assert "did you mean 'bank'" in run.err and "row 3" in run.err and "field region_code" in run.err
    reg = tmp_path / "register.csv"
    _register_file(synthetic, reg)
    run = cli("register", "institutions", reg)
    assert run.code == 0, run.err
    listed = json.loads(cli("register", "list", "--format", "json").out)
    assert len(listed) == 24 and "X1" not in {r["id"] for r in listed}

    # 2. a campaign for 2024 with a sample of three and a deadline
    ids = sorted(synthetic.institutions["entity_id"])
    on_time, late, silent = ids[0], ids[1], ids[2]
    sample = tmp_path / "sample.csv"
    pd.DataFrame({"entity_id": [on_time, late, silent]}).to_csv(sample, index=False)
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    run = cli("campaign", "create", "--period", "2024", "--sample", sample, "--deadline", deadline)
    assert run.code == 0, run.err
    unknown = tmp_path / "unknown.csv"
    pd.DataFrame({"entity_id": [on_time + "X"]}).to_csv(unknown, index=False)
    run = cli("campaign", "create", "--period", "2024", "--sample", unknown)
    assert run.code == 2 and "not in the institution register" in run.err and f"did you mean {on_time!r}" in run.err

    # 3. returns: two arrive (one after the deadline), one institution outside the sample too, one sends nothing
    for who in (on_time, late, ids[5]):
        f = tmp_path / f"return_{who}.csv"
        _returns(synthetic, [who], f)
        assert cli("import", f).code == 0
    obs = synthetic.observations
    regions = obs[obs["entity_kind"] == "region"].rename(columns={"entity_id": "entity"})
    regions[["entity_kind", "entity", "period", "variable", "value", "unit", "source"]].to_csv(tmp_path / "regions.csv", index=False)
    assert cli("import", tmp_path / "regions.csv").code == 0
    engine = make_engine(db_url)
    with engine.begin() as conn:  # the late one arrived two days after the deadline
        conn.execute(text(
            "UPDATE submission SET received_at = :t WHERE file_name = :f"
        ), {"t": dt.datetime.now(dt.UTC) + dt.timedelta(days=3), "f": f"return_{late}.csv"})
    engine.dispose()

    # 4. status: on time, late, missing; rates; the list to chase; the outsider named
    run = cli("campaign", "status", "--format", "json")
    assert run.code == 0, run.err
    st = json.loads(run.out)
    by = {e["entity_id"]: e for e in st["entities"]}
    assert (by[on_time]["status"], by[late]["status"], by[silent]["status"]) == ("on_time", "late", "missing")
    assert 0 < by[on_time]["completeness"] <= 1 and by[silent]["answered"] == 0
    overall = next(r for r in st["rates"] if r["level"] == "all")
    assert (overall["asked"], overall["returned"], overall["on_time"]) == (3, 2, 1)
    assert overall["reporting_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert any(ids[5] in w["message"] and w["rule"] == "campaign.outside_sample" for w in st["warnings"])
    missing = cli("campaign", "missing", "--format", "csv").out
    assert silent in missing and on_time not in missing

    # 5. score the campaign, publish it; a second score is a new run in a new folder
    out = tmp_path / "runs"
    run = cli("score", "--out", out)
    assert run.code == 0, run.err
    assert (out / "run-1" / "J-2024" / "scores.csv").is_file()
    scores = pd.read_csv(out / "run-1" / "J-2024" / "scores.csv")
    assert set(scores["uCode"]) >= {on_time, late}
    run = cli("publish", "1", "--no-reports")
    assert run.code == 0, run.err
    assert cli("score", "--out", out).code == 0
    runs = json.loads(cli("runs", "list", "--format", "json").out)
    assert [(r["id"], r["status"]) for r in runs] == [(1, "published"), (2, "draft")]
    shown = json.loads(cli("runs", "show", "1", "--format", "json").out)
    assert shown["inputs"]["J"] and shown["scores_sha256"]["J"] and shown["specs"]["J"]["data"]["source"] == "store"
    # 6. derived values stored; a correction to one institution makes exactly its values (and its industry's
    #    and its region's, which aggregate it) stale
    run = cli("derive")
    assert run.code == 0, run.err
    fresh = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024").out))
    assert len(fresh) and not fresh["stale"].any()
    var = synthetic.observations
    var = var[(var["entity_id"] == on_time) & (var["period"].astype(str) == "2024") & (var["variable"] == "fintech_staff")]
    assert cli("correct", on_time, "2024", "fintech_staff", float(var["value"].iloc[0]) + 1, "--why", "typo").code == 0
    after = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024").out))
    inst = synthetic.institutions.set_index("entity_id").loc[on_time]
    stale = set(zip(after.loc[after["stale"], "block"], after.loc[after["stale"], "entity"].astype(str), strict=True))
    expect = {("J", on_time), ("H", inst["sector"]), ("Q", str(inst["region_code"])[:2])}
    present = set(zip(fresh["block"], fresh["entity"].astype(str), strict=True))
    assert stale == expect & present and expect <= present
    assert cli("derive").code == 0
    assert not pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024").out))["stale"].any()

    if db_url.startswith("sqlite"):  # the reports of a published run (rendering is the same on both databases)
        run = cli("publish", "2", "--lang", "en")
        assert run.code == 0, run.err
        written = sorted(p.name for p in (out / "run-2" / "reports").glob("*.html"))
        assert "ranking_J-2024_en.html" in written and any(n.startswith("industry_") for n in written)
        assert cli("score", "--period", "1999", "--out", out).code == 2  # nothing stored for 1999
