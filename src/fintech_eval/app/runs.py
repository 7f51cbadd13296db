"""Evaluation runs: scoring stored data and publishing one run.

:func:`score` runs the default spec of each block (``service.block_spec``, read from the database through
the engine's ``store`` source, which derives the period once for all the blocks) or the user's spec, writes each block's result folder under
``OUT/run-<id>/`` and records the run: its specs, what it read (input fingerprints), the framework and
product versions, who and when, and every warning. A new score is a new run in a new folder: nothing a
published run wrote is ever overwritten. :func:`publish` marks a run as the one that reports (and the web)
show, with what an institution's submitter sees of its peers (``peer_visibility``), and writes its reports
beside its results. Scoring and publishing are written to the audit log (``run.score``, ``run.publish``), from
the CLI and the web alike.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sqlalchemy import select

from .._version import __version__
from ..engine.pipeline import evaluate
from ..engine.sources import sha256_file
from ..engine.spec import load_spec
from ..errors import DataError, Problem
from ..service import block_spec
from ..store.models import PEER_VISIBILITIES, EvaluationRun
from .audit import audit
from .campaigns import resolve_campaign
from .workspace import Workspace

BLOCKS = ("J", "H", "Q")


def _spec_for(ws: Workspace, block: str, period: str, framework: str, spec: str | Path | None,
              params: dict[str, float] | None, names: str = "zh", campaign_id: int | None = None,
              outside_sample: bool = False) -> Any:
    if spec is None:
        doc = block_spec(block, period, db=ws.url, framework=framework, names=names)
        if params:
            doc["data"]["params"] = dict(params)
        if campaign_id is not None:
            doc["data"]["campaign"] = campaign_id
            if outside_sample:
                doc["data"]["outside_sample"] = True
        return load_spec(doc)
    s = load_spec(spec)
    if s.data.source != "store":
        raise DataError(f"score reads the database: the spec's data.source must be store, not {s.data.source!r}",
                        rule="run.spec", file=str(spec))
    changes: dict[str, Any] = {"data.db": ws.url, "data.period": period, "data.block": block}
    if params and not s.data.params:
        changes["data.params"] = dict(params)
    if campaign_id is not None and s.data.campaign is None:
        changes["data.campaign"] = campaign_id
    if outside_sample and not s.data.outside_sample:
        changes["data.outside_sample"] = True
    return s.with_changes(changes)


def score(
    ws: Workspace, *, out: str | Path, campaign_id: int | None = None, period: str | None = None,
    spec: str | Path | None = None, blocks: tuple[str, ...] | None = None, framework: str = "jrt0201-2020",
    who: str = "cli", progress: Any = None, names: str = "zh", actor_id: int | None = None, ip: str | None = None,
    outside_sample: bool = False, started: Any = None,
) -> dict[str, Any]:
    """Score the stored data of a campaign (or of a period) and record the run; returns the run as a dict.
    ``names``: the language of the units' names in the results (zh or en) with the default spec.
    ``outside_sample``: a campaign's run scores its sample's institutions only (the default); true scores every
    institution with data in the period (returns from outside the sample, reference data such as the listed
    banks' disclosures), as the spec's ``data.outside_sample`` does. ``started(run_id)``: called once the run's
    record exists (a background job notes it, so that a worker killed mid-run can be cleaned up after)."""
    campaign = None
    params = None
    if period is None:
        campaign = resolve_campaign(ws, campaign_id)
        period, framework, params = campaign.period, campaign.framework, campaign.params
    elif campaign_id is not None:
        raise DataError("give --campaign or --period, not both", rule="run.which")
    blocks = tuple(dict.fromkeys(b.strip().upper() for b in blocks)) if blocks else (
        (load_spec(spec).data.block,) if spec is not None else BLOCKS)
    for b in blocks:
        if b not in BLOCKS:
            raise DataError(f"unknown block {b!r}; choose among {', '.join(BLOCKS)}", rule="run.block")
    fw = ws.framework(framework)
    step = progress or (lambda _t: None)
    with ws.sessions() as s, s.begin():
        run = EvaluationRun(campaign_id=campaign.id if campaign else None, name=f"{fw.id} {period}", framework=fw.id,
                            framework_version=fw.version, period=str(period), specs={}, out_dir="", software=__version__,
                            created_by=who)
        s.add(run)
        s.flush()
        run_id = int(run.id)
    if started is not None:
        started(run_id)
    folder = Path(out) / f"run-{run_id}"
    if folder.exists():  # pragma: no cover - ids are never reused
        raise DataError(f"{folder} exists: a run never writes over another run's folder", rule="run.out", file=str(folder))
    specs, inputs, warnings, shas = {}, {}, {}, {}
    derived: dict[Any, Any] = {}  # the store source's cache: the period is derived once for every block
    try:
        for b in blocks:
            step(f"scoring block {b}")
            sp = _spec_for(ws, b, str(period), framework, spec, params, names, campaign.id if campaign else None,
                           outside_sample)
            try:
                result = evaluate(sp, frames={"store": derived})
            except DataError as exc:
                if spec is None and any(p.rule == "panel.empty" for p in exc.problems):  # e.g. no region data yet
                    warnings[b] = [{"rule": "run.no_data", "message": f"block {b} has no data for {period}: not scored",
                                    "block": b}]
                    continue
                raise
            result.save(folder / f"{b}-{period}")
            specs[b] = yaml.safe_load((folder / f"{b}-{period}" / "spec.yaml").read_text(encoding="utf-8"))
            inputs[b] = dict(result.inputs)
            warnings[b] = [w.as_dict() if isinstance(w, Problem) else {"message": str(w)} for w in result.warnings]
            shas[b] = sha256_file(folder / f"{b}-{period}" / "scores.csv")
        if not specs:
            raise DataError(f"nothing to score: no block has data for {period}", rule="run.no_data")
    except Exception:
        with ws.sessions() as s, s.begin():  # a run that failed leaves no record
            s.delete(s.get(EvaluationRun, run_id))
        raise
    with ws.sessions() as s, s.begin():
        run = s.get(EvaluationRun, run_id)
        run.specs, run.inputs, run.warnings, run.scores_sha256 = specs, inputs, warnings, shas
        run.out_dir = str(folder.resolve())
        audit(None, who, "run.score", f"run:{run_id}", {"campaign": run.campaign_id, "period": str(period),
                                                         "blocks": sorted(specs), "spec": None if spec is None else str(spec),
                                                         "outside_sample": bool(outside_sample),
                                                         "warnings": sum(len(v) for v in warnings.values())},
              actor_id=actor_id, ip=ip, session=s)
    return run_info(ws, run_id)


def queue_score(ws: Workspace, *, out: str | Path, campaign_id: int | None = None, spec: str | Path | None = None,
                blocks: tuple[str, ...] | None = None, outside_sample: bool = False, who: str = "cli",
                actor_id: int | None = None, ip: str | None = None) -> dict[str, Any]:
    """Queue :func:`score` of a campaign as a background job (kind ``score``, :mod:`.job_kinds`); returns the job
    (:func:`fintech_eval.app.jobs.job_info`). The campaign and the blocks are checked now, so that a wrong request
    is answered at once; the job's result is the run (``run:<id>``)."""
    from .jobs import enqueue

    campaign = resolve_campaign(ws, campaign_id)
    for b in blocks or ():
        if b not in BLOCKS:
            raise DataError(f"unknown block {b!r}; choose among {', '.join(BLOCKS)}", rule="run.block", field="blocks")
    params = {"out": str(Path(out).resolve()), "campaign": int(campaign.id), "spec": None if spec is None else str(spec),
              "blocks": list(blocks) if blocks else None, "outside_sample": bool(outside_sample)}
    return enqueue(ws, "score", params, who=who, campaign_id=int(campaign.id), actor_id=actor_id, ip=ip)


def _as_dict(r: EvaluationRun) -> dict[str, Any]:
    return {
        "id": r.id, "campaign": r.campaign_id, "name": r.name, "framework": r.framework,
        "framework_version": r.framework_version, "period": r.period, "status": r.status, "out_dir": r.out_dir,
        "software": r.software, "created_by": r.created_by, "created_at": r.created_at.isoformat() if r.created_at else None,
        "published_by": r.published_by, "published_at": r.published_at.isoformat() if r.published_at else None,
        "blocks": sorted(r.specs or {}), "inputs": r.inputs or {}, "scores_sha256": r.scores_sha256 or {},
        "warnings": r.warnings or {}, "specs": r.specs or {}, "peer_visibility": r.peer_visibility or "distribution",
    }


def run_info(ws: Workspace, run_id: int) -> dict[str, Any]:
    with ws.sessions() as s:
        r = s.get(EvaluationRun, run_id)
        if r is None:
            raise DataError(f"no evaluation run {run_id}", rule="run.which")
        return _as_dict(r)


def runs_frame(ws: Workspace) -> pd.DataFrame:
    with ws.sessions() as s:
        rows = [_as_dict(r) for r in s.execute(select(EvaluationRun).order_by(EvaluationRun.id)).scalars()]
    cols = ["id", "campaign", "period", "framework", "status", "blocks", "created_by", "created_at", "published_at", "out_dir"]
    df = pd.DataFrame(rows, columns=cols + ["warnings"])
    df["n_warnings"] = [sum(len(v) for v in (w or {}).values()) for w in df["warnings"]]
    df["blocks"] = [",".join(b) for b in df["blocks"]]
    return df[cols[:6] + ["n_warnings"] + cols[6:]]


def publish(ws: Workspace, run_id: int, *, who: str = "cli", reports: bool = True, lang: str = "zh",
            progress: Any = None, peer_visibility: str = "distribution", actor_id: int | None = None,
            ip: str | None = None) -> dict[str, Any]:
    """Mark the run published (the one that reports and the web show for its campaign or period) and write
    its reports (HTML) into ``<run folder>/reports``; the run's results must still match what it recorded.
    ``peer_visibility``: what an institution's submitter sees of its peers (:data:`PEER_VISIBILITIES`:
    ``distribution``, anonymised, the default; ``ranking``, named; ``none``). Publishing again changes it. The
    publication is audited (``run.publish``, with the visibility before and after)."""
    if peer_visibility not in PEER_VISIBILITIES:
        raise DataError(f"peer visibility {peer_visibility!r} is not one of {', '.join(PEER_VISIBILITIES)}",
                        rule="run.peer_visibility", field="peer_visibility")
    info = run_info(ws, run_id)
    folder = Path(info["out_dir"])
    for b, sha in info["scores_sha256"].items():
        p = folder / f"{b}-{info['period']}" / "scores.csv"
        if not p.is_file() or sha256_file(p) != sha:
            raise DataError(f"{p} is missing or was edited after the run: score again", rule="run.changed", file=str(p))
    written: list[str] = []
    if reports:
        written = [str(p) for p in _write_reports(folder, info, lang, progress)]
    with ws.sessions() as s, s.begin():
        r = s.get(EvaluationRun, run_id)
        before = {"status": r.status, "peer_visibility": r.peer_visibility}
        r.status, r.published_by, r.published_at = "published", who, dt.datetime.now(dt.UTC)
        r.peer_visibility = peer_visibility
        audit(None, who, "run.publish", f"run:{run_id}", {"before": before, "peer_visibility": peer_visibility,
                                                           "campaign": r.campaign_id, "period": r.period,
                                                           "reports": len(written)},
              actor_id=actor_id, ip=ip, session=s)
    out = run_info(ws, run_id)
    out["reports"] = written
    return out


def _write_reports(folder: Path, info: dict[str, Any], lang: str, progress: Any) -> list[Path]:
    from ..report import load_result, render
    from ..report.batch import report_name

    step = progress or (lambda _t: None)
    period = info["period"]
    res = {b: load_result(folder / f"{b}-{period}") for b in info["blocks"]}
    rep = folder / "reports"
    rep.mkdir(exist_ok=True)
    out: list[Path] = []
    plan = []  # named as `fintech-eval report` names them: J-2024_ranking.zh.html, H-2024_industry_bank.zh.html
    tag = {b: f"{b}-{period}" for b in res}
    if "J" in res:
        plan.append(("ranking", res["J"], {}, report_name(tag["J"], "ranking", None, lang, "html")))
    if "H" in res:
        plan.append(("ranking", res["H"], {}, report_name(tag["H"], "ranking", None, lang, "html")))
        for sector in res["H"].final.index.astype(str):
            plan.append(("industry", res["H"], {"entity": sector, **({"institutions": res["J"]} if "J" in res else {})},
                         report_name(tag["H"], "industry", sector, lang, "html")))
    if "Q" in res:
        plan.append(("region", res["Q"], {}, report_name(tag["Q"], "region", None, lang, "html")))
    for kind, result, kw, name in plan:
        step(f"writing {name}")
        out.append(render(result, kind, fmt="html", out=rep / name, lang=lang, **kw))
    return out


def published_run(ws: Workspace, *, campaign_id: int | None = None, period: str | None = None) -> dict[str, Any] | None:
    """The latest published run of a campaign (or a period), or None."""
    stmt = select(EvaluationRun).where(EvaluationRun.status == "published")
    if campaign_id is not None:
        stmt = stmt.where(EvaluationRun.campaign_id == campaign_id)
    if period is not None:
        stmt = stmt.where(EvaluationRun.period == str(period))
    with ws.sessions() as s:
        r = s.execute(stmt.order_by(EvaluationRun.published_at.desc())).scalars().first()
        return _as_dict(r) if r is not None else None


def saved_specs(folder: str | Path | None) -> dict[str, Path]:
    """The saved specs a server offers (``*.yaml`` / ``*.yml`` of ``folder``), by name (the file's stem)."""
    if folder is None or not Path(folder).is_dir():
        return {}
    return {p.stem: p for p in sorted(Path(folder).iterdir()) if p.suffix in (".yaml", ".yml") and p.is_file()}
