"""The registers from the CLI, on SQLite and PostgreSQL: the institutions' identity and status fields (city code
inside its province, the GB 32100-2015 credit code check, a closed institution not sampled), key-technology enterprises,
regions, size attributes with explicit units (and from observations), the §4 sample of both populations; every
problem located (file, row, field, rule, did-you-mean), files all-or-nothing, changes audited."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import text

from fintech_eval.identifiers import CREDIT_WEIGHTS, credit_check_char, credit_code_problem
from fintech_eval.store import make_engine
from tests.clirun import run_cli


@pytest.fixture
def cli(db_url, capsys, monkeypatch):
    def run(*args):
        return run_cli([*args, "--db", db_url], capsys, monkeypatch)

    run.url = db_url
    return run


def _audit(url: str, table: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text("SELECT key, field, old, new, who, why FROM audit_entry WHERE table_name = :t ORDER BY id"),
                             {"t": table}).all()
    finally:
        engine.dispose()


def _write(tmp_path, name, frame):
    p = tmp_path / name
    frame.to_csv(p, index=False)
    return p


KEY_TECH = pd.DataFrame({
    "企业代码": ["E1", "E2", "E3"],
    "企业名称": ["甲数据科技", "乙云计算", "丙链科技"],
    "省份": ["广东", "110000", "Shanghai"],
    "关键技术": ["大数据、人工智能", "cloud_computing", "区块链;5G"],
    "上市": ["是", "否", "no"],
    "状态": ["存续", "active", "closed"],
})


def test_key_tech_register(cli, tmp_path):
    bad = _write(tmp_path, "bad.csv", pd.DataFrame({
        "id": ["E1", "E2", "E1"], "name_zh": ["甲", "", "丙"], "region_code": ["广东生", "99", "44"],
        "technologies": ["区快链", "big data", "ai"], "status": ["activ", "active", "closed"],
    }))
    run = cli("register", "key-tech", bad)
    assert run.code == 2
    err = run.err
    assert "row 2" in err and "field region_code" in err and "did you mean '广东" in err  # a province misspelt
    assert "did you mean '区块链'" in err and "register.technologies" in err
    assert "did you mean 'active'" in err and "register.status" in err
    assert "row 3" in err and "name_zh is blank" in err and "'99'" in err
    assert "register.duplicate" in err  # E1 twice
    assert json.loads(cli("register", "list", "key-tech", "--format", "json").out) == []  # nothing stored

    good = _write(tmp_path, "keytech.csv", KEY_TECH)
    run = cli("register", "key-tech", good)
    assert run.code == 0, run.err
    assert "3 new" in run.out
    rows = {r["id"]: r for r in json.loads(cli("register", "list", "key_tech", "--format", "json").out)}
    assert rows["E1"]["region_code"] == "44" and rows["E2"]["region_code"] == "11" and rows["E3"]["region_code"] == "31"
    assert rows["E1"]["technologies"] == "big_data;artificial_intelligence" and rows["E3"]["technologies"] == "blockchain;5g"
    assert rows["E1"]["listed"] is True and rows["E1"]["status"] == "active" and rows["E3"]["status"] == "closed"

    changed = KEY_TECH.assign(状态=["注销", "active", "closed"])
    run = cli("register", "key-tech", _write(tmp_path, "keytech2.csv", changed), "--user", "张三")
    assert run.code == 0 and "1 updated" in run.out and "2 unchanged" in run.out
    assert _audit(cli.url, "key_tech_enterprise") == [('["E1"]', "status", '"active"', '"closed"', "张三", "register file keytech2.csv")]
    shown = json.loads(cli("register", "show", "E1", "--kind", "key-tech", "--format", "json").out)
    assert shown["status"] == "closed" and shown["sizes"] == []
    run = cli("register", "show", "E9", "--kind", "key-tech")
    assert run.code == 2 and "not in the key-tech register" in run.err
    run = cli("register", "list", "key-tek")
    assert run.code == 2 and "did you mean 'key-tech'" in run.err


def test_region_register(cli, tmp_path):
    run = cli("register", "regions")  # no file: GB/T 2260's 31 mainland divisions
    assert run.code == 0, run.err
    listed = json.loads(cli("register", "list", "regions", "--format", "json").out)
    assert len(listed) == 31 and listed[0] == {"code": "11", "name_zh": "北京市", "name_en": "Beijing"}
    bad = _write(tmp_path, "bad.csv", pd.DataFrame({"code": ["44", "广西", "Guangdomg"], "name_zh": ["广西壮族自治区", "", ""]}))
    run = cli("register", "regions", bad)
    assert run.code == 2
    assert "row 2" in run.err and "names 广西壮族自治区 (45), not the region of code 44" in run.err
    assert "row 4" in run.err and "did you mean 'Guangdong'" in run.err
    names = _write(tmp_path, "names.csv", pd.DataFrame({"地区": ["广东省", "650000"], "name_en": ["Guangdong Province", ""]}))
    run = cli("register", "regions", names, "--user", "李四")
    assert run.code == 0, run.err
    assert "1 updated" in run.out  # 44's English name; 65 unchanged
    shown = json.loads(cli("register", "show", "440000", "--kind", "regions", "--format", "json").out)
    assert shown["name_en"] == "Guangdong Province" and shown["name_zh"] == "广东省"
    assert json.loads(cli("register", "show", "新疆", "--kind", "regions", "--format", "json").out)["code"] == "65"
    assert [(k, f, w) for k, f, *_, w, _ in _audit(cli.url, "region")] == [('["44"]', "name_en", "李四")]


def _register_institutions(cli, tmp_path):
    inst = pd.DataFrame({"id": ["B1", "B2", "B3", "P1"], "name_zh": ["甲银行", "乙银行", "丙银行", "丁支付"],
                         "sector": ["bank", "bank", "bank", "payment"], "region_code": ["44", "11", "31", "44"]})
    assert cli("register", "institutions", _write(tmp_path, "inst.csv", inst)).code == 0
    assert cli("register", "key-tech", _write(tmp_path, "kt.csv", KEY_TECH)).code == 0


def test_sizes_with_explicit_units(cli, tmp_path):
    _register_institutions(cli, tmp_path)
    wide = pd.DataFrame({"机构代码": ["B1", "B2", "乙云计算"], "营业收入(亿元)": ["12.5", "3", ""],
                         "market_share": ["12%", "0.05", ""], "融资总额(万元)": ["", "", "2,000"]})
    run = cli("register", "sizes", _write(tmp_path, "sizes.csv", wide), "--period", "2024")
    assert run.code == 0, run.err
    got = {(r["entity_kind"], r["entity_id"], r["attribute"]): r["value"]
           for r in json.loads(cli("register", "list", "sizes", "--format", "json").out)}
    assert got == {  # in 元, shares as fractions; a registered name (乙云计算) is read as its id
        ("institution", "B1", "operating_revenue"): 1.25e9, ("institution", "B2", "operating_revenue"): 3e8,
        ("institution", "B1", "market_share"): pytest.approx(0.12), ("institution", "B2", "market_share"): 0.05,
        ("enterprise", "E2", "total_financing"): 2e7,
    }
    shown = json.loads(cli("register", "show", "B1", "--format", "json").out)
    assert {s["attribute"] for s in shown["sizes"]} == {"operating_revenue", "market_share"}

    long = pd.DataFrame({"id": ["B1", "B9", "B2", "B3", "P1", "E1"],
                         "attribute": ["operating_revenue", "operating_revenue", "营业收入", "market_shar", "market_share", "市值"],
                         "value": ["1.3e9", "5", "300", "0.1", "12", "8"],
                         "unit": ["元", "元", "", "", "", "人"]})
    run = cli("register", "sizes", _write(tmp_path, "long.csv", long), "--period", "2024")
    assert run.code == 2
    err = run.err
    assert "row 3" in err and "B9 is not in the institutions or key-tech register" in err and "did you mean" in err
    assert "row 4" in err and "operating_revenue has no unit" in err
    assert "row 5" in err and "did you mean 'market_share'" in err
    assert "row 6" in err and "outside [0, 1] (a percentage needs the unit %)" in err
    assert "row 7" in err and "unit.incompatible" in err
    assert cli("register", "list", "sizes", "--format", "json").out.count("1250000000") == 1  # nothing changed

    fix = pd.DataFrame({"id": ["B1"], "attribute": ["operating_revenue"], "value": ["13"], "unit": ["亿元"]})
    run = cli("register", "sizes", _write(tmp_path, "fix.csv", fix), "--period", "2024", "--user", "王五")
    assert run.code == 0 and "1 updated" in run.out
    trail = _audit(cli.url, "size_attribute")
    assert [(k, f, o, n, w) for k, f, o, n, w, _ in trail] == [
        ('["institution","B1","2024","operating_revenue"]', "value", "1250000000.0", "1300000000.0", "王五")]
    run = cli("register", "sizes", _write(tmp_path, "noperiod.csv", fix))
    assert run.code == 2 and "no period: give --period or a period column" in run.err


def test_sample_reads_sizes_and_the_periods_observations(cli, tmp_path):
    _register_institutions(cli, tmp_path)
    # no size attribute stored: the 2024 returns' operating_revenue (万元) is the size
    obs = pd.DataFrame({"entity_kind": "institution", "entity": ["B1", "B2", "B3", "P1"], "period": "2024",
                        "variable": "operating_revenue", "value": [900, 50, 50, 10], "unit": "万元"})
    assert cli("import", _write(tmp_path, "rev.csv", obs)).code == 0
    run = cli("sample", "--period", "2024", "--method", "coverage", "--share", "0.8", "--out", tmp_path / "s")
    assert run.code == 0, run.err
    s = pd.read_csv(tmp_path / "s.csv", dtype={"entity_id": str})
    assert sorted(s["entity_id"]) == ["B1", "P1"]  # B1 alone makes 900 of 1,000 of the banks
    assert s.set_index("entity_id").loc["B1", "operating_revenue"] == 9e6  # 万元 → 元
    # a stored size attribute wins over the observation
    sizes = pd.DataFrame({"id": ["B2"], "attribute": ["operating_revenue"], "value": ["1"], "unit": ["亿元"]})
    assert cli("register", "sizes", _write(tmp_path, "b2.csv", sizes), "--period", "2024").code == 0
    assert cli("sample", "--period", "2024", "--method", "top_n", "--n", "1", "--out", tmp_path / "t").code == 0
    assert sorted(pd.read_csv(tmp_path / "t.csv")["entity_id"]) == ["B2", "P1"]
    # the key-technology enterprises: the active ones, by financing
    fin = pd.DataFrame({"id": ["E1", "E2", "E3"], "total_financing(亿元)": ["1", "5", "9"]})
    assert cli("register", "sizes", _write(tmp_path, "fin.csv", fin), "--period", "2024").code == 0
    run = cli("sample", "--register", "key-tech", "--period", "2024", "--by", "total_financing", "--method", "top_n",
              "--n", "1", "--out", tmp_path / "k")
    assert run.code == 0, run.err
    assert pd.read_csv(tmp_path / "k.csv")["entity_id"].tolist() == ["E2"]  # E3 is closed


def test_key_tech_figures_reach_q(cli, tmp_path):
    _register_institutions(cli, tmp_path)  # E1 (广东, listed), E2 (北京), E3 (上海, closed)
    more = pd.DataFrame({"id": ["E4"], "name_zh": ["戊智能"], "region_code": ["44"], "listed": ["no"]})
    assert cli("register", "key-tech", _write(tmp_path, "e4.csv", more)).code == 0
    sizes = pd.DataFrame({"id": ["E1", "E4", "E2", "E1"], "attribute": ["融资总额", "融资总额", "融资总额", "市值"],
                          "value": ["2", "3", "1", "50"], "unit": "亿元"})
    assert cli("register", "sizes", _write(tmp_path, "ks.csv", sizes), "--period", "2024").code == 0
    run = cli("register", "key-tech-figures", "--period", "2024", "--format", "json")
    assert run.code == 0, run.err
    got = {(r["entity"], r["variable"]): r["value"] for r in json.loads(run.out)}
    assert got == {
        ("44", "q_fintech_key_enterprises"): 2, ("44", "q_fintech_key_financing"): 5e8,
        ("44", "q_fintech_key_listed_market_cap"): 5e9,  # E1 is the listed one
        ("11", "q_fintech_key_enterprises"): 1, ("11", "q_fintech_key_financing"): 1e8,
        ("11", "q_fintech_key_listed_market_cap"): 0,  # no listed enterprise in 11
    }
    stored = pd.read_csv(pd.io.common.StringIO(cli("observations", "--period", "2024").out), dtype={"entity_id": str})
    reg = stored[stored["entity_kind"] == "region"].set_index(["entity_id", "variable"])
    assert reg.loc[("44", "q_fintech_key_financing"), "value_norm"] == 50_000  # 万元
    assert cli("derive", "--period", "2024").code == 0
    v = pd.read_csv(pd.io.common.StringIO(cli("indicators", "--stored", "--period", "2024", "--block", "Q").out),
                    dtype={"entity": str}).set_index(["entity", "code"])
    assert v.loc[("44", "Q-A1B2-C1"), "value"] == 2 and v.loc[("44", "Q-A1B2-C2"), "value"] == 50_000
    # a region whose enterprise lacks its financing gets no financing figure, and a warning names it
    more = pd.DataFrame({"id": ["E5"], "name_zh": ["己科技"], "region_code": ["11"]})
    assert cli("register", "key-tech", _write(tmp_path, "e5.csv", more)).code == 0
    run = cli("register", "key-tech-figures", "--period", "2024", "--dry-run", "--format", "json")
    assert run.code == 0 and "region 11: no q_fintech_key_financing" in run.out + run.err and "E5" in run.out + run.err


def test_register_history_shows_the_entity_and_its_sizes(cli, tmp_path):
    _register_institutions(cli, tmp_path)
    for value, who in (("1", "甲"), ("2", "乙")):
        f = _write(tmp_path, f"s{value}.csv", pd.DataFrame({"id": ["B1"], "营业收入(亿元)": [value]}))
        assert cli("register", "sizes", f, "--period", "2024", "--user", who).code == 0
    changed = pd.DataFrame({"id": ["B1"], "name_zh": ["甲银行股份"], "sector": ["bank"]})
    assert cli("register", "institutions", _write(tmp_path, "b1.csv", changed), "--user", "丙").code == 0
    trail = json.loads(cli("register", "history", "B1", "--format", "json").out)
    assert [(t["table"], t["field"], t["old"], t["new"], t["who"]) for t in trail] == [
        ("size_attribute", "value", 1e8, 2e8, "乙"), ("institution", "name_zh", "甲银行", "甲银行股份", "丙")]
    assert trail[0]["row"] == "institution/B1/2024/operating_revenue"
    run = cli("register", "history", "B7")
    assert run.code == 2 and "B7 is not in the institutions register" in run.err


def test_sizes_long_with_periods_and_kinds(cli, tmp_path):
    _register_institutions(cli, tmp_path)
    long = pd.DataFrame({"代码": ["B1", "B1", "E1"], "指标": ["营业收入", "营业收入", "上市市值"], "数值": ["1", "2", "300"],
                         "单位": ["亿元", "亿元", "万元"], "年度": ["2023", "2024", "2024"], "类型": ["机构", "", "企业"]})
    run = cli("register", "sizes", _write(tmp_path, "long.csv", long))
    assert run.code == 0, run.err
    got = {(r["entity_kind"], r["entity_id"], r["period"]): r["value"]
           for r in json.loads(cli("register", "list", "sizes", "--format", "json").out)}
    assert got == {("institution", "B1", "2023"): 1e8, ("institution", "B1", "2024"): 2e8, ("enterprise", "E1", "2024"): 3e6}
    assert [r["period"] for r in json.loads(cli("register", "list", "sizes", "--period", "2023", "--format", "json").out)] == ["2023"]
    wrong = long.assign(类型=["企业", "", "机构"])  # B1 is no enterprise, E1 no institution
    run = cli("register", "sizes", _write(tmp_path, "wrong.csv", wrong))
    assert run.code == 2 and "B1 is not in the key-tech register" in run.err and "E1 is not in the institutions register" in run.err

# 91110000100000000R, worked by hand from GB 32100-2015 §4.4 (alphabet 0-9ABCDEFGHJKLMNPQRTUWXY, weights
# 3^(i-1) mod 31 = 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28):
#   characters 9 1 1 1 0 0 0 0 1 0 0 0 0 0 0 0 0 → 9·1 + 1·3 + 1·9 + 1·27 + 1·20 = 68; 68 mod 31 = 6;
#   31 - 6 = 25 → the alphabet's 25th character (from 0) is R.
VALID = "91110000100000000R"
PUBLISHED = "91100000100003962T"  # 中国工商银行股份有限公司, as printed on its business licence


def test_check_character_by_hand():
    assert CREDIT_WEIGHTS[:5] == (1, 3, 9, 27, 19) and CREDIT_WEIGHTS[-1] == 28
    assert credit_check_char(VALID[:17]) == "R"
    assert credit_code_problem(VALID) is None and credit_code_problem(PUBLISHED) is None
    assert "check character 'X'" in credit_code_problem(VALID[:17] + "X")
    assert "outside the GB 32100-2015 alphabet" in credit_code_problem(VALID[:16] + "IR")  # I is not used
    assert "17 characters, not 18" in credit_code_problem(VALID[:17])


INST = pd.DataFrame({
    "机构代码": ["B1", "B2", "B3"],
    "机构名称": ["甲银行", "乙银行", "丙银行"],
    "行业": ["银行", "bank", "bank"],
    "省份": ["北京", "", "44"],
    "城市代码": ["110105", "440300", ""],
    "统一社会信用代码": [VALID, PUBLISHED.lower(), ""],
    "许可证号": ["B0001H111000001", "", ""],
    "状态": ["存续", "", "closed"],
})


def test_identity_fields_checked_stored_and_audited(cli, tmp_path):
    bad = INST.assign(统一社会信用代码=[VALID[:17] + "X", PUBLISHED, VALID], 省份=["北京", "", "广东"],
                      城市代码=["440300", "4403", ""], 状态=["存续", "closd", ""])
    run = cli("register", "institutions", _write(tmp_path, "bad.csv", bad))
    assert run.code == 2
    err = run.err
    assert "row 2" in err and "field credit_code" in err and "register.credit_code" in err
    assert "check character 'X'" in err and "('R')" in err  # the expected character
    assert "register.city_province" in err and "city_code 440300 is in 广东省 (44), not in region_code 11 (北京市)" in err
    assert "row 3" in err and "register.city_code" in err and "'4403' is not a six-digit" in err
    assert "register.status" in err and "did you mean 'closed'" in err
    assert json.loads(cli("register", "list", "--format", "json").out) == []  # all-or-nothing

    run = cli("register", "institutions", _write(tmp_path, "inst.csv", INST))
    assert run.code == 0, run.err
    rows = {r["id"]: r for r in json.loads(cli("register", "list", "institutions", "--format", "json").out)}
    assert rows["B1"]["credit_code"] == VALID and rows["B1"]["city_code"] == "110105"
    assert rows["B1"]["licence_no"] == "B0001H111000001" and rows["B1"]["status"] == "active"
    assert rows["B2"]["credit_code"] == PUBLISHED  # upper-cased
    assert rows["B2"]["region_code"] == "44"  # the province of its city
    assert rows["B3"]["status"] == "closed"

    # blank status keeps the stored one; a change is audited with who and why
    changed = INST.assign(状态=["注销", "", ""], 许可证号=["B0001H111000002", "", ""])
    run = cli("register", "institutions", _write(tmp_path, "inst2.csv", changed), "--user", "张三")
    assert run.code == 0 and "1 updated" in run.out, run.err
    assert sorted(_audit(cli.url, "institution")) == [
        ('["B1"]', "licence_no", '"B0001H111000001"', '"B0001H111000002"', "张三", "register file inst2.csv"),
        ('["B1"]', "status", '"active"', '"closed"', "张三", "register file inst2.csv")]
    shown = json.loads(cli("register", "show", "B3", "--format", "json").out)
    assert shown["status"] == "closed"

    # a credit code identifies one institution
    other = pd.DataFrame({"id": ["B9"], "name_zh": ["丁银行"], "sector": ["bank"], "credit_code": [VALID]})
    run = cli("register", "institutions", _write(tmp_path, "dup.csv", other))
    assert run.code == 2 and "store.duplicate" in run.err and f"credit_code {VALID} is already registered for B1" in run.err


def test_credit_code_alone_is_the_id(cli, tmp_path):
    f = _write(tmp_path, "uscc.csv", pd.DataFrame({"统一社会信用代码": [VALID.lower()], "名称": ["甲银行"], "行业": ["银行"]}))
    run = cli("register", "institutions", f)
    assert run.code == 0, run.err
    [row] = json.loads(cli("register", "list", "--format", "json").out)
    assert row["id"] == VALID == row["credit_code"]


def test_credit_code_issued_in_another_province_is_reported(cli, tmp_path):
    """GB 32100-2015 characters 3-8: the issuing authority's division. 110000 (Beijing) for a bank registered in
    Guangdong is a warning by default (registered), an error with --credit-region error, silent with off; a code
    issued nationally (100000) is never compared."""
    from fintech_eval.identifiers import credit_division, credit_province_mismatch

    assert credit_division(VALID) == "110000" and credit_province_mismatch(VALID, "44") == "11"
    assert credit_province_mismatch(VALID, "11") is None and credit_province_mismatch(PUBLISHED, "44") is None
    assert credit_province_mismatch(VALID[:17] + "X", "44") is None  # a wrong code is reported by its own check
    inst = pd.DataFrame({"id": ["B1", "B2"], "name_zh": ["甲银行", "乙银行"], "sector": "bank", "region_code": ["广东", "44"],
                         "credit_code": [VALID, PUBLISHED]})
    f = _write(tmp_path, "inst.csv", inst)
    run = cli("register", "institutions", f, "--credit-region", "error")
    assert run.code == 2 and "register.credit_region" in run.err and "row 2" in run.err
    assert json.loads(cli("register", "list", "--format", "json").out) == []
    run = cli("register", "institutions", f)
    assert run.code == 0 and "registered 2 institutions" in run.out, run.err
    assert run.out.count("[register.credit_region]") == 1  # B1 only: B2's code was issued nationally
    assert ("credit_code 91110000100000000R was issued by a registration authority of 北京市 (division code 110000, "
            "characters 3-8), but region_code is 44 (广东省)") in " ".join(run.out.split())
    run = cli("register", "institutions", f, "--credit-region", "off")
    assert run.code == 0 and "credit_region" not in run.out
    # the same check when the register comes with an import
    data = tmp_path / "r.csv"
    data.write_text("entity,period,variable,value,unit\nB1,2024,fintech_staff,12,person\n", encoding="utf-8")
    run = cli("validate", data, "--register", f, "--format", "json")
    assert run.code == 0 and [(p["rule"], p["severity"]) for p in json.loads(run.out)] == [("register.credit_region", "warning")]


def test_sample_leaves_closed_institutions_out(cli, tmp_path):
    inst = pd.DataFrame({"id": ["B1", "B2", "B3"], "name_zh": ["甲银行", "乙银行", "丙银行"], "sector": "bank",
                         "status": ["active", "closed", "active"]})
    assert cli("register", "institutions", _write(tmp_path, "inst.csv", inst)).code == 0
    sizes = pd.DataFrame({"id": ["B1", "B2", "B3"], "operating_revenue(亿元)": ["1", "9", "5"]})
    assert cli("register", "sizes", _write(tmp_path, "sizes.csv", sizes), "--period", "2024").code == 0
    run = cli("sample", "--period", "2024", "--method", "top_n", "--n", "1", "--out", tmp_path / "s")
    assert run.code == 0, run.err
    assert pd.read_csv(tmp_path / "s.csv")["entity_id"].tolist() == ["B3"]  # B2 is bigger but closed
    # reopened: sampled again
    assert cli("register", "institutions", _write(tmp_path, "re.csv", inst.assign(status="active"))).code == 0
    assert cli("sample", "--period", "2024", "--method", "top_n", "--n", "1", "--out", tmp_path / "t").code == 0
    assert pd.read_csv(tmp_path / "t.csv")["entity_id"].tolist() == ["B2"]
