"""Intake: returns checked, imported all-or-nothing and corrected (``fintech-eval validate``, ``import``,
``correct``; the demo, the records pipeline and the web's returns call the same functions).

* :func:`validate_files`: read and validate files exactly as an import would (:func:`read_and_validate`),
  storing nothing; without a database (``ws=None``) as a fresh, empty one would.
* :func:`import_files`: every problem of every file (and of a register given with them) at once; if any is
  an error nothing is stored, else every file is stored as a submission (payload kept verbatim) and the
  register rows registered, in ONE transaction.
* :func:`import_public_banks`: the shipped bank disclosures (banks registered in the same transaction).
* :func:`correct_value`: one stored value corrected through the import's own rules, audited; the outliers of
  its group (variable, sector, period) judged again with the corrected value in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from .. import collect
from ..catalog import Framework
from ..collect import carry_over_pairs
from ..collect import validate as validate_frame
from ..collect.texts import text_rule, user_problems
from ..collect.validate import normalise_period, outlier_free_reason
from ..errors import DataError, Problem
from ..store import (
    ObsKey,
    history,
    import_observations,
    institutions_frame,
    observations_frame,
    size_frame,
    upsert_institutions,
)
from ..store import correct_value as store_correction
from .tx import writing
from .workspace import Workspace

#: the register columns validation reads (an empty register is a frame with these columns)
REGISTER_COLUMNS = ["id", "name_zh", "name_en", "sector", "region_code"]


@dataclass
class ImportReport:
    """What :func:`import_files` stored."""

    files: list[str]
    stored_rows: int = 0
    new_submissions: int = 0
    unchanged_submissions: int = 0
    warnings: list[Any] = field(default_factory=list)
    registered: int = 0  # institutions created or changed by ``register=``


def _framework(ws: Workspace | None, framework: Framework | str) -> Framework:
    if isinstance(framework, Framework):
        return framework
    if ws is not None:
        return ws.framework(framework)
    from ..catalog import load_framework

    return load_framework(framework)


def _problem(p: Any) -> Problem:
    return p if isinstance(p, Problem) else Problem(getattr(p, "rule", "error"), str(p), getattr(p, "where", {}))


def institution_sizes(session: Session, entity_ids: list[str], periods: list[str]) -> pd.DataFrame:
    """The registered size attributes of these institutions in these periods (``entity_id, period, attribute,
    value`` in 元), for the unit-factor check."""
    out = size_frame(session, period=periods, entity_ids=entity_ids)  # the institutions' (kind "institution")
    return out.drop(columns="entity_kind")


#: the columns of the stored values the checks across stored data read
STORED_COLUMNS = ["entity_kind", "entity_id", "period", "variable", "value_norm"]


def _stored_values(session: Session):
    """The unit-factor and part-whole checks' reader of stored values, on ``session``."""
    def stored(entity_ids: list[str], periods: list[str], variables: list[str]) -> pd.DataFrame:
        return observations_frame(session, period=periods, entity_ids=entity_ids, variables=variables,
                                  columns=STORED_COLUMNS)
    return stored


