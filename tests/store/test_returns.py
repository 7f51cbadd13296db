"""Returns and their review (app.submissions) on SQLite and PostgreSQL: every transition of the table, legal
and illegal; idempotency keys, also under concurrent threads; payloads kept verbatim; a submission with errors
kept as a draft with the import's own problems; units converted as imports convert them; accepting stores the
observations once, all-or-nothing; the history shows what changed; the campaign status reads the review."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pytest
from sqlalchemy import func, select

from fintech_eval.app import Workspace
from fintech_eval.app import submissions as sub
from fintech_eval.app.audit import ACTIONS, audit_entries
from fintech_eval.app.campaigns import campaign_status, create_campaign
from fintech_eval.app.intake import validate_files
from fintech_eval.collect import conversion_factor
from fintech_eval.demo.generator import generate
from fintech_eval.errors import DataError
from fintech_eval.store import Observation, observations_frame, upsert_institutions
from fintech_eval.store.models import DataReturn, IdempotencyKey, ReturnVersion
from fintech_eval.vocab import RETURN_STATES


@pytest.fixture(scope="module")
def synthetic():
    return generate(seed=5, n_institutions=8, years=range(2023, 2025))


@pytest.fixture
def round_(db_url, synthetic):
    """A workspace with the register and a 2024 campaign asking four institutions."""
    ws = Workspace(db_url)
    inst = synthetic.institutions.rename(columns={"entity_id": "id"}).drop(columns=["synthetic"], errors="ignore")
    with ws.sessions() as s, s.begin():
        upsert_institutions(s, inst, who="test", why="register")
    ids = sorted(inst["id"])
    cid = create_campaign(ws, period="2024", sample=ids[:4], deadline="2099-12-31")
    yield ws, cid, ids
    ws.close()


def answers(synthetic, entity: str) -> dict[str, float | str]:
    o = synthetic.observations
    o = o[(o["entity_id"] == entity) & (o["period"].astype(str) == "2024")]
    return {r.variable: ("N/A" if pd.isna(r.value) else float(r.value)) for r in o.itertuples()}  # declared, not blank


def _count(ws, model) -> int:
    with ws.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------------------------------- the table


@pytest.mark.parametrize("action", sorted(sub.TRANSITIONS))
@pytest.mark.parametrize("state", [None, *RETURN_STATES])
def test_every_move_of_the_table_is_allowed_or_refused_with_the_allowed_states(action, state):
    moves = sub.TRANSITIONS[action].moves
    if state in moves:
        assert sub.next_state(action, state) == moves[state]
        assert action in sub.allowed_actions(state)
    else:
        with pytest.raises(sub.ReviewError) as e:
            sub.next_state(action, state, return_id=7)
        p = e.value.problems[0]
        assert p.rule == "review.transition" and p.where["return"] == 7
        assert "allowed only from" in p.message and action not in sub.allowed_actions(state)


def test_the_table_reaches_every_state_and_names_unknown_actions():
    reached = {to for a in sub.TRANSITIONS.values() for to in a.moves.values()}
    assert reached == set(RETURN_STATES)
    with pytest.raises(sub.ReviewError, match="did you mean 'accept'"):
        sub.next_state("acept", "submitted")


# ------------------------------------------------------------------------------------------- the workflow


def test_every_transition_through_the_application(round_, synthetic):
    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    r = sub.submit(ws, e, cid, good, actor="bank", final=False)  # a draft
    assert (r.state, r.version, r.submitted) == ("draft", 1, False)
    rid = r.return_id
    for illegal in (sub.accept, lambda ws_, ids_, **kw: sub.return_for_changes(ws_, ids_[0], {"*": "x"}, **kw)):
        with pytest.raises(sub.ReviewError, match="is draft"):
            illegal(ws, [rid], actor="eva")
    assert sub.submit(ws, e, cid, good, actor="bank").state == "submitted"
    assert sub.submit(ws, e, cid, {**good, "outlets": 21.0}, actor="bank").state == "submitted"  # replaced before review
    assert sub.return_for_changes(ws, rid, {"outlets": "21 or 20?"}, actor="eva").state == "returned"
    assert sub.submit(ws, e, cid, good, actor="bank", final=False).state == "returned"  # a draft beside it
    assert sub.submit(ws, e, cid, good, actor="bank").state == "resubmitted"
    assert sub.return_for_changes(ws, rid, {}, note="call us", actor="eva").state == "returned"
    assert sub.submit(ws, e, cid, good, actor="bank").state == "resubmitted"
    assert sub.reject(ws, rid, actor="eva", note="another bank's figures").state == "rejected"
    for illegal in (lambda: sub.submit(ws, e, cid, good, actor="bank"), lambda: sub.accept(ws, [rid], actor="eva"),
                    lambda: sub.reject(ws, rid, actor="eva", note="again")):
        with pytest.raises(sub.ReviewError, match="is rejected"):
            illegal()
    assert sub.reopen(ws, rid, actor="eva", note="they sent the right file").state == "returned"
    assert sub.submit(ws, e, cid, good, actor="bank").state == "resubmitted"
    assert [x.state for x in sub.accept(ws, [rid], actor="eva")] == ["accepted"]
    for illegal in (lambda: sub.submit(ws, e, cid, good, actor="bank"), lambda: sub.accept(ws, [rid], actor="eva"),
                    lambda: sub.return_for_changes(ws, rid, {"*": "x"}, actor="eva"),
                    lambda: sub.submit(ws, e, cid, good, actor="bank", final=False)):
        with pytest.raises(sub.ReviewError, match="is accepted") as exc:
            illegal()
        assert exc.value.problems[0].rule == "review.transition"
    assert sub.reopen(ws, rid, actor="eva", note="a correction").state == "returned"
    hist = sub.return_detail(ws, rid).history
    assert list(hist["to_state"]) == ["draft", "submitted", "submitted", "returned", "returned", "resubmitted", "returned",
                                      "resubmitted", "rejected", "returned", "resubmitted", "accepted", "returned"]
    assert list(hist["who"])[:2] == ["bank", "bank"] and hist["at"].is_monotonic_increasing


def test_review_steps_need_what_they_say(round_, synthetic):
    ws, cid, ids = round_
    rid = sub.submit(ws, ids[0], cid, answers(synthetic, ids[0]), actor="bank").return_id
    with pytest.raises(sub.ReviewError) as e:
        sub.return_for_changes(ws, rid, {}, actor="eva")
    assert e.value.problems[0].rule == "review.comment"
    with pytest.raises(sub.ReviewError) as e:
        sub.return_for_changes(ws, rid, {"fintech_staf": "how many?"}, actor="eva")
    assert e.value.problems[0].rule == "review.comment_field" and "did you mean 'fintech_staff'" in e.value.problems[0].message
    with pytest.raises(sub.ReviewError) as e:
        sub.reject(ws, rid, actor="eva", note="  ")
    assert e.value.problems[0].rule == "review.note"
    with pytest.raises(DataError) as e:
        sub.accept(ws, [rid, 999], actor="eva")
    assert e.value.problems[0].rule == "review.unknown"
    assert sub.return_detail(ws, rid).summary["state"] == "submitted"  # nothing happened


def test_a_submission_with_errors_is_kept_as_a_draft_with_the_imports_own_problems(round_, synthetic, tmp_path, db_url):
    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    rows = [("institution", e, "2024", v, x, "") for v, x in good.items()]
    rows[0] = ("institution", e, "2024", rows[0][3], "abc", "")  # not a number
    rows.append(("institution", e, "2024", "fintech_staf", 3, ""))  # unknown variable
    rows.append(("institution", ids[1], "2024", "outlets", 3, ""))  # another bank's row
    csv = pd.DataFrame(rows, columns=["entity_kind", "entity", "period", "variable", "value", "unit"]).to_csv(index=False).encode()
    r = sub.submit(ws, e, cid, csv, actor="bank", file_name="bank.csv", idempotency_key="k-bad")
    assert (r.valid, r.submitted, r.state) == (False, False, "draft")
    # the problems of the import's validation of the same file, with file, row, field and rule
    f = tmp_path / "bank.csv"
    f.write_bytes(csv)
    imp = validate_files(ws, [f])
    key = {(p.rule, p.where.get("row"), p.where.get("variable")) for p in imp.problems}
    mine = {(p.rule, p.where.get("row"), p.where.get("variable")) for p in r.problems}
    assert key <= mine and mine - key == {("entity.mismatch", len(rows) + 1, None)}
    assert all(p.where["file"] == "bank.csv" for p in r.problems)
    assert r.by_field[rows[0][3]][0].rule == "cell.not_number"
    assert "did you mean 'fintech_staff'" in r.by_field["fintech_staf"][0].message
    # kept verbatim, everything typed; a retry of the same request gets the same answer and stores nothing
    data, media, name = sub.return_payload(ws, r.return_id)
    assert (data, media, name) == (csv, "text/csv", "bank.csv")
    assert sub.submit(ws, e, cid, csv, actor="bank", file_name="bank.csv", idempotency_key="k-bad").replayed
    assert _count(ws, ReturnVersion) == 1 and _count(ws, Observation) == 0
    fields = {f["variable"]: f for f in sub.return_detail(ws, r.return_id).fields.to_dict("records")}
    assert fields["fintech_staf"]["status"] == "error" and fields["outlets"]["status"] in ("ok", "error")


def test_a_mapping_with_units_is_converted_as_imports_convert_it(round_, synthetic):
    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    canonical = next(v.unit for v in ws.framework().variables if v.name == "fintech_investment")
    r = sub.submit(ws, e, cid, {**good, "fintech_investment": 1.5, "fintech_staff": "1,234"}, actor="bank",
                   units={"fintech_investment": "亿元"}, idempotency_key="k1")
    assert r.valid, r.problems
    f = {x["variable"]: x for x in r.fields}
    assert f["fintech_investment"]["unit"] == "亿元" and f["fintech_staff"]["value"] == 1234
    expected = 1.5 * conversion_factor("亿元", canonical, variable="fintech_investment")
    assert f["fintech_investment"]["value_norm"] == pytest.approx(expected, rel=1e-15)
    assert json.loads(sub.return_payload(ws, r.return_id)[0])["values"]["fintech_investment"] == {"value": 1.5, "unit": "亿元"}
    [done] = sub.accept(ws, [r.return_id], actor="eva")
    with ws.sessions() as s:
        obs = observations_frame(s, "2024", entity_ids=[e], variables=["fintech_investment"])
    assert (obs["value"].iloc[0], obs["unit"].iloc[0]) == (1.5, "亿元")
    assert obs["value_norm"].iloc[0] == pytest.approx(expected, rel=1e-15) and obs["unit_norm"].iloc[0] == canonical


# ------------------------------------------------------------------------------------------- idempotency


def test_idempotency_key_stores_once_and_refuses_another_request(round_, synthetic):
    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    first = sub.submit(ws, e, cid, good, actor="bank", idempotency_key="abc")
    again = sub.submit(ws, e, cid, good, actor="bank", idempotency_key="abc")
    assert not first.replayed and again.replayed
    assert (again.return_id, again.version, again.state, again.valid) == (first.return_id, first.version, first.state, True)
    assert _count(ws, ReturnVersion) == 1
    for other in (dict(good, outlets=99.0), good):
        with pytest.raises(DataError) as exc:
            sub.submit(ws, ids[1] if other is good else e, cid, other, actor="bank", idempotency_key="abc")
        assert exc.value.problems[0].rule == "idempotency.conflict"
    # another actor's key of the same name is another key
    assert not sub.submit(ws, e, cid, good, actor="other", idempotency_key="abc").replayed
    assert _count(ws, ReturnVersion) == 2


def _hammer(n, target):
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def test_concurrent_retries_with_one_key_store_once(round_, synthetic):
    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    results = _hammer(6, lambda i: sub.submit(ws, e, cid, good, actor="bank", idempotency_key="same"))
    assert len({(r.return_id, r.version) for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert _count(ws, ReturnVersion) == 1 and _count(ws, IdempotencyKey) == 1


def test_concurrent_first_submissions_make_one_return_with_numbered_versions(round_, synthetic):
    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    results = _hammer(6, lambda i: sub.submit(ws, e, cid, dict(good, outlets=float(i)), actor="bank", idempotency_key=f"k{i}"))
    assert len({r.return_id for r in results}) == 1 and _count(ws, DataReturn) == 1
    assert sorted(r.version for r in results) == list(range(1, 7))
    others = _hammer(3, lambda i: sub.submit(ws, ids[i + 1], cid, answers(synthetic, ids[i + 1]), actor=f"b{i}"))
    assert len({r.return_id for r in others}) == 3


# ------------------------------------------------------------------------------------------- accept


def test_accepting_stores_the_observations_once_and_all_or_nothing(round_, synthetic):
    ws, cid, ids = round_
    a, b, c = ids[:3]
    ra = sub.submit(ws, a, cid, answers(synthetic, a), actor="bank-a")
    rb = sub.submit(ws, b, cid, answers(synthetic, b), actor="bank-b")
    rc = sub.submit(ws, c, cid, answers(synthetic, c), actor="bank-c", final=False)  # a draft: not acceptable
    with pytest.raises(sub.ReviewError):
        sub.accept(ws, [ra.return_id, rb.return_id, rc.return_id], actor="eva")
    assert _count(ws, Observation) == 0  # all-or-nothing
    done = sub.accept_submitted(ws, cid, actor="eva", note="checked")
    assert {d.return_id for d in done} == {ra.return_id, rb.return_id}
    n = sum(f["value"] is not None for f in ra.fields) + sum(f["value"] is not None for f in rb.fields)
    n_all = len(ra.fields) + len(rb.fields)
    assert _count(ws, Observation) == n_all and sum(d.stored_rows for d in done) == n_all and n <= n_all
    with pytest.raises(sub.ReviewError):
        sub.accept(ws, [ra.return_id], actor="eva")
    assert _count(ws, Observation) == n_all
    with ws.sessions() as s:  # the import's submission: the payload as read, received when it was submitted
        det = sub.return_detail(ws, ra.return_id)
        o = observations_frame(s, "2024", entity_ids=[a], columns=["entity_kind", "entity_id", "period", "variable", "submission_id"])
    assert set(o["submission_id"]) == {det.summary["submission_id"]}
    st = campaign_status(ws, cid).entities.set_index("entity_id")
    assert st.loc[a, "accepted"] and st.loc[a, "review_state"] == "accepted" and st.loc[a, "status"] == "on_time"
    assert not st.loc[c, "accepted"] and st.loc[c, "review_state"] == "draft" and st.loc[c, "status"] == "missing"
    assert pd.isna(st.loc[ids[3], "review_state"])


def test_history_shows_the_values_changed_between_versions(round_, synthetic):
    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    rid = sub.submit(ws, e, cid, good, actor="bank").return_id
    sub.return_for_changes(ws, rid, {"outlets": "Is it 20?", "*": "please check the staff too"}, actor="eva")
    det = sub.return_detail(ws, rid)
    assert det.comments == {"outlets": "Is it 20?", "*": "please check the staff too"} and "submit" in det.allowed
    sub.submit(ws, e, cid, dict(good, outlets=good["outlets"] + 1), actor="bank")
    h = sub.return_detail(ws, rid).history
    last = h.iloc[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == ("submit", "returned", "resubmitted")
    assert last["changes"] == {"outlets": {"old": f"{good['outlets']:g}", "new": f"{good['outlets'] + 1:g}"}}
    assert h.iloc[1]["comments"]["outlets"] == "Is it 20?"
    assert sub.return_detail(ws, rid).comments == {}


def test_what_changed_is_against_the_newest_version_whoever_stored_it(round_, synthetic, db_url):
    """Each server process remembers the shown values of the versions it stored (a resubmission is compared with
    them without reading them back): a version stored meanwhile by another process (here a second workspace on
    the same database: an engine of its own) is the one compared with, never the remembered older one."""
    from fintech_eval.store import returns as store

    ws, cid, ids = round_
    other = Workspace(db_url)
    try:
        e, good = ids[1], answers(synthetic, ids[1])
        rid = sub.submit(ws, e, cid, good, actor="bank", final=False).return_id
        sub.submit(other, e, cid, dict(good, outlets=good["outlets"] + 1), actor="bank", final=False)
        sub.submit(ws, e, cid, dict(good, outlets=good["outlets"] + 2), actor="bank", final=False)
        sub.submit(ws, e, cid, dict(good, outlets=good["outlets"] + 2, fintech_staff=7), actor="bank", final=False)
        h = sub.return_detail(ws, rid).history
        shown = [f"{good['outlets'] + k:g}" for k in range(3)]
        assert list(h["changes"])[1:3] == [{"outlets": {"old": shown[0], "new": shown[1]}},
                                                   {"outlets": {"old": shown[1], "new": shown[2]}}]
        assert h.iloc[3]["changes"] == {"fintech_staff": {"old": f"{good['fintech_staff']:g}", "new": "7"}}
        # what this process remembers is its newest version's (4), by its number and time
        newest = sub.return_detail(ws, rid).versions.iloc[-1]
        assert store.RECENT.get(ws.engine, rid, store._stamp(4, newest["submitted_at"])) is not None
        assert store.RECENT.get(other.engine, rid, store._stamp(4, newest["submitted_at"])) is None
    finally:
        other.close()


def test_a_questionnaire_workbook_is_a_return(round_, tmp_path):
    from fintech_eval.collect import write_template
    from fintech_eval.store import institutions_frame
    from tests.collect.malformed.generators import value_rows

    ws, cid, ids = round_
    e = ids[0]
    with ws.sessions() as s:
        ent = institutions_frame(s).set_index("id").loc[e].to_dict() | {"id": e}
    path = write_template(ws.framework(), ent, "2024", tmp_path)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    rows = value_rows(wb)
    wb["Questionnaire"][f"D{rows['outlets']}"] = "-5"
    wb.save(path)
    r = sub.submit(ws, e, cid, path.read_bytes(), actor="bank", file_name=path.name)
    assert not r.valid and r.by_field["outlets"][0].rule in ("range.negative", "cell.formula_injection")
    assert sub.return_payload(ws, r.return_id)[1] == sub.XLSX
    other = sub.submit(ws, ids[1], cid, path.read_bytes(), actor="bank", file_name=path.name)  # another bank's workbook
    assert not other.valid and "entity.mismatch" in {p.rule for p in other.errors}


def test_outliers_among_the_returns_accepted_together_are_flagged_with_their_reason(db_url):
    data = generate(seed=5, n_institutions=20, years=range(2023, 2025))
    ws = Workspace(db_url)
    try:
        inst = data.institutions.rename(columns={"entity_id": "id"}).drop(columns=["synthetic"], errors="ignore")
        with ws.sessions() as s, s.begin():
            upsert_institutions(s, inst, who="test", why="register")
        banks = sorted(inst.loc[inst["sector"] == "bank", "id"])[:6]
        cid = create_campaign(ws, period="2024", sample=banks)
        rids = {}
        for i, b in enumerate(banks):
            vals = answers(data, b)
            if i == 0:
                vals["outlets"] = vals["outlets"] * 100_000  # a unit slip
            rids[b] = sub.submit(ws, b, cid, vals, actor=b).return_id
        dry = sub.accept_submitted(ws, cid, actor="eva", dry_run=True)
        flagged = {(d.entity_id, p.where["variable"]) for d in dry for p in d.warnings if p.rule == "outlier"}
        assert (banks[0], "outlets") in flagged and _count(ws, Observation) == 0
        reason = next(p.message for d in dry for p in d.warnings if p.where["variable"] == "outlets")
        assert "robust z-score" in reason and "median" in reason
        sub.accept_submitted(ws, cid, actor="eva")
        with ws.sessions() as s:
            o = observations_frame(s, "2024", entity_ids=[banks[0]], variables=["outlets"])
        assert o["status"].iloc[0] == "flagged" and "robust z-score" in o["flag_reason"].iloc[0]
    finally:
        ws.close()


def test_the_docs_show_every_action_of_the_table():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "returns.md").read_text(encoding="utf-8")
    for name, a in sub.TRANSITIONS.items():
        assert f"| `{name}` | {a.by} |" in doc, name


def test_texts_the_database_could_not_keep_are_refused_before_anything_is_stored(round_, synthetic):
    ws, cid, ids = round_
    good = answers(synthetic, ids[0])
    cases = [
        (dict(entity="B" * 65), "text.too_long"),
        (dict(idempotency_key="k" * 201), "text.too_long"),
        (dict(idempotency_key="a\x1bb"), "text.control_character"),
        (dict(actor="x" * 201), "text.too_long"),
        (dict(payload=b"entity,period,variable,value\n", file_name="n" * 600 + ".csv"), "file.name"),
    ]
    for over, rule in cases:
        kw = {"entity": ids[0], "payload": good, "actor": "bank"} | over
        with pytest.raises(DataError) as e:
            sub.submit(ws, kw.pop("entity"), cid, kw.pop("payload"), **kw)
        assert e.value.problems[0].rule == rule, over
    assert _count(ws, DataReturn) == 0 and _count(ws, ReturnVersion) == 0


def test_submit_many_gives_each_request_what_submit_would(round_, synthetic):
    ws, cid, ids = round_
    a, b = ids[0], ids[1]
    va, vb = answers(synthetic, a), answers(synthetic, b)
    R = sub.SubmitRequest
    out = sub.submit_many(ws, [
        R(a, cid, va, "bank-a", "ka"),
        R(b, cid, {**vb, "outlets": "many"}, "bank-b", "kb"),  # an error: kept as a draft
        R(a, cid, dict(va, outlets=va["outlets"] + 1), "bank-a", "ka2"),  # a second version of a's return
        R(a, cid, va, "bank-a", "ka"),  # a retry inside the batch
        R(a, cid, dict(va, outlets=1.0), "bank-a", "ka"),  # the same key, another request
        R(a, 999, va, "bank-a"),  # no such campaign
        R(ids[5], cid, answers(synthetic, ids[5]), "bank-x"),  # outside the sample: a warning
    ])
    assert [type(x).__name__ for x in out] == ["SubmitResult"] * 4 + ["DataError", "DataError", "SubmitResult"]
    assert (out[0].state, out[0].version, out[0].replayed) == ("submitted", 1, False)
    assert (out[1].state, out[1].valid) == ("draft", False) and out[1].by_field["outlets"][0].rule == "cell.not_number"
    assert (out[2].return_id, out[2].version) == (out[0].return_id, 2)
    assert out[3].replayed and (out[3].return_id, out[3].version) == (out[0].return_id, 1)
    assert out[4].problems[0].rule == "idempotency.conflict" and out[5].problems[0].rule == "campaign.which"
    assert [p.rule for p in out[6].warnings] == ["campaign.outside_sample"] and out[6].submitted
    # the same as one by one: the problems of b's return
    single = sub.submit(ws, b, cid, {**vb, "outlets": "many"}, actor="bank-b")
    assert [(p.rule, p.where.get("variable")) for p in single.problems] == [(p.rule, p.where.get("variable")) for p in out[1].problems]
    assert _count(ws, ReturnVersion) == 5


def test_a_return_without_a_campaign_is_scoped_by_framework_and_period(round_, synthetic):
    ws, cid, ids = round_
    e = ids[0]
    r = sub.submit(ws, e, None, answers(synthetic, e), actor="bank", period="2024")
    in_campaign = sub.submit(ws, e, cid, answers(synthetic, e), actor="bank")
    assert r.return_id != in_campaign.return_id  # two scopes, two returns
    row = sub.returns_list(ws, ids=[r.return_id]).iloc[0]
    assert pd.isna(row["campaign_id"]) and (row["framework"], row["period"]) == ("jrt0201-2020", "2024")
    assert [x.state for x in sub.accept(ws, [r.return_id], actor="eva")] == ["accepted"]
    assert list(sub.returns_list(ws, cid)["id"]) == [in_campaign.return_id]


def test_two_evaluators_accepting_at_once_store_the_values_once(round_, synthetic):
    ws, cid, ids = round_
    r = sub.submit(ws, ids[0], cid, answers(synthetic, ids[0]), actor="bank")
    outcomes: list[object] = []

    def one(_i):
        try:
            return sub.accept(ws, [r.return_id], actor="eva")
        except sub.ReviewError as exc:
            return exc

    outcomes = _hammer(3, one)
    won = [o for o in outcomes if isinstance(o, list)]
    lost = [o for o in outcomes if isinstance(o, sub.ReviewError)]
    assert len(won) == 1 and len(lost) == 2
    assert {o.problems[0].rule for o in lost} <= {"review.changed", "review.transition"}
    assert _count(ws, Observation) == len(r.fields)
    hist = sub.return_detail(ws, r.return_id).history
    assert list(hist["action"]).count("accept") == 1


def test_every_change_of_state_is_audited(round_, synthetic):
    from fintech_eval.store import history, row_key

    ws, cid, ids = round_
    rid = sub.submit(ws, ids[0], cid, answers(synthetic, ids[0]), actor="bank").return_id
    sub.return_for_changes(ws, rid, {"*": "the staff figures"}, actor="eva")
    sub.submit(ws, ids[0], cid, answers(synthetic, ids[0]), actor="bank")
    sub.accept(ws, [rid], actor="eva", note="checked by phone")
    with ws.sessions() as s:
        trail = history(s, row_key(rid), table="data_return")
    assert [(r.field, r.old, r.new, r.who) for r in trail.itertuples()] == [
        ("state", None, "submitted", "bank"), ("state", "submitted", "returned", "eva"), ("state", "returned", "resubmitted", "bank"),
        ("state", "resubmitted", "accepted", "eva")]
    assert trail["why"].iloc[-1] == "checked by phone"


def _audited(ws, prefix: str = "review.") -> list[tuple]:
    rows = [e for e in audit_entries(ws, limit=500)[0] if e["action"].startswith(prefix)]
    return [(e["action"], e["object"], e["actor"], e["actor_id"], e["ip"], e["detail"]) for e in reversed(rows)]


def test_every_review_step_is_in_the_audit_log_whoever_takes_it(round_, synthetic):
    """The application writes the audit entry of each step (the web and the CLI call the same functions): the
    caller's id and address when it knows them, the note, and the fields a return for changes commented on."""
    ws, cid, ids = round_
    a, b = ids[:2]
    ra = sub.submit(ws, a, cid, answers(synthetic, a), actor="bank-a").return_id
    rb = sub.submit(ws, b, cid, answers(synthetic, b), actor="bank-b").return_id
    sub.accept(ws, [ra], actor="eva", dry_run=True)  # a dry run stores and audits nothing
    assert _audited(ws) == []
    sub.return_for_changes(ws, ra, {"outlets": "12 last year?", "": "see the staff too"}, actor="eva@example.org",
                           actor_id=7, ip="10.0.0.5")
    sub.reject(ws, rb, actor="eva", note="another bank's figures")
    sub.submit(ws, a, cid, answers(synthetic, a), actor="bank-a")
    sub.accept_submitted(ws, cid, actor="eva@example.org", note="checked", actor_id=7, ip="10.0.0.5")
    sub.reopen(ws, ra, actor="eva", note="the auditors asked")
    assert _audited(ws) == [
        ("review.return", f"return:{ra}", "eva@example.org", 7, "10.0.0.5",
         {"from": "submitted", "to": "returned", "version": 1, "fields": ["*", "outlets"]}),
        ("review.reject", f"return:{rb}", "eva", None, None,
         {"from": "submitted", "to": "rejected", "version": 1, "note": "another bank's figures"}),
        ("review.accept", f"return:{ra}", "eva@example.org", 7, "10.0.0.5",
         {"from": "resubmitted", "to": "accepted", "version": 2, "note": "checked"}),
        ("review.reopen", f"return:{ra}", "eva", None, None,
         {"from": "accepted", "to": "returned", "version": 2, "note": "the auditors asked"}),
    ]
    assert {x for x, *_ in _audited(ws, "")} <= set(ACTIONS)


