"""The shipped JR/T 0201-2020 framework (``catalog/data/jrt0201-2020.yaml``).

Structure, codes, flags and sector restrictions are checked against the catalogue of the standard
(``shared/docs/reference/jrt0201.md``); names, definitions, heading texts, collection methods, reverse
flags and sector clauses against the standard's own text (seed 001, read at test time from the shared
directory beside the repository); formulas on hand-computed cases.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import fintech_eval as fe
from fintech_eval.catalog.formula import parse
from fintech_eval.catalog.models import Framework, Heading, Indicator
from fintech_eval.derive.rollup import METHOD_PARAMETERS

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FW_ID = "jrt0201-2020"


@pytest.fixture(scope="module")
def fw() -> Framework:
    return fe.load_framework(FW_ID)


@cache
def _seed() -> str:
    """The standard's text, with the viewer's chunk markers and the running page headers removed."""
    files = sorted((SHARED / "seeds").glob("001_*.txt"))
    if not files:
        pytest.fail(f"the standard's text (seed 001_*.txt) is missing from {SHARED / 'seeds'}", pytrace=False)
    text = files[0].read_text(encoding="utf-8")
    text = re.sub(r"\n\n\d+、", "", text)  # "\n\n12、" between the viewer's chunks
    # running page headers "JR/T 02012020" + page number (the dash is lost): I-III, then 1, 2, 3… in order,
    # so that "…020120205" + "7.2战略部署" loses page 5 and keeps clause 7.2
    parts = text.split("JR/T 02012020")
    page = 1
    for k, part in enumerate(parts[1:], start=1):
        roman = re.match(r"I{1,3}", part)
        if part.startswith(str(page)):
            parts[k] = part[len(str(page)) :]
            page += 1
        elif roman:
            parts[k] = part[roman.end() :]
    return "".join(parts)


@pytest.fixture(scope="module")
def seed() -> str:
    return _seed()


def _as_in_seed(text: str) -> str:
    """Undo our restorations of what the extraction lost: ÷ × Σ, outer brackets, dashes in standard numbers."""
    text = re.sub(r"[÷×Σ\[\]]", "", text)
    return re.sub(r"(\d{4,5})-(\d{4})\b", r"\1\2", text)


def _level1(fw: Framework, code: str) -> str:
    path = fw.path_of(code)
    return path[1]


def _headings(fw: Framework) -> list[Heading]:
    return [n for _, n in fw.walk() if isinstance(n, Heading)]


def _segment(seed: str, ind: Indicator) -> str:
    """The standard's table row of ``ind``: from its code and name to the next indicator code."""
    start = seed.find(ind.code + ind.name.zh)
    assert start >= 0, f"{ind.code} {ind.name.zh} not found in the standard's text"
    nxt = re.compile(r"[JHQ]-A\d+B\d+-C\d+").search(seed, start + len(ind.code))
    return seed[start : nxt.start() if nxt else len(seed)]


def ev(text: str, **env) -> float:
    return parse(text).evaluate(env)


def env_for(fw: Framework, **values) -> dict:
    return {**fw.parameter_defaults(), **values}


# ---- identity and counts ------------------------------------------------------------------------------


def test_identity(fw):
    assert fw.id == FW_ID and fw.version == "2020" and fw.kind == "indicators"
    assert fw.code_scheme == "jrt0201" and fw.status == "current"
    assert fw.title.zh == "金融科技发展指标" and fw.title.en == "FinTech Development Indicators"
    assert fw.issuer.zh == "中国人民银行" and fw.issuer.en == "People's Bank of China"
    assert str(fw.issued) == "2020-10-22" and fw.source == "JR/T 0201-2020"
    assert any("no weights" in n and "normalisation" in n and "aggregation" in n for n in fw.notes)
    assert any("Q-A2B1-C1" in n for n in fw.notes)


def test_total_counts(fw):
    assert len(fw.indicators()) == 82
    assert len(fw.indicators(include_incomplete=True)) == 83


