"""The FinTech Development Plan (2019-2021) as shipped data: 6 areas, 27 tasks, links to JR/T 0201-2020.

Tests that need ``jrt0201-2020.yaml`` take the ``jrt0201`` fixture, which fails (never skips) with a
clear message while that file is missing. The structure tests run the schema and every check except
the link resolution, so they work without it.

The English task names and the area/task counts are checked against the seed text
(``/work/shared/seeds/004_*.txt``, an English translation of the plan), read at test time.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

import fintech_eval as fe
from fintech_eval.catalog import load_file, shipped_files
from fintech_eval.catalog.checks import Context, run_checks
from fintech_eval.catalog.models import Framework, Heading
from fintech_eval.errors import FrameworkError

PLAN_ID = "plan-2019-2021"
JRT_ID = "jrt0201-2020"
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"

# From the seed: section 1 holds tasks (1)-(3), section 2 (4)-(8), 3 (9)-(14), 4 (15)-(18),
# 5 (19)-(22), 6 (23)-(27).
AREA_TASKS = {
    "PLAN-A1": range(1, 4),
    "PLAN-A2": range(4, 9),
    "PLAN-A3": range(9, 15),
    "PLAN-A4": range(15, 19),
    "PLAN-A5": range(19, 23),
    "PLAN-A6": range(23, 28),
}
SECTION_NUMERALS = "一二三四五六"
NO_INDICATOR = {19, 20, 21, 22, 24}  # supervision (19)-(22) and laws (24): JR/T 0201 does not measure them
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---- fixtures -------------------------------------------------------------------------------------------


def _plan_file() -> Path:
    files = shipped_files()
    assert PLAN_ID in files, (
        f"{PLAN_ID}.yaml is not shipped in fintech_eval/catalog/data (found: {sorted(files)})"
    )
    return files[PLAN_ID]


@pytest.fixture(scope="module")
def plan_data() -> dict:
    return yaml.safe_load(_plan_file().read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def structure(plan_data) -> Framework:
    """The plan validated by the schema and every check; links are not resolved (no jrt0201 needed)."""
    fw = Framework.model_validate(plan_data)
    problems = run_checks(fw, Context(file=str(_plan_file()), resolve=None))
    assert not problems, "\n".join(str(p) for p in problems)
    return fw


@pytest.fixture(scope="module")
def jrt0201() -> Framework:
    """JR/T 0201-2020, which the plan's links resolve against. FAILS (not skips) while it is missing."""
    if JRT_ID not in shipped_files():
        pytest.fail(
            f"{JRT_ID}.yaml is missing from src/fintech_eval/catalog/data: the plan's task links "
            f"(measured_by: {JRT_ID}) cannot be resolved, so this test cannot pass until it is added",
            pytrace=False,
        )
    return fe.load_framework(JRT_ID)


@pytest.fixture(scope="module")
def plan(jrt0201) -> Framework:
    """The plan loaded for real, links resolved against jrt0201-2020."""
    return fe.load_framework(PLAN_ID)


