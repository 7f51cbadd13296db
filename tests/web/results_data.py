"""A scored round for the results tests, built through the application's own import functions (the web world
has registers and campaigns but no observations): 24 synthetic institutions of four sectors plus the world's
B001 and B002 (given the returns of two synthetic banks), the provinces' open data, one campaign asking all of
them (period 2024, the world's evaluator assigned to it), and the register's operating revenue for the size bands."""

from __future__ import annotations

import functools
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fintech_eval.app.campaign_staff import assign_staff
from fintech_eval.app.campaigns import create_campaign
from fintech_eval.app.intake import import_files
from fintech_eval.app.registers import register_file
from fintech_eval.app.runs import publish, score
from fintech_eval.demo.generator import generate

PERIOD = "2024"
COLUMNS = ["entity_kind", "entity", "period", "variable", "value", "unit", "source"]


@functools.cache
def synthetic():
    return generate(seed=7, n_institutions=24, years=range(2023, 2025))


@dataclass
class Round:
    campaign: int
    members: list[str]
    out: Path
    sectors: dict[str, str]  # entity → sector
    figures: dict[str, pd.Series] = field(default_factory=dict)  # a left-out entity's figures (variable → value)


def load_round(ws, tmp: Path, *, left_out: tuple[str, ...] = (), deadline: str | None = None) -> Round:
    """Register, import and open the campaign (not scored): B001/B002 answer as two synthetic banks.
    ``left_out`` (B001, B002): entities whose figures are not imported but kept in :attr:`Round.figures`, for a
    test to send them another way (the browser)."""
    data = synthetic()
    inst = data.institutions
    banks = inst.loc[inst["sector"] == "bank", "entity_id"].tolist()
    alias = {banks[0]: "B001", banks[1]: "B002"}
    rest = inst[~inst["entity_id"].isin(alias)]
    reg = tmp / "results_register.csv"
    rest.rename(columns={"entity_id": "id"})[["id", "name_zh", "name_en", "sector", "subtype", "region_code"]].to_csv(reg, index=False)
    register_file(ws, reg, "institutions")
    obs = data.observations[data.observations["period"].astype(str) == PERIOD].copy()
    obs["entity_id"] = obs["entity_id"].replace(alias)
    figures = {e: obs[obs["entity_id"] == e].set_index("variable")["value"] for e in left_out}
    sent = obs[~obs["entity_id"].isin(left_out)]
    path = tmp / "results_returns.csv"
    sent.rename(columns={"entity_id": "entity"})[COLUMNS].to_csv(path, index=False, na_rep="N/A")
    import_files(ws, [path], user="test")
    members = ["B001", "B002", *rest["entity_id"].tolist()]
    cid = create_campaign(ws, period=PERIOD, sample=members, name="results round", deadline=deadline)
    assign_staff(ws, cid, "evaluator@example.org", who="test")  # the world's evaluator runs this round
    sectors = {"B001": "bank", "B002": "bank", **dict(zip(rest["entity_id"], rest["sector"], strict=True))}
    return Round(cid, members, tmp / "runs", sectors, figures)


def scored_runs(w, tmp: Path | None = None) -> dict[str, Any]:
    """A published and a draft run of the round (cached on the world): ids by status, and the round. Without
    ``tmp`` the runs go to a temporary folder removed with the world."""
    cached = getattr(w, "_results_runs", None)
    if cached is not None:
        return cached
    if tmp is None:
        tmp = Path(tempfile.mkdtemp(prefix="fe-results-"))
        weakref.finalize(w, shutil.rmtree, tmp, True)
    rnd = load_round(w.ws, tmp)
    first = score(w.ws, out=rnd.out, campaign_id=rnd.campaign, who="evaluator@example.org")
    publish(w.ws, first["id"], who="evaluator@example.org", reports=False)
    second = score(w.ws, out=rnd.out, campaign_id=rnd.campaign, who="evaluator@example.org")
    w._results_runs = {"published": first["id"], "draft": second["id"], "round": rnd}
    return w._results_runs



def score_via_api(w, client, **body: Any) -> dict[str, Any]:
    """``POST /api/v1/runs`` (202, the job's ``Location``), the queued job run here (as a server's job runner
    runs it: :func:`fintech_eval.app.jobs.drain`), and the run the job links to (``GET /api/v1/runs/{id}``)."""
    from fintech_eval.app.jobs import drain

    r = client.post("/api/v1/runs", json=body)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/api/v1/jobs/{job['id']}" and job["state"] == "queued"
    drain(w.ws)
    job = client.get(r.headers["location"]).json()
    assert job["state"] == "succeeded" and job["progress"] == 1.0, job
    run = client.get(job["result"]["href"])
    assert run.status_code == 200, run.text
    return run.json()