@pytest.mark.parametrize(("block", "entity", "n"), [("J", "institution", 51), ("H", "industry", 19), ("Q", "region", 12)])
def test_block_counts_and_entities(fw, block, entity, n):
    assert len(fw.indicators(block=block)) == n
    assert fw.node(block).entity == entity
    assert [b.code for b in fw.blocks] == ["J", "H", "Q"]


@pytest.mark.parametrize(
    ("item", "n"),
    [
        ("J-A1", 4), ("J-A2", 4), ("J-A3", 21), ("J-A4", 7), ("J-A5", 3), ("J-A6", 12),
        ("H-A1", 2), ("H-A2", 11), ("H-A3", 2), ("H-A4", 4),
        ("Q-A1", 12), ("Q-A2", 0),
    ],
)
def test_counts_per_level1_item(fw, item, n):
    assert sum(_level1(fw, i.code) == item for i in fw.indicators()) == n


def test_level1_items_are_exactly_these(fw):
    level1 = {b.code: [c.code for c in b.children] for b in fw.blocks}
    assert level1 == {
        "J": ["J-A1", "J-A2", "J-A3", "J-A4", "J-A5", "J-A6"],
        "H": ["H-A1", "H-A2", "H-A3", "H-A4"],
        "Q": ["Q-A1", "Q-A2"],
    }


# ---- headings -----------------------------------------------------------------------------------------

HEADINGS = {
    # code: (zh name, clause, table)
    "J-A1": ("战略部署", "7.2", None),
    "J-A1B1": ("发展布局", "7.2.1", "表1"),
    "J-A1B2": ("组织架构", "7.2.2", "表2"),
    "J-A1B3": ("对外合作", "7.2.3", "表3"),
    "J-A2": ("资源投入", "7.3", None),
    "J-A2B1": ("金融科技资金投入", "7.3.1", "表4"),
    "J-A2B2": ("金融科技人才投入", "7.3.2", "表5"),
    "J-A3": ("服务能力", "7.4", None),
    "J-A3B1": ("金融服务渠道拓展", "7.4.1", "表6"),
    "J-A3B2": ("金融服务增效降本", "7.4.2", "表7"),
    "J-A3B3": ("客户关系服务优化", "7.4.3", "表8"),
    "J-A4": ("风控能力", "7.5", None),
    "J-A4B1": ("渠道安全防护能力", "7.5.1", "表9"),
    "J-A4B2": ("金融业务风险防范", "7.5.2", "表10"),
    "J-A4B3": ("信息安全基础设施", "7.5.3", "表11"),
    "J-A5": ("研发能力", "7.6", None),
    "J-A5B1": ("金融科技基础研究", "7.6.1", "表12"),
    "J-A5B2": ("自研业务系统开发", "7.6.2", "表13"),
    "J-A6": ("应用能力", "7.7", None),
    "J-A6B1": ("金融科技应用情况", "7.7.1", "表14"),
    "J-A6B2": ("金融科技能力输出", "7.7.2", "表15"),
    "H-A1": ("行业资源倾斜", "8.2", None),
    "H-A1B1": ("金融科技资金支持", "8.2.1", "表16"),
    "H-A1B2": ("金融科技人员储备", "8.2.2", "表17"),
    "H-A2": ("整体服务水平", "8.3", None),
    "H-A2B1": ("线上线下渠道建设", "8.3.1", "表18"),
    "H-A2B2": ("金融服务供给完善", "8.3.2", "表19"),
    "H-A2B3": ("客户服务体系优化", "8.3.3", "表20"),
    "H-A3": ("风控能力建设", "8.4", None),
    "H-A3B1": ("金融风控效能增强", "8.4", "表21"),
    "H-A4": ("研发应用赋能", "8.5", None),
    "H-A4B1": ("原始研发创新实力", "8.5.1", "表22"),
    "H-A4B2": ("标准应用能力输出", "8.5.2", "表23"),
    "Q-A1": ("金融科技产业", "9.2", None),
    "Q-A1B1": ("持牌金融机构", "9.2.1", "表24"),
    "Q-A1B2": ("金融科技关键技术企业", "9.2.2", "表25"),
    "Q-A2": ("金融科技应用", "9.3", None),
    "Q-A2B1": ("金融科技应用成效", "9.3.1", "表26"),
}


