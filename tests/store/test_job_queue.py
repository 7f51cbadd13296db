"""The job queue (``fintech_eval.app.jobs``) on SQLite and PostgreSQL: concurrent workers never claim the same
job; a worker killed mid-job is detected by its stale heartbeat and its job marked failed, what it half made
removed; a running job is cancelled or handed back to the queue at its next step."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from fintech_eval.app import Workspace
from fintech_eval.app.audit import audit_entries
from fintech_eval.app.campaigns import create_campaign
from fintech_eval.app.job_runner import JobRunner
from fintech_eval.app.jobs import KINDS, cancel, claim, enqueue, job_info, reap_stale, run_next
from fintech_eval.errors import DataError
from fintech_eval.store.models import EvaluationRun

ROOT = Path(__file__).resolve().parents[2]

#: A kind for these tests: steps every ``pause`` seconds until ``steps`` are done (or waits on ``GATES``).
GATES: dict[str, threading.Event] = {}


def _wait_kind(ws, ctx, params):
    """Test kind: ``steps`` steps of ``pause`` seconds; ``gate``: wait for that event between steps."""
    for i in range(int(params.get("steps", 3))):
        ctx.step(f"step {i + 1}", i / int(params.get("steps", 3)))
        if params.get("gate"):
            GATES[params["gate"]].wait(30)
        time.sleep(float(params.get("pause", 0.01)))
    if params.get("fail"):
        raise DataError(params["fail"], rule="test.failed", field="steps")
    return "test:done"


@pytest.fixture
def ws(db_url):
    if "test.wait" not in KINDS:
        KINDS.register("test.wait")(_wait_kind)
    w = Workspace(db_url)
    yield w
    w.close()


def _queue(ws, n: int, **params) -> list[int]:
    return [enqueue(ws, "test.wait", dict(params), who="tester")["id"] for _ in range(n)]


def test_two_runners_never_claim_the_same_job(ws, db_url):
    ids = _queue(ws, 24)
    taken: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        own = Workspace(db_url)  # a process of its own would have its own engine and connections
        try:
            start.wait()
            mine = taken.setdefault(name, [])
            while (jid := claim(own, name)) is not None:
                mine.append(jid)
        finally:
            own.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    every = [j for js in taken.values() for j in js]
    assert sorted(every) == ids  # each job claimed once, none lost
    for name, js in taken.items():
        assert all(job_info(ws, j)["worker"] == name and job_info(ws, j)["state"] == "running" for j in js)
    entries, _ = audit_entries(ws, action="job.start", limit=100)
    assert len(entries) == len(ids)


def test_a_job_taken_by_another_worker_is_not_taken_again(ws):
    jid, later = _queue(ws, 2)
    assert claim(ws, "first", job_id=jid) == jid
    assert claim(ws, "second", job_id=jid) is None  # the conditional update finds it running
    assert job_info(ws, jid)["worker"] == "first"
    assert claim(ws, "second") == later  # the oldest still queued


def test_a_job_runs_to_its_end_and_a_failing_one_says_why(ws):
    ok, bad = _queue(ws, 1, steps=2)[0], _queue(ws, 1, fail="the spec names no block")[0]
    assert run_next(ws, "w") == ok and run_next(ws, "w") == bad and run_next(ws, "w") is None
    done, failed = job_info(ws, ok), job_info(ws, bad)
    assert (done["state"], done["progress"], done["result_ref"]) == ("succeeded", 1.0, "test:done")
    assert done["started_at"] <= done["finished_at"] and done["step"] == "step 2"
    assert (failed["state"], failed["error_rule"]) == ("failed", "test.failed")
    assert failed["error_message"] == "the spec names no block [field steps]"
    finish, _ = audit_entries(ws, action="job.finish")
    assert {(e["object"], e["detail"]["state"], e["detail"]["rule"]) for e in finish} == {
        (f"job:{ok}", "succeeded", None), (f"job:{bad}", "failed", "test.failed")}


WORKER = textwrap.dedent("""
    import sys, time
    from fintech_eval.app import Workspace
    from fintech_eval.app.jobs import KINDS, run_next

    def slow(ws, ctx, params):
        for i in range(10_000):
            ctx.step(f"step {i}", 0.5)
            time.sleep(0.05)

    KINDS.register("test.wait")(slow)
    ws = Workspace(sys.argv[1])
    run_next(ws, "doomed", heartbeat=0.2)