@pytest.fixture(scope="module")
def seed_text() -> str:
    found = sorted(SEEDS.glob("004_*.txt"))
    if not found:
        pytest.fail(f"seed 004_*.txt (English text of the plan) not found in {SEEDS}", pytrace=False)
    return found[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_sections(seed_text) -> list[list[tuple[int, str]]]:
    """Chapter III of the seed: per section, its tasks as (number, English heading without the period)."""
    start = seed_text.index("Chapter III Key Tasks")
    end = seed_text.index("Chapter IV", start)
    sections: list[list[tuple[int, str]]] = []
    for line in seed_text[start:end].splitlines():
        line = line.strip()
        if re.match(r"(?:Section\s+\w+|The\s+\w+\s+section)\b", line, re.IGNORECASE):
            sections.append([])
            continue
        m = re.fullmatch(r"\((\d+)\)\s+(.+?)\.?", line)
        if m:
            assert sections, f"task heading before any section heading in the seed: {line!r}"
            sections[-1].append((int(m.group(1)), m.group(2)))
    return sections


def _areas(fw: Framework) -> list[Heading]:
    return list(fw.blocks)


def _problems(exc: pytest.ExceptionInfo[FrameworkError]) -> list[tuple[str, str]]:
    return [(p.rule, p.message) for p in exc.value.problems]


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _task_data(data: dict, number: int) -> dict:
    return next(t for area in data["blocks"] for t in area["tasks"] if t["number"] == number)


# ---- identity and structure (no jrt0201 needed) ---------------------------------------------------------


def test_identity(structure):
    fw = structure
    assert fw.id == PLAN_ID
    assert fw.version == "2019"
    assert fw.kind == "plan"
    assert fw.code_scheme == "plan"
    assert fw.measured_by == JRT_ID
    assert fw.title.zh == "金融科技（FinTech）发展规划（2019—2021年）"
    assert fw.title.en == "FinTech Development Plan (2019-2021)"
    assert (fw.issuer.zh, fw.issuer.en) == ("中国人民银行", "People's Bank of China")
    assert fw.issued == dt.date(2019, 8, 22)
    assert fw.status == "superseded"
    assert fw.source == "银发〔2019〕209号"
    notes = " ".join(fw.notes)
    assert "seed" in notes and "2022" in notes and "PLAN-A1" in notes  # source, successor, own namespace


def test_six_areas_with_their_tasks(structure):
    areas = _areas(structure)
    assert [a.code for a in areas] == list(AREA_TASKS)
    for i, area in enumerate(areas):
        assert area.clause == f"第三章第{SECTION_NUMERALS[i]}节"
        assert not area.children and not area.indicators, f"{area.code} holds only tasks"
        assert [t.number for t in area.tasks] == list(AREA_TASKS[area.code]), area.code
        for t in area.tasks:
            assert t.clause == area.clause, t.code
    assert [len(a.tasks) for a in areas] == [3, 5, 6, 4, 4, 5]
    assert areas[0].name.zh == "加强金融科技战略部署"


def test_27_tasks_numbered_contiguously_in_order(structure):
    tasks = structure.tasks()
    assert len(tasks) == 27
    assert [t.number for t in tasks] == list(range(1, 28))
    assert [t.code for t in tasks] == [f"PLAN-T{n:02d}" for n in range(1, 28)]
    assert structure.node("PLAN-T01").name.zh == "加强统筹规划"
    assert structure.node("PLAN-T03").name.zh == "加强人才队伍建设"


def test_texts_are_bilingual(structure):
    for area in _areas(structure):
        for text in (area.name, area.description):
            assert text is not None and CJK.search(text.zh) and text.en.strip(), area.code
    for t in structure.tasks():
        for text in (t.name, t.summary):
            assert CJK.search(text.zh) and text.en.strip(), t.code
        sentences = re.findall(r"[.!?](?:\s|$)", t.summary.en)
        assert 1 <= len(sentences) <= 3, f"{t.code}: English summary should be 1-3 sentences"


def test_every_link_has_a_specific_reason_in_both_languages(structure):
    reasons_en: list[str] = []
    for t in structure.tasks():
        codes = [link.code for link in t.indicators]
        assert len(codes) == len(set(codes)), f"{t.code} links an indicator twice"
        for link in t.indicators:
            assert re.fullmatch(r"[JHQ]-A\d+B\d+-C\d+", link.code), f"{t.code}: {link.code}"
            assert CJK.search(link.reason.zh) and len(link.reason.zh) >= 10, (
                f"{t.code} → {link.code}: zh reason"
            )
            assert len(link.reason.en.split()) >= 6, f"{t.code} → {link.code}: en reason"
            reasons_en.append(link.reason.en)
    assert len(reasons_en) == len(set(reasons_en)), "each link states its own reason"


def test_unmeasured_tasks_are_empty_and_say_why(structure):
    tasks = {t.number: t for t in structure.tasks()}
    for n in NO_INDICATOR:
        assert tasks[n].indicators == [], f"task ({n}) has no JR/T 0201 indicator that measures it"
    for t in tasks.values():
        if not t.indicators:
            assert any("JR/T 0201" in note for note in t.notes), (
                f"{t.code} has no link and no note saying why"
            )
    assert sum(1 for t in tasks.values() if t.indicators) >= 20


def test_never_links_the_truncated_regional_indicator(structure):
    assert all(link.code != "Q-A2B1-C1" for t in structure.tasks() for link in t.indicators)


# ---- against the seed text -------------------------------------------------------------------------------


def test_seed_has_27_tasks_in_6_sections(seed_sections):
    assert [len(s) for s in seed_sections] == [len(r) for r in AREA_TASKS.values()]
    assert [[n for n, _ in s] for s in seed_sections] == [list(r) for r in AREA_TASKS.values()]


def test_english_task_names_come_from_the_seed(structure, seed_text, seed_sections):
    for heading in (
        "(1) Strengthen overall planning.",
        "(3) Strengthening the construction of the talent team.",
        "(7) Strengthen the development and application of distributed databases.",
        "(14) Increase the intensity of technology-enabled payment services.",
        "(21) Improve the ability of penetrating supervision.",
        "(26) Promote standardization work.",
    ):
        assert heading in seed_text
        number, title = re.fullmatch(r"\((\d+)\) (.+)\.", heading).groups()
        assert structure.node(f"PLAN-T{int(number):02d}").name.en == title
    seed_titles = {n: title for section in seed_sections for n, title in section}
    assert {t.number: t.name.en for t in structure.tasks()} == seed_titles


def test_areas_hold_the_seed_sections_tasks(structure, seed_sections):
    for area, section in zip(_areas(structure), seed_sections, strict=True):
        assert [(t.number, t.name.en) for t in area.tasks] == section, area.code


# ---- links resolved against jrt0201-2020 (needs jrt0201-2020.yaml) ---------------------------------------


def test_plan_loads_with_links_resolved(plan):
    assert plan.kind == "plan" and len(plan.tasks()) == 27


def test_every_link_is_a_complete_jrt0201_indicator(plan, jrt0201):
    complete = {i.code: i for i in jrt0201.indicators()}
    for t in plan.tasks():
        for link in t.indicators:
            assert link.code in complete, f"{t.code} → {link.code} is not a complete indicator of {JRT_ID}"
            assert jrt0201.block_of(link.code).code in {"J", "H", "Q"}
            assert complete[link.code].complete


def test_every_institution_and_industry_indicator_measures_some_task(plan, jrt0201):
    linked = {link.code for t in plan.tasks() for link in t.indicators}
    for block in ("J", "H"):
        missing = sorted(i.code for i in jrt0201.indicators(block=block) if i.code not in linked)
        assert not missing, f"{block} indicators linked to no task: {missing}"


def test_talent_task_links(plan):
    codes = {link.code for link in plan.node("PLAN-T03").indicators}
    assert codes == {"J-A2B2-C1", "J-A2B2-C2", "J-A2B2-C3", "H-A1B2-C1"}


# ---- malformed plans ---------------------------------------------------------------------------------------


def test_link_to_unknown_code_is_rejected(jrt0201, plan_data, tmp_path):
    data = copy.deepcopy(plan_data)
    _task_data(data, 1)["indicators"][0]["code"] = "J-A9B9-C9"
    with pytest.raises(FrameworkError) as exc:
        load_file(_write(tmp_path, data))
    problems = _problems(exc)
    assert [rule for rule, _ in problems] == ["plan.link"]
    assert "PLAN-T01" in problems[0][1] and "J-A9B9-C9" in problems[0][1]


def test_link_to_incomplete_indicator_is_rejected(jrt0201, plan_data, tmp_path):
    data = copy.deepcopy(plan_data)
    _task_data(data, 9)["indicators"].append(
        {"code": "Q-A2B1-C1", "reason": {"zh": "名称在种子文本中被截断", "en": "x"}}
    )
    with pytest.raises(FrameworkError) as exc:
        load_file(_write(tmp_path, data))
    problems = _problems(exc)
    assert [rule for rule, _ in problems] == ["plan.link"]
    assert "Q-A2B1-C1" in problems[0][1]


@pytest.mark.parametrize(
    ("number", "bad_code"),
    [(5, "PLAN-T5"), (5, "T05"), (12, "J-A3B1-C1")],
)
def test_task_code_outside_the_plan_scheme_is_rejected(plan_data, tmp_path, number, bad_code):
    data = copy.deepcopy(plan_data)
    _task_data(data, number)["code"] = bad_code
    with pytest.raises(FrameworkError) as exc:
        load_file(_write(tmp_path, data))
    scheme = [msg for rule, msg in _problems(exc) if rule == "code.scheme"]
    assert len(scheme) == 1 and repr(bad_code) in scheme[0]


def test_area_code_outside_the_plan_scheme_is_rejected(plan_data, tmp_path):
    data = copy.deepcopy(plan_data)
    data["blocks"][1]["code"] = "AREA-2"
    with pytest.raises(FrameworkError) as exc:
        load_file(_write(tmp_path, data))
    assert "code.scheme" in {rule for rule, _ in _problems(exc)}


def test_task_without_reason_is_rejected_by_the_schema(plan_data, tmp_path):
    data = copy.deepcopy(plan_data)
    del _task_data(data, 1)["indicators"][0]["reason"]
    with pytest.raises(FrameworkError) as exc:
        load_file(_write(tmp_path, data))
    rules = {rule for rule, _ in _problems(exc)}
    assert rules == {"schema.missing"}
