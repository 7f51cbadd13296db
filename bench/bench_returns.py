"""Returns submitted through the application function (`app.submissions.submit`), concurrently, on SQLite and
(with ``--pg URL``) PostgreSQL; then every acknowledged submission is checked to be stored exactly once.

    python bench/bench_returns.py [--submissions 400] [--institutions 100] [--threads 4] [--retry-every 10] [--batch 1] [--pg URL]

Each return answers 100 variables: the 80 JR/T 0201 asks of a bank (values from the demo's synthetic
sample, so that the import's validation passes) and 20 more that an extension adds to the framework (the
shipped framework asks no sector for 100). Submissions go round the institutions (later ones are new
versions of a return already under review), each with its own idempotency key; every ``--retry-every``-th
is sent again with the same key and must come back as a replay, storing nothing. Prints submissions per
second, the latency percentiles of one call, and the verification. ``--batch N``: each thread hands N
submissions at a time to ``submit_many`` (as a server gathering concurrent requests would; a request's
latency is then its batch's). Set-up is not timed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid

import numpy as np
import yaml
from sqlalchemy import func, select

from _load import load_note
from fintech_eval.app import Workspace
from fintech_eval.app.campaigns import create_campaign
from fintech_eval.app.submissions import SubmitRequest, submit, submit_many
from fintech_eval.catalog import load_extension, load_framework
from fintech_eval.demo.generator import generate
from fintech_eval.store import upsert_institutions
from fintech_eval.store.models import DataReturn, IdempotencyKey, ReturnVersion

EXTRA = 20  # variables the extension adds to the bank's 80


def framework_with_extra(tmp: str):
    """JR/T 0201 with an extension adding EXTRA count variables (one indicator each) that every sector answers."""
    doc = {
        "extends": "jrt0201-2020", "id": "bench-returns", "namespace": "bench",
        "variables": [{"name": f"bench_v{k:02d}", "unit": "count", "type": "count",
                       "help": {"zh": f"基准变量{k}", "en": f"bench variable {k}"}} for k in range(EXTRA)],
        "add": [{"parent": "J-A1B1", "indicators": [
            {"code": f"bench:J-A1B1-C{90 + k}", "name": {"zh": f"基准指标{k}", "en": f"bench indicator {k}"},
             "definition": {"zh": "基准", "en": "bench"}, "unit": "count", "type": "count", "collection": ["S"],
             "formula": f"bench_v{k:02d}"} for k in range(EXTRA)]}],
    }
    path = os.path.join(tmp, "bench-ext.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, allow_unicode=True, sort_keys=False)
    return load_extension(path, base=load_framework("jrt0201-2020"))


def setup(ws: Workspace, fw, n_inst: int) -> tuple[int, list[str], dict[str, dict[str, float | str]]]:
    data = generate(seed=3, n_institutions=max(4 * n_inst, 20), years=range(2023, 2025))
    inst = data.institutions[data.institutions["sector"] == "bank"].head(n_inst)
    reg = inst.rename(columns={"entity_id": "id"}).drop(columns=["synthetic"], errors="ignore")
    run = uuid.uuid4().hex[:8]  # a run of its own on a shared PostgreSQL database
    reg = reg.assign(id=[f"{i}-{run}" for i in reg["id"]])
    with ws.sessions() as s, s.begin():
        upsert_institutions(s, reg, who="bench", why="bench")
    ws.add_framework(fw)
    cid = create_campaign(ws, period="2024", framework=fw.id, sample=list(reg["id"]), who="bench")
    obs = data.observations
    obs = obs[(obs["period"].astype(str) == "2024") & obs["entity_id"].isin(inst["entity_id"])]
    answers = {}
    for e, g in obs.groupby("entity_id"):
        # the sample's gaps are declared unavailable ("N/A"): a JSON null is a blank field, which the import
        # rejects for a variable the sector is asked (value.blank_mandatory)
        vals = {r.variable: ("N/A" if r.value != r.value else float(r.value)) for r in g.itertuples()}
        answers[f"{e}-{run}"] = vals | {f"bench_v{k:02d}": float(k) for k in range(EXTRA)}
    return cid, [c for c in reg["id"] if c in answers], answers


def run(db: str, label: str, n: int, n_inst: int, threads: int, retry_every: int, batch: int = 1) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fw = framework_with_extra(tmp)
        ws = Workspace(db if "://" in db else os.path.join(tmp, "returns.sqlite"))
        try:
            cid, codes, answers = setup(ws, fw, n_inst)
            n_vars = len(next(iter(answers.values())))
            jobs = []
            for i in range(n):
                code = codes[i % len(codes)]
                payload = dict(answers[code], bench_v00=float(i))  # each submission different
                jobs.append((code, payload, f"bench-{uuid.uuid4().hex}"))
                if retry_every and i % retry_every == retry_every - 1:
                    jobs.append((code, payload, jobs[-1][2]))  # a retry of the same request
            submit(ws, codes[0], cid, answers[codes[0]], actor="warm-up", final=False)  # warm caches, as a server is
            lat = np.zeros(len(jobs))
            acks: list[tuple[str, int, int, bool, str] | None] = [None] * len(jobs)
            nxt = iter(range(len(jobs)))
            lock = threading.Lock()

            def worker() -> None:
                while True:
                    with lock:
                        idx = [i for i in (next(nxt, None) for _ in range(batch)) if i is not None]
                    if not idx:
                        return
                    t = time.perf_counter()
                    if batch == 1:
                        code, payload, key = jobs[idx[0]]
                        done = [submit(ws, code, cid, payload, actor="bench", idempotency_key=key)]
                    else:
                        done = submit_many(ws, [SubmitRequest(jobs[i][0], cid, jobs[i][1], "bench", jobs[i][2]) for i in idx])
                    took = time.perf_counter() - t
                    for i, r in zip(idx, done, strict=True):
                        assert not isinstance(r, Exception), r
                        lat[i] = took
                        body = json.dumps({"values": jobs[i][1]}, ensure_ascii=False, separators=(",", ":")).encode()
                        acks[i] = (jobs[i][2], r.return_id, r.version, r.replayed, hashlib.sha256(body).hexdigest())

            t0, c0 = time.perf_counter(), time.process_time()
            pool = [threading.Thread(target=worker) for _ in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            verify(ws, cid, acks, n_vars)
        finally:
            ws.close()
    p50, p99 = np.percentile(lat * 1000, [50, 99])
    retries = sum(1 for a in acks if a and a[3])
    how = f"{threads} threads" + (f", batches of {batch}" if batch > 1 else "")
    print(f"returns on {label}: {len(jobs):,} submissions ({n_vars} variables each, {how}, {len(codes)} institutions, "
          f"{retries} retries) in {wall:.2f} s = {len(jobs) / wall:.1f} submissions/s; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
          f"CPU {cpu / len(jobs) * 1000:.0f} ms a submission")


def verify(ws: Workspace, cid: int, acks: list, n_vars: int) -> None:
    """Every acknowledged submission stored exactly once (its version, its bytes), retries stored nothing,
    and nothing else stored."""
    assert all(a is not None for a in acks), "a submission was not acknowledged"
    firsts = {a[0]: a for a in acks if not a[3]}
    for a in acks:  # a retry answered with the first result
        assert (a[1], a[2]) == (firsts[a[0]][1], firsts[a[0]][2]), a
    with ws.sessions() as s:
        rows = s.execute(select(ReturnVersion.return_id, ReturnVersion.number, ReturnVersion.sha256, ReturnVersion.submitted_by)
                         .join(DataReturn, DataReturn.id == ReturnVersion.return_id)
                         .where(DataReturn.campaign_id == cid, ReturnVersion.submitted_by == "bench")).all()
        keys = s.scalar(select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key.in_(list(firsts))))
    stored = {(r[0], r[1]): r[2] for r in rows}
    assert len(rows) == len(stored) == len(firsts) == keys, (len(rows), len(firsts), keys)
    for key, rid, ver, _replayed, sha in firsts.values():
        assert stored[(rid, ver)] == sha, f"submission {key}: stored bytes differ"
    print(f"verified: {len(acks):,} acknowledged, {len(firsts):,} stored exactly once (bytes identical), "
          f"{len(acks) - len(firsts):,} retries stored nothing, nothing else stored")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--submissions", type=int, default=400)
    ap.add_argument("--institutions", type=int, default=100)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--retry-every", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1, help="submissions a thread hands to submit_many at once (1: submit)")
    ap.add_argument("--pg", help="a PostgreSQL URL (a database we may create tables in) to run on as well")
    a = ap.parse_args()
    run("sqlite", "sqlite", a.submissions, a.institutions, a.threads, a.retry_every, a.batch)
    if a.pg:
        run(a.pg, "postgresql", a.submissions, a.institutions, a.threads, a.retry_every, a.batch)
    note = load_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
