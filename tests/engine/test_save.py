"""Result.save: tables written with pyarrow (read back exactly), the workbook only when asked or small,
tree.csv so that a folder without a workbook loads and reports."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.engine.csvfile import csv_bytes
from fintech_eval.engine.result import load_result
from tests.clirun import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def asem():
    return fe.evaluate(EXAMPLES / "asem-pipeline-c.yaml")


def test_workbook_only_when_small_or_asked(asem, tmp_path):
    cells = asem.workbook_cells()
    assert cells > 10_000
    files = asem.save(tmp_path, xlsx_max_cells=cells - 1)
    assert not (tmp_path / "results.xlsx").exists() and tmp_path / "results.xlsx" not in files
    asem.save(tmp_path, xlsx=True, xlsx_max_cells=0)
    assert (tmp_path / "results.xlsx").exists()
    asem.save(tmp_path, xlsx=False)  # a workbook of an earlier run is not left behind
    assert not (tmp_path / "results.xlsx").exists()
    asem.save(tmp_path)  # ASEM is small: written by default
    assert (tmp_path / "results.xlsx").exists()


def test_folder_without_workbook_loads_and_reports(asem, tmp_path):
    from fintech_eval.report import build_report

    asem.save(tmp_path, xlsx=False)
    back = load_result(tmp_path)
    assert back.warnings == asem.warnings  # the scores match the manifest's SHA-256
    pd.testing.assert_frame_equal(back.tree.meta, asem.tree.meta, check_dtype=False)
    assert build_report(back, "ranking", lang="en").figures()


def test_old_folder_reads_the_tree_from_the_workbook(asem, tmp_path):
    asem.save(tmp_path, xlsx=True)
    (tmp_path / "tree.csv").unlink()
    pd.testing.assert_frame_equal(load_result(tmp_path).tree.meta, asem.tree.meta, check_dtype=False)
    (tmp_path / "results.xlsx").unlink()
    with pytest.raises(fe.DataError, match="tree.csv"):
        load_result(tmp_path)


def test_manifest_hash_is_the_scores_file(asem, tmp_path):
    asem.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["scores_sha256"] == hashlib.sha256((tmp_path / "scores.csv").read_bytes()).hexdigest()
    # a folder saved when pandas wrote scores.csv (its manifest holds the SHA-256 of pandas' text) still loads clean
    manifest["scores_sha256"] = hashlib.sha256(asem.scores.to_csv(index=False).encode()).hexdigest()
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert not [w for w in load_result(tmp_path).warnings if w.rule == "result.sha256"]


def test_csv_round_trips_exactly():
    x = pd.DataFrame({"uCode": ["a", "b,c", 'd"e'], "v": [0.1 + 0.2, np.nan, 1e-300], "w": [1.0, -0.0, 123456789.125]})
    back = pd.read_csv(pd.io.common.BytesIO(csv_bytes(x)), dtype={"uCode": str})
    pd.testing.assert_frame_equal(back, x, check_exact=True)
    assert csv_bytes(x.iloc[:1]).decode() == "uCode,v,w\na,0.30000000000000004,1\n"  # quotes only where needed


def test_cli_notes_a_skipped_workbook(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    r = run_cli(["evaluate", EXAMPLES / "asem-pipeline-c.yaml", "--out", out, "--xlsx-max-cells", "100"], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert "results.xlsx not written" in r.out and "--xlsx" in r.out
    assert (out / "scores.csv").exists() and (out / "tree.csv").exists() and not (out / "results.xlsx").exists()
    r = run_cli(["evaluate", EXAMPLES / "asem-pipeline-c.yaml", "--out", out, "--xlsx-max-cells", "100", "--xlsx"], capsys, monkeypatch)
    assert r.code == 0 and (out / "results.xlsx").exists() and "not written" not in r.out