def read_and_validate(
    ws: Workspace | None, paths: Iterable[str | Path], framework: Framework | str, *,
    encoding: str | None = None, entities: list[str] | None = None, register: pd.DataFrame | None = None,
    accept_units: Iterable[str] = (), **read_kw: Any,
) -> collect.ImportResult:
    """Read and validate files exactly as an import does, storing nothing: against the institution register
    and the stored previous-year values of ``ws``' database (``None``: as a fresh, empty database would).
    ``entities``: the files hold only these entities (a return), so only their previous values are read.
    ``register``: rows of a register file to be registered with the import (they count as registered; an id
    in both takes the file's attributes). Every problem of every file is in the result (errors and
    warnings). An institution in no register is an error, also when the register is empty."""
    from ..collect.unitcheck import UnitChecks

    fw = _framework(ws, framework)
    kw = {**read_kw, **({"encoding": encoding} if encoding else {})}

    def run(inst: pd.DataFrame, previous: pd.DataFrame | None, stored: Any, sizes: Any) -> collect.ImportResult:
        if register is not None and len(register):
            reg = register[[c for c in REGISTER_COLUMNS if c in register.columns]]
            inst = pd.concat([inst[~inst["id"].isin(reg["id"])], reg], ignore_index=True) if len(inst) else reg
        checks = UnitChecks.of(accept_units, stored=stored, sizes=sizes)
        return collect.import_files(list(paths), fw, institutions=inst, previous=previous, stored=stored,
                                    unit_checks=checks, **kw)

    if ws is None:
        return run(pd.DataFrame(columns=REGISTER_COLUMNS), None, None, None)

    def sizes(entity_ids: list[str], periods: list[str]) -> pd.DataFrame:
        with ws.sessions() as s:
            return institution_sizes(s, entity_ids, periods)

    def stored(entity_ids: list[str], periods: list[str], variables: list[str]) -> pd.DataFrame:
        with ws.sessions() as s:
            return _stored_values(s)(entity_ids, periods, variables)

    wholes = sorted({whole for _, whole in carry_over_pairs(fw)})
    if entities is not None:  # a return: its entities' rows only (a handful of reads, whatever the database holds)
        got = _entity_reads(ws, entities, wholes, stored)
        res = run(got.register, got.previous, got.stored, sizes)
        if not any(p.rule in ("entity.unknown", "entity.kind") for p in res.problems):
            return res
        # another entity in the files (or one named by its name): judged against the whole register, as always
    with ws.sessions() as s:
        inst = institutions_frame(s)  # validation reads the register's own columns (id, sector, …)
        # stored values that later returns restate (fintech_staff → next year's fintech_staff_prev_end)
        previous = observations_frame(s, entity_kind="institution", variables=wholes,
                                      entity_ids=entities) if wholes else None
    return run(inst, previous, stored, sizes)


@dataclass
class _EntityReads:
    register: pd.DataFrame
    previous: pd.DataFrame | None
    stored: Any


def _entity_reads(ws: Workspace, entities: list[str], wholes: list[str], stored: Any) -> _EntityReads:
    """What validating a return of ``entities`` reads from the database, in one session and one read of their
    stored values: their register rows (validation needs no other while every row is of these entities; the
    caller falls back to the whole register otherwise), their values restated by later returns (``previous``),
    and ``stored`` answering from those values (falling back to ``stored`` for other entities). The frames are
    exactly those of the separate reads (the same rows, order and columns)."""
    with ws.sessions() as s:
        reg = institutions_frame(s, ids=entities)
        mine = observations_frame(s, entity_ids=entities)
    inst_rows = mine[mine["entity_kind"] == "institution"]
    previous = inst_rows[inst_rows["variable"].isin(wholes)].reset_index(drop=True) if wholes else None
    own = set(entities)

    def stored_from_mine(entity_ids: list[str], periods: list[str], variables: list[str]) -> pd.DataFrame:
        if not set(entity_ids) <= own:
            return stored(entity_ids, periods, variables)
        hit = (mine["entity_id"].isin(list(entity_ids)) & mine["period"].isin(list(periods))
               & mine["variable"].isin(list(variables)))
        return mine.loc[hit, STORED_COLUMNS].reset_index(drop=True)

    return _EntityReads(reg, previous, stored_from_mine)


RegisterInput = str | Path | pd.DataFrame | None


def register_rows(register: RegisterInput, name: str = "register") -> tuple[pd.DataFrame | None, list[Any]]:
    """The checked rows of an institution register given with an import (a file, or a frame in the register's
    columns) and its problems as intake problems: errors (then the rows are only the ids, so that its
    institutions are not also reported unknown) and warnings (``register.credit_region``), reported with the
    import's, so that one run lists everything wrong in both."""
    if register is None:
        return None, []
    from .registers import _columns, check_register, read_register, register_spec

    warnings: list[Problem] = []
    try:
        if isinstance(register, pd.DataFrame):
            spec = register_spec("institutions")
            text = register.astype("object").where(register.notna(), "").astype("str")
            rows = check_register(_columns(text, spec, name), spec, name, warnings=warnings)
        else:
            rows = read_register(register, "institutions", warnings=warnings)
    except DataError as exc:
        return _register_ids(register), [_collect_problem(p) for p in exc.problems]
    return rows, [_collect_problem(p, "warning") for p in warnings]


