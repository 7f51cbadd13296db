"""Opening a database for the application layer and the engine's store source, and what the derivation
reads from it (intake lives in :mod:`fintech_eval.app.intake`).

* :func:`open_existing_db` / :func:`existing_db`: an engine on an existing database of this schema, never
  creating or migrating one (a missing, foreign or older database is one line saying what to do);
* :func:`stored_inputs`, :func:`round_members`, :func:`derive_stored`: the stored observations and the
  register → the J, H and Q panel, with the round (a campaign's sample, else who reported) as the H shares'
  denominator;
* :func:`block_spec`: the default spec that scores one block of the stored data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .catalog import Framework
from .derive import derive_all
from .errors import DataError
from .store import (
    current_revision,
    database_url,
    institutions_frame,
    make_engine,
    observations_frame,
)


def existing_db(db: str | None) -> Engine | None:
    """An engine on the database ``db`` names (see :func:`~fintech_eval.store.database_url`) if it
    exists, else ``None``, without creating or changing anything (no SQLite file, no tables, no
    migration); an existing database that is not ours or not of this schema is an error
    (:func:`open_existing_db`)."""
    u = make_url(database_url(db))
    if u.get_backend_name() == "sqlite":
        name = u.database
        if not name or name == ":memory:" or u.query.get("mode") == "memory":
            return None  # a new in-memory database: empty
        if not name.startswith("file:") and not Path(name).exists():
            return None
    return open_existing_db(db)


def open_existing_db(db: str | None) -> Engine:
    """An engine on the database ``db`` names, for commands that read or change stored data: never
    creates a database or tables, never migrates. A missing file, a file or server that is not a database
    of ours, or a schema other than this version's is one :class:`DataError` saying what to do."""
    from .store import head_revision

    url = database_url(db)
    u = make_url(url)
    shown_url = u.render_as_string(hide_password=True)
    if u.get_backend_name() == "sqlite" and u.database and not u.database.startswith("file:") and u.database != ":memory:":
        path = Path(u.database)
        if not path.exists():
            raise DataError(f"no database at {path}: check --db (or $FINTECH_EVAL_DB); `fintech-eval import` creates "
                            "one", rule="db.missing", db=str(path))
        if path.is_dir():
            raise DataError(f"--db {path} is a directory, not a database file", rule="db.invalid", db=str(path))
        _check_sqlite_file(path)  # read-only first: opening with our engine would switch another file to WAL
    engine = make_engine(url)
    try:
        rev = current_revision(engine)
        if rev is None:
            raise DataError(f"{shown_url} holds no fintech-eval tables: not one of our databases (or an empty one); "
                            "check --db", rule="db.not_ours", db=shown_url)
        if rev != head_revision():
            known = _known_revision(rev)
            raise DataError(
                f"{shown_url} has schema revision {rev!r}, this version of fintech-eval uses {head_revision()!r}: "
                + ("run `fintech-eval db upgrade` (or any import, which upgrades it) or use the matching version" if known else
                   "it was written by a newer fintech-eval; upgrade fintech-eval"), rule="db.schema", db=shown_url)
    except DataError:
        engine.dispose()
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to open is the same user error, said in one line
        engine.dispose()
        raise DataError(f"cannot open the database {shown_url}: {db_reason(exc)}", rule="db.unreadable",
                        db=shown_url) from None
    return engine


def _check_sqlite_file(path: Path) -> None:
    """A SQLite file that is not ours (no ``alembic_version`` table) or not a database at all, found with a
    read-only connection that changes nothing in it."""
    import sqlite3

    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise DataError(f"cannot open the database {path}: {exc}", rule="db.unreadable", db=str(path)) from None
    if "alembic_version" not in tables:
        raise DataError(f"{path} holds no fintech-eval tables: not one of our databases (or an empty one); check --db",
                        rule="db.not_ours", db=str(path))


def _known_revision(rev: str) -> bool:
    from alembic.script import ScriptDirectory

    from .store.db import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(rev) is not None
    except Exception:  # noqa: BLE001 - an unknown revision id
        return False


def db_reason(exc: BaseException) -> str:
    """The driver's own one-line reason for a database error (no SQLAlchemy boilerplate or links)."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


#: the observation columns the derivation reads (``value_norm``: the value in the variable's canonical unit)
DERIVATION_COLUMNS = ["entity_kind", "entity_id", "period", "variable", "value_norm"]


def stored_inputs(session: Session, period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the derivation reads from the store: the observations (of ``period``, or all) and the register."""
    return observations_frame(session, period=period, columns=DERIVATION_COLUMNS), institutions_frame(session)