def test_headings_are_exactly_the_standards(fw):
    got = {h.code: (h.name.zh, h.clause, h.table) for h in _headings(fw) if h.code not in ("J", "H", "Q")}
    assert got == HEADINGS
    assert all(h.name.en for h in _headings(fw))


def test_heading_names_follow_their_clause_number_in_the_text(fw, seed):
    for code, (name, clause, _) in HEADINGS.items():
        if code == "H-A3B1":  # no own sub-clause: named after table 21
            assert "表 21 金融风控效能增强评价指标" in seed
            continue
        assert re.search(re.escape(clause) + r" ?" + re.escape(name), seed), code


def test_level2_descriptions_are_the_texts_that_point_to_their_table(fw, seed):
    level2 = [h for h in _headings(fw) if re.fullmatch(r"[JHQ]-A\d+B\d+", h.code)]
    assert len(level2) == 15 + 8 + 3
    for h in level2:
        assert h.description is not None and h.description.en, h.code
        assert h.description.zh + f"评价指标见{h.table}。" in seed, h.code


def test_h_a3b1_is_documented_as_a_heading_the_text_lacks(fw):
    h = fw.node("H-A3B1")
    assert any("no level-2 sub-clause" in n for n in h.notes)


def test_indicator_codes_are_numbered_from_c1_within_each_level2_item(fw):
    for h in _headings(fw):
        if h.indicators:
            assert [i.code for i in h.indicators] == [f"{h.code}-C{k}" for k in range(1, len(h.indicators) + 1)]


# ---- texts against the standard ----------------------------------------------------------------------


def test_every_indicator_name_follows_its_code_in_the_text(fw, seed):
    for ind in fw.indicators():
        assert ind.code + ind.name.zh in seed, ind.code
        assert ind.name.en, ind.code


# Cells the extraction broke with a page break and the collection-method cell: (code, split after).
INTERLEAVED = {
    "J-A3B2-C5": "不经过人",
    "J-A3B3-C2": "网上银行功能测",
    "J-A3B3-C8": "资金安全等的宣",
    "J-A4B3-C1": "成熟度级别判定",
    "H-A1B2-C1": "该行业金融科技人员数",
}


def _definition_texts(ind: Indicator) -> list[str]:
    texts = ind.definition.zh.split("\n")
    for v in ind.variants:
        texts.extend(v.definition.zh.split("\n"))
    return texts


def test_every_definition_is_the_standards_text(fw, seed):
    checked = 0
    for ind in fw.indicators():
        assert ind.definition.en, ind.code
        for text in _definition_texts(ind):
            text = _as_in_seed(text)
            marker = INTERLEAVED.get(ind.code)
            if marker and marker in text:
                head, tail = text.split(marker, 1)
                assert seed.find(head + marker) < seed.find(tail), ind.code
                pieces = [head + marker, tail]
            else:
                pieces = [text]
            for piece in pieces:
                assert piece in seed, f"{ind.code}: {piece[:40]}…"
            checked += 1
    # J-A3B2-C5 and -C6 hold their 2 and 3 sector texts as lines of the definition and again as variants
    assert checked == 82 + (1 + 2) + (2 + 3)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("J-A2B1-C1", "报告期内,该机构金融科技投入占该机构营业收入的比例"),
        ("J-A2B2-C1", "员工指在该机构内签订正式劳动合同的人员"),
        ("J-A3B1-C5", "含全自助和半自助设备"),
        ("J-A3B2-C7", "其中 IT 运维成本包括软硬件成本、运维成本等,用户包括个人用户和企业用户(反向指标)"),
        ("J-A4B3-C2", "应用于金融领域的云计算平台应至少达到容灾能力 3 级要求(最高 6 级)"),
        ("H-A2B2-C3", "该行业各机构单账户成本的均值"),
        ("H-A4B2-C2", "该行业开放 API 或 SDK的机构数量占该行业机构总数的比例"),
        ("Q-A1B1-C2", "该区域银行及非银行支付机构互联网支付(PC 端)业务总额"),
    ],
)
def test_definition_fragments_present_in_file_and_text(fw, seed, code, fragment):
    assert fragment in fw.indicator(code).definition.zh
    assert fragment in seed


