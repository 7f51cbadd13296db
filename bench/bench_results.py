"""Results on the web: scoring a round from the API and reading its dashboards, in process (FastAPI's test
client, no network), on SQLite.

    python bench/bench_results.py [--institutions 600] [--repeat 5]

Set-up (not timed): the demo generator's synthetic institutions of one year (2024) registered and imported, a
campaign asking all of them, an evaluator and a viewer. Timed: ``POST /api/v1/runs`` (the request the page's
"score" button makes: it queues the scoring job and answers 202), the job (score J, H, Q of the campaign, run
here as the server's job runner runs it), ``POST …/publish`` (with the HTML reports), then as the
viewer the median of ``--repeat`` requests of each dashboard: the ranking (API, filtered by sector), the run
page, a scorecard page, the province map page (Q), the industry page, and a scorecard PDF (first request:
rendered; then served from the run folder). Prints seconds and a load note.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FINTECH_EVAL_ARGON2_TIME_COST", "1")
os.environ.setdefault("FINTECH_EVAL_ARGON2_MEMORY_KIB", "8192")

from fastapi.testclient import TestClient  # noqa: E402

from _load import load_note  # noqa: E402
from fintech_eval.app import Workspace  # noqa: E402
from fintech_eval.app.accounts import create_user  # noqa: E402
from fintech_eval.app.campaign_staff import assign_staff  # noqa: E402
from fintech_eval.app.campaigns import create_campaign  # noqa: E402
from fintech_eval.app.intake import import_files  # noqa: E402
from fintech_eval.app.jobs import drain  # noqa: E402
from fintech_eval.app.registers import register_file  # noqa: E402
from fintech_eval.demo.generator import generate  # noqa: E402
from fintech_eval.web.app import create_app  # noqa: E402
from fintech_eval.web.settings import WebSettings  # noqa: E402

PASSWORD = "a long bench password"


def setup(tmp: Path, n: int) -> tuple[Workspace, int, str]:
    data = generate(seed=3, n_institutions=n, years=range(2024, 2025))
    ws = Workspace(str(tmp / "results.sqlite"))
    reg = tmp / "register.csv"
    data.institutions.rename(columns={"entity_id": "id"})[["id", "name_zh", "name_en", "sector", "subtype", "region_code"]].to_csv(reg, index=False)
    register_file(ws, reg, "institutions")
    obs = tmp / "returns.csv"
    data.observations.rename(columns={"entity_id": "entity"})[
        ["entity_kind", "entity", "period", "variable", "value", "unit", "source"]].to_csv(obs, index=False, na_rep="N/A")
    import_files(ws, [obs], user="bench")
    members = data.institutions["entity_id"].tolist()
    cid = create_campaign(ws, period="2024", sample=members, name="bench round")
    for role in ("evaluator", "viewer"):
        create_user(ws, email=f"{role}@example.org", role=role, password=PASSWORD)
    assign_staff(ws, cid, "evaluator@example.org", who="bench")  # evaluators see their campaigns
    return ws, cid, members[0]


def client(app, role: str) -> TestClient:
    c = TestClient(app)
    r = c.post("/api/v1/auth/sign-in", json={"email": f"{role}@example.org", "password": PASSWORD})
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def timed(call, repeat: int = 1) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - t)
        assert out.status_code < 400, out.text[:500]
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--institutions", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws, cid, entity = setup(Path(tmp), a.institutions)
        app = create_app(WebSettings(runs_dir=str(Path(tmp) / "runs")), workspace=ws)
        ev, viewer = client(app, "evaluator"), client(app, "viewer")
        queued, r = timed(lambda: ev.post("/api/v1/runs", json={"campaign": cid}))  # 202: the job
        t = time.perf_counter()
        drain(ws)  # what the server's job runner does with it
        took = time.perf_counter() - t
        job = ev.get(r.headers["location"]).json()
        assert job["state"] == "succeeded", job
        run = int(job["result"]["ref"].split(":")[1])
        print(f"score {a.institutions} institutions (J, H, Q): the request {queued * 1000:.0f} ms (202, queued), "
              f"the job {took:.2f} s")
        took, _ = timed(lambda: ev.post(f"/api/v1/runs/{run}/publish", json={}))
        print(f"publish with the HTML reports: {took:.2f} s")
        pages = {
            "ranking API (sector=bank)": f"/api/v1/runs/{run}/ranking?sector=bank&limit=500",
            "run page (ranking, filters, downloads)": f"/results/{run}",
            "scorecard page": f"/results/{run}/entities/{entity}",
            "province map page": f"/results/{run}/map",
            "industry page (Plan tasks)": f"/results/{run}/industry?sector=bank",
        }
        for label, path in pages.items():
            took, _ = timed(lambda p=path: viewer.get(p), a.repeat)
            print(f"{label}: median {took * 1000:.0f} ms")
        name = f"J-2024_scorecard_{entity}.zh.pdf"
        first, _ = timed(lambda: viewer.get(f"/api/v1/runs/{run}/files/{name}"))
        again, _ = timed(lambda: viewer.get(f"/api/v1/runs/{run}/files/{name}"), a.repeat)
        print(f"scorecard PDF: first {first:.2f} s (rendered), then median {again * 1000:.0f} ms (kept)")
        ws.close()
    note = load_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