def test_a_failed_accept_writes_no_audit_entry(round_, synthetic, monkeypatch):
    """All-or-nothing includes the audit log: an accept refused by validation, or one that fails half-way through
    its transaction (a return changed meanwhile), leaves no ``review.accept`` entry for any return, nor values."""
    ws, cid, ids = round_
    a, b = ids[:2]
    ra = sub.submit(ws, a, cid, answers(synthetic, a), actor="bank-a").return_id
    vb = answers(synthetic, b)
    rb = sub.submit(ws, b, cid, vb, actor="bank-b").return_id
    # validation: b's fintech_staff_prev_end no longer agrees with the 2023 fintech_staff stored since it was submitted
    old = sub.submit(ws, b, None, {"fintech_staff": float(vb["fintech_staff_prev_end"]) + 40}, actor="bank-b",
                     period="2023")
    sub.accept(ws, [old.return_id], actor="eva")
    before = _audited(ws)
    with pytest.raises(DataError) as e:
        sub.accept(ws, [ra, rb], actor="eva", actor_id=7, ip="10.0.0.5")
    assert "turnover.inconsistent" in {p.rule for p in e.value.problems}
    assert _audited(ws) == before
    # half-way: a is accepted inside the transaction, then b is found changed: everything rolls back
    sub.submit(ws, b, cid, {**vb, "fintech_staff_prev_end": float(vb["fintech_staff_prev_end"]) + 40}, actor="bank-b")
    real_check = sub.check

    def check_then_b_changes(*args, **kw):
        out = real_check(*args, **kw)
        monkeypatch.setattr(sub, "check", real_check)
        sub.submit(ws, b, cid, {**vb, "fintech_staff_prev_end": float(vb["fintech_staff_prev_end"]) + 40, "outlets": 3},
                   actor="bank-b")
        return out

    monkeypatch.setattr(sub, "check", check_then_b_changes)
    n_obs = _count(ws, Observation)
    with pytest.raises(sub.ReviewError) as e:
        sub.accept(ws, [ra, rb], actor="eva")
    assert e.value.problems[0].rule == "review.changed" and e.value.problems[0].where == {"return": rb}
    assert _audited(ws) == before and _count(ws, Observation) == n_obs
    assert sub.return_detail(ws, ra).summary["state"] == "submitted"
    assert [x.return_id for x in sub.accept(ws, [ra, rb], actor="eva")] == [ra, rb]
    assert [(x, o) for x, o, *_ in _audited(ws)][-2:] == [("review.accept", f"return:{ra}"), ("review.accept", f"return:{rb}")]