def test_reconstructed_formula_texts_restore_the_lost_symbols(fw):
    assert "离职金融科技人员数量÷[(上一报告期末金融科技人员数量+本报告期末金融科技人员数量)÷2]" in fw.indicator("J-A2B2-C3").definition.zh
    assert "个人用户权重×(个人 PC 渠道用户数量÷个人用户总数)" in fw.indicator("J-A3B1-C1").definition.zh
    sec = next(v for v in fw.indicator("J-A3B2-C6").variants if v.sectors == ["securities"])
    assert "=Σ(核心交易系统发出客户指令时点-核心交易系统确认收到客户指令时点)÷核心外围渠道当日委托笔数" in sec.definition.zh
    for code in ("J-A2B2-C3", "J-A3B1-C1", "J-A3B1-C3", "J-A3B2-C6", "J-A4B2-C2", "H-A3B1-C2"):
        assert any("formula reconstructed" in n for n in fw.indicator(code).notes), code


COLLECTION_PHRASES = {"S": "调查问卷", "G": "政府公开数据", "A": "上市公司年报", "R": "行业自律、权威机构有关报"}


def test_collection_methods_are_those_of_the_table_row(fw, seed):
    for ind in fw.indicators():
        row = _segment(seed, ind)
        expected = {m for m, phrase in COLLECTION_PHRASES.items() if phrase in row}
        assert set(ind.collection) == expected, ind.code


# ---- reverse flags and sector restrictions ------------------------------------------------------------

REVERSE = {"J-A2B2-C3", "J-A3B2-C6", "J-A3B2-C7", "H-A2B2-C3"}


def test_reverse_flags_are_exactly_the_four(fw):
    assert {i.code for i in fw.indicators() if i.reverse} == REVERSE
    assert all(i.direction == 1 for i in fw.indicators() if i.code not in REVERSE)


def test_reverse_flags_are_those_the_text_marks(fw, seed):
    assert {i.code for i in fw.indicators() if "反向指标" in _segment(seed, i)} == REVERSE


SECTORS = {
    "J-A3B2-C1": ["bank", "securities", "insurance"],
    "J-A3B2-C2": ["bank", "securities", "insurance"],
    "J-A3B2-C5": ["bank", "insurance"],
    "J-A3B2-C6": ["bank", "insurance", "securities"],
    "J-A3B3-C2": ["bank"],
    "J-A3B3-C3": ["bank"],
    "J-A3B3-C6": ["bank"],
    "J-A3B3-C7": ["bank"],
    "J-A4B1-C1": ["bank"],
    "J-A4B1-C2": ["bank"],
    "J-A4B2-C1": ["bank", "securities", "insurance", "payment"],
    "H-A2B1-C4": ["bank", "payment"],
    "H-A3B1-C1": ["bank", "securities", "insurance", "payment"],
}


def test_sector_restrictions(fw):
    got = {i.code: sorted(i.sectors) for i in fw.indicators() if i.sectors}
    assert got == {c: sorted(s) for c, s in SECTORS.items()}


def test_restricted_indicators_are_those_the_text_restricts(fw, seed):
    assert {i.code for i in fw.indicators() if "适用于" in _segment(seed, i)} == set(SECTORS)


def test_applies_to(fw):
    assert fw.indicator("J-A3B3-C2").applies_to("bank")
    assert not fw.indicator("J-A3B3-C2").applies_to("insurance")
    assert fw.indicator("J-A3B2-C1").formula_for("payment") is None
    assert fw.indicator("J-A2B1-C1").applies_to("other")


# ---- variants -----------------------------------------------------------------------------------------


def test_processing_time_has_three_sector_definitions(fw):
    ind = fw.indicator("J-A3B2-C6")
    assert ind.formula is None and len(ind.variants) == 3
    assert {tuple(v.sectors): v.unit for v in ind.variants} == {("bank",): "hour", ("insurance",): "hour", ("securities",): "ms"}
    assert "w_loans_personal" in ind.formula_for("bank") and "w_loans_small_micro" in ind.formula_for("bank")
    assert ind.formula_for("insurance") == "claim_approval_hours"
    assert ind.formula_for("securities") == "core_order_latency_total_ms / core_channel_orders"
    assert ind.formula_for("payment") is None and ind.formula_for("other") is None
    assert all("反向指标" in v.definition.zh for v in ind.variants)


