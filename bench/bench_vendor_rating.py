"""The evaluator's loop in the browser, timed in process (the web app through its ASGI test client, the same
code as a served request): a product vendor's comprehensive assessment with every applicable indicator answered
(a step with an evidence reference) and ``--files`` evidence files.

    python bench/bench_vendor_rating.py [--repeat 20] [--files 20] [--db URL]

1. one changed step saved and the rating recomputed: ``PUT …/answers`` (what the page sends when a step
   changes; the answer carries the new rating): median and p90;
2. the assessment page (rubric of every indicator, the rating, the history): ``GET /vendors/V001/assessments/1``;
3. the live panel the page's script redraws after a save: ``GET /vendors/V001/assessments/1?part=rating``;
4. publishing (the rating frozen): once.
Set-up (database, register, account, answers, files) is not timed. Prints figures and a load note.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("FINTECH_EVAL_ARGON2_TIME_COST", "1")  # sign-in is not what is measured here
os.environ.setdefault("FINTECH_EVAL_ARGON2_MEMORY_KIB", "8192")

PASSWORD = "bench passphrase 1"


def timed(fn, repeat: int) -> np.ndarray:
    out = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--db", default=None, help="a database URL (default: a SQLite file in a temporary folder)")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from fintech_eval.app import Workspace
    from fintech_eval.app.accounts import create_user
    from fintech_eval.app.registers import register_file
    from fintech_eval.app.vendor_assessments import add_evidence, create_assessment, rubric, save_answers
    from fintech_eval.web.app import create_app
    from fintech_eval.web.settings import WebSettings

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite+pysqlite:///{Path(tmp) / 'bench.sqlite'}"
        ws = Workspace(db)
        (Path(tmp) / "v.csv").write_text("id,name_zh,name_en,provider_type\nV001,甲科技,Tech A,product\n", encoding="utf-8")
        register_file(ws, Path(tmp) / "v.csv", "vendors")
        create_user(ws, email="ev@example.org", role="evaluator", password=PASSWORD)
        a = create_assessment(ws, "V001", model="comprehensive", round="bench", who="ev@example.org")
        aid = a["id"]
        inds = [i for cap in rubric(ws, aid) for el in cap["elements"] for i in el["indicators"]]
        answers = [{"indicator": i["code"], "evidence_ref": f"archive {n}",
                    **({"step": i["steps"][len(i["steps"]) // 2]["step"]} if i["scoring"] == "rubric"
                       else {"value": 1.0})} for n, i in enumerate(inds)]
        save_answers(ws, aid, answers, who="ev@example.org")
        for n in range(args.files):
            add_evidence(ws, aid, inds[n % len(inds)]["code"], f"evidence-{n}.pdf", b"%PDF-1.4 " + os.urandom(50_000),
                         who="ev@example.org")
        app = create_app(WebSettings(), workspace=ws)
        with TestClient(app) as c:
            r = c.post("/api/v1/auth/sign-in", json={"email": "ev@example.org", "password": PASSWORD})
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            base = f"/api/v1/vendors/V001/assessments/{aid}"
            rubric_codes = [i for i in inds if i["scoring"] == "rubric"]

            def save(k: int) -> None:
                ind = rubric_codes[k % len(rubric_codes)]
                step = ind["steps"][(k % 2) + 1]["step"]
                r = c.put(f"{base}/answers", json={"answers": [{"indicator": ind["code"], "step": step,
                                                                "evidence_ref": "archive"}]})
                assert r.status_code == 200, r.text

            def page(_k: int) -> None:
                r = c.get(f"/vendors/V001/assessments/{aid}")
                assert r.status_code == 200, r.text

            def rating(_k: int) -> None:
                assert c.get(f"/vendors/V001/assessments/{aid}?part=rating").status_code == 200

            s, p, g = timed(save, args.repeat), timed(page, args.repeat), timed(rating, args.repeat)
            size = len(c.get(f"/vendors/V001/assessments/{aid}").content)
            t = time.perf_counter()
            assert c.post(f"{base}/publish").status_code == 200
            pub = (time.perf_counter() - t) * 1000
        ws.close()
    kind = "postgresql" if db.startswith("postgresql") else "sqlite"
    print(f"vendor assessment on {kind}: {len(inds)} indicators answered, {args.files} evidence files, "
          f"{args.repeat} repetitions")
    print(f"save one step + rating: median {np.median(s):.1f} ms, p90 {np.percentile(s, 90):.1f} ms")
    print(f"assessment page ({size / 1024:.0f} kB): median {np.median(p):.1f} ms, p90 {np.percentile(p, 90):.1f} ms")
    print(f"live rating panel: median {np.median(g):.1f} ms, p90 {np.percentile(g, 90):.1f} ms")
    print(f"publish: {pub:.1f} ms")
    note = load_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