def _register_ids(register: str | Path | pd.DataFrame) -> pd.DataFrame | None:
    """The ids of a register that has problems (sectors unknown), so that its institutions are not also
    reported as unknown by the import's own checks."""
    from .registers import _columns, read_table, register_spec

    if isinstance(register, pd.DataFrame):
        ids = register["id"].astype(str).str.strip() if "id" in register.columns else pd.Series(dtype=str)
    else:
        try:
            ids = _columns(read_table(register, "register.read"), register_spec("institutions"),
                           str(register))["id"].astype(str).str.strip()
        except DataError:
            return None
    return pd.DataFrame({"id": ids[ids != ""].unique(), "sector": None})


def _collect_problem(p: Problem, severity: str = "error") -> Any:
    """A register problem as an intake problem (its ``field`` shown as the column)."""
    from ..collect.validate import problem

    where = dict(p.where)
    field_name = where.pop("field", None)
    ident = where.pop("id", None)
    return problem(p.rule, p.message, severity, zh=p.message_zh, column=field_name, entity=ident, **where)


def validate_files(
    ws: Workspace | None, paths: Iterable[str | Path], framework: Framework | str = "jrt0201-2020", *,
    encoding: str | None = None, register: RegisterInput = None, **read_kw: Any,
) -> collect.ImportResult:
    """What :func:`import_files` would report for ``paths`` (and the ``register`` given with them), storing
    nothing: validated against ``ws``' register and previous-year values (``None``: no database yet;
    :meth:`Workspace.existing` opens one only if it exists)."""
    reg, reg_problems = register_rows(register)
    res = read_and_validate(ws, paths, framework, encoding=encoding, register=reg, **read_kw)
    res.problems[:0] = reg_problems
    return res


def audit_accepted_checks(session: Session, warnings: list[Any], user: str, submission_id: int) -> None:
    """An error-level check the importer accepted with a reason (``--accept-unit`` or the return's own
    ``accept_reason`` column) goes into the value's audit trail: field = the rule, old = what the check
    said, new = ``accepted``, why = the reason."""
    from ..store.reviews import audit_entries

    for w in warnings:
        reason = w.where.get("accepted")
        if not reason:
            continue
        key = ("institution", w.where["entity"], w.where["period"], w.where["variable"], w.message)
        audit_entries(session, [key], field=w.rule, new="accepted", who=user, why=reason, submission_id=submission_id)


def import_files(
    ws: Workspace, paths: Iterable[str | Path], framework: Framework | str = "jrt0201-2020", *, user: str = "cli",
    encoding: str | None = None, received_at: dt.datetime | None = None, register: RegisterInput = None,
    register_why: str | None = None, **read_kw: Any,
) -> ImportReport:
    """All-or-nothing import of several files; every problem of every file is reported at once.
    ``register``: institutions (a register file, see :mod:`fintech_eval.app.registers`, or a frame in its
    columns) registered in the same transaction: a bad row in it or in any file stores nothing
    (``register_why``: the audit reason, default names the file). ``read_kw`` go to the readers (e.g.
    ``period=`` / ``entity=`` a questionnaire must carry, ``mandatory=``, ``accept_units=``);
    ``received_at``: when the returns arrived, if not now (a return received by post earlier: the campaign's
    on-time rate compares it with the deadline)."""
    fw = _framework(ws, framework)
    paths = [Path(p) for p in paths]
    bad_user = user_problems(user)
    if bad_user:
        raise DataError([_problem(p) for p in bad_user])
    reg, reg_problems = register_rows(register)
    res = read_and_validate(ws, paths, fw, encoding=encoding, register=reg, **read_kw)
    errors = [p for p in reg_problems if p.severity == "error"] + res.errors
    if errors:
        raise DataError([_problem(p) for p in errors])
    report = ImportReport([str(p) for p in paths], warnings=[*(p for p in reg_problems if p.severity != "error"),
                                                             *res.warnings])
    clean = res.clean
    with writing(ws) as s:
        if reg is not None:
            why = register_why or (f"register file {Path(register).name} (import --register)"
                                   if isinstance(register, (str, Path)) else "register given with the import")
            stats = upsert_institutions(s, reg, who=user, why=why)
            report.registered = stats.inserted + stats.updated
        for p in paths:
            part = clean if len(paths) == 1 else clean[clean["file"].astype(str) == str(p)]
            r = import_observations(s, p.read_bytes(), part, file_name=p.name, fmt=p.suffix.lstrip(".") or "bin",
                                    submitted_by=user, received_at=received_at)
            if r.is_new:
                audit_accepted_checks(s, [w for w in res.warnings if str(w.where.get("file")) == str(p)], user,
                                       r.submission.id)
            report.stored_rows += len(part) if r.is_new else 0
            report.new_submissions += int(r.is_new)
            report.unchanged_submissions += int(not r.is_new)
    return report


