"""The server's gathering of concurrent submissions (web/gather.py): requests that wait while a batch runs go
together into the next one, each gets its own result or error, a failure of the batch reaches every waiter,
an idle server runs a request alone; and through the API, concurrent submissions give what one by one would."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fintech_eval.app.submissions import SubmitRequest
from fintech_eval.errors import DataError
from fintech_eval.web.gather import Gatherer


def _run(main):
    """``asyncio.run(main())`` on a thread of its own (a test before may have left a loop running on this one)."""
    out: list = []

    def go():
        try:
            out.append(asyncio.run(main()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out.append(exc)

    t = threading.Thread(target=go)
    t.start()
    t.join(60)
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def _req(i: int) -> SubmitRequest:
    return SubmitRequest(f"E{i}", 1, {"v": i}, "someone")


def test_waiting_requests_go_together_and_each_gets_its_own_answer():
    release = threading.Event()
    seen: list[list[str]] = []

    def run(reqs):
        if not seen:
            release.wait(10)  # the first batch runs while the others queue behind it
        seen.append([r.entity for r in reqs])
        return [DataError("bad", rule="x.bad") if r.entity == "E3" else r.entity for r in reqs]

    g = Gatherer(run, max_batch=4)

    async def main():
        first = asyncio.create_task(g.submit(_req(0)))
        await asyncio.sleep(0.2)
        rest = [asyncio.create_task(g.submit(_req(i))) for i in range(1, 7)]
        await asyncio.sleep(0.2)
        release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    out = _run(main)
    assert out[0] == "E0" and out[1:3] == ["E1", "E2"] and out[4:] == ["E4", "E5", "E6"]
    assert isinstance(out[3], DataError) and out[3].problems[0].rule == "x.bad"
    assert seen == [["E0"], ["E1", "E2", "E3", "E4"], ["E5", "E6"]]  # at most max_batch at once, in arrival order
    g.close()


def test_a_failing_batch_fails_every_request_in_it_and_the_next_ones_still_run():
    calls = []

    def run(reqs):
        calls.append(len(reqs))
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return [r.entity for r in reqs]

    g = Gatherer(run)

    async def main():
        with pytest.raises(RuntimeError, match="database gone"):
            await g.submit(_req(1))
        return await g.submit(_req(2))

    assert _run(main) == "E2"
    g.close()


def test_concurrent_submissions_through_the_api_are_each_stored_once(world):
    """Many clients at once (threads) on one app: every answer is its own request's, versions numbered one after
    another, retries replayed, nothing stored twice."""
    token = world.token("submitter", scopes=["read", "submit"])
    c = world.anonymous()
    c.headers["Authorization"] = f"Bearer {token}"

    def post(i: int):
        body = {"entity": "B001", "campaign": 1, "values": {"fintech_staff": 100 + i}}
        return c.post("/api/v1/returns", json=body, headers={"Idempotency-Key": f"g-{i % 12}"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(24)))  # keys g-0 … g-11 twice: the second of each is a retry
    assert all(a.status_code in (201, 409) for a in answers), [a.text for a in answers if a.status_code not in (201, 409)]
    by_key: dict[int, list] = {}
    for i, a in enumerate(answers):
        by_key.setdefault(i % 12, []).append((i, a))
    versions = set()
    for k, pair in by_key.items():
        (i1, a1), (i2, a2) = pair  # i2 = i1 + 12: another body with the same key → 409, or the first one's replay
        assert a1.status_code == 201 or a2.status_code == 201, (k, a1.text, a2.text)
        first = a1 if a1.status_code == 201 and not a1.json()["replayed"] else a2
        other = a2 if first is a1 else a1
        assert other.status_code == 409 and other.json()["rule"] == "idempotency.conflict"
        assert {f["variable"]: f["value"] for f in first.json()["fields"]}["fintech_staff"] in (100 + i1, 100 + i2)
        versions.add(first.json()["version"])
    assert versions == set(range(1, 13))
    rid = answers[0].json().get("return_id") or answers[12].json()["return_id"]
    assert [v["number"] for v in c.get(f"/api/v1/returns/{rid}").json()["versions"]] == list(range(1, 13))


def test_under_load_a_batch_lingers_for_the_next_requests_and_an_idle_server_never_waits():
    """linger: once a batch held more than one request, the next one waits up to ``linger`` for company (the
    requests of the clients just answered); a lone request on an idle server is run at once."""
    release = threading.Event()
    seen: list[list[str]] = []

    def run(reqs):
        if not seen:
            release.wait(10)
        seen.append([r.entity for r in reqs])
        return [r.entity for r in reqs]

    g = Gatherer(run, max_batch=8, linger=0.5)

    async def main():
        first = asyncio.create_task(g.submit(_req(0)))
        await asyncio.sleep(0.1)
        two = [asyncio.create_task(g.submit(_req(i))) for i in (1, 2)]
        await asyncio.sleep(0.1)
        release.set()
        await asyncio.gather(first, *two)  # batches [E0] then [E1, E2]: busy
        late = asyncio.create_task(g.submit(_req(3)))
        await asyncio.sleep(0.2)  # within the linger: goes with E3
        later = asyncio.create_task(g.submit(_req(4)))
        return await asyncio.gather(late, later)

    assert _run(main) == ["E3", "E4"]
    assert seen == [["E0"], ["E1", "E2"], ["E3", "E4"]]
    g.close()

    idle = Gatherer(lambda reqs: [r.entity for r in reqs], linger=5.0)

    async def alone():
        t0 = time.monotonic()
        out = await idle.submit(_req(7))
        return out, time.monotonic() - t0

    out, took = _run(alone)
    assert out == "E7" and took < 2.0  # not the 5 s linger: the server was idle
    idle.close()


def test_a_server_process_freezes_what_its_first_batch_loaded_and_an_embedded_app_does_not(monkeypatch):
    """``freeze`` (WebSettings.gc_freeze, on under ``fintech-eval serve``): after the first batch, what the
    process holds is moved out of the collector's reach once; off (the default, e.g. tests), never."""
    import gc

    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)

    def submit_three(g: Gatherer) -> None:
        async def main():
            for i in range(3):
                await g.submit(_req(i))
        _run(main)
        g.close()

    submit_three(Gatherer(lambda reqs: [r.entity for r in reqs], freeze=True))
    assert calls == ["collect", "freeze"]
    calls.clear()
    submit_three(Gatherer(lambda reqs: [r.entity for r in reqs]))
    assert calls == []

