"""Questionnaires for a campaign (or a period): one workbook per entity asked, written by the template
generator (:func:`fintech_eval.collect.write_template`), prefilled with the entity's code, names, sector,
region and the period, and listing only the variables the framework asks of the entity's sector; plus an
index (``index.csv``: one row per workbook, the file beside the entity it is for) that the team mails out
from and ticks off.

Every entity is checked before any file is written, and files already in the folder are never replaced
unless ``force`` (a folder may already hold workbooks that respondents have filled in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from ..collect import write_template, write_templates
from ..collect.template import template_filename
from ..collect.validate import applicable_variables
from ..errors import DataError, Problem, closest, first_of
from ..periods import period_kind
from ..store import institutions_frame
from ..store.models import CampaignMember
from .campaigns import read_sample, resolve_campaign
from .workspace import Workspace

INDEX_FILE = "index.csv"
Progress = Callable[[int, int], None] | None  # progress(done, total) after each workbook
INDEX_COLUMNS = ["entity_id", "name_zh", "name_en", "sector", "region_code", "period", "framework", "campaign",
                 "n_variables", "file"]


@dataclass
class TemplateBatch:
    """What was written: the folder, its index file, and the index itself (one row per workbook)."""

    folder: Path
    index_file: Path
    index: pd.DataFrame
    campaign: int | None
    period: str


def campaign_templates(ws: Workspace, campaign_id: int | None = None, *, out: str | Path,
                       force: bool = False, password: str | None = None, progress: Progress = None) -> TemplateBatch:
    """One questionnaire per entity of the campaign's sample (the campaign may be omitted when the database
    holds one), for its framework and period."""
    c = resolve_campaign(ws, campaign_id)
    with ws.sessions() as s:
        members = s.execute(select(CampaignMember.entity_id).where(CampaignMember.campaign_id == c.id)
                            .order_by(CampaignMember.entity_id)).scalars().all()
    return _write(ws, list(members), period=c.period, framework=c.framework, out=Path(out), campaign=int(c.id),
                  force=force, password=password, progress=progress)


def entity_template(ws: Workspace, entity_id: str, campaign_id: int | None = None, *, out: str | Path,
                    password: str | None = None) -> Path:
    """The questionnaire of one entity of the campaign's sample (an institution downloading its own, on the
    web), written into the folder ``out`` (replacing an earlier copy there); returns its path. An entity
    outside the sample is an error naming it."""
    c = resolve_campaign(ws, campaign_id)
    with ws.sessions() as s:
        member = s.execute(select(CampaignMember.entity_id).where(CampaignMember.campaign_id == c.id,
                                                                  CampaignMember.entity_id == entity_id)).first()
    if member is None:
        raise DataError(f"{entity_id} is not in the sample of campaign {c.id}", rule="campaign.not_in_sample",
                        entity=entity_id)
    with ws.sessions() as s:
        reg = institutions_frame(s)
    row = reg[reg["id"] == entity_id].to_dict("records")[0]
    return write_template(ws.framework(c.framework), row, c.period, Path(out) / template_filename(row, c.period),
                          password=password)


def period_templates(ws: Workspace, *, period: str, framework: str = "jrt0201-2020", entities: list[str] | None = None,
                     sample: str | Path | None = None, out: str | Path, force: bool = False,
                     password: str | None = None, progress: Progress = None) -> TemplateBatch:
    """Questionnaires without a campaign: for ``entities`` and the institutions of a ``sample`` file, or for
    every registered institution when neither is given."""
    ids = list(entities or [])
    if sample is not None:
        ids += read_sample(sample)
    return _write(ws, list(dict.fromkeys(ids)) or None, period=str(period), framework=framework, out=Path(out),
                  campaign=None, force=force, password=password, progress=progress)


def _write(ws: Workspace, ids: list[str] | None, *, period: str, framework: str, out: Path, campaign: int | None,
           force: bool, password: str | None, progress: Progress) -> TemplateBatch:
    period_kind(period)  # a valid period code or an error
    fw = ws.framework(framework)
    with ws.sessions() as s:
        reg = institutions_frame(s)
    if reg.empty:
        raise DataError("the institution register is empty: run `fintech-eval register institutions FILE` first",
                        rule="entity.none")
    if ids is None:
        chosen = reg
    else:
        known = set(reg["id"])
        unknown = [e for e in ids if e not in known]
        if unknown:
            raise DataError([Problem("entity.unknown", f"{e} is not in the institution register"
                                     + (f" (did you mean {m!r}?)" if (m := closest(e, known)) else ""), {"entity": e})
                             for e in unknown[:50]])
        chosen = reg.set_index("id").loc[ids].reset_index()
    if chosen.empty:
        raise DataError("no entity to write a questionnaire for", rule="entity.none")
    names = [template_filename(e, period) for e in chosen.to_dict("records")]
    there = [n for n in names if (out / n).exists()]
    if there and not force:
        raise DataError(f"{len(there)} questionnaire(s) already in {out} ({first_of(there, what='in all')}): they may "
                        "hold answers; write to a new folder, or replace them with --force", rule="template.exists",
                        file=str(out))
    paths = write_templates(fw, chosen, period, out, password=password, progress=progress)
    n_vars = {sec: len(applicable_variables(fw, sec)) for sec in chosen["sector"].unique()}
    index = pd.DataFrame({
        "entity_id": chosen["id"].to_numpy(),
        "name_zh": chosen["name_zh"].to_numpy(),
        "name_en": chosen["name_en"].to_numpy(),
        "sector": chosen["sector"].to_numpy(),
        "region_code": chosen["region_code"].to_numpy(),
        "period": period,
        "framework": f"{fw.id}@{fw.version}",
        "campaign": campaign,
        "n_variables": chosen["sector"].map(n_vars).to_numpy(),
        "file": [p.name for p in paths],
    }, columns=INDEX_COLUMNS)
    index_file = out / INDEX_FILE
    index.to_csv(index_file, index=False, encoding="utf-8")
    return TemplateBatch(out, index_file, index, campaign, period)
