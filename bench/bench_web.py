"""The web platform on loopback: a real ``fintech-eval serve`` (uvicorn, one worker) on 127.0.0.1 and a
bounded load against it.

    python bench/bench_web.py [--institutions 5000] [--sign-ins 20] [--requests 2000] [--clients 8] [--seconds 60] [--db URL]

1. sign-in latency: ``POST /api/v1/auth/sign-in`` one after another (argon2 at its default cost unless
   ``$FINTECH_EVAL_ARGON2_TIME_COST``/``_MEMORY_KIB`` say otherwise): p50 and p99.
2. authenticated reads: ``--clients`` threads with keep-alive connections send
   ``GET /api/v1/registers/institutions/{id}`` with an API token (authentication, policy, the register read
   through the application layer) until ``--requests`` are answered or ``--seconds`` pass: throughput, p50, p99.
Every answer must be 200. Set-up (database, register, accounts, server start) is not timed. Sends traffic
only to 127.0.0.1; the server is stopped at the end. Prints figures and a load note.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _load import load_note

PASSWORD = "bench passphrase 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(conn: http.client.HTTPConnection, method: str, path: str, body=None, headers=None) -> tuple[int, bytes, dict]:
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json"} if data else {}
    conn.request(method, path, body=data, headers={**h, **(headers or {})})
    r = conn.getresponse()
    return r.status, r.read(), dict(r.getheaders())


def setup(db: str, institutions: int, tmp: Path) -> None:
    from fintech_eval.app import Workspace
    from fintech_eval.app.accounts import create_user
    from fintech_eval.app.registers import register_file

    reg = tmp / "register.csv"
    rows = ["id,name_zh,sector,region_code"] + [f"B{i:06d},合成机构{i},bank,{11 + i % 5}" for i in range(institutions)]
    reg.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with Workspace(db) as ws:
        register_file(ws, reg, "institutions")
        create_user(ws, email="admin@bench.local", role="administrator", password=PASSWORD)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--institutions", type=int, default=5000)
    ap.add_argument("--sign-ins", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--db", default=None, help="a PostgreSQL URL (an empty database); default a SQLite file in a temporary folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fe-bench-web-"))
    db = args.db or str(tmp / "web.sqlite")
    setup(db, args.institutions, tmp)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "fintech_eval", "serve", "--port", str(port), "--db", db],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if _call(conn, "GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        # 1. sign-ins
        lat = []
        for _ in range(args.sign_ins):
            t = time.perf_counter()
            status, body, headers = _call(conn, "POST", "/api/v1/auth/sign-in", {"email": "admin@bench.local", "password": PASSWORD})
            lat.append(time.perf_counter() - t)
            assert status == 200, body
        cookie = headers["set-cookie"].split(";")[0]
        csrf = json.loads(body)["csrf_token"]
        status, body, _ = _call(conn, "POST", "/api/v1/tokens", {"name": "bench", "scopes": ["read"]},
                                {"Cookie": cookie, "X-CSRF-Token": csrf})
        assert status == 201, body
        token = json.loads(body)["token"]
        cost = (os.environ.get("FINTECH_EVAL_ARGON2_TIME_COST") or "3", os.environ.get("FINTECH_EVAL_ARGON2_MEMORY_KIB") or "65536")
        ms = np.array(lat) * 1000
        print(f"sign-in (argon2 t={cost[0]}, {int(cost[1]) // 1024} MiB): p50 {np.percentile(ms, 50):.1f} ms, "
              f"p99 {np.percentile(ms, 99):.1f} ms over {len(ms)}")
        # 2. authenticated reads
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        count = [0]
        stop_at = time.monotonic() + args.seconds

        def worker(k: int) -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            rng = np.random.default_rng(k)
            auth = {"Authorization": f"Bearer {token}"}
            while time.monotonic() < stop_at:
                with lock:
                    if count[0] >= args.requests:
                        return
                    count[0] += 1
                path = f"/api/v1/registers/institutions/B{int(rng.integers(args.institutions)):06d}"
                t = time.perf_counter()
                status, body, _ = _call(c, "GET", path, headers=auth)
                dt_ = time.perf_counter() - t
                with lock:
                    latencies.append(dt_)
                    if status != 200:
                        errors.append(f"{status} {body[:200]!r}")

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.clients)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t0
        if errors:
            raise SystemExit(f"{len(errors)} answers were not 200, e.g. {errors[0]}")
        ms = np.array(latencies) * 1000
        print(f"GET /api/v1/registers/institutions/{{id}} with a token, {args.clients} clients, register of "
              f"{args.institutions:,}: {len(ms):,} requests in {wall:.2f} s = {len(ms) / wall:.0f} req/s, "
              f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)
    note = load_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
