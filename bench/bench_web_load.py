"""Submissions under load through the web API: a real ``fintech-eval serve`` (uvicorn, ``--workers``) on 127.0.0.1
over PostgreSQL, concurrent submitters posting returns of 100 variables with idempotency keys; then every
acknowledged submission is checked to be stored exactly once and nothing else stored.

    python bench/bench_web_load.py [--submissions 3000] [--clients 16] [--institutions 200] [--workers 2]
                                   [--seconds 120] [--retry-every 10] [--mode steady|kill|both] [--pg URL]

* ``steady``: ``--clients`` threads (one submitter account and API token each, bound to its share of the
  institutions; keep-alive connections) send ``POST /api/v1/returns`` until ``--submissions`` are answered or
  ``--seconds`` pass. Each return answers 100 variables (the 80 JR/T 0201 asks of a bank, from the demo's
  synthetic sample so that the import's validation passes, its gaps sent as "N/A", and 20 an extension adds; the
  server gets the extension with ``serve --extension``), each request has its own ``Idempotency-Key`` and every
  ``--retry-every``-th is sent again with the same key (it must come back as the first answer, storing
  nothing). Prints throughput, p50/p99 latency, and the CPU a submission costs the server, the throwaway
  PostgreSQL cluster and the clients (the budget of 2 cores at 300 submissions/s is 6.7 ms for all three).
* ``kill``: the same load; when half the submissions are answered the server's whole process group is
  killed with SIGKILL, restarted on the same port, and the clients retry what was not answered with the same
  keys (a request whose answer was lost may have been stored: its retry must get the first answer back).
* Verification (both): every acknowledged submission is stored exactly once (its return, version and bytes),
  retries stored nothing, and no other version exists for the bench's accounts (a request never answered
  before the end may be stored: counted and reported).

PostgreSQL: ``--pg URL`` (a server whose user may CREATE DATABASE) or, by default, a throwaway cluster started
as the storage tests start theirs (tests/store/conftest.py: fsync off, loopback). Set-up is not timed. Sends
traffic only to 127.0.0.1; servers and cluster are stopped at the end. Prints a load note.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from _load import load_note

ROOT = Path(__file__).resolve().parents[1]
BENCH_ACTOR = "load{}@bench.local"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- PostgreSQL ---------------------------------------------------------------------------------------------
class Postgres:
    """``--pg URL``, or a throwaway cluster (the storage tests' own); a fresh database per mode."""

    def __init__(self, url: str | None):
        self.cluster = None
        if url is None:
            sys.path.insert(0, str(ROOT))
            from tests.store.conftest import _Cluster, _pg_bindir

            bindir = _pg_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL server binaries: give --pg URL")
            self.cluster = _Cluster(bindir)
            url = self.cluster.start()
        self.server = url

    def database(self) -> str:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"fe_load_{uuid.uuid4().hex[:10]}"
        admin = create_engine(make_url(self.server).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        admin.dispose()
        return make_url(self.server).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)

    def cpu(self) -> float | None:
        """CPU seconds of the throwaway cluster (its postmaster, its live backends, the backends it has reaped),
        from /proc; None for a server given by ``--pg``."""
        if self.cluster is None:
            return None
        try:
            pm = int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        # the postmaster's own time and its reaped children's, and its live children's own
        return sum(_seconds(f, reaped=pid == pm) for pid, f in _stats() if pid == pm or int(f[1]) == pm)

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


# --- set-up -------------------------------------------------------------------------------------------------
@dataclass
class World:
    db: str
    extension: Path
    campaign: int
    clients: list[tuple[str, str, list[str]]]  # (email, token, institutions)
    answers: dict[str, dict[str, float | None]]
    warm: tuple[str, str]  # a warm-up account's token and its institution


def setup(db: str, tmp: Path, n_inst: int, n_clients: int) -> World:
    from bench_returns import framework_with_extra
    from bench_returns import setup as returns_setup
    from fintech_eval.app import Workspace
    from fintech_eval.app.accounts import create_user
    from fintech_eval.app.tokens import create_token

    fw = framework_with_extra(str(tmp))
    with Workspace(db) as ws:
        cid, codes, answers = returns_setup(ws, fw, n_inst + 1)
        warm_code, codes = codes[0], codes[1:]
        clients = []
        for k in range(n_clients):
            mine = codes[k::n_clients]
            email = BENCH_ACTOR.format(k)
            u = create_user(ws, email=email, role="submitter", password=None, entities=[("institution", c) for c in mine])
            _, secret = create_token(ws, u.id, name="load", scopes=["read", "submit"])
            clients.append((email, secret, mine))
        u = create_user(ws, email="warmup@bench.local", role="submitter", password=None,
                        entities=[("institution", warm_code)])
        _, warm_secret = create_token(ws, u.id, name="warm", scopes=["read", "submit"])
    return World(db, tmp / "bench-ext.yaml", cid, clients, answers, (warm_secret, warm_code))


# --- the server ---------------------------------------------------------------------------------------------
class Server:
    """``fintech-eval serve`` in a process group of its own (so SIGKILL reaches its workers too)."""

    def __init__(self, w: World, port: int, workers: int, log: Path):
        self.w, self.port, self.workers, self.log = w, port, workers, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fintech_eval", "serve", "--port", str(self.port), "--db", self.w.db,
             "--workers", str(self.workers), "--extension", str(self.w.extension)],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True, env=env)
        deadline = time.monotonic() + 120
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/api/v1/health")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    def cpu(self) -> float:
        """CPU seconds of the server's processes (the supervisor and its workers: its process group), from /proc."""
        return sum(_seconds(f) for _pid, f in _stats() if int(f[2]) == self.proc.pid)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _stats() -> Iterator[tuple[int, list[str]]]:
    """``(pid, fields)`` of every process: /proc/<pid>/stat after the command name (state, ppid, pgrp, …)."""
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                yield int(d.name), (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue


def _seconds(fields: list[str], reaped: bool = False) -> float:
    """A process's user and system CPU seconds (``reaped``: and its waited-for children's)."""
    return sum(int(x) for x in fields[11:15 if reaped else 13]) / os.sysconf("SC_CLK_TCK")


# --- the load -----------------------------------------------------------------------------------------------
@dataclass
class Job:
    client: int
    entity: str
    body: bytes
    key: str
    sha: str  # of the payload the server keeps: {"values": …} as the application writes it
    retry_of: int | None = None
    ack: tuple[int, int, bool] | None = None  # (return id, version, replayed)
    latency: float | None = None
    attempts: int = 0


def jobs_for(w: World, n: int, retry_every: int) -> list[Job]:
    jobs: list[Job] = []
    turn = [0] * len(w.clients)
    for i in range(n):
        k = i % len(w.clients)
        mine = w.clients[k][2]
        code = mine[turn[k] % len(mine)]
        turn[k] += 1
        values = dict(w.answers[code], bench_v00=float(i))  # each submission different
        body = json.dumps({"entity": code, "campaign": w.campaign, "values": values}).encode()
        sha = hashlib.sha256(json.dumps({"values": values}, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
        jobs.append(Job(k, code, body, f"load-{uuid.uuid4().hex}", sha))
        if retry_every and i % retry_every == retry_every - 1:
            jobs.append(Job(k, code, body, jobs[-1].key, sha, retry_of=len(jobs) - 1))
    return jobs


RETRYABLE = (OSError, http.client.HTTPException)


def run_load(w: World, server: Server, jobs: list[Job], seconds: float, kill_at: int | None,
             pg: Postgres | None = None) -> dict:
    """The clients' threads; ``kill_at``: after that many answers, SIGKILL the server and restart it."""
    stop_at = time.monotonic() + seconds
    queues: list[list[int]] = [[] for _ in w.clients]
    for i, j in enumerate(jobs):
        queues[j.client].append(i)
    answered = [0]
    lock = threading.Lock()
    failures: list[str] = []
    outage = {"down": threading.Event(), "killed_at": None, "up_at": None, "cpu_before_kill": 0.0}

    def client(k: int) -> None:
        token = w.clients[k][1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for i in queues[k]:
            j = jobs[i]
            t0 = time.perf_counter()
            while time.monotonic() < stop_at:
                j.attempts += 1
                try:
                    conn.request("POST", "/api/v1/returns", body=j.body, headers={**headers, "Idempotency-Key": j.key})
                    r = conn.getresponse()
                    data = r.read()
                except RETRYABLE:  # the server went away: reconnect and send the same request again
                    conn.close()
                    time.sleep(0.05)
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                    continue
                if r.status in (502, 503, 504):
                    time.sleep(0.05)
                    continue
                if r.status != 201:
                    with lock:
                        failures.append(f"{j.key}: {r.status} {data[:300]!r}")
                    break
                doc = json.loads(data)
                j.ack = (doc["return_id"], doc["version"], bool(doc["replayed"]))
                j.latency = time.perf_counter() - t0
                with lock:
                    answered[0] += 1
                    n = answered[0]
                if kill_at is not None and n == kill_at:
                    outage["cpu_before_kill"] = server.cpu()
                    server.kill()
                    outage["killed_at"] = time.perf_counter()
                    server.start()
                    outage["up_at"] = time.perf_counter()
                break
            else:
                return
        conn.close()

    cpu0, pg0, me0 = server.cpu(), pg.cpu() if pg else None, time.process_time()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(w.clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu = server.cpu() + outage["cpu_before_kill"] - cpu0
    pg1 = pg.cpu() if pg else None
    return {"wall": wall, "server_cpu": cpu, "failures": failures, "client_cpu": time.process_time() - me0,
            "pg_cpu": None if pg0 is None or pg1 is None else pg1 - pg0,
            "restart": (outage["up_at"] - outage["killed_at"]) if outage["killed_at"] else None}


def warm_up(w: World, server: Server, n: int) -> None:
    """A few drafts from an account of its own, so that every worker has loaded the framework (as a server that
    has been up a while has)."""
    token, code = w.warm
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    body = json.dumps({"entity": code, "campaign": w.campaign, "values": w.answers[code], "final": False}).encode()
    for _ in range(n):
        conn.request("POST", "/api/v1/returns", body=body, headers={"Authorization": f"Bearer {token}",
                                                                    "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 201, r.status


def verify(w: World, jobs: list[Job]) -> str:
    """Every acknowledged submission stored exactly once, retries stored nothing, nothing else stored."""
    from sqlalchemy import create_engine, func, select

    from fintech_eval.store.models import DataReturn, IdempotencyKey, ReturnVersion

    actors = [c[0] for c in w.clients]
    eng = create_engine(w.db)
    with eng.connect() as c:
        rows = c.execute(select(ReturnVersion.return_id, ReturnVersion.number, ReturnVersion.sha256)
                         .join(DataReturn, DataReturn.id == ReturnVersion.return_id)
                         .where(DataReturn.campaign_id == w.campaign, ReturnVersion.submitted_by.in_(actors))).all()
        keys = dict(c.execute(select(IdempotencyKey.key, func.count()).where(IdempotencyKey.actor.in_(actors))
                              .group_by(IdempotencyKey.key)).all())
        settled = {r[0]: (r[1], r[2]) for r in c.execute(select(IdempotencyKey.key, IdempotencyKey.return_id,
                                                                IdempotencyKey.version).where(IdempotencyKey.actor.in_(actors)))}
    eng.dispose()
    stored: dict[tuple[int, int], str] = {}
    for rid, num, sha in rows:
        assert (rid, num) not in stored, f"version {rid}/{num} twice"
        stored[(rid, num)] = sha
    firsts = {j.key: j for j in jobs if j.retry_of is None}
    acked = [j for j in jobs if j.ack is not None]
    for j in acked:  # the answer names a stored version with the request's bytes, and the key points at it
        assert stored.get(j.ack[:2]) == j.sha, f"acknowledged {j.key} → {j.ack[:2]} not stored with its bytes"
        assert settled.get(j.key) == j.ack[:2], f"key {j.key} settled on {settled.get(j.key)}, answered {j.ack[:2]}"
    for j in acked:
        if j.retry_of is not None and jobs[j.retry_of].ack is not None:
            assert j.ack[:2] == jobs[j.retry_of].ack[:2], f"the retry of {j.key} got another answer"
    by_version: dict[tuple[int, int], list[str]] = {}
    for key, (rid, num) in settled.items():
        if rid is not None:
            by_version.setdefault((rid, num), []).append(key)
    assert all(len(v) == 1 for v in by_version.values()), "a version claimed by two keys"
    assert set(by_version) == set(stored), "a stored version without its key, or a key without its version"
    assert all(n == 1 for n in keys.values()) and set(keys) <= set(firsts), "a key stored twice, or one never sent"
    acked_keys = {j.key for j in acked}
    unanswered_stored = [k for k in settled if k not in acked_keys]
    never = [k for k in firsts if k not in acked_keys]
    return (f"verified: {len(acked):,} acknowledged ({sum(j.ack[2] for j in acked):,} as replays), "
            f"{len(acked_keys):,} distinct submissions stored exactly once (bytes identical), retries stored nothing, "
            f"nothing else stored" + (f"; {len(never):,} never answered before the end, {len(unanswered_stored):,} of "
                                      f"them stored" if never else ""))


def mode(label: str, pg: Postgres, args, tmp: Path, kill: bool) -> None:
    db = pg.database()
    w = setup(db, tmp / label, args.institutions, args.clients)
    server = Server(w, _free_port(), args.workers, tmp / f"{label}-server.log")
    server.start()
    try:
        warm_up(w, server, 4 * args.workers)
        jobs = jobs_for(w, args.submissions, args.retry_every)
        out = run_load(w, server, jobs, args.seconds, len(jobs) // 2 if kill else None, pg)
    finally:
        server.stop()
    acked = [j for j in jobs if j.ack is not None]
    if out["failures"]:
        raise SystemExit(f"{len(out['failures'])} answers were not 201, e.g. {out['failures'][0]}")
    ms = np.array([j.latency for j in acked]) * 1000
    n_vars = len(next(iter(w.answers.values())))
    head = (f"{label}: {len(acked):,} of {len(jobs):,} submissions answered ({n_vars} variables each, {args.clients} "
            f"clients, {args.workers} workers, PostgreSQL) in {out['wall']:.2f} s = {len(acked) / out['wall']:.1f} "
            f"submissions/s; latency p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms; "
            f"CPU a submission: server {out['server_cpu'] / max(len(acked), 1) * 1000:.1f} ms"
            + (f", PostgreSQL {out['pg_cpu'] / max(len(acked), 1) * 1000:.1f} ms" if out["pg_cpu"] is not None else "")
            + f", clients {out['client_cpu'] / max(len(acked), 1) * 1000:.1f} ms")
    if kill:
        retried = sum(j.attempts > 1 for j in jobs)
        head += (f"; server killed (SIGKILL) after {len(jobs) // 2:,} answers and back in {out['restart']:.1f} s, "
                 f"{retried:,} requests sent again")
    print(head, flush=True)
    print(f"{label} " + verify(w, jobs), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--submissions", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--institutions", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=120.0, help="stop sending after this long (bounds each mode)")
    ap.add_argument("--retry-every", type=int, default=10)
    ap.add_argument("--mode", choices=("steady", "kill", "both"), default="both")
    ap.add_argument("--pg", help="a PostgreSQL server URL whose user may CREATE DATABASE (default: a throwaway cluster)")
    args = ap.parse_args()
    if args.clients > args.institutions:
        raise SystemExit("--clients may not exceed --institutions (each client submits for institutions of its own)")
    pg = Postgres(args.pg)
    tmp = Path(tempfile.mkdtemp(prefix="fe-bench-load-"))
    try:
        for label in (("steady", "kill") if args.mode == "both" else (args.mode,)):
            (tmp / label).mkdir()
            mode(label, pg, args, tmp, label == "kill")
    finally:
        pg.stop()
    note = load_note()
    print(note or f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