def test_automation_has_two_sector_definitions(fw):
    ind = fw.indicator("J-A3B2-C5")
    assert ind.formula is None and len(ind.variants) == 2
    assert sorted(tuple(v.sectors) for v in ind.variants) == [("bank",), ("insurance",)]
    assert "personal_loans" in ind.formula_for("bank") and "small_micro_loans" in ind.formula_for("bank")
    assert ind.formula_for("insurance") == "claims_auto_approved / claims"
    assert ind.formula_for("securities") is None
    assert "适用于银行业金融机构" in ind.variants[0].definition.zh
    assert "适用于保险业金融机构" in ind.variants[1].definition.zh


def test_only_c5_and_c6_have_variants(fw):
    assert {i.code for i in fw.indicators() if i.variants} == {"J-A3B2-C5", "J-A3B2-C6"}


# ---- formulas, variables, parameters ------------------------------------------------------------------


def _formula_texts(fw: Framework) -> list[tuple[str, str, str]]:
    """(indicator code, formula text, entity of the names it reads)."""
    out = []
    for ind in fw.indicators():
        entity = fw.block_of(ind.code).entity
        if ind.formula:
            out.append((ind.code, ind.formula, entity))
        out += [(ind.code, v.formula, entity) for v in ind.variants]
        if ind.rollup:
            out += [(ind.code, t, "institution") for t in (ind.rollup.numerator, ind.rollup.denominator, ind.rollup.condition) if t]
            out += [(ind.code, ind.rollup.reported, entity)] if ind.rollup.reported else []
    return out


def test_every_complete_indicator_is_computable(fw):
    for ind in fw.indicators():
        ways = [ind.formula is not None, bool(ind.variants), ind.rollup is not None]
        assert sum(ways) == 1, ind.code
        block = fw.block_of(ind.code).code
        assert (ind.rollup is not None) == (block == "H"), ind.code


def test_every_formula_reads_declared_names_of_its_entity(fw):
    params = {p.name for p in fw.parameters}
    for code, text, entity in _formula_texts(fw):
        declared = {v.name for v in fw.variables if v.entity == entity}
        names = parse(text).names
        assert names <= declared | params, (code, sorted(names - declared - params))


def test_every_variable_and_parameter_is_used(fw):
    used = set().union(*(parse(t).names for _, t, _ in _formula_texts(fw)))
    used |= {i.rollup.of for i in fw.indicators() if i.rollup and i.rollup.of}
    assert {v.name for v in fw.variables} - used == set()
    used |= {p for i in fw.indicators() if i.rollup for p in METHOD_PARAMETERS.get(i.rollup.method, ())}
    assert {p.name for p in fw.parameters} <= used


def test_variable_metadata(fw):
    names = [v.name for v in fw.variables]
    assert len(names) == len(set(names))
    for v in fw.variables:
        assert v.help.zh and v.help.en, v.name
        assert v.collection, v.name
        assert (v.entity == "region") == v.name.startswith("q_"), v.name
        if v.type == "money":
            assert v.unit == "CNY 10k", v.name
        if v.type == "binary":
            assert (v.min, v.max) == (0, 1), v.name
    assert (fw.variable("dc_maturity_level").min, fw.variable("dc_maturity_level").max) == (1, 5)
    assert (fw.variable("cloud_dr_level").min, fw.variable("cloud_dr_level").max) == (1, 6)
    assert (fw.variable("dr_level").min, fw.variable("dr_level").max) == (1, 6)