#: the round of a derivation without a campaign: no institution beyond those that reported in the period (an
#: empty population: each industry's and region's institutions are the ones with a return of that period)
REPORTING: tuple[str, ...] = ()


def round_members(session: Session, campaign_id: int | None) -> list[str] | tuple[str, ...]:
    """The institutions of the round, whose industry totals divide the H shares (H-A2B2-C1, H-A4B2-C2,
    "占该行业机构总数的比例"): a campaign's sample (those it asked, answering or not: a silent one counts as
    not meeting the condition); without a campaign :data:`REPORTING`, the institutions that reported in the
    period. Never the whole register: it holds institutions nobody asked (a national register behind a
    provincial round), which would shrink every share. ``share_reporting_only=1`` narrows either to the
    institutions that report the condition's inputs."""
    if campaign_id is None:
        return REPORTING
    from sqlalchemy import select

    from .store.models import Campaign, CampaignMember

    if session.get(Campaign, int(campaign_id)) is None:
        raise DataError(f"no campaign {campaign_id}", rule="campaign.which")
    return list(session.execute(select(CampaignMember.entity_id).where(
        CampaignMember.campaign_id == int(campaign_id), CampaignMember.entity_kind == "institution")).scalars())


def keep_to_sample(obs: pd.DataFrame, members: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The observations of a campaign's round: every institution's outside the sample (``members``) left out,
    other entities' (regions' open data) kept. Scoring a campaign reads its sample only by default: an import of
    reference data (the listed banks' disclosures) or a return sent outside the sample must not enter its ranking,
    nor its industries' and provinces' roll-ups (whose shares divide by the sample)."""
    inside = (obs["entity_kind"] != "institution") | obs["entity_id"].astype(str).isin([str(m) for m in members])
    return obs[inside]


def derive_stored(obs: pd.DataFrame, institutions: pd.DataFrame, framework: Framework, params: dict[str, Any] | None = None,
                  *, population: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """:func:`stored_inputs` → the long J/H/Q panel with statuses and reasons. The derivation of a period reads
    that period only (a value restated from the period before is reported in the period itself).
    ``population``: the institutions of the round (:func:`round_members`; None: the whole register, as the
    library's :func:`~fintech_eval.derive.derive_all` takes it)."""
    return derive_all(obs.rename(columns={"value_norm": "value"}), institutions.rename(columns={"id": "entity_id"}), framework, params,
                      population=population)


#: The default evaluation of a JR/T 0201 block. The standard defines no weights, normalisation or
#: aggregation (jrt0201.md §1.1), so this is our documented choice, overridable with ``steps``:
#: outliers treated as COINr does and indicators min-max normalised to 0-100 within each sector (J-A3B2-C6
#: is measured in different units per sector, and peers are compared within their sector), equal weights,
#: arithmetic mean with not-applicable indicators left out and a unit's aggregate missing when less than
#: half of its applicable indicators have data. Indicators with fewer than 4 values in a sector (e.g. not
#: applicable there) are not treated.
DEFAULT_BLOCK_STEPS: list[dict[str, Any]] = [
    {"treat": {"method": "coinr", "by": "sector", "skip_sparse": True}},
    {"normalise": {"method": "minmax", "range": [0, 100], "by": "sector"}},
    {"aggregate": {"method": "amean", "dat_thresh": 0.5}},
]


def block_spec(
    block: str, period: str | int, *, db: str | None = None, framework: str = "jrt0201-2020",
    steps: list[dict[str, Any]] | None = None, names: str = "zh", name: str | None = None,
) -> dict[str, Any]:
    """The spec that scores one block (J institutions, H industries, Q regions) of the stored data for one
    period with the default steps (``DEFAULT_BLOCK_STEPS``; within each sector for J, whose units have one).
    Not-applicable indicators are excluded per entity (weights renormalised), never counted as missing.
    ``fintech-eval evaluate`` runs the same spec from a file."""
    if steps is None:
        steps = DEFAULT_BLOCK_STEPS if block == "J" else [
            {k: {kk: vv for kk, vv in v.items() if kk != "by"}} for s in DEFAULT_BLOCK_STEPS for k, v in s.items()
        ]
    data: dict[str, Any] = {"source": "store", "framework": framework, "block": block, "period": str(period), "names": names}
    if db is not None:
        data["db"] = db
    return {
        "name": name or f"{framework} block {block}, {period}",
        "data": data,
        "steps": steps,
        "ranks": {"groups": ["sector", "region_code"] if block == "J" else []},
    }
