"""Returns and their review: one entity's answers for one campaign, submitted, reviewed, accepted.

A **return** is one entity's answers for one campaign (or one framework and period). It arrives as the
questionnaire workbook of ``fintech-eval template``, a CSV, or JSON (a mapping ``variable → value`` or
``variable → {value, unit}``, units such as 万元 / 亿元 converted exactly as imports convert them). Every
version is kept byte for byte (payload, media type, SHA-256) with what the import's own reading and
validation (:func:`fintech_eval.app.intake.read_and_validate`) made of it: the same problems, with the same
rules, files, rows and fields. A submission with errors is kept as a draft with everything typed, and the
problems come back per field.

Review follows ODK Central and DHIS2: ``draft → submitted → returned (comments per field) → resubmitted →
accepted`` (or ``rejected``; ``reopen`` sends an accepted or rejected return back). The moves are one table,
:data:`TRANSITIONS`; anything else is a :class:`ReviewError` (rule ``review.transition``). Every step is in
the return's history (who, when, from and to which state, comments, the values that changed from the
version before) and the state changes are audited; each review step is also written to the platform's audit log
(``review.<action>``, in the step's own transaction, by :func:`_audit_step`) whoever takes it, the web or the CLI.
Accepting stores the reviewed version's values through
the import path (validated again, kept verbatim, audited, all-or-nothing across every return accepted at
once), so that ``derive`` and ``score`` read them.

A client may send an **idempotency key** with a submission: a retry with the same key and the same request
stores nothing new and gets the first result back; the same key with another request is an error
(``idempotency.conflict``). The key's primary key in the database decides between concurrent retries.

The functions the CLI and the web call: :func:`submit`, :func:`return_for_changes`, :func:`accept`,
:func:`accept_submitted`, :func:`reject`, :func:`reopen`, :func:`returns_list`, :func:`return_detail`,
:func:`return_form`, :func:`return_payload`, :func:`allowed_actions` (and :func:`submit_many`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from ..collect.texts import TextRule, file_name_problems, text_rule, user_problems
from ..collect.validate import CollectProblem, normalise_period, problem
from ..errors import DataError, Problem, closest, first_of, shown
from ..store import import_observations
from ..store.models import TEXT_LIMITS, DataReturn, IdempotencyKey, ReturnVersion
from ..store.returns import (
    NewVersion,
    add_event,
    campaign_members,
    events_frame,
    find_keys,
    get_version,
    lock_return,
    returns_frame,
    store_versions,
    version_events,
    versions_frame,
)
from ..vocab import RETURN_STATES
from .audit import audit
from .campaigns import resolve_campaign
from .workspace import Workspace

# ---------------------------------------------------------------------------------------------- review states


class ReviewError(DataError):
    """An action the return's state does not allow, or a review step without what it needs."""


@dataclass(frozen=True)
class Action:
    """One action on a return: who takes it, the state it moves each allowed state to (``None``: no return
    yet), and what it needs (``comments`` per field, or a ``note``)."""

    name: str
    by: str  # "submitter" or "evaluator": the role the web platform lets take it
    moves: Mapping[str | None, str]
    needs: str | None
    help: str


#: Every move a return can make, in one place (the web asks :func:`allowed_actions`, the CLI and the
#: errors read it too). ``save`` never changes what is under review: a draft saved after a submission is
#: kept beside it.
TRANSITIONS: dict[str, Action] = {a.name: a for a in (
    Action("save", "submitter", {None: "draft", "draft": "draft", "submitted": "submitted", "returned": "returned",
                                 "resubmitted": "resubmitted"}, None,
           "keep a draft (or a submission with errors) with everything typed; what is under review stays"),
    Action("submit", "submitter", {None: "submitted", "draft": "submitted", "submitted": "submitted",
                                   "returned": "resubmitted", "resubmitted": "resubmitted"}, None,
           "a valid version goes to review (replacing one not yet reviewed)"),
    Action("return", "evaluator", {"submitted": "returned", "resubmitted": "returned"}, "comments",
           "send back to the submitter with comments per field"),
    Action("accept", "evaluator", {"submitted": "accepted", "resubmitted": "accepted"}, None,
           "store the reviewed version's values as observations (audited, all-or-nothing)"),
    Action("reject", "evaluator", {"submitted": "rejected", "resubmitted": "rejected"}, "note",
           "refuse the return as a whole (e.g. another institution's data), with the reason"),
    Action("reopen", "evaluator", {"accepted": "returned", "rejected": "returned"}, "note",
           "send an accepted or rejected return back for changes (accepted values stay stored until a "
           "new version is accepted)"),
)}
assert {s for a in TRANSITIONS.values() for s in (*a.moves, *a.moves.values()) if s} <= set(RETURN_STATES)


def next_state(action: str, state: str | None, *, return_id: int | None = None) -> str:
    """The state ``action`` moves a return in ``state`` (None: no return yet) to, or a :class:`ReviewError`
    saying from which states it is allowed."""
    a = TRANSITIONS.get(action)
    if a is None:
        raise ReviewError(f"unknown action {action!r}" + (f" (did you mean {m!r}?)" if (m := closest(action, TRANSITIONS)) else ""),
                          rule="review.action", action=action,
                          zh=f"未知操作 {action!r}" + (f"（是否应为 {m!r}？）" if m else ""))
    if state in a.moves:
        return a.moves[state]
    allowed = ", ".join("a new return" if s is None else s for s in a.moves)
    what = f"return {return_id}" if return_id is not None else "the return"
    allowed_zh = "、".join("新报表" if s is None else s for s in a.moves)
    what_zh = f"报表 {return_id} " if return_id is not None else "该报表"
    raise ReviewError(f"{what} is {state or 'not there yet'}: {action} is allowed only from {allowed}",
                      rule="review.transition", **({"return": return_id} if return_id is not None else {}),
                      state=state, action=action,
                      zh=f"{what_zh}的状态为 {state or '尚未提交'}：{action} 操作仅适用于 {allowed_zh}")


def allowed_actions(state: str | None) -> list[str]:
    """The actions a return in ``state`` allows (for buttons and the API's links)."""
    return [a.name for a in TRANSITIONS.values() if state in a.moves]


# ---------------------------------------------------------------------------------------------- documents

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: dict[str, str] = {"xlsx": XLSX, "csv": "text/csv", "json": "application/json"}
_SUFFIXES = {"xlsx": (".xlsx", ".xlsm"), "csv": (".csv", ".txt", ".tsv"), "json": (".json",)}
#: the keys that make a JSON document records for the import (``{entity, period, values}``, a list, ``records``)
_RECORD_KEYS = {"entity", "entity_id", "institution", "period", "records", "variable"}