def test_part_of_relations(fw):
    parts = {v.name: v.part_of for v in fw.variables if v.part_of}
    for part, whole in parts.items():
        p, w = fw.variable(part), fw.variable(whole)
        assert (p.unit, p.type, p.entity) == (w.unit, w.type, w.entity), part
    assert parts["fintech_staff"] == "employees"
    assert parts["personal_pc_users"] == "personal_users" and parts["corporate_app_users"] == "corporate_users"
    assert parts["personal_loans_auto_approved"] == "personal_loans" and parts["claims_auto_approved"] == "claims"
    # not part-of: people can leave who joined within the period; training is counted in person-times
    assert "fintech_staff_leavers" not in parts and "fintech_training_person_times" not in parts


def test_sector_only_variables(fw):
    assert fw.variable("personal_loans").sectors == ["bank"]
    assert fw.variable("claims").sectors == ["insurance"]
    assert fw.variable("core_channel_orders").sectors == ["securities"]
    assert sorted(fw.variable("barcode_payment_amount").sectors) == ["bank", "payment"]
    assert fw.variable("fintech_investment").sectors == []


def test_parameters_are_the_open_weights_and_the_share_base(fw):
    assert fw.parameter_defaults() == {
        "w_users_personal": 0.5, "w_users_corporate": 0.5, "w_loans_personal": 0.5, "w_loans_small_micro": 0.5,
        "share_reporting_only": 0.0,  # H-A2B2-C1 / H-A4B2-C2 divide by all the industry's institutions
    }
    assert next(p for p in fw.parameters if p.name == "share_reporting_only").choices == [0, 1]
    for p in fw.parameters:
        assert (p.min, p.max) == (0, 1) and p.description.zh and p.description.en
    for code in ("J-A3B1-C1", "J-A3B1-C3"):
        assert {"w_users_personal", "w_users_corporate"} <= parse(fw.indicator(code).formula).names


def test_value_indicators_are_their_variable(fw):
    for ind in fw.indicators():
        if ind.type in ("score", "level", "binary"):
            assert ind.formula is not None and len(parse(ind.formula).names) == 1, ind.code
    assert fw.indicator("J-A4B3-C1").formula == "dc_maturity_level"
    assert fw.indicator("J-A4B3-C1").range == (1, 5)
    assert fw.indicator("J-A4B3-C2").range == (1, 6) and fw.indicator("J-A4B3-C3").range == (1, 6)


def test_ranges(fw):
    for ind in fw.indicators():
        assert ind.range is not None and ind.range[0] is not None, ind.code
        if ind.type == "binary":
            assert ind.range == (0, 1), ind.code
        if ind.unit == "share":
            assert ind.range == (0, 1), ind.code


# ---- hand-computed evaluations ------------------------------------------------------------------------


def test_turnover_rate(fw):
    # 10 leavers, 90 FinTech staff a year ago, 110 now: 10 / ((90 + 110) / 2) = 0.1
    f = fw.indicator("J-A2B2-C3").formula
    assert ev(f, fintech_staff_leavers=10, fintech_staff_prev_end=90, fintech_staff=110) == pytest.approx(0.1)
    assert math.isnan(ev(f, fintech_staff_leavers=0, fintech_staff_prev_end=0, fintech_staff=0))


def test_pc_user_share_with_default_and_custom_weights(fw):
    f = fw.indicator("J-A3B1-C1").formula
    users = dict(personal_users=1000, personal_pc_users=600, corporate_users=100, corporate_pc_users=80)
    # 0.5 * 600/1000 + 0.5 * 80/100 = 0.3 + 0.4
    assert parse(f).evaluate(env_for(fw, **users)) == pytest.approx(0.7)
    # 0.8 * 0.6 + 0.2 * 0.8 = 0.48 + 0.16
    assert ev(f, w_users_personal=0.8, w_users_corporate=0.2, **users) == pytest.approx(0.64)


def test_app_user_share(fw):
    f = fw.indicator("J-A3B1-C3").formula
    env = env_for(fw, personal_users=2000, personal_app_users=1500, corporate_users=50, corporate_app_users=10)
    assert parse(f).evaluate(env) == pytest.approx(0.5 * 0.75 + 0.5 * 0.2)


def test_anti_fraud_ratio(fw):
    # rejected 90, losses 10: 90 / (90 + 10)
    assert ev(fw.indicator("J-A4B2-C2").formula, fraud_rejected_amount=90, fraud_loss_amount=10) == pytest.approx(0.9)