def test_the_form_of_a_return_shows_what_was_typed_its_problems_and_the_comments(round_, synthetic):
    from fintech_eval.collect import applicable_variables

    ws, cid, ids = round_
    e = ids[0]
    empty = sub.return_form(ws, e, cid, lang="en")
    sector = empty["sector"]
    assert [f["variable"] for f in empty["fields"]] == [v.name for v, _ in applicable_variables(ws.framework(), sector)]
    assert empty["return_id"] is None and empty["allowed"] == ["save", "submit"]
    money = next(f for f in empty["fields"] if f["type"] == "money")
    assert "亿元" in money["units"] and money["label"]
    vals = answers(synthetic, e)
    r = sub.submit(ws, e, cid, {**vals, "outlets": "a lot"}, actor="bank")
    form = sub.return_form(ws, e, cid)
    by = {f["variable"]: f for f in form["fields"]}
    assert (form["return_id"], form["state"]) == (r.return_id, "draft")
    assert by["outlets"]["raw"] == "a lot" and by["outlets"]["status"] == "error"
    assert any("cell.not_number" in p for p in by["outlets"]["problems"])
    sub.submit(ws, e, cid, vals, actor="bank")
    sub.return_for_changes(ws, r.return_id, {"outlets": "really?", "*": "see the note"}, actor="eva")
    form = sub.return_form(ws, e, cid)
    assert form["state"] == "returned" and form["comment"] == "see the note"
    assert {f["variable"]: f["comment"] for f in form["fields"]}["outlets"] == "really?"
    with pytest.raises(DataError, match="not in the institution register"):
        sub.return_form(ws, e + "X", cid)


