"""A whole evaluation round from the CLI, as a provincial statistics team runs it, on SQLite and PostgreSQL:
register from a file, last year's returns in the database, the §4 sample, a campaign with a deadline, its
questionnaires, the returns as filled workbooks (one late, one never sent, one with a value flagged for
review, one with a unit error refused until corrected, one from outside the sample), status and the list to chase, a correction, derive, score, publish,
reports; then the next period's round, where one institution re-sends its return with a changed value and
exactly its derived values (its own, its industry's, its region's) become stale."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from fintech_eval import load_framework
from fintech_eval.collect import applicable_variables, fill_template
from fintech_eval.demo.generator import generate
from tests.clirun import run_cli

COLUMNS = ["entity_kind", "entity", "period", "variable", "value", "unit", "source"]


@pytest.fixture(scope="module")
def synthetic():
    return generate(seed=11, n_institutions=40, years=range(2023, 2026))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def round_db(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database: a SQLite file, then (marked ``pg``) a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'round.sqlite'}"
    return request.getfixturevalue("pg_url")


def _register_file(data, path):
    inst = data.institutions.rename(columns={"entity_id": "代码", "name_zh": "名称", "sector": "行业", "region_code": "省份代码"})
    inst[["代码", "名称", "name_en", "行业", "subtype", "省份代码", "listed"]].to_csv(path, index=False)


def _long(data, path, *, kind="institution", entities=None, periods=None):
    obs = data.observations[data.observations["entity_kind"] == kind]
    if entities is not None:
        obs = obs[obs["entity_id"].isin(entities)]
    if periods is not None:
        obs = obs[obs["period"].astype(str).isin(periods)]
    obs.rename(columns={"entity_id": "entity"})[COLUMNS].to_csv(path, index=False, na_rep="N/A")  # declared, not blank
    return path


def _answers(data, entity, period):
    obs = data.observations
    part = obs[(obs["entity_id"] == entity) & (obs["period"].astype(str) == period)]
    return dict(zip(part["variable"], part["value"], strict=True))


def test_a_whole_round(round_db, synthetic, tmp_path, capsys, monkeypatch):
    def cli(*args):
        return run_cli([*args, "--db", round_db], capsys, monkeypatch)

    fw = load_framework("jrt0201-2020")
    inst = synthetic.institutions.set_index("entity_id")

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
    assert len(listed) == 40 and "X1" not in {r["id"] for r in listed}

    # 2. last year's round is in the database (its returns as the team kept them), and the provinces' open data
    assert cli("import", _long(synthetic, tmp_path / "returns_2023.csv", periods=["2023"])).code == 0
    assert cli("import", _long(synthetic, tmp_path / "regions.csv", kind="region")).code == 0

    # 3. the §4 sample: the five largest institutions of each sector by last year's operating revenue
    run = cli("sample", "--period", "2023", "--method", "top_n", "--n", "5", "--out", tmp_path / "sample")
    assert run.code == 0, run.err
    obs = synthetic.observations
    revenue = obs[(obs["period"].astype(str) == "2023") & (obs["variable"] == "operating_revenue") & obs["value"].notna()]
    assert f"operating_revenue of {len(revenue)} institution(s) read from their 2023 returns" in " ".join(run.out.split())
    revenue = revenue.assign(sector=revenue["entity_id"].map(inst["sector"]))
    top5 = revenue.sort_values("value", ascending=False).groupby("sector").head(5)
    sample = pd.read_csv(tmp_path / "sample.csv", dtype=str)
    assert sorted(sample["entity_id"]) == sorted(top5["entity_id"]) and len(sample) == 20

    # 4. the campaign: who is asked for 2024, by when
    run = cli("campaign", "create", "--period", "2024", "--sample", tmp_path / "sample.csv", "--deadline", "2025-03-31",
              "--name", "2024 round")
    assert run.code == 0, run.err
    unknown = tmp_path / "unknown.csv"
    first = sorted(sample["entity_id"])[0]
    pd.DataFrame({"entity_id": [first + "X"]}).to_csv(unknown, index=False)
    run = cli("campaign", "create", "--period", "2024", "--sample", unknown)
    assert run.code == 2 and "not in the institution register" in run.err and f"did you mean {first!r}" in run.err

    # 5. its questionnaires: one workbook per sampled institution, prefilled, only its sector's variables
    q = tmp_path / "questionnaires"
    run = cli("campaign", "templates", "--out", q)
    assert run.code == 0, run.err
    index = pd.read_csv(q / "index.csv", dtype=str)
    assert sorted(index["entity_id"]) == sorted(sample["entity_id"]) and set(index["period"]) == {"2024"}
    for row in index.itertuples():
        wb = openpyxl.load_workbook(q / row.file)
        meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True)}
        assert (meta["entity_id"], meta["sector"], meta["period"]) == (row.entity_id, inst.loc[row.entity_id, "sector"], "2024")
        asked = [v.name for v, _ in applicable_variables(fw, row.sector)]
        assert meta["variables"].split(",") == asked and int(row.n_variables) == len(asked)
        assert row.name_zh in str(wb["Questionnaire"]["C5"].value)
    run = cli("campaign", "templates", "--out", q)  # filled copies may be in there: never overwritten silently
    assert run.code == 2 and "already in" in run.err and "--force" in run.err

    # 6. the returns: the team imports the mail of 20 March together; a securities firm answers a week late; a
    #    payment institution never answers; one bank's figure is 300 times too large (flagged for review);
    #    an institution outside the sample sends a return too
    by_sector = index.sort_values("entity_id").groupby("sector")["entity_id"].apply(list)
    flagged, late, silent = by_sector["bank"][0], by_sector["securities"][0], by_sector["payment"][-1]
    outsider = sorted(set(inst.index) - set(sample["entity_id"]))[0]
    files = dict(zip(index["entity_id"], index["file"], strict=True))
    returns = tmp_path / "returns"
    returns.mkdir()

    def fill(entity, period, change=None):
        values = _answers(synthetic, entity, period) | (change or {})
        return fill_template(q / files[entity] if period == "2024" else q2 / files2[entity], values,
                             contact="张三", out=returns / f"{entity}_{period}.xlsx", unanswered="N/A")

    true_investment = _answers(synthetic, flagged, "2024")["fintech_investment"]
    # another bank enters its operating revenue in 元 where the questionnaire asks for 万元 (10,000× its 2023 value)
    in_yuan = next(e for e in by_sector["bank"][1:] if not pd.isna(_answers(synthetic, e, "2023").get("operating_revenue")))
    true_revenue = _answers(synthetic, in_yuan, "2024")["operating_revenue"]
    slips = {flagged: {"fintech_investment": true_investment * 300}, in_yuan: {"operating_revenue": true_revenue * 10_000}}
    on_time = [fill(e, "2024", slips.get(e)) for e in index["entity_id"] if e not in (late, silent)]
    run = cli("import", *on_time, "--received", "2025-03-20")
    assert run.code == 2  # the unit slip is an error: the whole mail is refused, nothing stored
    err = " ".join(run.err.split())
    assert "unit.factor" in err and in_yuan in err and "operating_revenue" in err
    assert "looks like 元 entered where 万元 is expected" in err and "10,000× the 2023 value" in err
    assert "--accept-unit" in err
    stored_2024 = pd.read_csv(io.StringIO(cli("observations", "--period", "2024").out))
    assert set(stored_2024["entity_kind"]) == {"region"}  # the provinces' open data only
    # a real jump would be accepted with a reason (checked without storing); this one is a slip: the bank re-sends
    accepted = cli("validate", *on_time, "--accept-unit", f"{in_yuan}/operating_revenue:acquired a regional bank",
                   "--format", "json")
    assert accepted.code == 0, accepted.err
    [unit] = [p for p in json.loads(accepted.out) if p["rule"] == "unit.factor"]
    assert (unit["severity"], unit["entity"]) == ("warning", in_yuan) and "acquired a regional bank" in unit["message"]
    on_time[on_time.index(returns / f"{in_yuan}_2024.xlsx")] = fill(in_yuan, "2024")  # the corrected workbook
    run = cli("import", *on_time, "--received", "2025-03-20")
    assert run.code == 0, run.err
    assert "outlier" in run.out and flagged in run.out  # kept and flagged, with the reason
    late_return = fill(late, "2024")
    run = cli("import", late_return, "--received", "08/04/2025")
    assert run.code == 2 and "not a date (YYYY-MM-DD)" in run.err
    assert cli("import", late_return, "--received", "2025-04-08").code == 0
    assert cli("import", _long(synthetic, tmp_path / "outsider.csv", entities=[outsider], periods=["2024"])).code == 0

    # 7. status: on time, late, missing, flagged; the rates; the list to chase; the outsider named
    run = cli("campaign", "status", "--format", "json")
    assert run.code == 0, run.err
    st = json.loads(run.out)
    by = {e["entity_id"]: e for e in st["entities"]}
    assert {e: by[e]["status"] for e in (flagged, late, silent)} == {flagged: "on_time", late: "late", silent: "missing"}
    assert sum(e["status"] == "on_time" for e in st["entities"]) == 18
    assert by[flagged]["flagged"] >= 1 and not by[flagged]["accepted"]
    obs_flagged = pd.read_csv(io.StringIO(cli("observations", "--period", "2024", "--entity", flagged).out)).set_index("variable")
    assert obs_flagged.loc["fintech_investment", "status"] == "flagged"
    assert "robust z-score" in obs_flagged.loc["fintech_investment", "flag_reason"]
    assert by[silent]["answered"] == 0 and 0.9 < by[late]["completeness"] <= 1
    overall = next(r for r in st["rates"] if r["level"] == "all")
    assert (overall["asked"], overall["returned"], overall["on_time"]) == (20, 19, 18)
    assert overall["reporting_rate"] == pytest.approx(0.95, abs=1e-3) and overall["on_time_rate"] == pytest.approx(0.9, abs=1e-3)
    payment = next(r for r in st["rates"] if r["level"] == "sector" and r["group"] == "payment")
    assert (payment["asked"], payment["returned"]) == (5, 4)
    assert any(outsider in w["message"] and w["rule"] == "campaign.outside_sample" for w in st["warnings"])
    assert any(outsider in w.get("message_zh", "") and "不在本评估项目的样本中" in w["message_zh"] for w in st["warnings"])
    missing = pd.read_csv(io.StringIO(cli("campaign", "missing", "--format", "csv").out))
    assert missing["entity_id"].tolist() == [silent]

    # 8. the flagged figure is checked by phone and corrected, with the reason; its history shows both
    run = cli("correct", flagged, "2024", "fintech_investment", true_investment, "--why", "typo, confirmed by phone")
    assert run.code == 0, run.err
    hist = cli("history", flagged, "2024", "fintech_investment", "--format", "csv")
    assert hist.code == 0 and "confirmed by phone" in hist.out

    # 9. derive and store, score (a recorded run), publish with its reports
    run = cli("derive")
    assert run.code == 0, run.err
    stored = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024").out))
    assert len(stored) and not stored["stale"].any()
    assert silent not in set(stored.loc[stored["block"] == "J", "entity"])
    out = tmp_path / "runs"
    run = cli("score", "--out", out)
    assert run.code == 0, run.err
    scores = pd.read_csv(out / "run-1" / "J-2024" / "scores.csv")
    returned = set(sample["entity_id"]) - {silent}
    assert returned <= set(scores["uCode"]) and silent not in set(scores["uCode"])
    assert scores.set_index("uCode").loc[sorted(returned), "J"].notna().all()
    with_reports = round_db.startswith("sqlite")  # rendering is the same on both databases
    run = cli("publish", "1", "--lang", "en", *([] if with_reports else ["--no-reports"]))
    assert run.code == 0, run.err
    runs = json.loads(cli("runs", "list", "--format", "json").out)
    assert [(r["id"], r["status"]) for r in runs] == [(1, "published")]
    shown = json.loads(cli("runs", "show", "1", "--format", "json").out)
    assert shown["inputs"]["J"] and shown["scores_sha256"]["J"] and shown["specs"]["J"]["data"]["source"] == "store"
    if with_reports:
        written = sorted(p.name for p in (out / "run-1" / "reports").glob("*.html"))
        assert {"J-2024_ranking.en.html", "H-2024_ranking.en.html", "Q-2024_region.en.html"} <= set(written)
        assert any(n.startswith("H-2024_industry_") for n in written)
        run = run_cli(["report", out / "run-1" / "J-2024", "--kind", "scorecard", "--entity", flagged, "--lang", "en",
                       "--out", tmp_path / "reports"], capsys, monkeypatch)
        assert run.code == 0, run.err
        assert (tmp_path / "reports" / f"J-2024_scorecard_{flagged}.en.html").is_file()
    assert cli("score", "--period", "1999", "--out", out).code == 2  # nothing stored for 1999

    # 10. the next period's round: same sample, everyone answers; one institution then re-sends its return with a
    #     changed figure, and exactly its derived values (its own, its industry's, its region's) become stale
    run = cli("campaign", "create", "--period", "2025", "--sample", tmp_path / "sample.csv", "--deadline", "2026-03-31")
    assert run.code == 0, run.err
    run = cli("campaign", "status")
    assert run.code == 2 and "--campaign" in run.err  # two campaigns: say which
    q2 = tmp_path / "questionnaires_2025"
    assert cli("campaign", "templates", "--campaign", "2", "--out", q2).code == 0
    files2 = dict(pd.read_csv(q2 / "index.csv", dtype=str)[["entity_id", "file"]].itertuples(index=False))
    assert cli("import", *[fill(e, "2025") for e in sample["entity_id"]], "--received", "2026-03-30").code == 0
    status2 = json.loads(cli("campaign", "status", "--campaign", "2", "--format", "json").out)
    assert {e["status"] for e in status2["entities"]} == {"on_time"}
    assert cli("derive", "--campaign", "2").code == 0
    fresh = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2025").out))
    assert len(fresh) and not fresh["stale"].any()
    changed = by_sector["insurance"][0]
    staff = _answers(synthetic, changed, "2025")["fintech_staff"]
    resent = fill(changed, "2025", {"fintech_staff": staff + 25})
    assert cli("import", resent).code == 0
    after = pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2025").out))
    stale = set(zip(after.loc[after["stale"], "block"], after.loc[after["stale"], "entity"].astype(str), strict=True))
    expect = {("J", changed), ("H", inst.loc[changed, "sector"]), ("Q", str(inst.loc[changed, "region_code"])[:2])}
    assert stale == expect
    assert not pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2024").out))["stale"].any()
    assert cli("derive", "--campaign", "2").code == 0
    assert not pd.read_csv(io.StringIO(cli("indicators", "--stored", "--period", "2025").out))["stale"].any()
