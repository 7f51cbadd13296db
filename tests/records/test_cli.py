"""``fintech-eval records generate / derive / schema`` from the shell."""

from __future__ import annotations

import json

import pandas as pd

from ..clirun import run_cli


def test_generate_derive_import(tmp_path, capsys, monkeypatch):
    recs, db = tmp_path / "recs", tmp_path / "x.sqlite"
    r = run_cli(["records", "generate", "--rows", "30000", "--seed", "4", "--out", recs], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "synthetic institutions" in r.out and (recs / "transactions" / "period=2024").is_dir()
    r = run_cli(["records", "derive", "--input", recs, "--period", "2024", "--out", tmp_path / "obs.csv", "--db", db,
                 "--institutions", recs / "institutions.csv"], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "record.out_of_period" in r.out and "imported" in r.out
    obs = pd.read_csv(tmp_path / "obs.csv")
    want = pd.read_csv(recs / "expected.csv")
    assert len(obs) == len(want) and set(obs["variable"]) == set(want["variable"])
    r = run_cli(["observations", "--db", db, "--period", "2024", "--variable", "claims"], capsys, monkeypatch)
    assert r.code == 0 and "SYN-REC-INS" in r.out


def test_strict_refuses_bad_records_and_stores_nothing(tmp_path, capsys, monkeypatch):
    recs = tmp_path / "recs"
    run_cli(["records", "generate", "-n", "5000", "--out", recs, "--source", "transactions"], capsys, monkeypatch)
    r = run_cli(["records", "derive", "-i", recs, "--period", "2024", "--out", tmp_path / "o.json", "--strict"], capsys, monkeypatch)
    assert r.code == 2 and "record.unknown_code" in r.err
    assert not (tmp_path / "o.json").exists()


def test_derive_needs_a_destination_and_an_input(tmp_path, capsys, monkeypatch):
    assert run_cli(["records", "derive", "-i", tmp_path, "--period", "2024"], capsys, monkeypatch).code == 2
    r = run_cli(["records", "derive", "-i", tmp_path / "nope", "--period", "2024", "-o", tmp_path / "o.csv"], capsys, monkeypatch)
    assert r.code == 2 and "no such folder" in r.err


def test_schema(capsys, monkeypatch):
    r = run_cli(["records", "schema", "--format", "json"], capsys, monkeypatch)
    doc = json.loads(r.out)
    assert doc["id"] == "jrt0201-records" and {c["source"] for c in doc["columns"]} >= {"transactions", "loans", "claims"}
    r = run_cli(["records", "schema", "--derivations", "--format", "csv"], capsys, monkeypatch)
    assert "off_counter_transactions,transactions,count,,channel not in counter,transaction" in r.out
    r = run_cli(["records", "schema", "--rules", "--format", "csv"], capsys, monkeypatch)
    assert "record.out_of_period" in r.out
    assert run_cli(["records", "schema", "ledger"], capsys, monkeypatch).code == 2


def test_cli_source_list_matches_the_generator():
    from fintech_eval.cli.records import SOURCES
    from fintech_eval.records.generate import VOLUMES

    assert SOURCES == tuple(VOLUMES)