def test_a_json_key_given_twice_is_the_imports_error(round_, synthetic):
    ws, cid, ids = round_
    vals = answers(synthetic, ids[0])
    body = json.dumps(vals)[:-1] + ', "outlets": 1}'  # outlets twice: which one counts?
    r = sub.submit(ws, ids[0], cid, body.encode(), actor="bank", media_type="application/json")
    assert not r.valid and [p.rule for p in r.errors] == ["json.duplicate_key"]
    nested = json.dumps({"values": vals})[:-2] + ', "outlets": 1}}'
    r = sub.submit(ws, ids[0], cid, nested.encode(), actor="bank", file_name="r.json")
    assert not r.valid and [p.rule for p in r.errors] == ["json.duplicate_key"]
    assert sub.return_payload(ws, r.return_id)[0] == nested.encode()


def test_campaign_status_judges_a_return_by_its_first_valid_submission(round_, synthetic):
    ws, _cid, ids = round_
    past = create_campaign(ws, period="2024", sample=ids[:3], deadline="2020-01-31")  # every return is late
    late, draft_only = ids[0], ids[1]
    sub.submit(ws, late, past, answers(synthetic, late), actor="bank")
    sub.submit(ws, draft_only, past, answers(synthetic, draft_only), actor="bank", final=False)
    st = campaign_status(ws, past).entities.set_index("entity_id")
    assert (st.loc[late, "status"], st.loc[late, "review_state"], bool(st.loc[late, "accepted"])) == ("late", "submitted", False)
    assert (st.loc[draft_only, "status"], st.loc[draft_only, "review_state"]) == ("missing", "draft")
    assert st.loc[draft_only, "overdue"] and st.loc[late, "answered"] == sum(v != "N/A" for v in answers(synthetic, late).values())


