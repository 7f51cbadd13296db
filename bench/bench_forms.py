"""The questionnaire forms and their review, in process (the ASGI app through Starlette's TestClient, SQLite):
what one person's clicks cost the server.

    python bench/bench_forms.py [--institutions 40] [--db URL]

For each of ``--institutions`` banks of one campaign, one after another: render its form (``GET
/returns/new``, the 80 variables of a bank), autosave a draft (``PUT /api/v1/campaigns/1/forms/{id}/draft``),
submit the complete form through the import's validation (``POST /returns/submit``), and render the evaluator's
review page (``GET /returns/{id}``); then the evaluator accepts all of them at once from the list (``POST
/returns/accept``: validated again together, stored through the import path). Prints p50 and p99 per step and
the accept-many time; every answer must be the expected one. Set-up (database, register, accounts) is not timed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _load import load_note

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("FINTECH_EVAL_ARGON2_TIME_COST", "1")
os.environ.setdefault("FINTECH_EVAL_ARGON2_MEMORY_KIB", "8192")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--institutions", type=int, default=40)
    ap.add_argument("--db", default=None, help="a database URL (default: a new SQLite file)")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from fintech_eval.app import Workspace
    from fintech_eval.app.accounts import create_user
    from fintech_eval.app.campaign_staff import assign_staff
    from fintech_eval.app.campaigns import create_campaign
    from fintech_eval.app.registers import register_file
    from fintech_eval.app.submissions import return_form, returns_list
    from fintech_eval.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-forms-"))
    ws = Workspace(args.db or f"sqlite+pysqlite:///{tmp / 'forms.sqlite'}")
    ids = [f"B{i:04d}" for i in range(1, args.institutions + 1)]
    provinces = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
                 "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"]
    (tmp / "inst.csv").write_text("id,name_zh,name_en,sector,region_code\n" + "".join(
        f"{e},银行{e},Bank {e},bank,{provinces[i % len(provinces)]}\n" for i, e in enumerate(ids)), encoding="utf-8")
    register_file(ws, tmp / "inst.csv", "institutions")
    cid = create_campaign(ws, period="2024", sample=ids, deadline="2025-03-31")
    create_user(ws, email="e@example.org", role="evaluator", password="bench passphrase 1")
    assign_staff(ws, cid, "e@example.org", who="bench")  # evaluators see their campaigns
    app = create_app(workspace=ws)
    c = TestClient(app)
    r = c.post("/api/v1/auth/sign-in", json={"email": "e@example.org", "password": "bench passphrase 1"})
    c.headers["X-CSRF-Token"] = csrf = r.json()["csrf_token"]
    variables = [f["variable"] for f in return_form(ws, ids[0], cid)["fields"]]
    rng = np.random.default_rng(7)
    steps: dict[str, list[float]] = {"render the form": [], "autosave a draft": [], "submit (validated)": [],
                                     "render the review page": []}

    def timed(step: str, call, expect: int):
        t0 = time.perf_counter()
        resp = call()
        steps[step].append(time.perf_counter() - t0)
        if resp.status_code != expect:
            raise SystemExit(f"{step}: expected {expect}, got {resp.status_code}: {resp.text[:300]}")
        return resp

    for e in ids:
        form = {f"v.{v}": "N/A" for v in variables}
        staff, emp = int(rng.integers(50, 500)), int(rng.integers(1000, 5000))
        form.update({"v.fintech_staff": str(staff), "v.employees": str(emp), "v.fintech_investment": f"{rng.uniform(1, 9):.2f}",
                     "u.fintech_investment": "亿元", "campaign": str(cid), "entity": e, "csrf_token": csrf})
        timed("render the form", lambda e=e: c.get(f"/returns/new?campaign={cid}&entity={e}"), 200)
        timed("autosave a draft", lambda e=e, staff=staff: c.put(
            f"/api/v1/campaigns/{cid}/forms/{e}/draft", json={"values": {"fintech_staff": str(staff)}}), 200)
        r = timed("submit (validated)", lambda form=form: c.post("/returns/submit", data=form, follow_redirects=False), 303)
        timed("render the review page", lambda r=r: c.get(r.headers["location"]), 200)
    pending = [str(i) for i in returns_list(ws, cid, state="submitted")["id"]]
    t0 = time.perf_counter()
    r = c.post("/returns/accept", data={"csrf_token": csrf, "ids": pending}, follow_redirects=False)
    accept_s = time.perf_counter() - t0
    if r.status_code != 303 or set(returns_list(ws, cid)["state"]) != {"accepted"}:
        raise SystemExit(f"accept many failed: {r.status_code} {r.text[:300]}")
    print(f"forms of {len(ids)} banks ({len(variables)} variables each), in process on "
          f"{'sqlite' if args.db is None else args.db.split(':')[0]}:")
    for step, xs in steps.items():
        ms = np.array(xs) * 1000
        print(f"  {step}: p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms")
    print(f"accept {len(pending)} returns at once from the list: {accept_s:.2f} s")
    note = load_note()
    if note:
        print(note)
    ws.close()


if __name__ == "__main__":
    main()