def test_bank_approval_time(fw):
    f = fw.indicator("J-A3B2-C6").formula_for("bank")
    hours = dict(personal_loan_approval_hours=24, small_micro_loan_approval_hours=72)
    assert parse(f).evaluate(env_for(fw, **hours)) == pytest.approx(48)  # 0.5*24 + 0.5*72
    assert ev(f, w_loans_personal=0.75, w_loans_small_micro=0.25, **hours) == pytest.approx(36)  # 18 + 18


def test_securities_order_time(fw):
    f = fw.indicator("J-A3B2-C6").formula_for("securities")
    # 1,000 orders, 5,000 ms in total: 5 ms per order
    assert ev(f, core_order_latency_total_ms=5000, core_channel_orders=1000) == pytest.approx(5)


def test_automation_ratios(fw):
    ind = fw.indicator("J-A3B2-C5")
    bank = dict(personal_loans_auto_approved=60, small_micro_loans_auto_approved=20, personal_loans=100, small_micro_loans=100)
    assert ev(ind.formula_for("bank"), **bank) == pytest.approx(0.4)  # (60 + 20) / (100 + 100)
    assert ev(ind.formula_for("insurance"), claims_auto_approved=30, claims=40) == pytest.approx(0.75)


def test_cost_per_account_in_cny(fw):
    # O&M cost 500 (CNY 10k) = CNY 5,000,000 over 9,000 + 1,000 users: CNY 500 per user
    f = fw.indicator("J-A3B2-C7").formula
    assert ev(f, it_om_cost=500, personal_users=9000, corporate_users=1000) == pytest.approx(500)


def test_staff_ratio_on_a_public_figure(fw):
    # CCB 2024 (public file): 16,365 FinTech staff / 376,847 employees = 4.34%
    assert ev(fw.indicator("J-A2B2-C1").formula, fintech_staff=16365, employees=376847) == pytest.approx(0.0434, abs=5e-5)


def test_investment_ratio_and_counts(fw):
    assert ev(fw.indicator("J-A2B1-C1").formula, fintech_investment=2_500_000, operating_revenue=100_000_000) == pytest.approx(0.025)
    coop = dict(coop_universities=3, coop_research_institutes=2, coop_enterprises=5, industry_orgs_joined=4)
    assert ev(fw.indicator("J-A1B3-C1").formula, **coop) == 14
    assert ev(fw.indicator("J-A6B2-C1").formula, standards_total=12, standards_group=5) == 7
    assert ev(fw.indicator("J-A5B1-C1").formula, fintech_patent_applications=40, fintech_patents_granted=15) == 55


def test_regional_share(fw):
    assert ev(fw.indicator("Q-A1B1-C2").formula, q_internet_payment_amount=250, q_payment_amount=1000) == pytest.approx(0.25)
    assert ev(fw.indicator("Q-A1B1-C9").formula, q_online_consumer_finance_amount=3, q_consumer_finance_amount=12) == pytest.approx(0.25)


# ---- industry roll-ups --------------------------------------------------------------------------------

ROLLUPS = {
    # code: (method, of, numerator, denominator, condition)
    "H-A1B1-C1": ("ratio_of_sums", None, "fintech_investment", "operating_revenue", None),
    "H-A1B2-C1": ("ratio_of_sums", None, "fintech_staff", "employees", None),
    "H-A2B1-C1": ("ratio_of_sums", None, "pc_transaction_amount", "transaction_amount", None),
    "H-A2B1-C2": ("ratio_of_sums", None, "app_transaction_amount", "transaction_amount", None),
    "H-A2B1-C3": ("ratio_of_sums", None, "self_service_devices", "outlets", None),
    "H-A2B1-C4": ("ratio_of_sums", None, "barcode_payment_amount", "payment_amount", None),
    "H-A2B2-C1": ("share", None, None, None, "robo_advisory_txn > 0"),
    "H-A2B2-C2": ("mean", "J-A3B2-C3", None, None, None),
    "H-A2B2-C3": ("mean", "J-A3B2-C7", None, None, None),
    "H-A2B3-C1": ("mean", "J-A3B3-C1", None, None, None),
    "H-A2B3-C2": ("mean", "J-A3B3-C4", None, None, None),
    "H-A2B3-C3": ("mean", "J-A3B3-C5", None, None, None),
    "H-A2B3-C4": ("mean", "J-A3B3-C8", None, None, None),
    "H-A3B1-C1": ("mean", "J-A4B2-C1", None, None, None),
    "H-A3B1-C2": ("ratio_of_sums", None, "fraud_rejected_amount", "fraud_rejected_amount + fraud_loss_amount", None),
    "H-A4B1-C1": ("sum", "J-A5B1-C1", None, None, None),
    "H-A4B1-C2": ("sum", "J-A5B1-C2", None, None, None),
    "H-A4B2-C1": ("sum", "standards_total", None, None, None),
    "H-A4B2-C2": ("share", None, None, None, "open_apis_sdks > 0"),
}