""")


def _until(cond, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_runner_is_detected_and_its_job_failed(ws, db_url, tmp_path):
    jid = _queue(ws, 1)[0]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, db_url], env=env, stderr=subprocess.PIPE)
    try:
        _until(lambda: job_info(ws, jid)["state"] == "running" and job_info(ws, jid)["step"] is not None)
        beat = job_info(ws, jid)["heartbeat_at"]
        _until(lambda: job_info(ws, jid)["heartbeat_at"] != beat)  # it beats while it lives
        assert reap_stale(ws, stale_after=30) == []  # alive: nothing to reap
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    last = job_info(ws, jid)["heartbeat_at"]
    time.sleep(1.5)
    assert job_info(ws, jid)["heartbeat_at"] == last and job_info(ws, jid)["state"] == "running"  # dead: no beat
    assert reap_stale(ws, stale_after=1.0) == [jid]
    info = job_info(ws, jid)
    assert (info["state"], info["error_rule"]) == ("failed", "job.abandoned")
    assert "doomed" in info["error_message"] and "start it again" in info["error_message"]
    assert reap_stale(ws, stale_after=1.0) == []  # once
    finish, _ = audit_entries(ws, action="job.finish")
    assert finish[0]["detail"]["rule"] == "job.abandoned"


def test_an_abandoned_score_leaves_no_half_made_run(ws):
    """A scoring job whose worker died after the run's record was made: the record goes with the job."""
    cid = create_campaign(ws, period="2024", sample=[], name="empty round")
    jid = enqueue(ws, "score", {"out": "runs", "campaign": cid}, who="tester", campaign_id=cid)["id"]
    assert claim(ws, "doomed") == jid
    with ws.sessions() as s, s.begin():
        run = EvaluationRun(campaign_id=cid, name="half", framework="f", period="2024", specs={}, out_dir="",
                            software="t", created_by="tester")
        s.add(run)
        s.flush()
        rid = run.id
    from fintech_eval.app.jobs import JobContext

    JobContext(ws, jid, "doomed", "tester").note_result(f"run:{rid}")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert reap_stale(ws, stale_after=60, now=later) == [jid]
    with ws.sessions() as s:
        assert s.get(EvaluationRun, rid) is None
    assert f"run:{rid}" in job_info(ws, jid)["error_message"] and job_info(ws, jid)["result_ref"] is None


def test_cancel_a_queued_and_a_running_job(ws):
    queued = _queue(ws, 1)[0]
    assert cancel(ws, queued, who="tester")["state"] == "cancelled"
    with pytest.raises(DataError) as exc:
        cancel(ws, queued, who="tester")
    assert exc.value.problems[0].rule == "job.ended"
    GATES["c"] = threading.Event()
    running = _queue(ws, 1, steps=5, gate="c")[0]
    t = threading.Thread(target=run_next, args=(ws, "w"))
    t.start()
    _until(lambda: job_info(ws, running)["step"] == "step 1")
    assert cancel(ws, running, who="tester")["cancel_requested"] is True
    GATES["c"].set()
    t.join(60)
    info = job_info(ws, running)
    assert info["state"] == "cancelled" and info["step"] == "step 2"  # stopped at its next step


def test_a_stopping_runner_hands_its_job_back_and_the_heartbeat_runs(ws):
    GATES["s"] = threading.Event()
    jid = _queue(ws, 1, steps=5, gate="s")[0]
    runner = JobRunner(ws, poll=0.05, heartbeat=0.1).start()
    try:
        _until(lambda: job_info(ws, jid)["step"] == "step 1")
        first = job_info(ws, jid)["heartbeat_at"]
        _until(lambda: job_info(ws, jid)["heartbeat_at"] > first)  # beats while the job waits between steps
        stopper = threading.Thread(target=runner.stop)
        stopper.start()
        GATES["s"].set()
        stopper.join(60)
    finally:
        runner.stop()
    info = job_info(ws, jid)
    assert (info["state"], info["worker"], info["progress"]) == ("queued", None, 0.0)  # another worker takes it
    assert not runner.alive
