"""The demo job end to end on a small synthetic sample: every stage leaves its mark."""

import pandas as pd
import pytest

from fintech_eval.demo.run import run_demo, summary_table
from fintech_eval.store import init_db, observations_frame, session_factory, submissions_frame


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    return run_demo(out, seed=7, n_institutions=80, years=range(2022, 2025), reports=True, lang="en")


def test_bad_return_rejected_whole_and_nothing_of_it_stored(demo):
    rules = {p.rsplit("[", 1)[-1].rstrip("]") for p in demo.rejected_problems}
    assert demo.rejected_problems and rules <= {
        "part_of.exceeds", "range.negative", "type.not_whole", "unit.unknown", "unit.incompatible", "type.binary",
        "range.level", "turnover.inconsistent", "variable.not_applicable",
    }
    with session_factory(init_db(demo.db))() as s:
        subs = submissions_frame(s)
        obs = observations_frame(s, columns=["entity_id", "submission_id"])
    files = set(subs["file_name"])
    assert "returns_with_errors.csv" not in files
    assert {"returns_2022.csv", "returns_2023.csv", "regions.csv", "banks_disclosed.csv"} <= files
    returned = {f for f in files if f.startswith("questionnaire_")}  # the round's returns: filled workbooks
    assert len(returned) == demo.n_sampled - 1
    banks = subs.loc[subs["file_name"] == "banks_disclosed.csv", "id"].tolist()
    assert (~obs["submission_id"].isin(banks)).sum() == demo.n_observations  # every good return is in, whole


def test_the_round_is_a_campaign_with_one_late_and_one_missing(demo):
    """Register → §4 sample → campaign → one questionnaire per sampled institution → returns → status."""
    sample = pd.read_csv(demo.out / "sample.csv", dtype=str)
    index = pd.read_csv(demo.out / "questionnaires" / "index.csv", dtype=str)
    assert sorted(index["entity_id"]) == sorted(sample["entity_id"]) and len(index) == demo.n_sampled > 2
    assert all((demo.out / "questionnaires" / f).is_file() for f in index["file"])
    assert index["entity_id"].str.startswith("SYN-").all()  # the real banks are reference data, not sampled
    status = pd.read_csv(demo.out / "campaign_status.csv", dtype={"entity_id": str})
    by = status.set_index("entity_id")["status"]
    assert by.value_counts().to_dict() == {"on_time": demo.n_sampled - 2, "late": 1, "missing": 1}
    assert demo.late == by.index[by == "late"].tolist() and demo.missing == by.index[by == "missing"].tolist()
    assert demo.reporting_rate == pytest.approx((demo.n_sampled - 1) / demo.n_sampled)
    assert demo.on_time_rate == pytest.approx((demo.n_sampled - 2) / demo.n_sampled)
    assert pd.read_csv(demo.out / "campaign_missing.csv")["entity_id"].tolist() == demo.missing
    returned = status[status["status"] != "missing"]
    assert (returned["completeness"] > 0.9).all()  # filled from the generator: a few values missing at most
    with session_factory(init_db(demo.db))() as s:
        missing_obs = observations_frame(s, period="2024", entity_ids=demo.missing, columns=["entity_id"])
    assert missing_obs.empty


def test_every_block_is_scored(demo):
    assert set(demo.results) == {"J", "H", "Q"}
    assert all(p.parent.name == f"run-{demo.run}" for p in demo.results.values())
    j = pd.read_csv(demo.results["J"] / "scores.csv")
    assert {"uCode", "J-A1", "J-A6", "J"} <= set(j.columns)
    syn = j[j["uCode"].str.startswith("SYN-")]
    status = pd.read_csv(demo.out / "campaign_status.csv")
    assert sorted(syn["uCode"]) == sorted(status.loc[status["status"] != "missing", "entity_id"])
    assert syn["J"].notna().all() and syn["J"].between(0, 100).all()
    by_sector = pd.read_csv(demo.results["J"] / "ranks_by_sector.csv")
    assert by_sector["J"].min() == 1
    h = pd.read_csv(demo.results["H"] / "scores.csv")
    assert set(h["uCode"]) == {"bank", "securities", "insurance", "payment"}
    q = pd.read_csv(demo.results["Q"] / "scores.csv", dtype={"uCode": str})
    assert len(q) == 31


