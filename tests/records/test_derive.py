"""Hand-computed derivations on DuckDB: each raw variable, the indicators the catalog computes from them,
and every bad record counted by its rule (with an example), over Parquet and over CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from fintech_eval.catalog import load_framework
from fintech_eval.derive import derive_all
from fintech_eval.errors import DataError
from fintech_eval.records import derive_records, load_records_spec, period_bounds

from .handmade import B1_TXNS, EXPECTED, EXPECTED_BAD, EXPECTED_INDICATORS, T, txn, write, write_all

SPEC = load_records_spec()


def _values(d) -> dict[tuple[str, str], float]:
    return {(r.entity_id, r.variable): r.value for r in d.observations.itertuples()}


@pytest.fixture(scope="module", params=["parquet", "csv"])
def handmade(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"hand-{request.param}")
    write_all(root, SPEC, fmt=request.param)
    return derive_records(root, "2024", engine="duckdb")


def test_each_raw_variable_equals_the_hand_computed_value(handmade):
    got = _values(handmade)
    want = {(e, v): x for e, vals in EXPECTED.items() for v, x in vals.items()}
    assert set(got) == set(want)
    for key, x in want.items():
        assert got[key] == pytest.approx(x, rel=1e-12), key
    units = {v.name: v.unit for v in load_framework("jrt0201-2020").variables}
    assert all(units[r.variable] == r.unit for r in handmade.observations.itertuples())
    assert (handmade.observations["source"] == "jrt0201-records@1.0").all()


def test_the_catalog_computes_the_hand_computed_indicators(handmade):
    inst = pd.DataFrame({"entity_id": ["B1", "I1"], "sector": ["bank", "insurance"], "region_code": ["110000", "310000"]})
    panel = derive_all(handmade.observations, inst, "jrt0201-2020")
    j = panel[panel["block"] == "J"].set_index(["entity_id", "code"])["value"]
    for key, x in EXPECTED_INDICATORS.items():
        assert j[key] == pytest.approx(x, rel=1e-12), key


def test_bad_records_are_counted_by_rule_with_examples(handmade):
    bad = {s.source: s.bad for s in handmade.sources if s.bad}
    assert bad == EXPECTED_BAD
    loans = next(s for s in handmade.sources if s.source == "loans")
    assert (loans.n_records, loans.n_valid) == (8, 6)
    late = loans.examples["record.out_of_period"][0]
    assert str(late["loan_id"]) == "8" and late["_file"].endswith(".csv" if loans.format == "csv" else ".parquet")
    rules = {p.rule for p in handmade.problems()}
    assert rules == {r for b in EXPECTED_BAD.values() for r in b}
    prov = handmade.provenance
    assert prov["derivation"] == "jrt0201-records@1.0" and len(prov["derivation_sha256"]) == 64
    assert prov["sources"]["loans"]["bad_by_rule"] == EXPECTED_BAD["loans"]
    assert all(len(f["sha256"]) == 64 for s in prov["sources"].values() for f in s["files"])


def test_a_mean_of_nothing_is_missing_and_a_count_of_nothing_zero(tmp_path):
    write(tmp_path, SPEC, "loans", [{"loan_id": 1, "entity_id": "B9", "loan_type": "personal", "applied_at": T(2024, 1, 1),
                                     "decided_at": T(2024, 1, 2), "decision": "rejected", "auto_approved": False}])
    got = _values(derive_records(tmp_path, "2024"))
    assert got[("B9", "personal_loans")] == 1.0 and got[("B9", "small_micro_loans")] == 0.0
    assert ("B9", "personal_loan_approval_hours") not in got and ("B9", "small_micro_loan_approval_hours") not in got


def test_an_entity_with_only_bad_records_gets_no_values(tmp_path):
    write(tmp_path, SPEC, "transactions", [txn(1, "B1", "pc", "1.00"), txn(2, "B2", "pc", "1.00", ts=T(2020, 1, 1))])
    d = derive_records(tmp_path, "2024")
    assert set(d.observations["entity_id"]) == {"B1"}
    assert d.sources[0].bad == {"record.out_of_period": 1}


def test_text_that_is_not_its_type_is_a_bad_record(tmp_path):
    folder = tmp_path / "transactions"
    folder.mkdir()
    (folder / "t.csv").write_text(
        "txn_id,entity_id,ts,channel,customer,amount\n1,B1,2024-01-05 10:00:00,pc,personal,12.50\n"
        "2,B1,2024-01-05 10:00:00,pc,personal,twelve\n3,B1,5 Jan 2024,pc,personal,1.00\n", encoding="utf-8")
    d = derive_records(tmp_path, "2024")
    assert d.sources[0].bad == {"record.type": 2}
    assert {e["amount"] for e in d.sources[0].examples["record.type"]} == {"twelve", "1.00"}
    assert _values(d)[("B1", "transaction_amount")] == pytest.approx(0.00125)


def test_a_parquet_file_of_the_wrong_shape_is_refused_naming_file_and_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    write(tmp_path, SPEC, "transactions", B1_TXNS)
    bad = tmp_path / "transactions" / "period=2024" / "bad.parquet"
    pq.write_table(pa.table({"txn_id": [1], "entity_id": ["B1"], "ts": ["2024-01-01"], "channel": ["pc"], "amount": [1.5]}), bad)
    with pytest.raises(DataError) as exc:
        derive_records(tmp_path, "2024")
    msgs = {(p.rule, p.where["column"]) for p in exc.value.problems}
    assert msgs == {("records.column_type", "ts"), ("records.column_type", "amount"), ("records.column_missing", "customer")}
    assert all(p.where["file"] == str(bad) for p in exc.value.problems)


def test_only_the_period_partition_is_read(tmp_path):
    write(tmp_path, SPEC, "transactions", [txn(1, "B1", "pc", "1.00")], part="period=2024")
    write(tmp_path, SPEC, "transactions", [txn(2, "B1", "pc", "2.00", ts=T(2023, 5, 1))], part="period=2023")
    assert _values(derive_records(tmp_path, "2023"))[("B1", "transaction_amount")] == pytest.approx(0.0002)
    assert _values(derive_records(tmp_path, "2024"))[("B1", "transaction_amount")] == pytest.approx(0.0001)


def test_no_records_for_the_period_is_an_error(tmp_path):
    write(tmp_path, SPEC, "transactions", [txn(1, "B1", "pc", "1.00")], part="period=2024")
    with pytest.raises(DataError, match="no record files for period 2022"):
        derive_records(tmp_path, "2022")


@pytest.mark.parametrize("code, start, end", [
    ("2024", T(2024, 1, 1), T(2025, 1, 1)), ("2024Q4", T(2024, 10, 1), T(2025, 1, 1)),
    ("2024Q1", T(2024, 1, 1), T(2024, 4, 1)), ("2024-12", T(2024, 12, 1), T(2025, 1, 1)), ("2024-02", T(2024, 2, 1), T(2024, 3, 1)),
])
def test_period_bounds(code, start, end):
    assert period_bounds(code) == (start, end)


def test_quarterly_periods_select_by_time(tmp_path):
    write(tmp_path, SPEC, "transactions", [txn(1, "B1", "pc", "1.00", ts=T(2024, 3, 31, 23, 59, 59)), txn(2, "B1", "pc", "2.00", ts=T(2024, 4, 1))], part="")
    d = derive_records(tmp_path, "2024Q2")
    assert _values(d)[("B1", "transaction_amount")] == pytest.approx(0.0002)
    assert d.sources[0].bad == {"record.out_of_period": 1}


def test_footer_statistics_only_skip_checks_they_prove_idle(tmp_path):
    """Files without statistics are checked row by row; the results are the same."""
    import pyarrow.parquet as pq

    from fintech_eval.records.derive import parquet_facts
    from fintech_eval.records.inputs import open_inputs

    write_all(tmp_path / "with", SPEC)
    write_all(tmp_path / "without", SPEC)
    for f in (tmp_path / "without").rglob("*.parquet"):
        pq.write_table(pq.read_table(f), f, write_statistics=False)
    inputs = open_inputs(tmp_path / "with")
    facts = parquet_facts(inputs, SPEC.sources["claims"], inputs.files("claims"))
    assert facts["claim_id"].nulls == 0 and facts["paid_amount"].min < 0 and facts["settled_at"].max == T(2024, 2, 1, 10)
    bare = open_inputs(tmp_path / "without")
    none = parquet_facts(bare, SPEC.sources["claims"], bare.files("claims"))
    assert all(f.nulls is None and f.min is None for f in none.values())
    a, b = derive_records(tmp_path / "with", "2024"), derive_records(tmp_path / "without", "2024")
    assert a.observations.equals(b.observations)
    assert [s.bad for s in a.sources] == [s.bad for s in b.sources] and {s.source: s.bad for s in a.sources if s.bad} == EXPECTED_BAD


def test_a_file_url_reads_like_a_folder_and_duckdb_refuses_remote_input(tmp_path):
    write_all(tmp_path, SPEC)
    a, b = derive_records(tmp_path, "2024"), derive_records(f"file://{tmp_path}", "2024")
    assert a.observations.equals(b.observations) and a.provenance == b.provenance
    with pytest.raises(DataError, match="DuckDB reads files on this machine") as exc:
        derive_records("mock://bucket/records", "2024")
    assert exc.value.problems[0].rule == "records.remote_input"
