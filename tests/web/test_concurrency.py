"""Concurrent sign-ins and token use: on SQLite (one writer at a time) and PostgreSQL, every request gets its
answer (no "database is locked"), and every attempt is in the audit log exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fintech_eval.app.audit import audit_entries

from .conftest import PASSWORD

THREADS, EACH = 8, 5


def test_concurrent_sign_ins_all_answered_and_audited(any_world):
    w = any_world
    token = w.token("viewer")

    def worker(i: int) -> list[int]:
        c = w.anonymous()
        codes = []
        for _ in range(EACH):
            codes.append(c.post("/api/v1/auth/sign-in", json={"email": w.email("evaluator"), "password": PASSWORD}).status_code)
            codes.append(c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code)
        return codes

    with ThreadPoolExecutor(THREADS) as pool:
        codes = [c for chunk in pool.map(worker, range(THREADS)) for c in chunk]
    assert codes.count(200) == len(codes) == THREADS * EACH * 2
    successes = audit_entries(w.ws, action="sign_in.success", actor=w.email("evaluator"), limit=500)[1]
    assert successes == THREADS * EACH
