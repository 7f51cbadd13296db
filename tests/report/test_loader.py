import pandas as pd
import pytest

from fintech_eval.errors import DataError
from fintech_eval.report import load_result

from . import asem


def test_saved_result_reads_back_whole(tmp_path):
    r = asem()
    r.save(tmp_path)
    back = load_result(tmp_path)
    assert back.warnings == r.warnings  # the scores' SHA-256 matched the manifest
    assert list(back.datasets) == list(r.datasets)
    for name in r.datasets:
        pd.testing.assert_frame_equal(back.datasets[name], r.datasets[name], check_dtype=False, check_index_type=False)
    pd.testing.assert_frame_equal(back.ranks, r.ranks, check_index_type=False)
    assert set(back.group_ranks) == set(r.group_ranks)
    for g in r.group_ranks:
        pd.testing.assert_frame_equal(back.group_ranks[g], r.group_ranks[g], check_index_type=False)
    pd.testing.assert_frame_equal(back.tree.meta, r.tree.meta, check_dtype=False)
    pd.testing.assert_series_equal(back.weights, r.weights, check_index_type=False)
    assert set(back.records) == set(r.records)
    log, log0 = back.records["impute_log"], r.records["impute_log"]
    assert log["uCode"].tolist() == log0["uCode"].tolist() and log["value"].tolist() == pytest.approx(log0["value"].tolist())
    assert back.records["treat_details"].index.name == "iCode"
    assert back.spec.steps == r.spec.steps and back.inputs == r.inputs
    assert back.scores.equals(r.scores)


def test_edited_scores_are_flagged_and_missing_dirs_named(tmp_path):
    asem().save(tmp_path)
    path = tmp_path / "stages" / "4_Aggregated.parquet"
    df = pd.read_parquet(path)
    df.loc[0, "Index"] += 1
    df.to_parquet(path, index=False)
    assert any("SHA-256" in str(w) for w in load_result(tmp_path).warnings)
    with pytest.raises(DataError, match="no result directory"):
        load_result(tmp_path / "nope")
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(DataError, match="manifest.json"):
        load_result(tmp_path)


def test_units_file_gives_names_and_groups(tmp_path):
    from fintech_eval.report import build_report
    from fintech_eval.report.tables import unit_info

    from . import provinces_result

    r = provinces_result()
    r.save(tmp_path)
    codes = r.final.index.tolist()
    pd.DataFrame({"uCode": codes, "uName": [f"单位{i}" for i in range(len(codes))],
                  "tier_group": ["A" if i < 10 else "B" for i in range(len(codes))]}).to_csv(tmp_path / "units.csv", index=False)
    back = load_result(tmp_path)
    info = unit_info(back)
    assert info.loc[codes[0], "name"] == "单位0" and info.loc[codes[12], "tier_group"] == "B"
    rep = build_report(back, "scorecard", entity="单位0", lang="en")
    assert "group_rank:tier_group" in rep.figures() and rep.figures()["group_rank:tier_group"].value.endswith("of 10")
    assert "units" not in back.records