@dataclass(frozen=True)
class Document:
    """A received return: ``payload`` as received, and ``read`` what the import's readers read (the same
    bytes, except a JSON mapping ``variable → value``, which is wrapped as ``{entity, period, values}``)."""

    payload: bytes
    media_type: str
    file_name: str
    fmt: str
    read: bytes
    typed: dict[str, Any] = field(default_factory=dict)  # a JSON mapping's fields as typed
    #: the mapping ``variable → value | {value, unit}`` the reader reads, when the client gave one (not bytes):
    #: what the compiled validation (:mod:`fintech_eval.collect.quickcheck`) judges
    values: Mapping[str, Any] | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


def _fmt_of(payload: bytes, media_type: str | None, file_name: str | None) -> str:
    if media_type:
        mt = media_type.split(";")[0].strip().lower()
        for fmt, known in MEDIA_TYPES.items():
            if mt == known or mt.endswith("/" + fmt) or mt.endswith("+" + fmt):
                return fmt
        if mt in ("application/vnd.ms-excel", "application/octet-stream") and payload[:2] == b"PK":
            return "xlsx"
    suffix = Path(file_name or "").suffix.lower()
    for fmt, sfx in _SUFFIXES.items():
        if suffix in sfx:
            return fmt
    if payload[:2] == b"PK":
        return "xlsx"
    head = payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"{", b"[") else "csv"