def test_rollups(fw):
    got = {
        i.code: (i.rollup.method, i.rollup.of, i.rollup.numerator, i.rollup.denominator, i.rollup.condition)
        for i in fw.indicators(block="H")
    }
    assert got == ROLLUPS
    assert all(i.rollup.group_by == "sector" for i in fw.indicators(block="H"))


def test_mean_rollups_say_mean_in_the_text(fw):
    for i in fw.indicators(block="H"):
        assert (i.rollup.method == "mean") == ("均值" in i.definition.zh), i.code


def test_industry_anti_fraud_is_a_ratio_of_sums(fw):
    r = fw.indicator("H-A3B1-C2").rollup
    # two institutions: (90, 10) and (10, 10): (90 + 10) / (100 + 20), not the mean of 0.9 and 0.5
    env = {"fraud_rejected_amount": np.array([90.0, 10.0]), "fraud_loss_amount": np.array([10.0, 10.0])}
    value = parse(r.numerator).evaluate(env).sum() / parse(r.denominator).evaluate(env).sum()
    assert value == pytest.approx(100 / 120)


def test_share_rollup_condition(fw):
    r = fw.indicator("H-A2B2-C1").rollup
    flags = parse(r.condition).evaluate({"robo_advisory_txn": np.array([0.0, 5.0, 12.0])})
    assert list(flags) == [0.0, 1.0, 1.0] and flags.mean() == pytest.approx(2 / 3)


def test_rollup_of_codes_are_institution_indicators_with_the_same_direction(fw):
    for i in fw.indicators(block="H"):
        if i.rollup.of and i.rollup.of.startswith("J-"):
            j = fw.indicator(i.rollup.of)
            assert fw.block_of(j.code).code == "J" and j.direction == i.direction, i.code


# ---- the incomplete regional block --------------------------------------------------------------------


def test_regional_block_is_marked_incomplete(fw):
    q = fw.node("Q")
    assert q.complete is False and q.notes
    assert fw.node("Q-A2").complete is False and fw.node("Q-A2B1").complete is False
    assert fw.node("Q-A2").notes and fw.node("Q-A2B1").notes
    assert fw.node("J").complete and fw.node("H").complete


def test_truncated_q_a2b1_c1_is_an_incomplete_placeholder(fw, seed):
    ind = fw.indicator("Q-A2B1-C1")
    assert ind.complete is False
    assert ind.formula is None and not ind.variants and ind.rollup is None
    assert ind.name.zh.startswith("电子") and "截断" in ind.name.zh
    assert ind.name.en == "(name truncated in the source text)"
    assert ind.notes
    assert "Q-A2B1-C1电子" in seed and "Q-A2B1-C2" not in seed
    assert "Q-A2B1-C1" not in {i.code for i in fw.indicators()}


def test_no_invented_regional_codes(fw):
    q_codes = {n.code for _, n in fw.walk() if n.code.startswith("Q")}
    assert q_codes == {
        "Q", "Q-A1", "Q-A1B1", "Q-A1B2", "Q-A2", "Q-A2B1", "Q-A2B1-C1",
        *(f"Q-A1B1-C{k}" for k in range(1, 10)), *(f"Q-A1B2-C{k}" for k in range(1, 4)),
    }
