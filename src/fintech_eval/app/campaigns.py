"""Campaigns: one round of collection (a framework, a period, a deadline, the sample asked) and who has
answered.

:func:`campaign_status` gives, per entity of the sample, whether a return arrived, when (on time or late
against the deadline), how complete it is (the applicable variables answered, out of those the framework
asks of the entity's sector) and whether it is accepted (see below: through the returns' review, or
with no value still flagged for review, every flag accepted by an evaluator: ``fintech-eval review accept``); and
:func:`reporting_rates` the reporting rate and the on-time rate overall, by sector and by province, as
DHIS2 reports them (reporting rate = entities with a return / entities asked). A return for an entity
outside the sample is listed as a warning naming it.

"Accepted" has two meanings, by how the campaign collects:

* with the review workflow (:mod:`.submissions`: returns submitted, returned, accepted), for the entities
  with a return in the campaign: accepted when the return is ``accepted``; the return arrived when it was
  first submitted valid (``received_at``, judged against the deadline); ``answered`` and ``flagged`` are
  those of its reviewed version; ``review_state`` names its state;
* with plain imports (entities without a return): accepted when the entity has values and none of them is
  still flagged for review; its return arrived when its first imported file did (``review_state`` empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select

from ..collect.validate import applicable_variables
from ..derive.institutions import resolve_params
from ..errors import DataError, Problem, closest, first_of
from ..periods import period_kind
from ..store import ensure_periods, institutions_frame
from ..store.models import Campaign, CampaignMember, Observation, ObservedEntity, Submission
from .registers import read_table
from .workspace import Workspace

STATUS_WORDS = ("on_time", "late", "missing")


@dataclass
class CampaignStatus:
    campaign: dict[str, Any]
    entities: pd.DataFrame  # one row per entity of the sample
    rates: pd.DataFrame  # overall, by sector, by province
    warnings: list[Problem] = field(default_factory=list)  # returns from entities outside the sample
    outside: list[str] = field(default_factory=list)  # those entities


CST = dt.timezone(dt.timedelta(hours=8))  # China Standard Time: deadlines and receipt dates without a zone


def _when(value: str | dt.date | dt.datetime | None, what: str, time_of_day: dt.time) -> dt.datetime | None:
    """A date (at ``time_of_day``) or a date and time; without a zone, China Standard Time (UTC+8)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if ("T" in value or ":" in value) else dt.date.fromisoformat(value)
        except ValueError:
            raise DataError(f"{what} {value!r} is not a date (YYYY-MM-DD) or a date and time", rule=f"campaign.{what}",
                            zh=f"{what} {value!r} 不是日期（YYYY-MM-DD）或日期时间") from None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=CST)
    return dt.datetime.combine(value, time_of_day, tzinfo=CST)