def test_a_returns_own_reason_to_accept_a_unit_check_is_audited_when_accepted(round_, synthetic, tmp_path):
    """A web return may carry accept_reason beside a value 10,000× its stored previous one: it is submitted (a
    warning), and accepting the return writes the acceptance into the value's audit trail, as an import does."""
    from fintech_eval.app.intake import import_files
    from fintech_eval.app.observations import value_history

    ws, cid, ids = round_
    e = ids[0]
    good = answers(synthetic, e)
    rev = good["operating_revenue"]
    prev = tmp_path / "prev.csv"
    prev.write_text(f"entity,period,variable,value,unit\n{e},2023,operating_revenue,{rev / 10_000},万元\n", encoding="utf-8")
    import_files(ws, [prev])
    rows = [(e, "2024", v, x, "", "merged with a large bank" if v == "operating_revenue" else "") for v, x in good.items()]
    csv = pd.DataFrame(rows, columns=["entity", "period", "variable", "value", "unit", "accept_reason"]).to_csv(index=False)
    r = sub.submit(ws, e, cid, csv.encode(), actor="bank", file_name="bank.csv")
    assert r.state == "submitted", r.problems
    assert [p.where.get("accepted") for p in r.problems if p.rule == "unit.factor"] == ["merged with a large bank"]
    assert [x.state for x in sub.accept(ws, [r.return_id], actor="eva")] == ["accepted"]
    _, trail = value_history(ws, "institution", e, "2024", "operating_revenue")
    assert [(t.field, t.new, t.who, t.why) for t in trail.itertuples()] == [
        ("unit.factor", "accepted", "bank", "merged with a large bank")]