def import_public_banks(ws: Workspace, framework: Framework | str = "jrt0201-2020", *, path: str | Path | None = None,
                        user: str = "cli") -> tuple[Any, Any]:
    """The public bank disclosures: banks registered and observations stored in one transaction; returns the
    reader's result (ratio checks beside the disclosed ratios, CONFLICT rows) and the import's."""
    from ..collect.public_banks import read_public_banks

    pb = read_public_banks(path, _framework(ws, framework))
    file = Path(pb.file) if getattr(pb, "file", None) else None
    payload = file.read_bytes() if file and file.exists() else pb.observations.to_csv(index=False).encode()
    with writing(ws) as s:
        upsert_institutions(s, pb.institutions, who=user, why="public bank disclosures")
        r = import_observations(s, payload, pb.observations, file_name=file.name if file else "banks_disclosed.csv",
                                fmt="csv", submitted_by=user)
    return pb, r


@dataclass
class Rejudged:
    """A value of the corrected value's outlier group whose flag changed: old and new status and reason."""

    key: ObsKey
    old_status: str
    new_status: str
    old_reason: str | None
    new_reason: str | None


@dataclass
class Correction:
    """What :func:`correct_value` did: the changed fields (empty: the value was already so), their audit
    entries, and the other values of the group whose outlier flag changed with it."""

    key: Any
    changed: list[str]
    trail: pd.DataFrame | None
    rejudged: list[Rejudged] = field(default_factory=list)


def correct_value(
    ws: Workspace, key: Any, value: Any, *, why: str, user: str = "cli", unit: str | None = None,
    framework: Framework | str = "jrt0201-2020",
) -> Correction:
    """Correct one stored value through the import's own rules: ``value`` (a number or a text such as
    ``1,234``, ``12.5%``, ``N/A``) is read by the one number parser, then validated as a one-row import of
    that key (type, range, level scale, yes/no, part ≤ whole against the stored values, turnover against
    the previous period, unit factor) and converted to the stored canonical unit; only then stored, audited,
    in one transaction. The outlier rule (robust z within variable, sector and period) is then run again on
    the whole group with the corrected value in place: the corrected value and every peer whose outlier flag
    changes (a corrected outlier may un-flag or flag its peers) are updated in the same transaction, each
    change audited with the correction's reason. Raises :class:`DataError` naming every broken rule."""
    from ..collect.numbers import parse_number
    from ..collect.unitcheck import UnitChecks

    fw = _framework(ws, framework)
    k = ObsKey(*key)
    k = k._replace(period=normalise_period(k.period) or k.period)  # 20２4 is 2024
    problems = [_problem(p) for p in user_problems(user)]
    hit = text_rule(why or "", None)
    if hit:
        problems.append(Problem(hit[0], f"the reason {hit[1]}", {"column": "--why"}))
    if problems:
        raise DataError(problems)
    with writing(ws) as s:  # a write transaction from the start: the reads below must not block the write
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
        stored_values = _stored_values(s)

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
        flags = judge_group(s, fw, inst, k, c["value_norm"])
        kw["status"], kw["flag_reason"] = flags.pop(k.entity_id, ("ok", None))
        changed = store_correction(s, k, new, who=user, why=why, **kw)
        trail = history(s, k).tail(len(changed)) if changed else None
        rejudged = _apply_peer_flags(s, k, flags, who=user, why=why) if changed else []
    return Correction(k, changed, trail, rejudged)


