"""The workflows that join collection, storage and derivation (used by the CLI, the demo and the web).

* :func:`import_paths`: read and validate every file together; if any problem is an error, store nothing
  and raise one :class:`DataError` listing them all; otherwise store each file as a submission (payload
  kept verbatim) inside ONE transaction, so the whole import is all-or-nothing.
* :func:`validate_paths`: the same reading and validation (:func:`read_and_validate`), storing nothing
  and creating no database: what an import would report.
* :func:`import_public_banks`: the shipped bank disclosures (institutions upserted, conflicts surfaced).
* :func:`derive_from_db`: the stored observations → the J, H and Q indicator panel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from . import collect
from .catalog import Framework, load_framework
from .collect import carry_over_pairs, import_files
from .collect import validate as validate_frame
from .collect.public_banks import read_public_banks
from .collect.texts import user_problems
from .collect.validate import normalise_period
from .derive import derive_all
from .errors import DataError, Problem
from .store import (
    current_revision,
    database_url,
    import_observations,
    init_db,
    institutions_frame,
    make_engine,
    observations_frame,
    session_factory,
    size_frame,
    upsert_institutions,
)


@dataclass
class ImportReport:
    files: list[str]
    stored_rows: int = 0
    new_submissions: int = 0
    unchanged_submissions: int = 0
    warnings: list[Any] = field(default_factory=list)
    registered: int = 0  # institutions created or changed by ``register=``


def _problem(p: Any) -> Problem:
    return p if isinstance(p, Problem) else Problem(getattr(p, "rule", "error"), str(p), getattr(p, "where", {}))


#: the register columns validation reads (an empty register is a frame with these columns)
REGISTER_COLUMNS = ["id", "name_zh", "name_en", "sector", "region_code"]


def institution_sizes(session: Session, entity_ids: list[str], periods: list[str]) -> pd.DataFrame:
    """The registered size attributes of these institutions in these periods (``entity_id, period, attribute,
    value`` in 元), for the unit-factor check."""
    out = size_frame(session, period=periods, entity_ids=entity_ids)  # the institutions' (kind "institution")
    return out.drop(columns="entity_kind")


def read_and_validate(
    sessions: sessionmaker[Session] | None, paths: Iterable[str | Path], framework: Framework, *,
    encoding: str | None = None, entities: list[str] | None = None, register: pd.DataFrame | None = None,
    accept_units: Iterable[str] = (), **read_kw: Any,
) -> collect.ImportResult:
    """Read and validate files exactly as an import does, storing nothing: against the institution
    register and the stored previous-year values of ``sessions``' database (``None``: as a fresh,
    empty database would). ``entities``: the files hold only these entities (a return), so only their
    previous values are read. ``register``: rows of a register file to be registered with the import (they
    count as registered; an id in both takes the file's attributes). Every problem of every file is in the
    result (errors and warnings). An institution in no register is an error, also when the register is
    empty."""
    from .collect.unitcheck import UnitChecks

    kw = {**read_kw, **({"encoding": encoding} if encoding else {})}

    def run(inst: pd.DataFrame, previous: pd.DataFrame | None, stored: Any, sizes: Any) -> collect.ImportResult:
        if register is not None and len(register):
            reg = register[[c for c in REGISTER_COLUMNS if c in register.columns]]
            inst = pd.concat([inst[~inst["id"].isin(reg["id"])], reg], ignore_index=True) if len(inst) else reg
        checks = UnitChecks.of(accept_units, stored=stored, sizes=sizes)
        return import_files(list(paths), framework, institutions=inst, previous=previous, stored=stored,
                            unit_checks=checks, **kw)

    if sessions is None:
        return run(pd.DataFrame(columns=REGISTER_COLUMNS), None, None, None)

    def sizes(entity_ids: list[str], periods: list[str]) -> pd.DataFrame:
        with sessions() as s:
            return institution_sizes(s, entity_ids, periods)

    def stored(entity_ids: list[str], periods: list[str], variables: list[str]) -> pd.DataFrame:
        with sessions() as s:
            return observations_frame(s, period=periods, entity_ids=entity_ids, variables=variables,
                                      columns=STORED_COLUMNS)

    wholes = sorted({whole for _, whole in carry_over_pairs(framework)})
    if entities is not None:  # a return: its entities' rows only (a handful of reads, whatever the database holds)
        got = _entity_reads(sessions, entities, wholes, stored)
        res = run(got.register, got.previous, got.stored, sizes)
        if not any(p.rule in ("entity.unknown", "entity.kind") for p in res.problems):
            return res
        # another entity in the files (or one named by its name): judged against the whole register, as always
    with sessions() as s:
        inst = institutions_frame(s)  # validation reads the register's own columns (id, sector, …)
        # stored values that later returns restate (fintech_staff → next year's fintech_staff_prev_end)
        previous = observations_frame(s, entity_kind="institution", variables=wholes,
                                      entity_ids=entities) if wholes else None
    return run(inst, previous, stored, sizes)


#: the columns of the stored values the checks across stored data read
STORED_COLUMNS = ["entity_kind", "entity_id", "period", "variable", "value_norm"]


@dataclass
class _EntityReads:
    register: pd.DataFrame
    previous: pd.DataFrame | None
    stored: Any


def _entity_reads(sessions: sessionmaker[Session], entities: list[str], wholes: list[str], stored: Any) -> _EntityReads:
    """What validating a return of ``entities`` reads from the database, in one session and one read of their
    stored values: their register rows (validation needs no other while every row is of these entities; the
    caller falls back to the whole register otherwise), their values restated by later returns (``previous``),
    and ``stored`` answering from those values (falling back to ``stored`` for other entities). The frames are
    exactly those of the separate reads (the same rows, order and columns)."""
    with sessions() as s:
        reg = institutions_frame(s, ids=entities)
        mine = observations_frame(s, entity_ids=entities)
    inst_rows = mine[mine["entity_kind"] == "institution"]
    previous = inst_rows[inst_rows["variable"].isin(wholes)].reset_index(drop=True) if wholes else None
    own = set(entities)

    def stored_from_mine(entity_ids: list[str], periods: list[str], variables: list[str]) -> pd.DataFrame:
        if not set(entity_ids) <= own:
            return stored(entity_ids, periods, variables)
        hit = mine["entity_id"].isin(list(entity_ids)) & mine["period"].isin(list(periods)) & mine["variable"].isin(list(variables))
        return mine.loc[hit, STORED_COLUMNS].reset_index(drop=True)

    return _EntityReads(reg, previous, stored_from_mine)


def _register_rows(register: str | Path | None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The checked rows of a register file given with an import, or its problems (reported with the
    import's, so that one run lists everything wrong in both files)."""
    if register is None:
        return None, []
    from .app.registers import read_register

    try:
        return read_register(register, "institutions"), []
    except DataError as exc:
        return _register_ids(register), list(exc.problems)


def _register_ids(register: str | Path) -> pd.DataFrame | None:
    """The ids of a register file that has problems (sectors unknown), so that its institutions are not
    also reported as unknown by the import's own checks."""
    from .app.registers import _columns, read_table, register_spec

    try:
        ids = _columns(read_table(register, "register.read"), register_spec("institutions"), str(register))["id"].astype(str).str.strip()
    except DataError:
        return None
    return pd.DataFrame({"id": ids[ids != ""].unique(), "sector": None})


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


def validate_paths(
    db: str | None, paths: Iterable[str | Path], framework: Framework | str = "jrt0201-2020", *,
    encoding: str | None = None, register: str | Path | None = None, **read_kw: Any,
) -> collect.ImportResult:
    """What :func:`import_paths` would report for ``paths`` (and the ``register`` file given with them),
    storing nothing and creating no database: validated against ``db``'s register and previous-year values
    when that database exists."""
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    reg, reg_problems = _register_rows(register)
    engine = existing_db(db)
    try:
        res = read_and_validate(session_factory(engine) if engine is not None else None, paths, fw, encoding=encoding,
                                register=reg, **read_kw)
    finally:
        if engine is not None:
            engine.dispose()
    res.problems[:0] = [_collect_problem(p) for p in reg_problems]
    return res


def _audit_accepted_checks(session: Session, warnings: list[Any], user: str, submission_id: int) -> None:
    """An error-level check the importer accepted with a reason (``--accept-unit``) goes into the value's audit
    trail: field = the rule, old = what the check said, new = ``accepted``, why = the reason."""
    from .store.reviews import audit_entries

    for w in warnings:
        reason = w.where.get("accepted")
        if not reason:
            continue
        key = ("institution", w.where["entity"], w.where["period"], w.where["variable"], w.message)
        audit_entries(session, [key], field=w.rule, new="accepted", who=user, why=reason, submission_id=submission_id)


def _collect_problem(p: Problem) -> Any:
    """A register problem as an intake problem (severity error; its ``field`` shown as the column)."""
    from .collect.validate import problem

    where = dict(p.where)
    field_name = where.pop("field", None)
    ident = where.pop("id", None)
    return problem(p.rule, p.message, column=field_name, entity=ident, **where)


def import_paths(
    db: str | None, paths: Iterable[str | Path], framework: Framework | str = "jrt0201-2020", *, user: str = "cli",
    encoding: str | None = None, received_at: dt.datetime | None = None, register: str | Path | None = None,
    **read_kw: Any,
) -> ImportReport:
    """All-or-nothing import of several files; every problem of every file is reported at once.
    ``register``: an institution register file (see :mod:`fintech_eval.app.registers`) registered in the
    same transaction: a bad row in it or in any file stores nothing. ``read_kw`` go to the readers (e.g.
    ``period=`` / ``entity=`` a questionnaire must carry); ``received_at``: when the returns arrived, if not
    now (a return received by post or e-mail earlier: the campaign's on-time rate compares it with the
    deadline)."""
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    paths = [Path(p) for p in paths]
    bad_user = user_problems(user)
    if bad_user:
        raise DataError([_problem(p) for p in bad_user])
    reg, reg_problems = _register_rows(register)
    sessions = session_factory(init_db(db))
    res = read_and_validate(sessions, paths, fw, encoding=encoding, register=reg, **read_kw)
    errors = [_collect_problem(p) for p in reg_problems] + res.errors
    if errors:
        raise DataError([_problem(p) for p in errors])
    report = ImportReport([str(p) for p in paths], warnings=list(res.warnings))
    clean = res.clean
    with sessions() as s, s.begin():
        if reg is not None:
            stats = upsert_institutions(s, reg, who=user, why=f"register file {Path(register).name} (import --register)")
            report.registered = stats.inserted + stats.updated
        for p in paths:
            part = clean if len(paths) == 1 else clean[clean["file"].astype(str) == str(p)]
            r = import_observations(s, p.read_bytes(), part, file_name=p.name, fmt=p.suffix.lstrip(".") or "bin", submitted_by=user,
                                    received_at=received_at)
            if r.is_new:
                _audit_accepted_checks(s, [w for w in res.warnings if str(w.where.get("file")) == str(p)], user, r.submission.id)
            report.stored_rows += len(part) if r.is_new else 0
            report.new_submissions += int(r.is_new)
            report.unchanged_submissions += int(not r.is_new)
    return report


@dataclass
class Correction:
    """What :func:`correct_observation` did: the changed fields (empty: the value was already so)."""

    key: Any
    changed: list[str]
    trail: pd.DataFrame | None


def correct_observation(
    db: str | None, key: Any, value: Any, *, why: str, user: str = "cli", unit: str | None = None,
    framework: Framework | str = "jrt0201-2020",
) -> Correction:
    """Correct one stored value through the import's own rules: ``value`` (a number or a text such as
    ``1,234``, ``12.5%``, ``N/A``) is read by the one number parser, then validated as a one-row import of
    that key (type, range, level scale, yes/no, part ≤ whole against the stored values, turnover against
    the previous period) and converted to the stored canonical unit; only then stored, audited, in one
    transaction. Raises :class:`DataError` naming every broken rule; a database that does not exist is
    an error (a correction never creates one)."""
    from .collect.numbers import parse_number
    from .collect.texts import text_rule
    from .store import ObsKey, begin_write, correct_value, history

    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    k = ObsKey(*key)
    k = k._replace(period=normalise_period(k.period) or k.period)  # 20２4 is 2024
    problems = [_problem(p) for p in user_problems(user)]
    hit = text_rule(why or "", None)
    if hit:
        problems.append(Problem(hit[0], f"the reason {hit[1]}", {"column": "--why"}))
    if problems:
        raise DataError(problems)
    engine = open_existing_db(db)
    sessions = session_factory(engine)
    try:
        with sessions() as s, s.begin():
            begin_write(s)  # a write transaction from the start: the reads below must not block the write
            stored = observations_frame(s, k.period, k.entity_kind, variables=[k.variable], entity_ids=[k.entity_id],
                                        columns=["unit", "unit_norm"])
            if not len(stored):
                raise DataError(f"no stored value for {'/'.join(k)}: import it first (a correction changes a "
                                "stored value)", rule="store.unknown_key", **k._asdict())
            number, hint, rule = parse_number(value)
            given_unit = unit or hint or stored["unit"].iloc[0]
            if rule:
                raise DataError(Problem(rule, f"value {value!r} is not a number", {"column": "VALUE", **k._asdict()}))
            row = pd.DataFrame([{
                "entity_kind": k.entity_kind, "entity_id": k.entity_id, "period": k.period, "variable": k.variable,
                "value": number, "unit": given_unit if isinstance(given_unit, str) and given_unit else None,
                "source": None, "file": "(correction)", "sheet": None, "row": None, "column": "VALUE",
                "raw": None if value is None else str(value)}])
            inst = institutions_frame(s)
            wholes = sorted({whole for _, whole in carry_over_pairs(fw)})
            previous = observations_frame(s, entity_kind="institution", variables=wholes) if wholes else None

            def stored_values(entity_ids: list[str], periods: list[str], variables: list[str]) -> pd.DataFrame:
                return observations_frame(s, period=periods, entity_ids=entity_ids, variables=variables,
                                          columns=["entity_kind", "entity_id", "period", "variable", "value_norm"])

            from .collect.unitcheck import UnitChecks

            def sizes(entity_ids: list[str], periods: list[str]) -> pd.DataFrame:
                return institution_sizes(s, entity_ids, periods)

            clean, probs = validate_frame(row, fw, inst, previous, stored=stored_values,
                                          unit_checks=UnitChecks(stored=stored_values, sizes=sizes))
            errors = [p for p in probs if getattr(p, "severity", "error") == "error"]
            if errors:
                raise DataError([_problem(p) for p in errors])
            c = clean.iloc[0]
            kw: dict[str, Any] = {"unit": c["unit"] if isinstance(c["unit"], str) else stored["unit"].iloc[0]}
            if isinstance(c.get("unit_norm"), str) and c["unit_norm"] != kw["unit"]:
                kw |= {"value_norm": None if pd.isna(c["value_norm"]) else float(c["value_norm"]), "unit_norm": c["unit_norm"]}
            new = None if pd.isna(c["value"]) else float(c["value"])
            kw["status"], kw["flag_reason"] = reflag(s, fw, inst, k, c["value_norm"])
            changed = correct_value(s, k, new, who=user, why=why, **kw)
            trail = history(s, k).tail(len(changed)) if changed else None
    finally:
        engine.dispose()
    return Correction(k, changed, trail)


def reflag(session: Session, framework: Framework, institutions: pd.DataFrame, key: Any, value_norm: float) -> tuple[str, str | None]:
    """The flag a corrected value earns now: the import's outlier rule (robust z within variable, sector and
    period) run again on the stored values of its group with the corrected one in place. Returns ``(status,
    reason)``: ``('ok', None)`` when the value is no longer odd (the old reason, e.g. of the outlier it was,
    is dropped), ``('flagged', the new reason)`` when it still is."""
    if pd.isna(value_norm):
        return "ok", None
    peers = observations_frame(session, key.period, key.entity_kind, variables=[key.variable],
                               columns=["entity_kind", "entity_id", "period", "variable", "value_norm", "unit_norm"])
    peers = peers[peers["entity_id"] != key.entity_id]
    me = pd.DataFrame([{"entity_kind": key.entity_kind, "entity_id": key.entity_id, "period": key.period,
                        "variable": key.variable, "value_norm": float(value_norm), "unit_norm": None}])
    group = pd.concat([me, peers], ignore_index=True).rename(columns={"value_norm": "value", "unit_norm": "unit"})
    group["unit"] = None  # the stored canonical values are in the declared unit
    clean, _ = validate_frame(group, framework, institutions, mandatory="none")
    mine = clean[clean["entity_id"] == key.entity_id]
    if mine.empty or mine["status"].iloc[0] != "flagged":
        return "ok", None
    return "flagged", str(mine["flag_reason"].iloc[0])


def import_public_banks(db: str | None, framework: Framework | str = "jrt0201-2020", *, path: str | Path | None = None, user: str = "cli"):
    """The public bank disclosures: banks upserted, observations stored; returns the reader's result
    (ratio checks beside the disclosed ratios, CONFLICT rows) for reporting."""
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    pb = read_public_banks(path, fw)
    engine = init_db(db)
    sessions = session_factory(engine)
    file = Path(pb.file) if getattr(pb, "file", None) else None
    payload = file.read_bytes() if file and file.exists() else pb.observations.to_csv(index=False).encode()
    with sessions() as s, s.begin():
        upsert_institutions(s, pb.institutions, who=user, why="public bank disclosures")
        r = import_observations(s, payload, pb.observations, file_name=file.name if file else "banks_disclosed.csv", fmt="csv", submitted_by=user)
    return pb, r


#: the observation columns the derivation reads (``value_norm``: the value in the variable's canonical unit)
DERIVATION_COLUMNS = ["entity_kind", "entity_id", "period", "variable", "value_norm"]


def stored_inputs(session: Session, period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the derivation reads from the store: the observations (of ``period``, or all) and the register."""
    return observations_frame(session, period=period, columns=DERIVATION_COLUMNS), institutions_frame(session)


def campaign_sample(session: Session, campaign_id: int | None) -> list[str] | None:
    """The institutions a campaign asked (its sample): the round whose industry totals divide the H shares
    (H-A2B2-C1, H-A4B2-C2); None without a campaign (then the round is the register)."""
    if campaign_id is None:
        return None
    from sqlalchemy import select

    from .store.models import Campaign, CampaignMember

    if session.get(Campaign, int(campaign_id)) is None:
        raise DataError(f"no campaign {campaign_id}", rule="campaign.which")
    return list(session.execute(select(CampaignMember.entity_id).where(
        CampaignMember.campaign_id == int(campaign_id), CampaignMember.entity_kind == "institution")).scalars())


def derive_stored(obs: pd.DataFrame, institutions: pd.DataFrame, framework: Framework, params: dict[str, Any] | None = None,
                  *, population: list[str] | None = None) -> pd.DataFrame:
    """:func:`stored_inputs` → the long J/H/Q panel with statuses and reasons. The derivation of a period reads
    that period only (a value restated from the period before is reported in the period itself).
    ``population``: the institutions of the round (:func:`campaign_sample`; default the register)."""
    return derive_all(obs.rename(columns={"value_norm": "value"}), institutions.rename(columns={"id": "entity_id"}), framework, params,
                      population=population)


def derive_from_db(db: str | None, framework: Framework | str = "jrt0201-2020", *, period: str | None = None, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """The stored observations (canonical units) → the long J/H/Q panel with statuses and reasons."""
    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    engine = open_existing_db(db)
    try:
        with session_factory(engine)() as s:
            obs, inst = stored_inputs(s, period)
    finally:
        engine.dispose()
    return derive_stored(obs, inst, fw, params)


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
