"""The round's application functions the CLI and the web share: the §4 sample's sizes (the register's,
else the returns'), and the questionnaires of a campaign or a period with their index."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from fintech_eval.app import Workspace
from fintech_eval.app.campaigns import create_campaign
from fintech_eval.app.sizes import draw_sample, sampling_sizes
from fintech_eval.app.templates import campaign_templates, entity_template, period_templates
from fintech_eval.errors import DataError
from fintech_eval.store import upsert_institutions, upsert_size_attributes
from fintech_eval.store.models import Observation

REGISTER = pd.DataFrame({
    "id": ["B1", "B2", "B3", "P1"], "name_zh": ["甲银行", "乙银行", "丙银行", "丁支付"], "name_en": ["A", "B", "C", "D"],
    "sector": ["bank", "bank", "bank", "payment"], "region_code": ["44", "11", "31", "44"],
})


@pytest.fixture
def ws(tmp_path):
    with Workspace(str(tmp_path / "round.sqlite")) as w:
        with w.sessions() as s, s.begin():
            upsert_institutions(s, REGISTER, who="test")
        yield w


def _revenue(tmp_path, ws, values: dict[str, float], period="2023"):
    from fintech_eval.app.intake import import_files

    f = tmp_path / f"rev_{period}.csv"
    pd.DataFrame({"entity_kind": "institution", "entity": list(values), "period": period, "variable": "operating_revenue",
                  "value": list(values.values()), "unit": "万元"}).to_csv(f, index=False)
    import_files(ws, [f], user="test")


def test_sizes_come_from_the_register_else_from_the_returns_in_yuan(ws, tmp_path):
    _revenue(tmp_path, ws, {"B1": 300.0, "B2": 200.0, "B3": 100.0, "P1": 50.0})
    with ws.sessions() as s, s.begin():  # B3's registered revenue (yuan) wins over its return
        upsert_size_attributes(s, [{"institution_id": "B3", "period": "2023", "attribute": "operating_revenue", "value": 9e6}])
    sizes = sampling_sizes(ws, "2023")
    got = sizes[sizes["attribute"] == "operating_revenue"].set_index("entity_id")
    assert got["value"].to_dict() == {"B1": 3e6, "B2": 2e6, "B3": 9e6, "P1": 5e5}  # 万元 × 10,000 = yuan
    assert got["source"].to_dict() == {"B1": "observations", "B2": "observations", "B3": "register", "P1": "observations"}
    draw = draw_sample(ws, "2023", method="top_n", n=1)
    assert sorted(draw.result.sample["entity_id"]) == ["B3", "P1"] and draw.from_returns == {"operating_revenue": 3}
    assert sampling_sizes(ws, "2022").empty  # nothing for a period without sizes or returns


def test_campaign_templates_and_index(ws, tmp_path):
    cid = create_campaign(ws, period="2024", sample=["B2", "P1"], deadline="2025-03-31")
    batch = campaign_templates(ws, cid, out=tmp_path / "q")
    assert batch.index["entity_id"].tolist() == ["B2", "P1"] and set(batch.index["campaign"]) == {cid}
    assert pd.read_csv(batch.index_file, dtype=str)["file"].tolist() == batch.index["file"].tolist()
    wb = openpyxl.load_workbook(tmp_path / "q" / batch.index["file"].iloc[1])
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True)}
    assert (meta["entity_id"], meta["sector"], meta["period"]) == ("P1", "payment", "2024")
    assert int(batch.index["n_variables"].iloc[1]) == int(meta["n_variables"]) < int(batch.index["n_variables"].iloc[0])
    with pytest.raises(DataError, match="already in"):
        campaign_templates(ws, cid, out=tmp_path / "q")
    assert len(campaign_templates(ws, cid, out=tmp_path / "q", force=True).index) == 2
    one = entity_template(ws, "P1", cid, out=tmp_path / "mine")  # an institution downloads its own
    assert one.name == batch.index["file"].iloc[1] and one.parent == tmp_path / "mine"
    with pytest.raises(DataError, match="B1 is not in the sample of campaign"):
        entity_template(ws, "B1", cid, out=tmp_path / "mine")


def test_period_templates_name_unknown_entities(ws, tmp_path):
    with pytest.raises(DataError, match="did you mean 'B1'"):
        period_templates(ws, period="2024", entities=["B11"], out=tmp_path / "q")
    assert not (tmp_path / "q").exists()  # nothing written
    assert len(period_templates(ws, period="2024", out=tmp_path / "all").index) == 4  # the whole register
    with ws.sessions() as s:
        assert s.query(Observation).count() == 0  # writing questionnaires stores nothing