def _deadline(value: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    """A deadline date means the end of that day (23:59:59, China Standard Time, UTC+8)."""
    return _when(value, "deadline", dt.time(23, 59, 59))


def received_time(value: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    """When a return was received (``import --received``): a date means the start of that day (UTC+8), so a
    return received on the deadline's day is on time."""
    return _when(value, "received", dt.time(0, 0))


def read_sample(path: str | Path) -> list[str]:
    """Entity codes from a sample file (``fintech-eval sample``'s CSV, or any CSV/xlsx with an ``entity_id``,
    ``id`` or ``entity`` column)."""
    p = Path(path)
    df = read_table(p, "campaign.sample")
    col = next((c for c in ("entity_id", "id", "entity", "institution_id") if c in df.columns), None)
    if col is None:
        raise DataError(f"the sample has no entity_id (or id) column; it has {', '.join(map(str, df.columns))}",
                        rule="campaign.sample", file=str(p),
                        zh=f"样本文件没有 entity_id（或 id）列；现有的列：{', '.join(map(str, df.columns))}")
    codes = [str(c).strip() for c in df[col] if str(c).strip()]
    return list(dict.fromkeys(codes))


def create_campaign(
    ws: Workspace, *, period: str, framework: str = "jrt0201-2020", sample: str | Path | list[str] | None = None,
    deadline: str | dt.date | dt.datetime | None = None, name: str | None = None, params: dict[str, float] | None = None,
    who: str = "cli", staff: Iterable[int | str] = (), actor_id: int | None = None, ip: str | None = None,
) -> int:
    """A new campaign asking the institutions of ``sample`` (a file or a list of codes; default: every
    registered institution) for ``period``; returns its id. Every code must be in the register. ``staff``: the
    evaluators (ids or e-mails) assigned to it at once (:mod:`.campaign_staff`); the creation is audited."""
    from .audit import audit
    from .campaign_staff import add_staff

    fw = ws.framework(framework)
    period = str(period)
    period_kind(period)  # a valid period code or an error
    with ws.sessions() as s, s.begin():
        reg = institutions_frame(s)
        known = set(reg["id"])
        if sample is None:
            codes = list(reg["id"])
            if not codes:
                raise DataError("the institution register is empty: run `fintech-eval register institutions FILE` first",
                                rule="campaign.sample",
                                zh="机构名录为空：请先运行 `fintech-eval register institutions FILE`")
        else:
            codes = read_sample(sample) if not isinstance(sample, list) else list(dict.fromkeys(map(str, sample)))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise DataError([
                Problem("campaign.unknown_entity", f"{c} is not in the institution register"
                        + (f" (did you mean {m!r}?)" if (m := closest(c, known)) else ""),
                        {"file": str(sample) if not isinstance(sample, list) else None, "entity": c},
                        message_zh=f"{c} 不在机构名录中" + (f"（是否应为 {m!r}？）" if m else ""))
                for c in unknown[:50]
            ])
        if params:
            resolve_params(fw, params)  # unknown names, pairs that do not sum to 1: an error now, not at derive
        ensure_periods(s, [period])
        c = Campaign(name=name or f"{fw.id} {period}", framework=fw.id, framework_version=fw.version,
                     period=period, deadline=_deadline(deadline), params=params or None, created_by=who)
        s.add(c)
        s.flush()
        s.add_all([CampaignMember(campaign_id=c.id, entity_kind="institution", entity_id=e) for e in codes])
        s.flush()
        audit(None, who, "campaign.create", f"campaign:{c.id}",
              {"name": c.name, "framework": fw.id, "period": period, "n_entities": len(codes),
               "deadline": _utc_text(c.deadline)}, actor_id=actor_id, ip=ip, session=s)
        for user in staff:
            add_staff(s, int(c.id), user, who=who, actor_id=actor_id, ip=ip)
        return int(c.id)


_UNCHANGED: Any = object()


def _utc_text(when: dt.datetime | None) -> str | None:
    return None if when is None else when.astimezone(dt.UTC).isoformat()


def update_campaign(ws: Workspace, campaign_id: int, *, deadline: str | dt.date | dt.datetime | None = _UNCHANGED,
                    name: str | None = None, who: str = "cli", actor_id: int | None = None,
                    ip: str | None = None) -> dict[str, Any]:
    """Change a campaign's deadline (``None``: no deadline; a date means the end of that day, UTC+8) and/or its
    name; audited with the old and new values. Returns what changed (field → [old, new])."""
    from .audit import audit
    from .tx import writing

    if name is not None and not str(name).strip():
        raise DataError("a campaign's name cannot be blank", rule="campaign.name", field="name", zh="评估项目名称不能为空")
    with writing(ws) as s:
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise DataError(f"no campaign {campaign_id}", rule="campaign.which", zh=f"评估项目 {campaign_id} 不存在")
        changed: dict[str, Any] = {}
        if deadline is not _UNCHANGED:
            new = _deadline(deadline)
            if new != c.deadline:
                changed["deadline"] = [_utc_text(c.deadline), _utc_text(new)]
                c.deadline = new
        if name is not None and name.strip() != c.name:
            changed["name"] = [c.name, name.strip()]
            c.name = name.strip()
        if changed:
            audit(None, who, "campaign.update", f"campaign:{c.id}", changed, actor_id=actor_id, ip=ip, session=s)
        return changed


def register_sample(ws: Workspace, *, sectors: Iterable[str] | None = None,
                    provinces: Iterable[str] | None = None) -> list[str]:
    """The codes of the active registered institutions of ``sectors`` and ``provinces`` (GB/T 2260 province
    codes; None or empty: any), for a campaign that asks them all (a census of those strata). An unknown
    sector or province is an error naming it."""
    from ..store.models import province_code
    from ..vocab import SECTORS

    sectors, provinces = list(sectors or []), list(provinces or [])
    problems = [Problem("campaign.sector", f"unknown sector {x!r}" + (f" (did you mean {m!r}?)" if (m := closest(x, SECTORS)) else ""),
                        {"field": "sectors"}, message_zh=f"未知行业 {x!r}" + (f"（是否应为 {m!r}？）" if m else ""))
                for x in sectors if x not in SECTORS]
    codes = [province_code(p) for p in provinces]
    problems += [Problem("campaign.province", f"{p!r} is not a GB/T 2260 province code", {"field": "provinces"},
                         message_zh=f"{p!r} 不是 GB/T 2260 省级代码")
                 for p, c in zip(provinces, codes, strict=True) if c is None]
    if problems:
        raise DataError(problems)
    with ws.sessions() as s:
        reg = institutions_frame(s)
    reg = reg[reg["status"] == "active"]
    if sectors:
        reg = reg[reg["sector"].isin(sectors)]
    if provinces:
        reg = reg[reg["region_code"].isin(codes)]
    if reg.empty:
        raise DataError("no active registered institution in these sectors and provinces", rule="campaign.sample",
                        zh="这些行业和省份中没有已登记的存续机构")
    return sorted(map(str, reg["id"]))


def campaigns_frame(ws: Workspace) -> pd.DataFrame:
    with ws.sessions() as s:
        n = func.count(CampaignMember.entity_id)
        rows = s.execute(
            select(Campaign.id, Campaign.name, Campaign.framework, Campaign.period, Campaign.deadline, Campaign.status,
                   Campaign.created_by, Campaign.created_at, n.label("n_entities"))
            .outerjoin(CampaignMember, CampaignMember.campaign_id == Campaign.id).group_by(Campaign.id).order_by(Campaign.id)
        ).all()
    return pd.DataFrame(rows, columns=["id", "name", "framework", "period", "deadline", "status", "created_by", "created_at", "n_entities"])


def resolve_campaign(ws: Workspace, campaign_id: int | None) -> Campaign:
    """The campaign ``campaign_id``, or the only one when the database holds one."""
    with ws.sessions() as s:
        if campaign_id is None:
            ids = s.execute(select(Campaign.id).order_by(Campaign.id)).scalars().all()
            if len(ids) != 1:
                raise DataError("no campaign yet: create one with `fintech-eval campaign create`" if not ids else
                                f"{len(ids)} campaigns: name one with --campaign ({', '.join(map(str, ids))})", rule="campaign.which",
                                zh="还没有评估项目：请用 `fintech-eval campaign create` 创建" if not ids else
                                f"共 {len(ids)} 个评估项目：请用 --campaign 指定一个（{', '.join(map(str, ids))}）")
            campaign_id = ids[0]
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise DataError(f"no campaign {campaign_id}", rule="campaign.which", zh=f"评估项目 {campaign_id} 不存在")
        s.expunge(c)
        return c


def _returns(ws: Workspace, period: str) -> pd.DataFrame:
    """Per institution with observations in ``period``: first and last receipt, values answered, values flagged.
    One aggregate query over the observations of the period."""
    flagged = func.sum(case((Observation.status == "flagged", 1), else_=0))
    stmt = (
        select(ObservedEntity.entity_id, func.min(Submission.received_at), func.max(Submission.received_at),
               func.count(), flagged)
        .select_from(Observation)
        .join(ObservedEntity, ObservedEntity.id == Observation.entity_ref)
        .outerjoin(Submission, Submission.id == Observation.submission_id)
        .where(Observation.period == period, ObservedEntity.entity_kind == "institution", Observation.value.is_not(None))
        .group_by(ObservedEntity.entity_id)
    )
    with ws.sessions() as s:
        rows = s.execute(stmt).all()
    df = pd.DataFrame(rows, columns=["entity_id", "first_received", "last_received", "answered", "flagged"])
    for c in ("first_received", "last_received"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df.set_index("entity_id")


def campaign_status(ws: Workspace, campaign_id: int | None = None, *, now: dt.datetime | None = None) -> CampaignStatus:
    """Who of the campaign's sample has answered, when, how completely (see the module doc)."""
    c = resolve_campaign(ws, campaign_id)
    fw = ws.framework(c.framework)
    with ws.sessions() as s:
        members = s.execute(select(CampaignMember.entity_id).where(CampaignMember.campaign_id == c.id)).scalars().all()
        reg = institutions_frame(s).set_index("id")
    ret = _returns(ws, c.period)
    ent = reg.reindex(pd.Index(members, name="entity_id"))[["name_zh", "name_en", "sector", "region_code"]]
    asked = {sec: len(applicable_variables(fw, sec)) for sec in ent["sector"].dropna().unique()}
    ent["applicable"] = ent["sector"].map(asked).astype("Int64")
    r = ret.reindex(ent.index)
    ent["returned"] = r["answered"].notna().to_numpy()
    ent["received_at"] = r["first_received"]
    ent["last_received_at"] = r["last_received"]
    ent["answered"] = r["answered"].fillna(0).astype(int)
    ent["flagged"] = r["flagged"].fillna(0).astype(int)
    ent["flags_accepted"] = _accepted_flags(ws, c.period, ent.index[ent["flagged"] > 0]).reindex(ent.index).fillna(0).astype(int)
    ent["accepted"] = ent["returned"] & (ent["flagged"] == ent["flags_accepted"])  # every flag checked (review accept)
    ent["review_state"] = pd.Series(None, index=ent.index, dtype=object)
    _with_reviews(ws, int(c.id), ent)
    with np.errstate(invalid="ignore", divide="ignore"):
        ent["completeness"] = (ent["answered"] / ent["applicable"].astype(float)).clip(upper=1.0)
    deadline = pd.Timestamp(c.deadline).tz_convert("UTC") if c.deadline is not None else None
    on_time = ent["received_at"] <= deadline if deadline is not None else True
    ent["on_time"] = pd.array(np.where(ent["returned"], on_time, pd.NA), dtype="boolean")
    now_ts = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    ent["status"] = np.where(~ent["returned"], "missing", np.where(ent["on_time"].fillna(False), "on_time", "late"))
    ent["overdue"] = (~ent["returned"]) & (deadline is not None and now_ts > deadline)
    review = ["flags_accepted", "accepted", "review_state"]
    ent = ent[[*ent.columns.drop(review), *review]]  # the review's columns last, as listings show them
    outside = sorted(set(ret.index) - set(members))
    warnings = []
    if outside:  # one cause, one problem, with the entities it covers
        shown = first_of(outside, what="in all")
        warnings.append(Problem("campaign.outside_sample",
                                f"{len(outside)} institution(s) sent a return for {c.period} but are not in the campaign's sample: {shown}",
                                {"campaign": c.id}, message_zh=f"{len(outside)} 家机构报送了 {c.period} 的报表，但不在本评估项目的样本中："
                                f"{first_of(outside, what='家')}"))
    meta = {"id": c.id, "name": c.name, "framework": c.framework, "period": c.period,
            "deadline": c.deadline.isoformat() if c.deadline else None, "n_entities": len(ent)}
    return CampaignStatus(meta, ent.reset_index(), reporting_rates(ent.reset_index()), warnings, outside)


def _with_reviews(ws: Workspace, campaign_id: int, ent: pd.DataFrame) -> None:
    """The review workflow's arrived, when, answered, flagged and accepted (module doc), in place, for the
    entities with a return in the campaign (completeness and timeliness are computed from them after)."""
    from .submissions import review_states

    rs = review_states(ws, campaign_id)
    rs = rs[rs["entity_id"].isin(ent.index)].set_index("entity_id")
    if rs.empty:
        return
    idx = rs.index
    sent = rs["submitted_at"].notna().to_numpy()
    ent.loc[idx, "review_state"] = rs["state"].to_numpy()
    ent.loc[idx, "returned"] = ent.loc[idx, "returned"].to_numpy() | sent
    received = ent["received_at"].astype("datetime64[us, UTC]")  # empty of observations it may be in seconds
    received.loc[idx[sent]] = pd.to_datetime(rs["submitted_at"][sent], utc=True).astype("datetime64[us, UTC]").to_numpy()
    ent["received_at"] = received
    ent.loc[idx, "answered"] = rs["answered"].astype(int).to_numpy()
    ent.loc[idx, "flagged"] = rs["flagged"].astype(int).to_numpy()
    ent.loc[idx, "accepted"] = (rs["state"] == "accepted").to_numpy()


def _accepted_flags(ws: Workspace, period: str, entity_ids: pd.Index) -> pd.Series:
    """Per entity: its flagged values of ``period`` whose flag an evaluator accepted (``review accept``)."""
    if not len(entity_ids):
        return pd.Series(dtype="int64")
    from ..store.reviews import flagged_frame

    with ws.sessions() as s:
        flags = flagged_frame(s, entity_ids=list(entity_ids), periods=period)
    return flags[flags["accepted"]].groupby("entity_id").size()


def reporting_rates(entities: pd.DataFrame) -> pd.DataFrame:
    """Reporting rate (returned / asked) and on-time rate (on time / asked) overall, by sector, by province."""
    parts = []
    for level, key in (("all", None), ("sector", "sector"), ("province", "region_code")):
        g = entities.assign(_all="all").groupby("_all" if key is None else entities[key].fillna("?"), sort=True)
        t = pd.DataFrame({
            "asked": g.size(),
            "returned": g["returned"].sum(),
            "on_time": g["on_time"].apply(lambda s: int(s.fillna(False).sum())),
            "complete": g["completeness"].apply(lambda s: int((s >= 1).sum())),
        })
        t["reporting_rate"] = t["returned"] / t["asked"]
        t["on_time_rate"] = t["on_time"] / t["asked"]
        t.insert(0, "group", t.index.astype(str))
        t.insert(0, "level", level)
        parts.append(t.reset_index(drop=True))
    return pd.concat(parts, ignore_index=True)


def missing_entities(status: CampaignStatus) -> pd.DataFrame:
    """Who to chase: the entities of the sample without a return (then those late or incomplete are in the status)."""
    e = status.entities
    return e.loc[~e["returned"], ["entity_id", "name_zh", "name_en", "sector", "region_code", "overdue"]].reset_index(drop=True)


def campaigns_asking(ws: Workspace, entity_ids: set[str] | list[str], entity_kind: str = "institution") -> set[int]:
    """The ids of the campaigns whose sample includes any of ``entity_ids`` (what a submitter may see)."""
    ids = list(entity_ids)
    if not ids:
        return set()
    with ws.sessions() as s:
        return set(s.execute(select(CampaignMember.campaign_id).where(
            CampaignMember.entity_kind == entity_kind, CampaignMember.entity_id.in_(ids))).scalars())


def choose_sample(ws: Workspace, *, entities: list[str] | None = None, sectors: Iterable[str] | None = None,
                  provinces: Iterable[str] | None = None, draw: dict[str, Any] | None = None,
                  framework: str = "jrt0201-2020") -> list[str] | None:
    """The sample of a new campaign, chosen one way: the ``entities`` listed; the active institutions of
    ``sectors`` and ``provinces`` (:func:`register_sample`); a JR/T 0201 §4 ``draw`` (``period`` of the size
    attributes, ``method``, ``by``, ``n``/``share``/``fraction``/``seed``: :func:`.sizes.draw_sample`), within
    ``sectors`` when given; or None (nothing chosen: :func:`create_campaign` asks the whole register)."""
    sectors, provinces = list(sectors or []), list(provinces or [])
    if entities is not None and (sectors or provinces or draw):
        raise DataError("choose the sample one way: a list of entities, or sectors and provinces, or a §4 draw",
                        rule="campaign.sample_choice", field="entities",
                        zh="请只用一种方式确定样本：主体清单、行业和省份，或 §4 抽样")
    if entities is not None:
        codes = list(dict.fromkeys(c for c in (str(e).strip() for e in entities) if c))
        if not codes:
            raise DataError("no institution listed for the sample", rule="campaign.sample", field="entities",
                            zh="样本中没有列出任何机构")
        return codes
    if draw is not None:
        if provinces:
            raise DataError("a §4 draw is made per sector: choose provinces without a draw, or a draw without provinces",
                            rule="campaign.sample_choice", field="provinces",
                            zh="§4 抽样按行业进行：请选择省份而不抽样，或抽样而不选省份")
        from .sizes import draw_sample

        spec = {k: v for k, v in draw.items() if v is not None}
        period = spec.pop("period", None)
        if not period:
            raise DataError("a §4 draw needs the period of the size attributes", rule="campaign.sample_choice",
                            field="draw.period", zh="§4 抽样需要规模属性的期间")
        res = draw_sample(ws, str(period), sectors=sectors or None, framework=framework, **spec).result
        if res.sample.empty:
            raise DataError("the §4 draw selected no institution (are size attributes registered for that period?)",
                            rule="campaign.sample", zh="§4 抽样未选中任何机构（该期间是否已登记规模属性？）")
        return list(map(str, res.sample["entity_id"]))
    if sectors or provinces:
        return register_sample(ws, sectors=sectors, provinces=provinces)
    return None