def _mapping_values(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``variable → value`` mapping of a JSON return, or None when it is records for the import."""
    if set(map(str, doc)) & _RECORD_KEYS:
        return None
    values = doc.get("values") if isinstance(doc.get("values"), Mapping) else doc
    return values if all(isinstance(k, str) for k in values) else None


def document(
    payload: bytes | Mapping[str, Any], *, entity: str, period: str, media_type: str | None = None,
    file_name: str | None = None, units: Mapping[str, str] | None = None,
) -> Document:
    """A :class:`Document` from what a client sent: bytes (workbook, CSV, JSON) with their media type or
    file name, or a mapping ``variable → value`` (``units``: a unit per variable, e.g. ``{"fintech_investment":
    "亿元"}``), which is kept as its JSON text."""
    given: dict[str, Any] | None = None
    if isinstance(payload, Mapping):
        values = dict(payload.get("values", payload)) if isinstance(payload.get("values"), Mapping) else dict(payload)
        values = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}  # JSON has no NaN
        for var, unit in (units or {}).items():
            v = values.get(var)
            values[var] = {"value": v.get("value") if isinstance(v, Mapping) else v, "unit": unit}
        given = values
        payload = json.dumps({"values": values}, ensure_ascii=False, separators=(",", ":")).encode()
        media_type = MEDIA_TYPES["json"]
    elif units:
        raise DataError("units per field go with a mapping of values, not with a file (a file carries its units)",
                        rule="return.units", zh="逐项单位只能随数值映射提交，不能随文件提交（文件自带单位）")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise DataError(f"a return is bytes or a mapping, not {type(payload).__name__}", rule="return.payload",
                        zh=f"报表须为字节或映射，而不是 {type(payload).__name__}")
    payload = bytes(payload)
    fmt = _fmt_of(payload, media_type, file_name)
    name = Path(str(file_name or "")).name.strip()
    if name in ("", ".", ".."):
        name = f"return.{fmt}"
    if Path(name).suffix.lower() not in _SUFFIXES[fmt]:
        name = f"{name}.{fmt}"
    bad = file_name_problems([name])
    if bad:
        raise DataError(bad)
    read, typed = payload, {}
    if fmt == "json":
        try:
            text = payload.decode("utf-8-sig").strip()
            doc = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            doc = None  # the reader says what is wrong with it, as for an import
        values = _mapping_values(doc) if isinstance(doc, dict) and doc else None
        if values is not None:
            typed = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in values.items()}
            # the text as sent inside {entity, period, values}: a key given twice still reaches the reader
            head = f'{{"entity":{json.dumps(entity, ensure_ascii=False)},"period":{json.dumps(period)},'
            wrapped = head + text[1:] if values is not doc else f'{head}"values":{text}}}'
            read = wrapped.encode()
        else:
            given = None
    return Document(payload, MEDIA_TYPES[fmt], name, fmt, read, typed, given if fmt == "json" else None)


# ---------------------------------------------------------------------------------------------- validation


@dataclass
class _Checked:
    """What the import's reading and validation made of one document: its fields, problems, clean rows."""

    fields: list[dict[str, Any]]
    problems: list[CollectProblem]
    clean: pd.DataFrame | None  # None from the compiled validation (only the import path's rows are imported)
    path: str = "import"  # "fast": the compiled validation proved the document clean (module quickcheck)

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def _located(p: Problem, file: str, return_id: int | None, paths: Mapping[str, str] | None = None) -> CollectProblem:
    """``p`` naming the document's file (and the return): ``paths`` (temporary path → file name) are replaced in
    its message too, where the import names another row's place (a duplicate's, a part's whole)."""
    def named(text: Any) -> Any:
        if isinstance(text, str):
            for path, name in (paths or {}).items():
                text = text.replace(path, name)
        return text

    where = {**{k: named(v) for k, v in p.where.items()}, "file": file}
    if return_id is not None:
        where = {"return": return_id, **where}
    return CollectProblem(p.rule, named(p.message), where, getattr(p, "severity", "error"),
                          message_zh=named(p.message_zh))


def _scope_problems(frame: pd.DataFrame, entity: str, period: str, file: str) -> tuple[list[CollectProblem], pd.Series]:
    """Rows of another entity or period than the return's: one problem per cause, naming the rows."""
    out: list[CollectProblem] = []
    wrong = pd.Series(False, index=frame.index)
    if (all(isinstance(v, str) and v.strip() == entity for v in set(frame["entity_id"].tolist()))
            and all(not pd.isna(v) and normalise_period(v) == period for v in set(frame["period"].tolist()))):
        return out, wrong  # every row of the return's entity and period (the rest, per row, only when not)
    ent = frame["entity_id"].astype("str").str.strip()
    per = frame["period"].map(normalise_period)
    for rule, col, want, what, what_zh in (("entity.mismatch", ent, entity, "entity", "主体"),
                                           ("period.mismatch", per, period, "period", "期间")):
        bad = col != want
        for other, rows in frame[bad].groupby(col[bad], sort=True)["row"]:
            at = [int(r) for r in rows]
            out.append(problem(rule, f"{len(rows)} row(s) give {what} {shown(other)}, but this return is for {what} "
                               f"{shown(want)} (rows {first_of(at, what='rows')})",
                               zh=f"{len(rows)} 行给出的{what_zh}为 {shown(other, lang='zh')}，但本报表的{what_zh}为 {shown(want, lang='zh')}"
                               f"（第 {first_of(at, what='行')} 行）",
                               file=file, row=int(rows.iloc[0]), **{"entity" if what == "entity" else "period": other}))
        wrong |= bad
    return out, wrong


FIELD_KEYS = ("variable", "raw", "value", "unit", "value_norm", "unit_norm", "status", "flag_reason", "row", "column")


def _field(row: Mapping[str, Any]) -> dict[str, Any]:
    """One value of a return as the readers and the validation saw it (JSON-ready)."""
    def py(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        return v.item() if hasattr(v, "item") else v

    return {k: py(row.get(k)) for k in FIELD_KEYS}


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def _fields_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`_field` of every row, read column by column (a frame's ``to_dict("records")`` boxes every cell one
    at a time: for a return of 100 values it cost more than the validation's own checks)."""
    cols = [[_plain(v) for v in frame[k].tolist()] if k in frame.columns else [None] * len(frame) for k in FIELD_KEYS]
    return [dict(zip(FIELD_KEYS, vals, strict=True)) for vals in zip(*cols, strict=True)]


def check(
    ws: Workspace, framework: str, items: Sequence[tuple[Document, str, str, int | None]], *, outliers: bool = True,
    fast: bool = True,
) -> list[_Checked]:
    """Read and validate documents ``(document, entity, period, return id)`` together, exactly as an import
    of those files would (:func:`~fintech_eval.app.intake.read_and_validate`, against the register and the stored
    values), plus the return's own rule: every row is of its entity and period (``entity.mismatch``,
    ``period.mismatch``). Problems name the document's file name (and the return). ``outliers=False``: values
    are not judged among the documents (robust z-scores), as for documents that are not peers.

    With ``outliers=False`` and ``fast`` (the default), a value mapping that the compiled validation
    (:mod:`fintech_eval.collect.quickcheck`) proves clean gets its fields from it, the same as the import's
    (``path == "fast"``, no ``clean`` frame); every other document goes through the import. ``fast=False``:
    the import for every document."""
    fw = ws.framework(framework)
    quick = _quick(ws, fw, items) if fast and not outliers else {}
    rest = [i for i in range(len(items)) if i not in quick]
    done = dict(zip(rest, _check_import(ws, fw, [items[i] for i in rest], outliers=outliers), strict=True)) if rest else {}
    return [quick[i] if i in quick else done[i] for i in range(len(items))]


def _quick(ws: Workspace, fw: Any, items: Sequence[tuple[Document, str, str, int | None]]) -> dict[int, _Checked]:
    """The documents the compiled validation proves clean: their entities' register rows, stored values and
    registered sizes read in one session."""
    from ..collect.quickcheck import Known, compiled
    from ..store.returns import entity_facts

    cand = [i for i, (doc, *_r) in enumerate(items) if doc.values is not None]
    if not cand:
        return {}
    with ws.sessions() as s:
        sector, stored, sized = entity_facts(s, {items[i][1] for i in cand})
    out: dict[int, _Checked] = {}
    for i in cand:
        doc, entity, period, _rid = items[i]
        rules = compiled(fw, sector.get(entity))
        if rules is None:
            continue
        fields = rules.fields(doc.values, entity, period, Known.of(stored.get(entity, ()), sized.get(entity, ())))
        if fields is not None:
            out[i] = _Checked(fields, [], None, "fast")
    return out


def _check_import(
    ws: Workspace, fw: Any, items: Sequence[tuple[Document, str, str, int | None]], *, outliers: bool,
) -> list[_Checked]:
    """:func:`check` through the import's readers and validation (every document)."""
    from .intake import read_and_validate

    with tempfile.TemporaryDirectory(prefix="fe-return-") as tmp:
        paths = []
        for i, (doc, *_rest) in enumerate(items):
            p = Path(tmp) / str(i) / doc.file_name
            p.parent.mkdir()
            p.write_bytes(doc.read)
            paths.append(p)
        res = read_and_validate(ws, paths, fw, entities=sorted({e for _, e, _, _ in items}),
                                **({} if outliers else {"outlier_threshold": math.inf}))
    by_file: dict[str, list[CollectProblem]] = {str(p): [] for p in paths}
    general: list[CollectProblem] = []
    for p in res.problems:
        by_file.get(str(p.where.get("file")), general).append(p)
    clean_by = dict(tuple(res.clean.groupby(res.clean["file"].astype("str"), sort=False))) if len(res.clean) else {}
    out = []
    names = {str(p): doc.file_name for p, (doc, *_r) in zip(paths, items, strict=True)}
    for path, read, (doc, entity, period, rid) in zip(paths, res.files, items, strict=True):
        probs = [_located(p, doc.file_name, rid, names) for p in by_file[str(path)] + general]
        scope, wrong = _scope_problems(read.frame, entity, period, doc.file_name)
        probs += [_located(p, doc.file_name, rid) for p in scope]
        clean = clean_by.get(str(path), res.clean.iloc[0:0])
        if wrong.any():
            clean = clean[clean["entity_id"].astype("str").str.strip().eq(entity)
                          & clean["period"].map(normalise_period).eq(period)]
        clean = clean.assign(file=doc.file_name)
        ok = {(f["row"], f["column"]): f for f in _fields_of(clean)}
        fields = []
        for f in _fields_of(read.frame):
            hit = ok.get((f["row"], f["column"]))
            fields.append(hit if hit is not None else {**f, "status": "error"})
        seen = {f["variable"] for f in fields}
        fields += [{"variable": k, "raw": None if v is None else str(v), "value": None, "unit": None, "status": "error"}
                   for k, v in doc.typed.items() if k not in seen]
        out.append(_Checked(fields, probs, clean.reset_index(drop=True)))
    return out


# ---------------------------------------------------------------------------------------------- results


def _problem_of(d: Mapping[str, Any]) -> CollectProblem:
    """A stored problem (a version keeps them as dicts; one stored before ``message_zh`` has English only)."""
    return CollectProblem.from_dict(dict(d))


def _by_field(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = {}
    for p in problems:
        out.setdefault(str(p.where.get("variable") or ""), []).append(p)
    return out


def _flagged(fields: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"variable": f["variable"], "value": f.get("value"), "unit": f.get("unit"), "reason": f.get("flag_reason")}
            for f in fields if f.get("status") == "flagged"]


@dataclass
class SubmitResult:
    """What :func:`submit` did: the return and its new version, the state it is in now, whether the version
    went to review (``valid``) or was kept as a draft, every problem (also ``by_field``), the fields as typed
    and read, the flagged values with their reasons; ``replayed`` when an idempotent retry got the first
    result back."""

    return_id: int
    version: int
    state: str
    valid: bool
    submitted: bool  # the version went to review (final and valid)
    problems: list[CollectProblem]
    fields: list[dict[str, Any]]
    replayed: bool = False

    @property
    def errors(self) -> list[CollectProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[CollectProblem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def by_field(self) -> dict[str, list[Problem]]:
        """Problems per variable (``""``: the return as a whole, e.g. a damaged file)."""
        return _by_field(self.problems)

    @property
    def flagged(self) -> list[dict[str, Any]]:
        return _flagged(self.fields)

    def as_dict(self) -> dict[str, Any]:
        return {"return_id": self.return_id, "version": self.version, "state": self.state, "valid": self.valid,
                "submitted": self.submitted, "replayed": self.replayed, "problems": [p.as_dict() for p in self.problems],
                "flagged": self.flagged, "fields": self.fields}


@dataclass
class ReviewResult:
    """One review step taken: the return, its state before and after, the version reviewed; for an accept
    the rows stored and the import's submission."""

    return_id: int
    entity_id: str
    from_state: str
    state: str
    version: int | None
    stored_rows: int = 0
    submission_id: int | None = None
    warnings: list[CollectProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["warnings"] = [p.as_dict() for p in self.warnings]
        return d


# ---------------------------------------------------------------------------------------------- submit


@dataclass(frozen=True)
class Scope:
    campaign_id: int | None
    framework: str
    period: str
    key: str


def resolve_scope(ws: Workspace, campaign: int | None = None, *, framework: str | None = None,
                  period: str | None = None) -> Scope:
    """A campaign's scope, or a framework and period's (the only campaign when none is named and no period
    is given)."""
    if campaign is not None or period is None:
        c = resolve_campaign(ws, campaign)
        return Scope(int(c.id), c.framework, c.period, f"campaign:{c.id}")
    fw = ws.framework(framework or "jrt0201-2020")
    p = normalise_period(period)
    return Scope(None, fw.id, p, f"{fw.id}:{p}")


def _texts(actor: str, key: str | None, entity: str | None = None) -> None:
    """The texts a request stores beside the payload: the actor, the idempotency key, the entity code."""
    probs: list[Problem] = list(user_problems(actor, "actor"))
    if entity is not None and (hit := text_rule(entity, TEXT_LIMITS["entity_id"]) if entity
                               else TextRule("entity.blank", "is blank", "为空")):
        probs.append(Problem(hit.rule, f"the entity code {shown(entity)} {hit.reason}", {"field": "entity"},
                             message_zh=f"主体代码 {shown(entity, lang='zh')} {hit.reason_zh}"))
    if key is not None:
        hit = text_rule(key, 200) if key.strip() else TextRule("idempotency.key", "is blank", "为空")
        if hit:
            probs.append(Problem(hit.rule, f"the idempotency key {hit.reason}", {"field": "idempotency_key"},
                                 message_zh=f"幂等键{hit.reason_zh}"))
    if probs:
        raise DataError(probs)


def _fingerprint(entity_kind: str, entity: str, scope: Scope, final: bool, doc: Document) -> str:
    return hashlib.sha256(json.dumps([entity_kind, entity, scope.key, final, doc.fmt, doc.sha256]).encode()).hexdigest()


def _show_value(f: Mapping[str, Any] | None) -> str | None:
    if f is None:
        return None
    v = f.get("value")
    if v is None:
        return None if f.get("raw") is None else str(f.get("raw"))
    text = f"{v:g}" if isinstance(v, float) else str(v)
    return f"{text} {f['unit']}" if f.get("unit") else text


def _shown(fields: Iterable[Mapping[str, Any]]) -> dict[str, str | None]:
    """Each variable's value as read, with its unit (what a version's "what changed" compares)."""
    return {f["variable"]: _show_value(f) for f in fields}


def _replay(ws: Workspace, held: IdempotencyKey, fingerprint: str) -> SubmitResult:
    if held.fingerprint != fingerprint:
        raise DataError(f"the idempotency key {shown(held.key)} was used for another request (another file, entity, "
                        "campaign or action): use a new key for a new request", rule="idempotency.conflict",
                        zh=f"幂等键 {shown(held.key, lang='zh')} 已用于另一个请求（不同的文件、主体、评估项目或操作）：新请求请使用新的键",
                        field="idempotency_key")
    assert held.return_id is not None and held.version is not None
    with ws.sessions() as s:
        v = get_version(s, held.return_id, held.version)
        ev = version_events(s, held.return_id, held.version)
        assert v is not None and ev
        return SubmitResult(held.return_id, v.number, ev[0].to_state, v.valid, ev[0].action == "submit",
                            [_problem_of(d) for d in v.problems], list(v.fields), replayed=True)


@dataclass
class SubmitRequest:
    """One submission for :func:`submit_many` (the arguments of :func:`submit`)."""

    entity: str
    campaign: int | None
    payload: bytes | Mapping[str, Any]
    actor: str
    idempotency_key: str | None = None
    media_type: str | None = None
    file_name: str | None = None
    units: Mapping[str, str] | None = None
    final: bool = True
    framework: str | None = None
    period: str | None = None
    entity_kind: str = "institution"
    actor_id: int | None = None  # the account's id and the client's address, for the audit entry
    ip: str | None = None
    asked_only: bool = False  # the campaign must ask the entity (a submitter's): else ``campaign.not_asked``


@dataclass
class _Pending:
    req: SubmitRequest
    entity: str
    scope: Scope
    doc: Document
    fp: str
    checked: _Checked | None = None
    problems: list[CollectProblem] = field(default_factory=list)
    member: bool = False  # the entity is in its campaign's sample


def submit(
    ws: Workspace, entity: str, campaign: int | None, payload: bytes | Mapping[str, Any], *, actor: str,
    idempotency_key: str | None = None, media_type: str | None = None, file_name: str | None = None,
    units: Mapping[str, str] | None = None, final: bool = True, framework: str | None = None,
    period: str | None = None, entity_kind: str = "institution", actor_id: int | None = None, ip: str | None = None,
) -> SubmitResult:
    """Submit (``final=False``: only save) ``entity``'s return for ``campaign`` (or ``framework`` and
    ``period`` when ``campaign`` is None and a period is given).

    ``payload``: the workbook, CSV or JSON bytes (with ``media_type`` or ``file_name``) or a mapping
    ``variable → value`` / ``variable → {value, unit}`` (``units`` per variable). The bytes are kept verbatim
    as a new version; the import's validation decides: without errors the version goes to review (state
    ``submitted``, or ``resubmitted`` after a return), with errors it is kept as a draft and the problems
    come back (nothing is raised for bad data; :class:`ReviewError` when the state allows no submission).
    A retry with the same ``idempotency_key`` (per ``actor``) and the same request stores nothing and returns
    the first result (``replayed``); the same key with another request raises ``idempotency.conflict``.
    The version is audited (``submission.submit`` / ``submission.save``, with ``actor_id`` and the client's ``ip``
    when the caller knows them) in the same transaction."""
    out = submit_many(ws, [SubmitRequest(entity, campaign, payload, actor, idempotency_key, media_type, file_name, units,
                                         final, framework, period, entity_kind, actor_id, ip)])[0]
    if isinstance(out, DataError):
        raise out
    return out


def submit_many(ws: Workspace, requests: Sequence[SubmitRequest]) -> list[SubmitResult | DataError]:
    """Several submissions at once, each with exactly the result :func:`submit` would give it (or the
    :class:`DataError` it would raise, returned in its place), for a server that gathers concurrent requests:
    their files are read and validated together (one call of the import's validation per distinct entity
    round: a return is checked against the register and the stored values, never against the other returns
    of the batch) and stored in one transaction, each in its own savepoint."""
    results: list[SubmitResult | DataError | None] = [None] * len(requests)
    pending: dict[int, _Pending] = {}
    scopes: dict[tuple[Any, ...], Scope] = {}
    for i, r in enumerate(requests):
        try:
            entity = str(r.entity).strip()
            _texts(r.actor, r.idempotency_key, entity)
            k = (r.campaign, r.framework, r.period)
            scope = scopes[k] if k in scopes else scopes.setdefault(k, resolve_scope(ws, r.campaign, framework=r.framework, period=r.period))
            doc = document(r.payload, entity=entity, period=scope.period, media_type=r.media_type, file_name=r.file_name,
                           units=r.units)
            pending[i] = _Pending(r, entity, scope, doc, _fingerprint(r.entity_kind, entity, scope, r.final, doc))
        except DataError as exc:
            results[i] = exc
    keyed = {(p.req.actor, p.req.idempotency_key): i for i, p in pending.items() if p.req.idempotency_key is not None}
    with ws.sessions() as s:  # one read: the campaigns' samples, and the keys held (retries are answered at once)
        _members(s, pending)
        held = find_keys(s, list(keyed)) if keyed else {}
    for i, p in list(pending.items()):
        if p.req.asked_only and p.scope.campaign_id is not None and not p.member:
            results[i] = DataError(f"campaign {p.scope.campaign_id} does not ask {p.entity}", rule="campaign.not_asked",
                                   zh=f"评估项目 {p.scope.campaign_id} 未要求 {p.entity} 报送",
                                   campaign=p.scope.campaign_id, entity=p.entity)
            del pending[i]
    if held:
        for k, h in held.items():
            if h.return_id is not None:
                for i in [i for i, p in pending.items() if (p.req.actor, p.req.idempotency_key) == k]:
                    results[i] = _answer(ws, h, pending.pop(i).fp)
    _check_pending(ws, pending)
    replays: list[tuple[int, IdempotencyKey]] = []
    if pending:
        order = list(pending)
        items = [_new_version(pending[i]) for i in order]
        with ws.sessions() as s, s.begin():  # one write transaction (SQLite: BEGIN IMMEDIATE, writers queue)
            stored = store_versions(s, items, lambda action, state, rid: next_state(action, state, return_id=rid),
                                    _shown)
        for i, it, got in zip(order, items, stored, strict=True):
            p = pending[i]
            if isinstance(got, IdempotencyKey):  # another request holds the key: its result, once committed
                replays.append((i, got))
            elif isinstance(got, DataError):
                results[i] = got
            elif isinstance(got, Exception):
                raise got
            else:
                results[i] = SubmitResult(got.return_id, got.number, got.state, p.checked.valid, it.action == "submit",
                                          p.problems, p.checked.fields)
    for i, h in replays:
        results[i] = _answer(ws, h, pending[i].fp)
    assert all(x is not None for x in results)
    return results  # type: ignore[return-value]


def _new_version(p: _Pending) -> NewVersion:
    """What :func:`~fintech_eval.store.returns.store_versions` stores for one validated submission, with its
    audit entry (``submission.submit`` or ``submission.save``)."""
    r, c = p.req, p.checked
    assert c is not None
    action = "submit" if r.final and c.valid else "save"
    n_err = sum(x.severity == "error" for x in p.problems)
    return NewVersion(
        scope=p.scope.key, campaign_id=p.scope.campaign_id, framework=p.scope.framework, period=p.scope.period,
        entity_kind=r.entity_kind, entity_id=p.entity, actor=r.actor, action=action, final=r.final,
        file_name=p.doc.file_name, media_type=p.doc.media_type, sha256=p.doc.sha256, payload=p.doc.payload,
        valid=c.valid, fields=c.fields, problems=[x.as_dict() for x in p.problems],
        note=f"submitted with {n_err} error(s): kept as a draft" if r.final and n_err else None,
        key=r.idempotency_key, fingerprint=p.fp if r.idempotency_key is not None else None,
        audit={"action": f"submission.{action}", "actor_id": r.actor_id, "ip": r.ip,
               "detail": {"errors": n_err, "idempotency_key": r.idempotency_key,
                          **({"file": r.file_name} if r.file_name else {})}})


def _answer(ws: Workspace, held: IdempotencyKey, fingerprint: str) -> SubmitResult | DataError:
    try:
        return _replay(ws, held, fingerprint)
    except DataError as exc:
        return exc


def _check_pending(ws: Workspace, pending: dict[int, _Pending]) -> None:
    """Validate the pending submissions: per framework, in rounds where each entity comes once (two versions of
    one return are two files of the same entity, which one import would call duplicates). Outliers are not
    judged here: a return alone has no peers (its values are judged among others when accepted)."""
    rounds: list[dict[tuple[str, str], int]] = []
    for i, p in pending.items():
        key = (p.scope.framework, p.entity)
        spot = next((r for r in rounds if key not in r), None)
        if spot is None:
            rounds.append(spot := {})
        spot[key] = i
    for rnd in rounds:
        by_fw: dict[str, list[int]] = {}
        for (fw, _e), i in rnd.items():
            by_fw.setdefault(fw, []).append(i)
        for fw, idx in by_fw.items():
            done = check(ws, fw, [(pending[i].doc, pending[i].entity, pending[i].scope.period, None) for i in idx],
                         outliers=False)
            for i, c in zip(idx, done, strict=True):
                pending[i].checked, pending[i].problems = c, list(c.problems)
    for p in pending.values():
        if p.scope.campaign_id is not None and not p.member:
            p.problems.append(problem("campaign.outside_sample", f"{p.entity} is not in the sample of campaign "
                                      f"{p.scope.campaign_id}", "warning",
                                      zh=f"{p.entity} 不在评估项目 {p.scope.campaign_id} 的样本中", entity=p.entity))


def _members(s: Any, pending: dict[int, _Pending]) -> None:
    """Which pending submissions' entities are in their campaign's sample (one read for all)."""
    asked = {(p.scope.campaign_id, p.req.entity_kind, p.entity) for p in pending.values() if p.scope.campaign_id is not None}
    if asked:
        inside = campaign_members(s, asked)
        for p in pending.values():
            p.member = (p.scope.campaign_id, p.req.entity_kind, p.entity) in inside


# ---------------------------------------------------------------------------------------------- review


def _load(ws: Workspace, return_ids: Sequence[int], action: str) -> list[tuple[DataReturn, ReturnVersion | None]]:
    """The returns (checked: exist, allow ``action``) with their reviewed versions; every problem at once."""
    ids = list(dict.fromkeys(int(i) for i in return_ids))
    if not ids:
        raise ReviewError(f"no return to {action}", rule="review.none", zh=f"没有可执行 {action} 操作的报表")
    with ws.sessions() as s:
        rets = {r.id: r for r in s.execute(select(DataReturn).where(DataReturn.id.in_(ids))).scalars()}
        probs: list[Problem] = [Problem("review.unknown", f"no return {i}", {"return": i}, message_zh=f"报表 {i} 不存在")
                                for i in ids if i not in rets]
        out = []
        for i in ids:
            if i not in rets:
                continue
            try:
                next_state(action, rets[i].state, return_id=i)
            except ReviewError as exc:
                probs += exc.problems
            v = get_version(s, i, rets[i].reviewed_version) if rets[i].reviewed_version else None
            out.append((rets[i], v))
        if probs:
            raise ReviewError(probs)
        for r, v in out:
            s.expunge(r)
            if v is not None:
                s.expunge(v)
    return out


def _audit_step(s: Any, action: str, return_id: int, from_state: str, to: str, version: int | None, *, actor: str,
                note: str | None, actor_id: int | None, ip: str | None, fields: Iterable[str] | None = None) -> None:
    """The audit-log entry of one review step (``review.<action>`` on ``return:<id>``), written in the step's own
    write transaction ``s``: it commits or rolls back with the step. ``actor_id`` and ``ip`` when the caller
    knows them (the web); ``fields``: the fields a return for changes commented on."""
    detail: dict[str, Any] = {"from": from_state, "to": to, "version": version}
    if note:
        detail["note"] = note
    if fields is not None:
        detail["fields"] = sorted(fields)
    audit(None, actor, f"review.{action}", f"return:{return_id}", detail, actor_id=actor_id, ip=ip, session=s)


def accept(ws: Workspace, return_ids: Sequence[int], *, actor: str, note: str | None = None,
           dry_run: bool = False, actor_id: int | None = None, ip: str | None = None) -> list[ReviewResult]:
    """Accept the reviewed versions of ``return_ids`` (all-or-nothing): they are read and validated again
    together, exactly as one import of their files (a stored value may have changed since they were
    submitted; outliers are judged among them and flagged with their reason), then stored through the import
    path, audited, each kept verbatim as the import's submission with the time it was submitted; the returns
    become ``accepted``. Any problem (a state that allows no accept, a validation error) stores nothing and
    raises them all. ``dry_run``: check and report (the flags included), store nothing. Each accept is in the
    audit log (``review.accept``, with ``actor_id`` and ``ip`` when given) in the same transaction."""
    _texts(actor, None)
    loaded = _load(ws, return_ids, "accept")
    results: list[ReviewResult] = []
    items: dict[str, list[tuple[DataReturn, ReturnVersion, Document]]] = {}
    for r, v in loaded:
        assert v is not None  # a submitted return has a reviewed version
        items.setdefault(r.framework, []).append((r, v, document(v.payload, entity=r.entity_id, period=r.period,
                                                                 media_type=v.media_type, file_name=v.file_name)))
    checked: dict[int, _Checked] = {}
    for fw, group in items.items():
        for (r, _v, _d), c in zip(group, check(ws, fw, [(d, r.entity_id, r.period, r.id) for r, _v, d in group]), strict=True):
            checked[r.id] = c
    errors = [p for c in checked.values() for p in c.problems if p.severity == "error"]
    if errors:
        raise DataError(errors)
    if dry_run:
        return [ReviewResult(r.id, r.entity_id, r.state, next_state("accept", r.state), v.number, 0, None,
                             [p for p in checked[r.id].problems if p.severity != "error"])
                for group in items.values() for r, v, _d in group]
    from .intake import audit_accepted_checks

    why = f"accepted by {actor}" + (f": {note}" if note else "")
    with ws.sessions() as s, s.begin():
        for group in items.values():
            for r, v, d in group:
                ret = lock_return(s, r.id)
                if ret is None or ret.state != r.state or ret.reviewed_version != r.reviewed_version:
                    raise ReviewError(f"return {r.id} changed while it was being accepted (now {ret.state if ret else 'gone'}, "
                                      f"version {ret.reviewed_version if ret else '-'}): look again", rule="review.changed",
                                      **{"return": r.id},
                                      zh=f"报表 {r.id} 在接受过程中已被更改（现为 {ret.state if ret else '已不存在'}，"
                                         f"版本 {ret.reviewed_version if ret else '-'}）：请重新查看")
                to = next_state("accept", ret.state, return_id=ret.id)
                c = checked[r.id]
                res = import_observations(s, d.read, c.clean, file_name=d.file_name, fmt=d.fmt, submitted_by=v.submitted_by,
                                          why=f"return {r.id} version {v.number} {why}", received_at=v.submitted_at)
                ret.submission_id = res.submission.id
                if res.is_new:  # a unit check the return accepted with its own reason: audited as an import does
                    audit_accepted_checks(s, [p for p in c.problems if p.severity != "error"], v.submitted_by,
                                          res.submission.id)
                add_event(s, ret, action="accept", from_state=r.state, to_state=to, who=actor, version=v.number, note=note)
                _audit_step(s, "accept", r.id, r.state, to, v.number, actor=actor, note=note, actor_id=actor_id, ip=ip)
                results.append(ReviewResult(r.id, r.entity_id, r.state, to, v.number, res.stats.inserted + res.stats.updated
                                            if res.is_new else 0, int(res.submission.id),
                                            [p for p in c.problems if p.severity != "error"]))
    return results


def accept_submitted(ws: Workspace, campaign: int | None = None, *, actor: str, note: str | None = None,
                     dry_run: bool = False, actor_id: int | None = None, ip: str | None = None) -> list[ReviewResult]:
    """Accept every return of the campaign waiting for review (submitted or resubmitted), all-or-nothing."""
    scope = resolve_scope(ws, campaign)
    with ws.sessions() as s:
        df = returns_frame(s, campaign_id=scope.campaign_id, states=("submitted", "resubmitted"))
    if df.empty:
        return []
    return accept(ws, [int(i) for i in df["id"]], actor=actor, note=note, dry_run=dry_run, actor_id=actor_id, ip=ip)


def _step(ws: Workspace, return_id: int, action: str, *, actor: str, comments: Mapping[str, str] | None = None,
          note: str | None = None, actor_id: int | None = None, ip: str | None = None) -> ReviewResult:
    """A review step that changes the state only (return, reject, reopen), with what it needs; in the return's
    history and the audit log (``review.<action>``) in one transaction."""
    _texts(actor, None)
    a = TRANSITIONS[action]
    comments = {str(k).strip() or "*": str(v).strip() for k, v in (comments or {}).items()}
    note = (note or "").strip() or None
    r, v = _load(ws, [return_id], action)[0]
    probs: list[Problem] = []
    if a.needs == "comments" and not (comments or note):
        probs.append(Problem("review.comment", f"say what to change: a comment per field (FIELD=TEXT) or a note to {action} "
                             f"return {return_id}", {"return": return_id},
                             message_zh=f"请说明要修改什么：逐项意见（FIELD=TEXT）或说明，以对报表 {return_id} 执行 {action}"))
    if a.needs == "note" and not note:
        probs.append(Problem("review.note", f"give the reason to {action} return {return_id} (a note)", {"return": return_id},
                             message_zh=f"请填写对报表 {return_id} 执行 {action} 的理由（说明）"))
    fw = ws.framework(r.framework)
    known = {f["variable"] for f in (v.fields if v is not None else [])} | {x.name for x in fw.variables}
    for k, text in comments.items():
        if k != "*" and k not in known:
            probs.append(Problem("review.comment_field", f"{shown(k)} is not a field of the return or a variable of {fw.id}"
                                 + (f" (did you mean {m!r}?)" if (m := closest(k, known)) else ""), {"return": return_id, "field": k},
                                 message_zh=f"{shown(k, lang='zh')} 既不是报表的字段，也不是 {fw.id} 的变量"
                                 + (f"（是否应为 {m!r}？）" if m else "")))
        if not text:
            probs.append(Problem("review.comment", f"the comment on {shown(k)} is empty", {"return": return_id, "field": k},
                                 message_zh=f"对 {shown(k, lang='zh')} 的意见为空"))
        elif hit := text_rule(text.replace("\n", " "), None):  # a comment may have several lines
            probs.append(Problem(hit[0], f"the comment on {shown(k)} {hit[1]}", {"return": return_id, "field": k},
                                 message_zh=f"对 {shown(k, lang='zh')} 的意见{hit[2]}"))
    if note and (hit := text_rule(note.replace("\n", " "), None)):
        probs.append(Problem(hit[0], f"the note {hit[1]}", {"return": return_id, "field": "note"},
                             message_zh=f"说明{hit[2]}"))
    if probs:
        raise ReviewError(probs)
    with ws.sessions() as s, s.begin():
        ret = lock_return(s, return_id)
        assert ret is not None
        to = next_state(action, ret.state, return_id=return_id)
        before = ret.state
        add_event(s, ret, action=action, from_state=before, to_state=to, who=actor, version=ret.reviewed_version,
                  comments=comments or None, note=note)
        _audit_step(s, action, return_id, before, to, ret.reviewed_version, actor=actor, note=note, actor_id=actor_id,
                    ip=ip, fields=comments if action == "return" else None)
        return ReviewResult(return_id, ret.entity_id, before, to, ret.reviewed_version)


def return_for_changes(ws: Workspace, return_id: int, comments: Mapping[str, str], *, actor: str,
                       note: str | None = None, actor_id: int | None = None, ip: str | None = None) -> ReviewResult:
    """Send a submitted return back with comments per field (``{"fintech_staff": "includes contractors?"}``;
    key ``"*"`` or ``""``: the return as a whole)."""
    return _step(ws, return_id, "return", actor=actor, comments=comments, note=note, actor_id=actor_id, ip=ip)


def reject(ws: Workspace, return_id: int, *, actor: str, note: str, actor_id: int | None = None,
           ip: str | None = None) -> ReviewResult:
    """Refuse a submitted return as a whole, with the reason."""
    return _step(ws, return_id, "reject", actor=actor, note=note, actor_id=actor_id, ip=ip)


def reopen(ws: Workspace, return_id: int, *, actor: str, note: str, actor_id: int | None = None,
           ip: str | None = None) -> ReviewResult:
    """Send an accepted or rejected return back for changes, with the reason."""
    return _step(ws, return_id, "reopen", actor=actor, note=note, actor_id=actor_id, ip=ip)


# ---------------------------------------------------------------------------------------------- reading


def returns_list(
    ws: Workspace, campaign: int | None = None, *, state: str | Iterable[str] | None = None,
    entity: str | Iterable[str] | None = None, ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """The returns (of a campaign, in some states, of some entities: a submitter sees its own), one row each:
    state, versions, when first submitted, who changed it last, and the reviewed (else newest) version's
    errors, warnings and flagged values."""
    states = [state] if isinstance(state, str) else (list(state) if state is not None else None)
    if states:
        bad = [x for x in states if x not in RETURN_STATES]
        if bad:
            raise DataError([Problem("review.state", f"unknown state {shown(x)}" + (f" (did you mean {m!r}?)"
                                     if (m := closest(x, RETURN_STATES)) else f"; states: {', '.join(RETURN_STATES)}"),
                                     {"state": x}, message_zh=f"未知状态 {shown(x, lang='zh')}" + (
                                         f"（是否应为 {m!r}？）" if m else f"；可用状态：{', '.join(RETURN_STATES)}"))
                             for x in bad])
    entities = [entity] if isinstance(entity, str) else (list(entity) if entity is not None else None)
    with ws.sessions() as s:
        df = returns_frame(s, campaign_id=campaign, states=states, entity_ids=entities, ids=ids)
    df["reviewed_version"] = df["reviewed_version"].astype("Int64")
    df["campaign_id"] = df["campaign_id"].astype("Int64")
    df["submission_id"] = df["submission_id"].astype("Int64")
    return df


@dataclass
class ReturnDetail:
    """One return: its row (:func:`returns_list`), its versions, its history, the fields of the reviewed (else
    newest) version with their problems and flags, and the evaluator's open comments (of the last return)."""

    summary: dict[str, Any]
    versions: pd.DataFrame
    history: pd.DataFrame
    fields: pd.DataFrame
    problems: list[CollectProblem]
    comments: dict[str, str]
    allowed: list[str]

    @property
    def flagged(self) -> list[dict[str, Any]]:
        return _flagged(self.fields.to_dict("records"))


def return_detail(ws: Workspace, return_id: int, *, version: int | None = None, lang: str = "en") -> ReturnDetail:
    """Everything about one return (``version``: show that version's fields instead of the reviewed one);
    ``lang`` (en, zh): the language of the messages in ``fields["problems"]``."""
    row = returns_list(ws, ids=[int(return_id)])
    if row.empty:
        raise DataError(f"no return {return_id}", rule="review.unknown", **{"return": return_id},
                        zh=f"报表 {return_id} 不存在")
    summary = {k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    with ws.sessions() as s:
        number = version or summary["reviewed_version"] or summary["version"]
        v = get_version(s, int(return_id), int(number)) if number else None
        if version is not None and v is None:
            raise DataError(f"return {return_id} has no version {version}", rule="review.version", **{"return": return_id},
                            zh=f"报表 {return_id} 没有版本 {version}")
        versions = versions_frame(s, int(return_id))
        history = events_frame(s, int(return_id))
    problems = [_problem_of(d) for d in (v.problems if v is not None else [])]
    per_field = _by_field(problems)
    fields = pd.DataFrame(v.fields if v is not None else [], columns=list(FIELD_KEYS))
    fields["problems"] = [[f"{p.rule}: {p.text(lang)}" for p in per_field.get(str(x), [])] for x in fields["variable"]]
    returned = history[history["action"] == "return"]
    comments = dict(returned.iloc[-1]["comments"] or {}) if len(returned) and summary["state"] == "returned" else {}
    return ReturnDetail(summary, versions, history, fields, problems, comments, allowed_actions(summary["state"]))


#: the units a money value may be entered in on a form (converted exactly as imports convert them)
MONEY_UNITS: tuple[str, ...] = ("元", "万元", "亿元")


def return_form(
    ws: Workspace, entity: str, campaign: int | None = None, *, framework: str | None = None,
    period: str | None = None, lang: str = "zh",
) -> dict[str, Any]:
    """What a questionnaire form shows for ``entity``'s return (the same variables as its workbook: those the
    framework asks of its sector, in framework order): per variable its label and help (``lang``; both
    languages are in ``help_zh``/``help_en``), unit, the units it may be entered in, type and bounds, the value
    as last typed (the newest version, a draft included), its problems (messages in ``lang``) and the
    evaluator's open comment; and
    the return's id, state, version and the actions it allows (no return yet: ``return_id`` None)."""
    from ..collect.validate import applicable_variables
    from ..store import institutions_frame

    scope = resolve_scope(ws, campaign, framework=framework, period=period)
    fw = ws.framework(scope.framework)
    with ws.sessions() as s:
        reg = institutions_frame(s)
        rows = returns_frame(s, entity_ids=[entity])
    hit = reg[reg["id"] == entity]
    if hit.empty:
        raise DataError(f"{shown(entity)} is not in the institution register"
                        + (f" (did you mean {m!r}?)" if (m := closest(entity, reg["id"])) else ""),
                        rule="entity.unknown", entity=entity,
                        zh=f"{shown(entity, lang='zh')} 不在机构名录中" + (f"（是否应为 {m!r}？）" if m else ""))
    sector = str(hit["sector"].iloc[0])
    rows = rows[rows["campaign_id"].fillna(-1).eq(scope.campaign_id if scope.campaign_id is not None else -1)
                & rows["period"].eq(scope.period) & rows["framework"].eq(scope.framework)]
    detail = (return_detail(ws, int(rows["id"].iloc[0]), version=int(rows["version"].iloc[0]), lang=lang)
              if len(rows) else None)
    typed = {f["variable"]: f for f in detail.fields.to_dict("records")} if detail else {}
    comments = detail.comments if detail else {}
    out = []
    for v, feeds in applicable_variables(fw, sector):
        f = typed.get(v.name, {})
        out.append({
            "variable": v.name, "label": v.help.get(lang), "help_zh": v.help.zh, "help_en": v.help.en, "unit": v.unit,
            "units": list(dict.fromkeys([v.unit, *MONEY_UNITS])) if v.type == "money" else [v.unit],
            "type": v.type, "min": v.min, "max": v.max, "indicators": feeds,
            "raw": f.get("raw"), "value": f.get("value"), "entered_unit": f.get("unit"), "status": f.get("status"),
            "flag_reason": f.get("flag_reason"), "problems": f.get("problems", []), "comment": comments.get(v.name),
        })
    return {"entity": entity, "sector": sector, "framework": fw.id, "framework_version": fw.version, "period": scope.period,
            "campaign_id": scope.campaign_id, "return_id": detail.summary["id"] if detail else None,
            "state": detail.summary["state"] if detail else None, "version": detail.summary["version"] if detail else None,
            "allowed": detail.allowed if detail else allowed_actions(None), "comment": comments.get("*"), "fields": out}


def return_payload(ws: Workspace, return_id: int, version: int | None = None) -> tuple[bytes, str, str]:
    """A version's payload as received: ``(bytes, media type, file name)`` (default: the newest version)."""
    with ws.sessions() as s:
        v = get_version(s, int(return_id), version)
    if v is None:
        raise DataError(f"no return {return_id}" + (f" version {version}" if version else ""), rule="review.unknown",
                        **{"return": return_id}, zh=f"报表 {return_id}" + (f" 版本 {version}" if version else "") + " 不存在")
    return bytes(v.payload), v.media_type, v.file_name


def review_states(ws: Workspace, campaign_id: int) -> pd.DataFrame:
    """Per entity with a return in the campaign: its review state, when it was first submitted, the values
    answered in its reviewed (else newest) version (for :func:`~fintech_eval.app.campaigns.campaign_status`)."""
    df = returns_list(ws, campaign_id)
    return df[["entity_id", "id", "state", "submitted_at", "answered", "flagged"]].rename(columns={"id": "return_id"})
