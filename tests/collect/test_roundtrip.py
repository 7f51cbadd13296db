"""Round trip: write_template → fill the value cells with openpyxl → read → validate → clean long frame."""

import numpy as np
import openpyxl
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.collect import (
    applicable_variables,
    import_files,
    read_questionnaire,
    validate,
    write_template,
    write_templates,
)

from .malformed.generators import BANK, INSURER, institutions, value_rows


@pytest.fixture(scope="module")
def fw():
    return fe.load_framework("jrt0201-2020")


def answers(fw, sector, seed):
    """A complete, consistent set of answers: wholes first, parts below them, levels and yes/no in range."""
    rng = np.random.default_rng(seed)
    vs = {v.name: v for v, _ in applicable_variables(fw, sector)}
    out = {}
    for name, v in vs.items():
        if v.type == "binary":
            out[name] = int(rng.integers(0, 2))
        elif v.type == "level":
            out[name] = int(rng.integers(int(v.min), int(v.max) + 1))
        elif v.type == "count":
            out[name] = int(rng.integers(10_000, 1_000_000))
        elif v.type in ("money", "time", "score", "number"):
            out[name] = round(float(rng.uniform(10, 10_000)), 2)
    for name, v in vs.items():  # parts: a fraction of their whole
        if v.part_of and v.part_of in out:
            frac = float(rng.uniform(0.1, 0.9))
            out[name] = int(out[v.part_of] * frac) if v.type == "count" else round(out[v.part_of] * frac, 2)
    if "fintech_staff_prev_end" in out:
        out["fintech_staff_prev_end"] = out["fintech_staff"] - 7
    return out


def fill(path, values, text=None):
    wb = openpyxl.load_workbook(path)
    ws = wb["Questionnaire"]
    rows = value_rows(wb)
    for name, v in values.items():
        ws[f"D{rows[name]}"] = (text or {}).get(name, v)
    ws["C9"] = "张三 Zhang San"
    ws["C10"] = "zhang@example.com"
    wb.save(path)
    return rows


def test_round_trip_bank(fw, tmp_path):
    path = write_template(fw, BANK, "2024", tmp_path)
    values = answers(fw, "bank", 1)
    # a respondent types some cells as text: thousands separators, yes/no words, N/A, blank
    text = {"fintech_strategy_plan": "是 yes" if values["fintech_strategy_plan"] else "否 no",
            "employees": f"{values['employees']:,}", "outlets": "N/A", "coop_universities": None}
    rows = fill(path, values, text)
    res = read_questionnaire(path, framework=fw, period="2024", entity="B001")
    assert res.ok, res.problems
    # the blank cell is a mandatory value left blank (the declared N/A is an answer)
    [p] = validate(res.frame, fw, institutions())[1]
    assert p.rule == "value.blank_mandatory" and p.where["variable"] == "coop_universities"
    assert p.where["row"] == rows["coop_universities"] and p.where["entity"] == "B001"
    clean, problems = validate(res.frame, fw, institutions(), mandatory="none")
    assert problems == []
    assert len(clean) == len(applicable_variables(fw, "bank")) == len(rows)
    c = clean.set_index("variable")
    units = {v.name: v.unit for v in fw.variables}
    for name, v in values.items():
        if name in ("outlets", "coop_universities"):
            assert np.isnan(c.loc[name, "value_norm"]), name  # missing, never 0
            continue
        assert c.loc[name, "value_norm"] == pytest.approx(v), name
        assert c.loc[name, "unit_norm"] == units[name]
        assert c.loc[name, "row"] == rows[name] and c.loc[name, "column"] == "D"
    assert set(clean["entity_id"]) == {"B001"} and set(clean["period"]) == {"2024"}
    assert set(clean["entity_kind"]) == {"institution"} and set(clean["source"]) == {"questionnaire"}
    assert c.loc["employees", "raw"] == f"{values['employees']:,}"


def test_round_trip_batch_and_other_formats_agree(fw, tmp_path):
    paths = write_templates(fw, [BANK, INSURER], "2024", tmp_path / "q")
    filled = {}
    for p, ent, seed in zip(paths, (BANK, INSURER), (2, 3), strict=True):
        filled[ent["id"]] = answers(fw, ent["sector"], seed)
        fill(p, filled[ent["id"]])
    res = import_files(paths, fw, institutions())
    assert res.ok, res.problems
    assert res.clean.groupby("entity_id").size().to_dict() == {
        "B001": len(applicable_variables(fw, "bank")), "I001": len(applicable_variables(fw, "insurance"))}
    # the same figures as a long CSV in other units (亿元 for money), and as JSON, give the same clean values
    long_rows = []
    units = {v.name: v for v in fw.variables}
    for ent, vals in filled.items():
        for name, v in vals.items():
            if units[name].unit == "CNY 10k":
                long_rows.append((ent, "2024", name, v / 10_000, "亿元"))
            else:
                long_rows.append((ent, "2024", name, v, ""))
    csv = tmp_path / "same.csv"
    pd.DataFrame(long_rows, columns=["entity", "period", "variable", "value", "unit"]).to_csv(csv, index=False)
    res2 = import_files([csv], fw, institutions())
    assert res2.ok, res2.problems[:3]
    a = res.clean.set_index(["entity_id", "variable"])["value_norm"].sort_index()
    b = res2.clean.set_index(["entity_id", "variable"])["value_norm"].sort_index()
    assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12)
    # importing both the workbooks and the CSV at once: every value is a duplicate
    res3 = import_files([*paths, csv], fw, institutions())
    assert not res3.ok and {p.rule for p in res3.problems} == {"duplicate"}