def test_the_run_is_published_and_its_values_stored(demo):
    from fintech_eval.app import Workspace
    from fintech_eval.app.runs import runs_frame

    with Workspace(demo.db, create=False) as ws:
        runs = runs_frame(ws)
    assert runs[["id", "status"]].values.tolist() == [[demo.run, "published"]]
    ind = pd.read_csv(demo.out / "indicators.csv", dtype={"period": str})
    assert set(ind["period"]) == {"2024"} and not ind["stale"].any()
    assert ind.loc[ind["block"] == "J", "code"].nunique() == 51
    assert ind.loc[ind["block"] == "H", "code"].nunique() == 19
    assert (demo.out / "sample_coverage.csv").exists()
    assert set(summary_table(demo)["what"]) >= {"institutions registered (synthetic)", "observations stored", "reporting rate"}


def test_outputs_and_labels(demo):
    assert "SYNTHETIC" in (demo.out / "SYNTHETIC_DATA.txt").read_text(encoding="utf-8")
    reg = pd.read_csv(demo.out / "register" / "institutions.csv")
    assert len(reg) == 80 and reg["name_en"].str.contains("Synthetic").all()


def test_reports_are_written(demo):
    names = {p.name for p in demo.reports}
    assert all(p.parent == demo.report_dir for p in demo.reports)
    assert {"J-2024_ranking.en.html", "Q-2024_region.en.html", "Q-2024_region.en.pdf", "H-2024_ranking.en.html",
            "H-2024_industry_bank.en.html"} <= names
    scorecards = [p for p in demo.reports if p.name.startswith("J-2024_scorecard_SYN-BANK-")]
    assert {p.suffix for p in scorecards} == {".html", ".pdf", ".xlsx"}
    assert all(p.stat().st_size > 10_000 for p in demo.reports if p.suffix != ".csv")
    html = next(p for p in scorecards if p.suffix == ".html").read_text(encoding="utf-8")
    assert "Synthetic" in html  # the institution's name says it is synthetic
    vendors = pd.read_csv(demo.report_dir / "vendor_ratings.csv")
    assert set(vendors["provider_type"]) == {"comprehensive", "product", "consulting", "outsourcing"}
    assert set(vendors["model"]) == {"comprehensive", "innovation"} and vendors["total"].between(0, 100).all()
    assert {f"vendor_{v}.en.{x}" for v in vendors["vendor"] for x in ("html", "pdf")} <= names


def test_demo_vendors_show_the_staged_rule():
    """The comprehensive vendor's score band says 4 but it meets level-3 requirements only: capped at 3."""
    from fintech_eval.capability import rate_both
    from fintech_eval.demo.run import vendor_entries

    vendor, entries = vendor_entries()["SYN-V-COMP"]
    r = rate_both("fcsc-2023-default", vendor, entries)["comprehensive"]
    assert (r.band_level, r.requirement_level, r.level) == (4, 3, 3)


