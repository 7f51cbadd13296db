"""The API's models: requests are strict (a JSON ``false`` is not ``0``, ``"5"`` is not 5) and forbid unknown
fields; responses say exactly what is sent (the OpenAPI document is generated from them)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..store.models import ROLES, TOKEN_SCOPES
from ..vocab import SECTORS, SIZE_ATTRIBUTES
from .problems import ProblemItem

Role = Literal[ROLES]  # type: ignore[valid-type]
Scope = Literal[TOKEN_SCOPES]  # type: ignore[valid-type]
T = TypeVar("T")

Email = Field(min_length=3, max_length=254, examples=["someone@example.org"])
Password = Field(min_length=1, max_length=1024)


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Out, Generic[T]):
    """One page of a listing: ``items`` from ``offset`` (at most ``limit``) of ``total``."""

    items: list[T]
    total: int
    limit: int
    offset: int


# --- accounts -------------------------------------------------------------------------------------------------
class EntityRef(Request):
    kind: Literal["institution", "vendor"]
    id: str = Field(min_length=1, max_length=64)


class EntityOut(Out):
    kind: str
    id: str


class SignIn(Request):
    email: str = Email
    password: str = Password


class PasswordChange(Request):
    current_password: str = Password
    new_password: str = Password


class UserCreate(Request):
    email: str = Email
    role: Role
    name: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=1024, description="Omit for an account that cannot sign in until a password is set (`fintech-eval admin set-password`); invite new submitters instead (POST /api/v1/invitations).")
    entities: list[EntityRef] = Field([], description="A submitter's institutions or vendors.")


class UserUpdate(Request):
    role: Role | None = None
    entities: list[EntityRef] | None = None
    active: bool | None = None
    name: str | None = Field(None, max_length=200)
    unlock: bool = Field(False, description="Lift a lockout after failed sign-ins.")


class UserOut(Out):
    id: int
    email: str
    name: str | None
    role: str
    active: bool
    entities: list[EntityOut]
    password_set: bool
    locked_until: dt.datetime | None
    created_by: str
    created_at: dt.datetime


class Me(Out):
    user: UserOut
    via: Literal["session", "token"]
    scopes: list[str] = Field(description="The token's scopes (empty for a session).")
    permissions: list[str]
    csrf_token: str | None = Field(description="Send it as X-CSRF-Token with every state-changing request of this session.")


class SignedIn(Out):
    user: UserOut
    csrf_token: str


class TokenCreate(Request):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1)
    expires_days: int | None = Field(None, ge=1, le=3650)


class TokenOut(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret: shown this once, never again.")


class InvitationCreate(Request):
    email: str = Email
    entities: list[EntityRef] = Field(min_length=1)
    days: int = Field(14, ge=1, le=90)


class InvitationOut(Out):
    id: int
    email: str
    role: str
    entities: list[EntityOut]
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    user_id: int | None
    campaign_id: int | None = Field(None, description="The campaign it was sent for.")
    state: Literal["pending", "accepted", "revoked", "expired"]


class InvitationCreated(InvitationOut):
    token: str = Field(description="The link's secret: shown this once; the person accepts with it.")
    accept_path: str = Field(description="The page that accepts it (relative to the server): send this link.")


class InvitationAccept(Request):
    token: str = Field(min_length=1, max_length=200)
    password: str = Password
    name: str | None = Field(None, max_length=200)


class AuditOut(Out):
    id: int
    at: dt.datetime
    actor: str
    actor_id: int | None
    action: str
    object: str | None
    detail: dict[str, Any] | None
    ip: str | None


# --- registers, campaigns, runs, catalog ---------------------------------------------------------------------
class Institution(Out):
    id: str
    name_zh: str
    name_en: str | None
    sector: str
    subtype: str | None
    region_code: str | None
    listed: bool | None


class Vendor(Out):
    id: str
    name_zh: str
    name_en: str | None
    provider_type: str


class Campaign(Out):
    id: int
    name: str
    framework: str
    period: str
    deadline: dt.datetime | None
    status: str
    created_by: str
    created_at: dt.datetime
    n_entities: int


class StatusRow(Out):
    entity_id: str
    name_zh: str | None
    name_en: str | None
    sector: str | None
    region_code: str | None
    status: Literal["on_time", "late", "missing"]
    returned: bool
    on_time: bool | None
    overdue: bool
    received_at: dt.datetime | None
    last_received_at: dt.datetime | None
    answered: int
    applicable: int | None
    completeness: float | None
    flagged: int
    accepted: bool


class RateRow(Out):
    level: Literal["all", "sector", "province"]
    group: str
    asked: int
    returned: int
    on_time: int
    complete: int
    reporting_rate: float
    on_time_rate: float


class CampaignStatus(Out):
    campaign: Campaign
    entities: list[StatusRow] = Field(description="A submitter gets only its own entities' rows.")
    rates: list[RateRow] | None = Field(description="Reporting and on-time rates (administrators and evaluators).")
    warnings: list[ProblemItem] = []


class MissingRow(Out):
    entity_id: str
    name_zh: str | None
    name_en: str | None
    sector: str | None
    region_code: str | None
    overdue: bool


class SampleDraw(Request):
    """A JR/T 0201 §4 sample drawn from the register by a size attribute of ``period`` (``fintech-eval sample``)."""

    period: str = Field(min_length=4, max_length=16, description="The period of the size attributes, e.g. last year.")
    method: Literal["coverage", "top_n", "stratified", "all"] = "coverage"
    by: Literal[SIZE_ATTRIBUTES] = "operating_revenue"  # type: ignore[valid-type]
    n: int | None = Field(None, ge=1, le=1_000_000, description="top_n / stratified: institutions per sector.")
    share: float | None = Field(None, gt=0, le=1, description="coverage: the share of the sector's total to cover.")
    fraction: float | None = Field(None, gt=0, le=1, description="stratified: the fraction per stratum.")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="stratified: the random seed.")


class CampaignCreate(Request):
    """A new campaign. The sample, chosen one way: ``entities``; or ``sectors`` and/or ``provinces`` (every active
    registered institution of them); or a §4 ``draw`` (within ``sectors`` when given); or none of these (the
    whole register)."""

    period: str = Field(min_length=4, max_length=16, examples=["2024"])
    framework: str = Field("jrt0201-2020", min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=200)
    deadline: str | None = Field(None, max_length=40, examples=["2025-03-31"],
                                 description="YYYY-MM-DD (the end of that day, UTC+8) or an ISO date and time.")
    entities: list[str] | None = Field(None, min_length=1, max_length=100_000)
    sectors: list[Literal[SECTORS]] | None = None  # type: ignore[valid-type]
    provinces: list[str] | None = Field(None, max_length=40, description="GB/T 2260 province codes: 11, 44, …")
    draw: SampleDraw | None = None
    params: dict[str, float] | None = Field(None, description="The framework's open parameters for this round.")


class CampaignUpdate(Request):
    deadline: str | None = Field(None, max_length=40, description="A new deadline; null removes it; omit to keep it.")
    name: str | None = Field(None, min_length=1, max_length=200)


class CampaignChanged(Out):
    campaign: Campaign
    changed: dict[str, list[Any]] = Field(description="field → [old, new]")


class StaffAdd(Request):
    email: str = Email


class StaffOut(Out):
    user_id: int
    email: str
    name: str | None
    role: str
    added_by: str
    added_at: dt.datetime


class InviteRow(Request):
    entity_id: str = Field(min_length=1, max_length=64)
    email: str = Email


class CampaignInvite(Request):
    """Invite submitters of the sample: one invitation per e-mail address, bound to the institutions listed with
    it; all or nothing."""

    invitations: list[InviteRow] = Field(min_length=1, max_length=10_000)
    days: int = Field(14, ge=1, le=90)


class Run(Out):
    id: int
    campaign: int | None
    name: str
    framework: str
    framework_version: str
    period: str
    status: Literal["draft", "published"]
    software: str
    blocks: list[str]
    n_warnings: int
    created_by: str
    created_at: dt.datetime | None
    published_by: str | None
    published_at: dt.datetime | None
    peer_visibility: Literal["distribution", "ranking", "none"] = Field(
        description="What an institution's submitter sees of its peers: anonymised distribution, named ranking, or nothing.")


class RunDetail(Run):
    warnings: dict[str, list[ProblemItem]]
    scores_sha256: dict[str, str]
    specs: dict[str, Any] | None = Field(description="The specs run (administrators and evaluators).")
    out_dir: str | None = Field(description="The result folder on the server (administrators and evaluators).")


class FrameworkOut(Out):
    ref: str
    id: str
    version: str
    kind: str
    status: str
    title_zh: str
    title_en: str


class IndicatorOut(Out):
    code: str
    block: str
    name_zh: str
    name_en: str
    unit: str | None
    type: str | None
    direction: Literal[1, -1]
    sectors: list[str]
    formula: str | None = Field(description="The formula for the sector asked (or the general one).")
    complete: bool


class VariableOut(Out):
    name: str
    unit: str
    type: str
    help_zh: str
    help_en: str
    min: float | None
    max: float | None
    sectors: list[str]
    indicators: list[str] = Field(description="The indicators this variable feeds (for the sector asked).")


class Health(Out):
    status: Literal["ok"]
    version: str
    schema_revision: str | None
