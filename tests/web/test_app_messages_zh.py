"""Review, register, account, vendor assessment and job errors carry their Chinese text too (issue 13), as the import's problems do
(``tests/collect/test_messages_zh.py``): the same two ways a message could escape.

* The source: every ``DataError("…")`` (and its kinds ``ReviewError``, ``SignInRefused``) raised with a message
  in the application modules behind review, registers, accounts, passwords, tokens, invitations, campaign
  staff, vendor assessments (and their kinds ``AssessmentError``, ``StageError``) and background jobs gives ``zh=``; every ``Problem(…)`` there gives ``message_zh=``; every register check reports through
  ``bad(row, field, rule, message, message_zh)``.
* The behaviour: a case for each of those errors, whose every problem has a Chinese text that differs from the
  English one and names the same values (``check_bilingual``); and the web shows it: an API answer with
  ``?lang=zh`` and a page in Chinese.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import fintech_eval as fe
from fintech_eval.app import (
    accounts,
    campaign_invitations,
    campaign_staff,
    campaigns,
    invitations,
    jobs,
    registers,
    reviews,
    sizes,
)
from fintech_eval.app import submissions as sub
from fintech_eval.app import vendor_assessments as va
from fintech_eval.app import vendor_self_assessment as vsa
from fintech_eval.app.passwords import check_new_password
from fintech_eval.app.tokens import create_token, revoke_token
from fintech_eval.errors import FintechEvalError, Problem
from fintech_eval.identifiers import credit_check_char
from tests.collect.test_messages_zh import _calls, _is_text, _keywords, check_bilingual

from .conftest import PASSWORD, World
from .vendor_helpers import EVALUATOR, SUBMITTER, assessment, self_assessment

APP = Path(fe.__file__).parent / "app"
#: the modules behind review (and the store functions it calls), registers, accounts, vendor assessments and jobs
SOURCES = [APP / f"{m}.py" for m in ("reviews", "submissions", "forms", "registers", "sizes", "accounts", "passwords",
                                     "tokens", "invitations", "campaign_invitations", "campaign_staff", "campaigns",
                                     "vendor_assessments", "vendor_self_assessment", "vendor_stages", "jobs",
                                     "job_kinds", "job_runner")]
SOURCES.append(Path(fe.__file__).parent / "store" / "reviews.py")
ERRORS = ("DataError", "ReviewError", "SignInRefused", "AssessmentError", "StageError")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_error_raised_with_a_message_gives_its_chinese_text(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"{path.name}:{c.lineno} {err}(...)" for err in ERRORS for c in _calls(tree, err)
           if c.args and _is_text(c.args[0]) and "zh" not in _keywords(c)]
    bad += [f"{path.name}:{c.lineno} Problem(...)" for c in _calls(tree, "Problem") if "message_zh" not in _keywords(c)]
    if path.name == "registers.py":  # bad(row, field, rule, message, message_zh[, severity])
        bad += [f"{path.name}:{c.lineno} bad(...)" for c in _calls(tree, "bad") if len(c.args) < 5]
    if path.name == "sizes.py":  # bad(field, rule, message, message_zh); an unknown id: Why(rule, message, message_zh)
        bad += [f"{path.name}:{c.lineno} bad(...)" for c in _calls(tree, "bad") if len(c.args) < 4]
        bad += [f"{path.name}:{c.lineno} Why(...)" for c in _calls(tree, "Why") if len(c.args) < 3]
    assert not bad, "an error without its Chinese text: " + ", ".join(bad)


def test_the_source_check_catches_a_call_without_chinese():
    tree = ast.parse('raise ReviewError(f"no {x}", rule="r")\nProblem("r", "m", {})\nbad(1, "f", "r", "m")\n')
    assert [c.lineno for c in _calls(tree, "ReviewError") if _is_text(c.args[0]) and "zh" not in _keywords(c)] == [1]
    assert [c.lineno for c in _calls(tree, "Problem") if "message_zh" not in _keywords(c)] == [2]
    assert [c.lineno for c in _calls(tree, "bad") if len(c.args) < 5] == [3]


# ---- every error, raised ----------------------------------------------------------------------------------
def _raised(call) -> list[Problem]:
    with pytest.raises(FintechEvalError) as exc:
        call()
    return exc.value.problems


def _valid_credit(division: str) -> str:
    body = f"91{division}MA5ABCDE1"
    return body + credit_check_char(body)


def _register_problems(w: World, tmp: Path) -> list[Problem]:
    inst = tmp / "bad_inst.csv"
    inst.write_text(
        "id,name_zh,sector,region_code,city_code,credit_code,status,listed\n"
        "X1,,bnak,广动,,,weird,maybe\n"                                  # blank name, sector, province, status, listed
        f"X2,乙,bank,11,440300,{_valid_credit('440300')[:-1]}Z,,\n"       # city in another province, check character
        "X2,丙,bank,44,4403,91440300ABC,,\n"                             # duplicate id, bad city, short credit code
        f"X4,丁,bank,11,,{_valid_credit('440300')},,\n"                    # credit code of another province (error)
        f"X5,戊,bank,11,,{_valid_credit('440300')},,\n", encoding="utf-8")  # … twice
    tech = tmp / "bad_tech.csv"
    tech.write_text("id,name_zh,region_code,technologies\nK1,甲,11,区块链;quantum\n", encoding="utf-8")
    regions = tmp / "bad_regions.csv"
    regions.write_text("code,name_zh\n11,广东省\n", encoding="utf-8")
    ragged = tmp / "ragged.csv"  # the first row one field longer: an error, not shifted column names
    ragged.write_text("id,name_zh,sector\nX1,甲,bank,extra\nX2,乙,bank\n", encoding="utf-8")
    [p] = _raised(lambda: registers.read_register(ragged))
    assert (p.rule, p.where["row"], p.message) == ("csv.ragged", 2, "the first data row has 4 fields, the header has 3")
    cols = tmp / "bad_cols.csv"
    cols.write_text("id,nmae_zh,name,名称\nX1,a,b,c\n", encoding="utf-8")
    out: list[Problem] = []
    for call in (lambda: registers.read_register(inst, credit_region="error"),
                 lambda: registers.read_register(tech, "key-tech"), lambda: registers.read_register(regions, "regions"),
                 lambda: registers.read_register(cols), lambda: registers.read_register(tmp / "absent.csv"),
                 lambda: registers.register_spec("institution"),
                 lambda: registers.read_register(inst, credit_region="sometimes"),
                 lambda: registers.register_entry(w.ws, "institutions", "B01")):
        out += _raised(call)
    wide = tmp / "sizes.csv"  # attribute, kind, blank id, unknown id, period, number, unit, range, duplicate
    wide.write_text("id,attribute,value,unit,period,kind\n"
                    "B001,revenue,1,亿元,2024,\nB001,revenu,1,亿元,2024,\nB001,revenue,2,亿元,2024,bank\n"
                    ",revenue,1,亿元,2024,\nB0001,revenue,1,亿元,2024,\nB001,total_financing,1,亿元,FY24,\n"
                    "B001,total_financing,abc,亿元,2024,\nB001,market_share,1.5,,2023,\nB001,total_financing,-1,亿元,2023,\n"
                    "B001,total_financing,1,kg,2022,\nB001,revenue,1,,2022,\n", encoding="utf-8")
    for call in (lambda: sizes.read_sizes(w.ws, wide), lambda: sizes.read_sizes(w.ws, wide, period="soon"),
                 lambda: sizes.read_sizes(w.ws, cols), lambda: sizes.draw_sample(w.ws, "2024", register="vendors")):
        out += _raised(call)
    dup = tmp / "dup.csv"
    dup.write_text("id,attribute,value,unit,period\nB001,revenue,1,亿元,2024\nB001,revenue,2,亿元,2024\n", encoding="utf-8")
    out += _raised(lambda: sizes.read_sizes(w.ws, dup))
    taken = tmp / "taken.csv"  # a credit code another registered institution holds (the store's own check)
    code = _valid_credit("110105")
    taken.write_text(f"id,name_zh,sector,region_code,credit_code\nX7,甲,bank,11,{code}\n", encoding="utf-8")
    registers.register_file(w.ws, taken)
    taken.write_text(f"id,name_zh,sector,region_code,credit_code\nX8,乙,bank,11,{code}\n", encoding="utf-8")
    out += _raised(lambda: registers.register_file(w.ws, taken))
    warnings: list[Problem] = []
    ok = tmp / "warn.csv"
    ok.write_text(f"id,name_zh,sector,region_code,credit_code\nX9,甲,bank,11,{_valid_credit('440300')}\n", encoding="utf-8")
    registers.read_register(ok, warnings=warnings)
    assert [p.rule for p in warnings] == ["register.credit_region"]
    return out + warnings + [p]


def _account_problems(w: World, tmp: Path) -> list[Problem]:
    ws, admin = w.ws, w.users["administrator"]
    calls = [
        lambda: accounts.normalise_email("not-an-address"), lambda: accounts.check_role("boss"),
        lambda: check_new_password("short"), lambda: check_new_password("me@example.org", email="me@example.org"),
        lambda: accounts.create_user(ws, email=w.email("viewer"), role="viewer", who="test"),
        lambda: accounts.create_user(ws, email="s@example.org", role="submitter", who="test"),
        lambda: accounts.create_user(ws, email="s@example.org", role="submitter", entities=[("bank", "B001"),
                                                                                              ("vendor", "V404")]),
        lambda: accounts.create_user(ws, email="v@example.org", role="viewer", entities=[("institution", "B001")]),
        lambda: accounts.update_user(ws, 999_999, role="viewer", who="test"),
        lambda: accounts.update_user(ws, admin, role="viewer", who="test"),
        lambda: accounts.set_password(ws, 999_999, PASSWORD, who="test"),
        lambda: accounts.change_password(ws, admin, "wrong password!", "another password"),
        lambda: accounts.change_password(ws, admin, PASSWORD, PASSWORD),
        lambda: accounts.sign_in(ws, w.email("viewer"), "wrong password!"),
        lambda: create_token(ws, admin, name="", scopes=["read"]),
        lambda: create_token(ws, admin, name="t", scopes=["read", "root"]),
        lambda: create_token(ws, admin, name="t", scopes=["read"], expires_days=0),
        lambda: create_token(ws, 999_999, name="t", scopes=["read"]),
        lambda: create_token(ws, w.users["viewer"], name="t", scopes=["admin"]),
        lambda: revoke_token(ws, 999_999, who="test"),
        lambda: invitations.create_invitation(ws, email="new@example.org", entities=[("institution", "B001")], days=0,
                                              who="test"),
        lambda: invitations.create_invitation(ws, email=w.email("viewer"), entities=[], role="viewer", who="test"),
        lambda: invitations.revoke_invitation(ws, 999_999, who="test"),
        lambda: invitations.accept_invitation(ws, "no such link", password=PASSWORD),
        lambda: campaign_invitations.invite_sample(ws, 1, [], who="test"),
        lambda: campaign_invitations.invite_sample(ws, 2, [("B001", "x@example.org"), ("B002", "not an address"),
                                                           ("B002", w.email("viewer"))], who="test"),
        lambda: campaign_staff.assign_staff(ws, 999, w.email("evaluator"), who="test"),
        lambda: campaign_staff.assign_staff(ws, 1, "nobody@example.org", who="test"),
        lambda: campaign_staff.assign_staff(ws, 1, w.email("viewer"), who="test"),
        lambda: campaign_staff.unassign_staff(ws, 2, w.email("evaluator"), who="test"),
    ]
    out = [p for call in calls for p in _raised(call)]
    invitations.create_invitation(ws, email="pending@example.org", entities=[("institution", "B002")], who="test")
    out += _raised(lambda: campaign_invitations.invite_sample(ws, 2, [("B002", "pending@example.org")], who="test"))
    return out


def _campaign_problems(w: World, tmp: Path) -> list[Problem]:
    ws = w.ws
    sample = tmp / "sample.csv"
    sample.write_text("code\nB001\n", encoding="utf-8")
    calls = [
        lambda: campaigns.resolve_campaign(ws, 999), lambda: campaigns.resolve_campaign(ws, None),
        lambda: campaigns.update_campaign(ws, 1, name="  ", who="test"),
        lambda: campaigns.update_campaign(ws, 999, name="x", who="test"),
        lambda: campaigns.update_campaign(ws, 1, deadline="31/03/2025", who="test"),
        lambda: campaigns.read_sample(sample),
        lambda: campaigns.create_campaign(ws, period="2024", sample=["B001", "B0002"]),
        lambda: campaigns.register_sample(ws, sectors=["bnak"], provinces=["99"]),
        lambda: campaigns.register_sample(ws, sectors=["payment"]),
        lambda: campaigns.choose_sample(ws, entities=["B001"], sectors=["bank"]),
        lambda: campaigns.choose_sample(ws, entities=[" "]),
        lambda: campaigns.choose_sample(ws, draw={"top": 1}, provinces=["11"]),
        lambda: campaigns.choose_sample(ws, draw={"top": 1}),
    ]
    return [p for call in calls for p in _raised(call)]


def _review_problems(w: World, tmp: Path) -> list[Problem]:
    ws = w.ws
    rid = sub.submit(ws, "B001", 1, {"fintech_staff": "3", "employees": "5"}, actor=w.email("submitter")).return_id
    calls = [
        lambda: reviews.accept_flagged(ws, why=""), lambda: reviews.accept_flagged(ws, why="ok\x07", every=True),
        lambda: reviews.list_flagged(ws, campaign_id=1, period="2023"),
        lambda: reviews.accept_flagged(ws, why="checked", every=True),
        lambda: sub.next_state("acept", "submitted"), lambda: sub.next_state("reopen", "submitted", return_id=rid),
        lambda: sub.accept(ws, [], actor="test"), lambda: sub.accept(ws, [rid, 999_999], actor="test"),
        lambda: sub.return_for_changes(ws, rid, {}, actor="test"),
        lambda: sub.return_for_changes(ws, rid, {"fintech_staf": "?", "employees": " ", "*": "a\x07b"}, actor="test",
                                       note="x\x1b"),
        lambda: sub.reject(ws, rid, actor="test", note=""),
        lambda: sub.returns_list(ws, state="acepted"), lambda: sub.returns_list(ws, state="nothing"),
        lambda: sub.return_detail(ws, 999_999), lambda: sub.return_detail(ws, rid, version=9),
        lambda: sub.return_payload(ws, 999_999, 2),
    ]
    return [p for call in calls for p in _raised(call)]


def _vendor_problems(w: World, tmp: Path) -> list[Problem]:
    ws = w.ws
    aid = assessment(w, "V001")
    own = self_assessment(w, "V001")  # the vendor fills it
    theirs = va.add_evidence(ws, own, "C1.2.1", "e.txt", b"the evaluator's file", who=EVALUATOR)["id"]
    calls = [
        lambda: va.create_assessment(ws, "V001", model="comprehensiv", round=" ", who="test"),
        lambda: va.create_assessment(ws, "V001", framework="nope", round="2026", who="test"),
        lambda: va.create_assessment(ws, "V001", round="20\x0726", who="test"),
        lambda: va.save_answers(ws, 999_999, [{"indicator": "C1.1.1", "step": 1}], who="test"),
        lambda: va.save_answers(ws, aid, [{"indicator": "C1.1.1", "step": 1}, {"indicator": "C1.1.1", "step": 2},
                                          {"indicator": "C4.1.1", "step": 1},
                                          {"indicator": "C1.2.1", "step": 2, "note": "a\x07b", "evidence_ref": "x" * 600},
                                          {"indicator": "C9.9.9", "step": 1}], who="test"),
        lambda: va.save_answers(ws, aid, [{"indicator": "C1.1.1", "step": 1}], who=SUBMITTER, as_vendor=True),
        lambda: va.check_evidence("", b""), lambda: va.check_evidence("x.pdf", b"MZ\x90\x00"),
        lambda: va.add_evidence(ws, aid, "C1.1.2x", "a.txt", b"text", who="test"),
        lambda: va.evidence_file(ws, aid, 999_999), lambda: va.withdraw_evidence(ws, aid, 999_999, who="test"),
        lambda: va.withdraw_evidence(ws, own, theirs, who=SUBMITTER, as_vendor=True),
        lambda: vsa.submit_self_assessment(ws, own, who=SUBMITTER),
        lambda: va.publish_assessment(ws, own, who=EVALUATOR),
        lambda: vsa.return_to_vendor(ws, own, who=EVALUATOR, note="why\x1b"),
        lambda: vsa.return_to_vendor(ws, own, who=EVALUATOR),
    ]
    out = [p for call in calls for p in _raised(call)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FINTECH_EVAL_MAX_EVIDENCE_MB", "0.001")
        out += _raised(lambda: va.check_evidence("big.txt", b"x" * 5000))
    va.create_assessment(ws, "V002", round="ZH", who="test")
    out += _raised(lambda: va.create_assessment(ws, "V002", round="ZH", who="test"))
    done = self_assessment(w, "V001", submitted=True)
    out += _raised(lambda: va.save_answers(ws, done, [{"indicator": "C1.1.1", "step": 1}], who=SUBMITTER,
                                           as_vendor=True))
    va.publish_assessment(ws, aid, who=EVALUATOR)
    out += _raised(lambda: va.publish_assessment(ws, aid, who=EVALUATOR))
    return out


def _job_problems(w: World, tmp: Path) -> list[Problem]:
    ws = w.ws
    job = jobs.enqueue(ws, "score", {}, who="test", campaign_id=1)["id"]
    jobs.cancel(ws, job, who="test")
    calls = [lambda: jobs.enqueue(ws, "scor", {}, who="test"),
             lambda: jobs.enqueue(ws, "score", {}, who="test", campaign_id=999),
             lambda: jobs.cancel(ws, 999_999, who="test"), lambda: jobs.job_info(ws, 999_999),
             lambda: jobs.cancel(ws, job, who="test")]
    return [p for call in calls for p in _raised(call)]


CASES = {"registers": _register_problems, "accounts": _account_problems, "campaigns": _campaign_problems,
         "reviews": _review_problems, "vendors": _vendor_problems, "jobs": _job_problems}
#: a case raises at least this many problems (8 unless named): the jobs have only five errors to raise
AT_LEAST = {"jobs": 5}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_error_of_a_case_is_bilingual(name, world, tmp_path):
    problems = CASES[name](world, tmp_path)
    assert len(problems) >= AT_LEAST.get(name, 8), [p.rule for p in problems]
    for p in problems:
        check_bilingual(p)


def test_the_cases_reach_the_rules(world, tmp_path):
    """The cases are not vacuous: they raise the rules the issue named (review, register, account, staff)."""
    rules = {p.rule for make in CASES.values() for p in make(world, tmp_path)}
    assert {"review.transition", "review.comment_field", "review.reason", "review.scope", "review.none",
            "register.sector", "register.region_code", "register.city_province", "register.credit_code",
            "register.credit_region", "register.duplicate", "register.required", "register.column",
            "register.unknown", "size.attribute", "size.unknown_entity", "size.range", "size.duplicate",
            "size.column", "size.unit", "store.duplicate", "user.exists", "user.last_admin", "password.wrong", "password.weak",
            "sign_in.invalid", "token.scope", "invitation.invalid", "invitation.pending", "campaign.not_staff",
            "campaign.staff_role", "campaign.which", "campaign.unknown_entity", "assessment.which", "assessment.model",
            "assessment.round", "assessment.framework", "assessment.exists", "assessment.published", "assessment.stage",
            "assessment.empty", "assessment.submitted", "assessment.not_open", "assessment.with_vendor",
            "scores.duplicate", "answer.not_applicable", "text.control_character", "text.too_long", "file.name",
            "evidence.empty", "evidence.too_large", "evidence.type", "evidence.content", "evidence.indicator",
            "evidence.which", "evidence.not_yours", "job.kind", "job.which", "job.ended"} <= rules


def test_a_chinese_message_reads_as_chinese():
    p = _raised(lambda: sub.next_state("reopen", "submitted", return_id=7))[0]
    assert p.message == "return 7 is submitted: reopen is allowed only from accepted, rejected"
    assert p.message_zh == "报表 7 的状态为 submitted：reopen 操作仅适用于 accepted、rejected"
    p = _raised(lambda: check_new_password("short"))[0]
    assert p.text("zh") == "密码至少需要 10 个字符" and p.text("en") == "a password needs at least 10 characters"


# ---- the web shows it -----------------------------------------------------------------------------------
def test_a_review_error_in_chinese_through_the_api(world):
    rid = sub.submit(world.ws, "B001", 1, {"fintech_staff": "3", "employees": "5"},
                     actor=world.email("submitter")).return_id
    e = world.client("evaluator")
    r = e.post(f"/api/v1/returns/{rid}/reopen?lang=zh", json={"note": "why not"})
    assert r.status_code == 409 and r.json()["rule"] == "review.transition"
    assert r.json()["detail"] == f"报表 {rid} 的状态为 submitted：reopen 操作仅适用于 accepted、rejected"
    [item] = r.json()["problems"]
    assert item["message"] == item["message_zh"] == r.json()["detail"]
    assert item["message_en"] == f"return {rid} is submitted: reopen is allowed only from accepted, rejected"
    r = e.post(f"/api/v1/returns/{rid}/return", json={"comments": {"fintech_staf": "?"}},
               headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert r.status_code == 422 and "既不是报表的字段" in r.json()["detail"] and "是否应为 'fintech_staff'" in r.json()["detail"]
    en = e.post(f"/api/v1/returns/{rid}/reopen", json={"note": "why not"}).json()  # no language asked: English
    assert en["detail"] == f"return {rid} is submitted: reopen is allowed only from accepted, rejected"
    assert not CJK.search(en["problems"][0]["message"])


def test_account_and_campaign_pages_show_the_error_in_chinese(world):
    a = world.client("administrator")
    page = a.post("/account/password?lang=zh", data={"current_password": "wrong password!", "new_password": "x" * 12,
                                                     "repeat": "x" * 12})
    assert page.status_code == 403 and "当前密码错误" in page.text
    page = a.post("/account/tokens?lang=zh", data={"name": "", "scopes": ["read"]})
    assert page.status_code == 422 and "令牌名称需要 1 到 100 个字符" in page.text
    page = a.post("/campaigns/1/staff?lang=zh", data={"email": world.email("viewer")})
    assert page.status_code == 422 and "只有评估人员（evaluator）和管理员（administrator）参与评估项目" in page.text
    page = a.post("/campaigns/1/staff?lang=en", data={"email": world.email("viewer")})
    assert "only evaluators and administrators work on a campaign" in page.text


def test_vendor_assessment_and_job_errors_in_chinese_through_the_api(world):
    """An unknown indicator answered, a second publish, a finished job cancelled: each answer in Chinese with
    ``?lang=zh``, in English without."""
    ev, admin = world.client("evaluator"), world.client("administrator")
    aid = assessment(world, "V001")
    url = f"/api/v1/vendors/V001/assessments/{aid}"
    r = ev.put(f"{url}/answers?lang=zh", json={"answers": [{"indicator": "C9.9.9", "step": 1}]})
    assert r.status_code == 422 and r.json()["rule"] == "scores.indicator"
    assert r.json()["detail"] == "未知指标 'C9.9.9'（不在 fcsc-2023-default 中）"
    assert ev.post(f"{url}/publish").status_code == 200
    r = ev.post(f"{url}/publish?lang=zh")
    assert r.status_code == 409 and r.json()["rule"] == "assessment.published"
    assert r.json()["detail"].startswith(f"评估 {aid} 已于 ") and "不再更改" in r.json()["detail"]
    en = ev.post(f"{url}/publish").json()
    assert en["detail"].startswith(f"assessment {aid} was published on ") and not CJK.search(en["detail"])

    queued = admin.post("/api/v1/runs", json={"campaign": 1})
    assert queued.status_code == 202, queued.text
    job = queued.headers["location"]
    assert admin.post(f"{job}/cancel").json()["state"] == "cancelled"
    r = admin.post(f"{job}/cancel?lang=zh")
    jid = job.rstrip("/").rsplit("/", 1)[1]
    assert r.status_code == 422 and r.json()["rule"] == "job.ended"
    assert r.json()["detail"] == f"任务 {jid} 已结束（cancelled），无法取消"
    assert admin.post(f"{job}/cancel").json()["detail"] == f"job {jid} has ended (cancelled): nothing to cancel"