def test_evaluate_with_the_store_source_reproduces_the_demo_scores(demo, tmp_path, capsys, monkeypatch):
    """`fintech-eval evaluate SPEC` with `data: {source: store, campaign: …}` scores the campaign's sample as the
    demo's run did: the demo's J-2024; without the campaign it scores every institution with data, the real banks
    imported as reference data too."""
    import yaml

    from fintech_eval.service import DEFAULT_BLOCK_STEPS
    from tests.clirun import run_cli

    spec = {
        "name": "J 2024 from the database",
        "data": {"source": "store", "db": str(demo.db), "framework": "jrt0201-2020", "block": "J", "period": 2024,
                 "campaign": demo.campaign},
        "steps": DEFAULT_BLOCK_STEPS,
        "ranks": {"groups": ["sector", "region_code"]},
    }
    path = tmp_path / "j.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    run = run_cli(["evaluate", path, "--out", tmp_path / "out"], capsys, monkeypatch)
    assert run.code == 0, run.out + run.err
    want = pd.read_csv(demo.results["J"] / "scores.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "scores.csv"), want, check_exact=True)
    assert want["uCode"].str.startswith("SYN-").all()  # the sample only: no real bank in the campaign's run
    del spec["data"]["campaign"]
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    run = run_cli(["evaluate", path, "--out", tmp_path / "every"], capsys, monkeypatch)
    assert run.code == 0, run.out + run.err
    every = pd.read_csv(tmp_path / "every" / "scores.csv")
    assert set(every["uCode"]) > set(want["uCode"]) and not every["uCode"].str.startswith("SYN-").all()
    # the demo's own saved spec says where its data came from, so it re-runs as it is
    assert yaml.safe_load((demo.results["J"] / "spec.yaml").read_text(encoding="utf-8"))["data"]["source"] == "store"
    run = run_cli(["evaluate", demo.results["J"] / "spec.yaml", "--out", tmp_path / "again"], capsys, monkeypatch)
    assert run.code == 0, run.out + run.err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again" / "scores.csv"), want, check_exact=True)


def test_a_stored_data_result_reruns(demo):
    import fintech_eval as fe
    from fintech_eval.service import block_spec

    r = fe.evaluate(block_spec("J", 2024, db=str(demo.db)))
    assert r.inputs and next(iter(r.inputs)).startswith("store:")
    changed = r.rerun("aggregate.dat_thresh", 0.8)
    fresh = fe.evaluate(block_spec("J", 2024, db=str(demo.db)) | {"steps": [
        *block_spec("J", 2024)["steps"][:-1], {"aggregate": {"method": "amean", "dat_thresh": 0.8}}]})
    pd.testing.assert_frame_equal(changed.final, fresh.final, check_exact=True)
    assert changed.final["J"].isna().sum() >= r.final["J"].isna().sum()


def test_no_indicator_vanishes_silently_within_a_sector(demo):
    """An indicator with values in a sector is scored there, or a warning names the sector and the indicator."""
    import json

    res = demo.results["J"]
    stages = sorted((res / "stages").glob("*_Treated.csv")) + sorted((res / "stages").glob("*_Normalised.csv"))
    treated, norm = (pd.read_csv(p).set_index("uCode") for p in stages)
    units = pd.read_csv(res / "units.csv").set_index("uCode")
    warned = {(w.get("group"), w.get("indicator")) for w in json.loads((res / "manifest.json").read_text())["warnings"]}
    for sector, idx in units.groupby("sector").groups.items():
        for code in norm.columns:
            if treated.loc[idx, code].notna().any() and norm.loc[idx, code].isna().all():
                assert (f"sector={sector}", code) in warned, (sector, code)


def test_the_demo_vendors_are_published_assessments_and_the_reports_show_them(demo, tmp_path):
    """The demo's vendor step stores its ratings on the platform (``serve`` on the demo's database lists them on
    /vendors): every vendor registered, one published assessment per model, and the published ratings are those
    the report files show (``vendor_ratings.csv`` and each vendor's report are rendered from them)."""
    from fintech_eval.app import Workspace
    from fintech_eval.app.vendor_assessments import (
        assessment_detail,
        current_rating,
        rating_view,
        vendors_overview,
    )
    from fintech_eval.capability import Vendor, rate_both
    from fintech_eval.demo.vendors import DEMO_VENDORS, vendor_entries
    from fintech_eval.report import render

    csv = pd.read_csv(demo.report_dir / "vendor_ratings.csv").set_index(["vendor", "model"])
    refs: list[str | None] = []
    with Workspace(demo.db, create=False) as ws:
        overview = {v["id"]: v for v in vendors_overview(ws)}
        assert sorted(overview) == sorted(v[0] for v in DEMO_VENDORS)
        for vid, ptype, _zh, name_en, *_ in DEMO_VENDORS:
            v = overview[vid]
            assert (v["provider_type"], v["name_en"]) == (ptype, name_en)
            assert {a["model"]: a["status"] for a in v["assessments"]} == {"comprehensive": "published",
                                                                           "innovation": "published"}
            for a in v["assessments"]:
                assert a["id"] == demo.vendor_assessments[vid][a["model"]] and a["round"] == "2024"
                published = current_rating(ws, a["id"])
                shown = demo.vendor_ratings[vid][a["model"]]
                assert {k: published[k] for k in rating_view(shown)} == rating_view(shown)
                assert (a["level"], a["total"]) == (shown.level, pytest.approx(shown.total, abs=1e-4))
                row = csv.loc[(vid, a["model"])]
                assert (None if pd.isna(row["level"]) else int(row["level"])) == published["level"]
                assert row["total"] == pytest.approx(published["total"], abs=1e-4)
                detail = assessment_detail(ws, a["id"])
                assert detail["answered"] > 0 and {x["updated_by"] for x in detail["answers"]} == {"demo reviewer"}
                refs += [x["evidence_ref"] for x in detail["answers"]]
    assert any(refs) and not all(refs)  # evidence held on file for most indicators, none for a few (capped)

    # the reports are what rating the demo's entries directly gives (the vendor's registered names): nothing lost
    # in the store, nothing changed in the files
    vid = "SYN-V-COMP"
    vendor, entries = vendor_entries(7)[vid]
    direct = rate_both("fcsc-2023-default", Vendor(vid, vendor.provider_type, vendor.name, "Synthetic Comprehensive Vendor"),
                       entries)
    again = render(direct, "vendor", fmt="html", lang="en", out=tmp_path / "direct.html")
    assert again.read_text(encoding="utf-8") == (demo.report_dir / f"vendor_{vid}.en.html").read_text(encoding="utf-8")