def judge_group(session: Session, framework: Framework, institutions: pd.DataFrame, key: ObsKey,
                value_norm: float) -> dict[str, tuple[str, str | None, str, str | None]]:
    """The outlier flags of the corrected value's group with the corrected value in place: the import's rule
    (robust z within variable, sector and period) run again on the stored values of ``key``'s variable and
    period. Returns entity → ``(status, reason)`` for the corrected value (whose previous reasons are all
    dropped: ``('ok', None)`` when it is no longer odd) and entity → ``(status, reason, old status, old
    reason)`` for each peer whose outlier flag changes; a peer keeps any flag of another kind (a public-data
    conflict), only its outlier part is judged again."""
    peers = observations_frame(session, key.period, key.entity_kind, variables=[key.variable],
                               columns=["entity_kind", "entity_id", "period", "variable", "value_norm", "status",
                                        "flag_reason"])
    peers = peers[peers["entity_id"] != key.entity_id]
    old = {e: (s, None if pd.isna(r) else r) for e, s, r in
           zip(peers["entity_id"], peers["status"], peers["flag_reason"], strict=True)}
    kept = [outlier_free_reason(r) for _, r in old.values()]  # a peer's flags of other kinds stay
    group = peers.assign(status=["flagged" if r else "ok" for r in kept], flag_reason=kept)
    if not pd.isna(value_norm):
        me = pd.DataFrame([{"entity_kind": key.entity_kind, "entity_id": key.entity_id, "period": key.period,
                            "variable": key.variable, "value_norm": float(value_norm), "status": "ok",
                            "flag_reason": None}])
        group = pd.concat([me, group], ignore_index=True)
    group = group.rename(columns={"value_norm": "value"}).assign(unit=None)  # stored canonical = declared unit
    clean, _ = validate_frame(group, framework, institutions, mandatory="none")
    out: dict[str, Any] = {}
    for e, st, rs in zip(clean["entity_id"], clean["status"], clean["flag_reason"], strict=True):
        rs = None if pd.isna(rs) or rs == "" else str(rs)
        if e == key.entity_id:
            out[e] = ("flagged", rs) if st == "flagged" else ("ok", None)
        elif (st, rs) != old[e]:
            out[e] = (st, rs, *old[e])
    return out


def _apply_peer_flags(session: Session, key: ObsKey, flags: dict[str, Any], *, who: str, why: str) -> list[Rejudged]:
    """Store the peers' new flags (:func:`judge_group`), each audited: why = the correction that changed them."""
    out = []
    if not flags:
        return out
    rows = observations_frame(session, key.period, key.entity_kind, variables=[key.variable], entity_ids=list(flags),
                              columns=["entity_id", "value", "unit", "value_norm", "unit_norm"])
    because = f"outlier group judged again after correcting {key.entity_id}: {why}"
    for r in rows.itertuples(index=False):
        status, reason, old_status, old_reason = flags[r.entity_id]
        pk = key._replace(entity_id=r.entity_id)
        value = None if pd.isna(r.value) else float(r.value)
        norm = {} if not isinstance(r.unit_norm, str) else {
            "value_norm": None if pd.isna(r.value_norm) else float(r.value_norm), "unit_norm": r.unit_norm}
        store_correction(session, pk, value, who=who, why=because, status=status, flag_reason=reason, **norm)
        out.append(Rejudged(pk, old_status, status, old_reason, reason))
    return out
