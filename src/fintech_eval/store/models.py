"""SQLAlchemy 2 models of the data layer (issue 4): entities, periods, submissions, observations,
audit trail and derived indicator values. One schema for SQLite (embedded default) and PostgreSQL.

Conventions (importers, derivation and the CLI rely on them, keep them stable):

* **Region codes** are GB/T 2260 *two-digit province prefixes* (``'11'`` Beijing, ``'44'`` Guangdong,
  ``'65'`` Xinjiang, ``'71'``/``'81'``/``'82'`` Taiwan/Hong Kong/Macao). The six-digit form of a
  province (``'110000'``) is accepted on input and stored as its prefix (:func:`province_code`). The
  same two-digit code is the ``entity_id`` of an observation whose ``entity_kind`` is ``region``.
* **Periods** are codes: ``'2024'`` (annual), ``'2024Q1'`` (quarterly), ``'2024-03'`` (monthly)
  (:func:`period_kind`). Every period used anywhere has a row in ``period``.
* **Observation keys** are dictionary-encoded: an observation's primary key is (entity_ref, period,
  variable_ref), integers numbering the (entity_kind, entity_id) pairs in ``observed_entity`` and the
  variable names in ``observed_variable`` (thousands and about a hundred rows, whatever the number of
  observations). The bulk table stays small (1,000,000 observations: about 55 MB instead of 139 MB
  with the text key) and is written faster (``bench/bench_import.py``). The repositories take and
  return the four text key columns; the numbers never leave the store.
* **Observations** keep the value and unit *as received*. When an importer converts the unit it also
  gives ``value_norm``/``unit_norm`` (the value in the variable's canonical unit); when it does not,
  both are stored NULL, which means "the received value is already canonical", and the repositories
  return ``value_norm = value``, ``unit_norm = unit``. A missing value is NULL (never 0).
* **Timestamps** are UTC: stored naive-UTC in SQLite, ``timestamptz`` in PostgreSQL, always returned
  as timezone-aware UTC datetimes.
* **Derived values**: ``status`` is ``ok`` exactly when ``value`` is not NULL (a CHECK constraint), so
  a missing input can never come back as 0.
* **No foreign keys on the two bulk tables** (``observation``, ``derived_value``): PostgreSQL checks a
  foreign key with a trigger query per inserted row, which made a bulk COPY 3.5 times slower
  (200,000 observations: 9.7 s with the period and submission keys, 2.8 s without). The repositories
  keep those references valid instead: every period is created by ``ensure_periods`` and every
  entity and variable number by ``_key_refs`` in the same transaction, ``submission_id`` is the id of the submission
  stored in that transaction, and no code deletes submissions or key numbers. The small tables keep
  their foreign keys.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..periods import PERIOD_KINDS
from ..vocab import (
    ENTITY_KINDS,
    ENTITY_STATUSES,
    PROVIDER_TYPES,
    RETURN_STATES,
    SECTORS,
    SIZE_ATTRIBUTES,
    SIZED_KINDS,
    VALUE_STATUSES,
    WITH_VALUE,
)

SUBMISSION_STATUSES: tuple[str, ...] = ("accepted", "rejected")
OBSERVATION_STATUSES: tuple[str, ...] = ("ok", "flagged")
DERIVED_STATUSES: tuple[str, ...] = VALUE_STATUSES

#: GB/T 2260 province-level prefixes: 31 mainland provinces, then Taiwan, Hong Kong, Macao.
PROVINCE_CODES: tuple[str, ...] = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
)  # fmt: skip

def province_code(value: Any) -> str | None:
    """Normalise a GB/T 2260 province code to its two-digit prefix; None when it is not one.

    Accepts ``'11'``, ``'110000'``, ``11`` or ``110000``. A prefecture or county code (``'110101'``)
    is not a province and gives None.
    """
    if value is None or isinstance(value, bool):
        return None
    s = str(value).strip()
    if re.fullmatch(r"\d{6}", s):
        if not s.endswith("0000"):
            return None
        s = s[:2]
    return s if s in PROVINCE_CODES else None


def _in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK that ``column`` holds one of ``values``, written ``c = 'a' OR c = 'b'``: SQLite evaluates
    an ``IN (…)`` list in a CHECK about 1 µs slower per row (measured: +0.9 s per 1,000,000 inserted
    observations), the OR form costs next to nothing; PostgreSQL treats both alike."""
    return " OR ".join(f"{column} = {v!r}" for v in values)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (naive values are taken as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: Integer surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
#: JSON documents: JSONB on PostgreSQL, JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Period(Base):
    """A reporting period: ``'2024'``, ``'2024Q1'`` or ``'2024-03'``."""

    __tablename__ = "period"
    __table_args__ = (CheckConstraint(_in("kind", PERIOD_KINDS), name="kind"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))


class Institution(Base):
    """A financial institution. ``id``: the unified social credit code, or the user's own id; ``city_code``
    a six-digit GB/T 2260 code inside ``region_code``; ``credit_code`` the unified social credit code (统一社会
    信用代码, GB 32100-2015, check character verified by the register); ``licence_no`` the financial licence
    number (金融许可证号, as printed); ``status`` one of ``vocab.ENTITY_STATUSES`` (a closed one is not sampled)."""

    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint(_in("sector", SECTORS), name="sector"),
        CheckConstraint("region_code IS NULL OR length(region_code) = 2", name="region_code"),
        CheckConstraint("city_code IS NULL OR length(city_code) = 6", name="city_code"),
        CheckConstraint("credit_code IS NULL OR length(credit_code) = 18", name="credit_code"),
        CheckConstraint(_in("status", ENTITY_STATUSES), name="status"),
        UniqueConstraint("credit_code", name="uq_institution_credit_code"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(16))
    subtype: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(2))
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    city_code: Mapped[str | None] = mapped_column(String(6))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    licence_no: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class KeyTechEnterprise(Base):
    """A FinTech key-technology enterprise (金融科技关键技术企业, JR/T 0201 §4 and §9.2.2): sampled beside the
    licensed institutions, counted per region (Q-A1B2). ``technologies``: ``;``-separated words of
    ``vocab.KEY_TECHNOLOGIES``."""

    __tablename__ = "key_tech_enterprise"
    __table_args__ = (
        CheckConstraint(_in("status", ENTITY_STATUSES), name="status"),
        CheckConstraint("region_code IS NULL OR length(region_code) = 2", name="region_code"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(2))
    technologies: Mapped[str | None] = mapped_column(String(200))
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class Region(Base):
    """A province-level region evaluated in block Q: its GB/T 2260 two-digit code (the ``entity_id`` of its
    observations) and names."""

    __tablename__ = "region"
    __table_args__ = (CheckConstraint("length(code) = 2", name="code"),)

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))


class SizeAttribute(Base):
    """A sampling variable of a registered institution or key-technology enterprise in a period (JR/T 0201
    §4): revenue, share, financing, market value. Money in 元, ``market_share`` as a fraction in [0, 1]
    (``vocab.SIZE_UNITS``). No foreign key to the two registers: the repository checks the entity exists."""

    __tablename__ = "size_attribute"
    __table_args__ = (
        CheckConstraint(_in("attribute", SIZE_ATTRIBUTES), name="attribute"),
        CheckConstraint(_in("entity_kind", SIZED_KINDS), name="entity_kind"),
    )

    entity_kind: Mapped[str] = mapped_column(String(16), primary_key=True, default="institution",
                                             server_default="institution")
    entity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), ForeignKey("period.code"), primary_key=True)
    attribute: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[float | None] = mapped_column(Double)


class Vendor(Base):
    """A FinTech technology vendor rated for service capability."""

    __tablename__ = "vendor"
    __table_args__ = (CheckConstraint(_in("provider_type", PROVIDER_TYPES), name="provider_type"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    provider_type: Mapped[str] = mapped_column(String(16))


class Submission(Base):
    """One received file or request, kept byte for byte. ``sha256`` identifies it: the same bytes
    submitted again are the same submission."""

    __tablename__ = "submission"
    __table_args__ = (
        CheckConstraint(_in("status", SUBMISSION_STATUSES), name="status"),
        UniqueConstraint("sha256"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    n_rows: Mapped[int | None] = mapped_column(Integer)
    problems: Mapped[Any | None] = mapped_column(Json)


class ObservedEntity(Base):
    """An entity that has observations (institution, region or industry), numbered for the
    observation key."""

    __tablename__ = "observed_entity"
    __table_args__ = (
        UniqueConstraint("entity_kind", "entity_id", name="uq_observed_entity_key"),
        CheckConstraint(_in("entity_kind", ENTITY_KINDS), name="entity_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))


class ObservedVariable(Base):
    """A raw variable that has observations, numbered for the observation key."""

    __tablename__ = "observed_variable"
    __table_args__ = (UniqueConstraint("name", name="uq_observed_variable_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))


class Observation(Base):
    """One raw value: an entity's variable in a period, as received (see the module notes). The key
    (entity_ref, period, variable_ref) is the primary key, and on SQLite the table is ``WITHOUT
    ROWID``: one B-tree holds rows and key (no second index beside a rowid table)."""

    __tablename__ = "observation"
    __table_args__ = (
        CheckConstraint(_in("status", OBSERVATION_STATUSES), name="status"),
        CheckConstraint("value IS NOT NULL OR value_norm IS NULL", name="norm_of_missing"),
        {"sqlite_with_rowid": False},
    )

    entity_ref: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)  # observed_entity.id
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # a period.code, no FK
    variable_ref: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)  # observed_variable.id
    value: Mapped[float | None] = mapped_column(Double)
    unit: Mapped[str | None] = mapped_column(String(32))
    value_norm: Mapped[float | None] = mapped_column(Double)
    unit_norm: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(200))
    submission_id: Mapped[int | None] = mapped_column(BigId)  # the submission.id it came from (no FK)
    status: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    flag_reason: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """One change of one field: ``table``/``key`` name the row (``key`` is a JSON array of its key
    values, e.g. ``["institution","I1","2024","staff"]``), ``old``/``new`` are JSON-encoded values."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_row", "table_name", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table: Mapped[str] = mapped_column("table_name", String(32))
    key: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    why: Mapped[str] = mapped_column(Text)
    submission_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("submission.id"))


class DerivedValue(Base):
    """A computed indicator value with its provenance (inputs, formula, framework version)."""

    __tablename__ = "derived_value"
    __table_args__ = (
        UniqueConstraint(
            "entity_kind",
            "entity_id",
            "period",
            "code",
            "framework",
            "framework_version",
            name="uq_derived_value_key",
        ),
        CheckConstraint(_in("entity_kind", ENTITY_KINDS), name="entity_kind"),
        CheckConstraint(_in("status", DERIVED_STATUSES), name="status"),
        CheckConstraint(
            f"(({_in('status', WITH_VALUE)}) AND value IS NOT NULL) OR (NOT ({_in('status', WITH_VALUE)}) AND value IS NULL)",
            name="value_status",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))  # a period.code (no FK: see the module notes)
    code: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    inputs: Mapped[Any | None] = mapped_column(Json)
    formula: Mapped[str | None] = mapped_column(Text)
    framework: Mapped[str] = mapped_column(String(64), default="", server_default="")
    framework_version: Mapped[str] = mapped_column(String(32), default="", server_default="")
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


CAMPAIGN_STATUSES: tuple[str, ...] = ("open", "closed")
RUN_STATUSES: tuple[str, ...] = ("draft", "published")
#: What a published run shows an institution's submitter of its peers: ``distribution`` (anonymised quartiles
#: and histogram, the default), ``ranking`` (the full named ranking) or ``none``.
PEER_VISIBILITIES: tuple[str, ...] = ("distribution", "ranking", "none")


class Campaign(Base):
    """An evaluation round: the framework and period asked, the deadline, the sample of entities asked."""

    __tablename__ = "campaign"
    __table_args__ = (CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    framework: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[str] = mapped_column(String(32), default="", server_default="")
    period: Mapped[str] = mapped_column(String(16), ForeignKey("period.code"))
    deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    params: Mapped[Any | None] = mapped_column(Json)  # the framework's open parameters set for this round
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[CampaignMember]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )


class CampaignMember(Base):
    """One entity asked in a campaign (its sample)."""

    __tablename__ = "campaign_member"
    __table_args__ = (CheckConstraint(_in("entity_kind", ENTITY_KINDS), name="entity_kind"),)

    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    entity_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    campaign: Mapped[Campaign] = relationship(back_populates="members")


class EvaluationRun(Base):
    """One scoring of stored data: the spec, what it read (fingerprints), who, when, the warnings, where its
    result folder is; ``published`` marks the run that reports show (a published run is never overwritten)."""

    __tablename__ = "evaluation_run"
    __table_args__ = (CheckConstraint(_in("status", RUN_STATUSES), name="status"),
                      CheckConstraint(_in("peer_visibility", PEER_VISIBILITIES), name="peer_visibility"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign.id"))
    name: Mapped[str] = mapped_column(String(200))
    framework: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[str] = mapped_column(String(32), default="", server_default="")
    period: Mapped[str] = mapped_column(String(16))
    specs: Mapped[Any] = mapped_column(Json)  # block → spec (as saved in the result folder)
    inputs: Mapped[Any | None] = mapped_column(Json)  # block → input fingerprints
    warnings: Mapped[Any | None] = mapped_column(Json)  # block → list of problems
    scores_sha256: Mapped[Any | None] = mapped_column(Json)  # block → SHA-256 of scores.csv
    out_dir: Mapped[str] = mapped_column(Text)
    software: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    peer_visibility: Mapped[str] = mapped_column(String(16), default="distribution", server_default="distribution")


class DataReturn(Base):
    """One entity's answers for one campaign (or one framework and period without a campaign): the unit an
    institution submits and an evaluator reviews. ``scope`` is ``campaign:<id>`` or ``<framework>:<period>``
    (unique with the entity, so that concurrent first submissions create one return); ``version`` is the
    number of its newest version, ``reviewed_version`` the one under review or accepted; ``submission_id``
    the import that stored the accepted version's values."""

    __tablename__ = "data_return"
    __table_args__ = (
        UniqueConstraint("scope", "entity_kind", "entity_id", name="uq_data_return_key"),
        CheckConstraint(_in("state", RETURN_STATES), name="state"),
        CheckConstraint(_in("entity_kind", ENTITY_KINDS), name="entity_kind"),
        Index("ix_data_return_campaign", "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(100))
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign.id"))
    framework: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16), ForeignKey("period.code"))
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reviewed_version: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # first valid submission
    submission_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("submission.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnVersion(Base):
    """One version of a return as received, byte for byte (``payload``, ``media_type``, ``sha256``), with
    what the import's reading and validation made of it: ``fields`` (per variable: as typed, read, converted,
    flagged) and ``problems`` (and their counts); ``valid`` when no problem is an error, ``final`` when it was
    submitted (not only saved as a draft)."""

    __tablename__ = "return_version"
    __table_args__ = (UniqueConstraint("return_id", "number", name="uq_return_version_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    return_id: Mapped[int] = mapped_column(BigId, ForeignKey("data_return.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    final: Mapped[bool] = mapped_column(Boolean)
    valid: Mapped[bool] = mapped_column(Boolean)
    fields: Mapped[Any] = mapped_column(Json)
    problems: Mapped[Any] = mapped_column(Json)
    answered: Mapped[int] = mapped_column(Integer)  # values given (not blank), for listings without reading fields
    errors: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnEvent(Base):
    """One step of a return's history: who, when, the action, from and to which state, the evaluator's
    comments per field, a note, and the values that changed from the version before."""

    __tablename__ = "return_event"
    __table_args__ = (Index("ix_return_event_return", "return_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    return_id: Mapped[int] = mapped_column(BigId, ForeignKey("data_return.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    comments: Mapped[Any | None] = mapped_column(Json)
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[Any | None] = mapped_column(Json)


class IdempotencyKey(Base):
    """A client's idempotency key (per actor): the first request with it stores its ``fingerprint`` (SHA-256
    of what was asked) and the version it created; a retry with the same fingerprint gets that result again,
    another fingerprint is an error. The primary key makes concurrent retries store once."""

    __tablename__ = "idempotency_key"

    actor: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    return_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("data_return.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlagReview(Base):
    """An evaluator's check of a flagged value (``fintech-eval review accept``): the flag accepted (the value's
    ``flag_reason`` at the time, and its SHA-256 for the key), who, when, why, and the campaign it was done
    for. It stops the flag blocking only while the value carries that same flag: a correction that changes
    the flag (a new reason) makes the value blocking again until it is accepted anew."""

    __tablename__ = "flag_review"
    __table_args__ = (
        UniqueConstraint("entity_kind", "entity_id", "period", "variable", "flag_sha256", name="uq_flag_review_key"),
        CheckConstraint(_in("entity_kind", ENTITY_KINDS), name="entity_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    variable: Mapped[str] = mapped_column(String(100))
    flag_reason: Mapped[str] = mapped_column(Text)
    flag_sha256: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign.id"))
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    why: Mapped[str] = mapped_column(Text)


def _length(column: Any) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), column
    return length


#: The longest text each stored field of an import may hold, read from the columns above (declared once,
#: here): the intake checks these before storing, so that SQLite (which does not enforce VARCHAR lengths)
#: and PostgreSQL (which does) accept and reject exactly the same inputs. Keys are the names the readers
#: and the CLI use.
TEXT_LIMITS: dict[str, int] = {
    "entity_id": _length(ObservedEntity.entity_id),
    "period": _length(Period.code),
    "variable": _length(ObservedVariable.name),
    "unit": _length(Observation.unit),
    "source": _length(Observation.source),
    "file_name": _length(Submission.file_name),
    "format": _length(Submission.format),
    "user": min(_length(Submission.submitted_by), _length(AuditEntry.who)),
}


# --- accounts of the web platform (issue 13) ------------------------------------------------------------------
#: The roles of the web platform; what each may do is decided in one place, ``fintech_eval.web.policy``.
ROLES: tuple[str, ...] = ("administrator", "evaluator", "submitter", "viewer")
#: What an API token may be used for (a token never allows more than its owner's role).
TOKEN_SCOPES: tuple[str, ...] = ("read", "submit", "admin")
#: The kinds of entity a submitter account can be bound to.
TENANT_KINDS: tuple[str, ...] = ("institution", "vendor")


class UserAccount(Base):
    """A person (or system) signing in to the web platform. ``email`` is stored lower-case; ``password_hash``
    is an argon2id hash (NULL until an invited user sets a password); ``failed_logins`` and ``locked_until``
    implement the lockout after repeated failed sign-ins."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"), UniqueConstraint("email"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    entities: Mapped[list[UserEntity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, order_by="UserEntity.entity_id"
    )


class UserEntity(Base):
    """An entity a submitter account answers for (its tenant): an institution or a vendor code."""

    __tablename__ = "user_entity"
    __table_args__ = (CheckConstraint(_in("entity_kind", TENANT_KINDS), name="entity_kind"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    user: Mapped[UserAccount] = relationship(back_populates="entities")


class WebSession(Base):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 (``id``) is stored, so a copy
    of the database signs nobody in. ``csrf_token`` must accompany every state-changing request of it."""

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(Base):
    """A token for system-to-system use: shown once, stored as its SHA-256, scoped, revocable; ``prefix``
    (the first characters) names it in listings."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(64))  # space-separated TOKEN_SCOPES
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Invitation(Base):
    """A one-time link that creates a submitter account bound to ``entities`` and sets its password. Only the
    SHA-256 of the link's token is stored; ``used_at`` is set when it is accepted (it never works twice);
    ``campaign_id`` is the campaign it was sent for (NULL: sent outside a campaign)."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("token_hash"), CheckConstraint(_in("role", ROLES), name="role"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), default="submitter", server_default="submitter")
    entities: Mapped[Any] = mapped_column(Json)  # [{"kind": "institution", "id": "B001"}, …]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("user_account.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign.id", ondelete="SET NULL"), index=True)


class CampaignStaff(Base):
    """An evaluator assigned to a campaign: it sees and manages that campaign (administrators see every one).
    ``added_by``/``added_at``: who assigned it, when (the audit log keeps every assignment and removal)."""

    __tablename__ = "campaign_staff"

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Base):
    """One action on the platform: who (``actor``, the account's e-mail or ``cli``/``anonymous``), what
    (``action``: ``sign_in.success``, ``sign_in.failure``, ``user.role``, ``token.create``, …), on what
    (``object``, e.g. ``user:3``), with a JSON ``detail`` and the client address. Sign-in throttling counts
    the recent failures of an address here."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_ip_at", "action", "ip", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[Any | None] = mapped_column(Json)
    ip: Mapped[str | None] = mapped_column(String(64))


# --- vendor capability assessments (issue 13: rating a vendor in the browser) ----------------------------------
#: The life of a vendor assessment: ``draft`` (answers and evidence change, the rating is computed live) →
#: ``published`` (the rating is frozen as it was computed, the vendor's submitters see it; nothing changes).
ASSESSMENT_STATUSES: tuple[str, ...] = ("draft", "published")


class VendorAssessment(Base):
    """One rating of a vendor under one evaluation model of a capability framework in one ``round`` (e.g.
    ``2026``): the answers and evidence it collects, and, once published, the rating as it was computed
    (``rating``: :meth:`fintech_eval.capability.Rating.to_dict`). ``provider_type`` is the vendor's type when
    the assessment was opened (the indicators that apply follow it)."""

    __tablename__ = "vendor_assessment"
    __table_args__ = (
        UniqueConstraint("vendor_id", "framework", "model", "round", name="uq_vendor_assessment_key"),
        CheckConstraint(_in("status", ASSESSMENT_STATUSES), name="status"),
        CheckConstraint(_in("provider_type", PROVIDER_TYPES), name="provider_type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vendor_id: Mapped[str] = mapped_column(String(64), ForeignKey("vendor.id"), index=True)
    framework: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(32))
    round: Mapped[str] = mapped_column(String(32))
    provider_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    level: Mapped[int | None] = mapped_column(Integer)  # the published level (NULL: below level 1, or a draft)
    total: Mapped[float | None] = mapped_column(Double)  # the published total score
    rating: Mapped[Any | None] = mapped_column(Json)


class VendorAnswer(Base):
    """The evaluator's answer for one indicator of an assessment: the rubric ``step`` (or the quantitative
    ``value``, from which the rating derives the step), a reference to evidence held elsewhere (``evidence_ref``,
    e.g. an archive number; uploaded files are :class:`VendorEvidence`), a note, who and when."""

    __tablename__ = "vendor_answer"

    assessment_id: Mapped[int] = mapped_column(BigId, ForeignKey("vendor_assessment.id", ondelete="CASCADE"),
                                               primary_key=True)
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    step: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Double)
    evidence_ref: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class VendorEvidence(Base):
    """An evidence file for one indicator of an assessment, kept byte for byte (``payload``, ``sha256``,
    ``size``, the type found in its bytes as ``media_type``). A withdrawn file (``withdrawn_at``) stays stored
    but no longer counts as evidence. The same bytes for the same indicator are stored once."""

    __tablename__ = "vendor_evidence"
    __table_args__ = (
        UniqueConstraint("assessment_id", "indicator", "sha256", name="uq_vendor_evidence_key"),
        Index("ix_vendor_evidence_assessment", "assessment_id", "indicator"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(BigId, ForeignKey("vendor_assessment.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class VendorAssessmentEvent(Base):
    """One change of an assessment (its history): who, when, the ``action`` (``create``, ``answer``,
    ``evidence.add``, ``evidence.withdraw``, ``publish``), the indicator it touched, old → new (JSON)."""

    __tablename__ = "vendor_assessment_event"
    __table_args__ = (Index("ix_vendor_assessment_event_assessment", "assessment_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(BigId, ForeignKey("vendor_assessment.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    who: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    indicator: Mapped[str | None] = mapped_column(String(32))
    old: Mapped[Any | None] = mapped_column(Json)
    new: Mapped[Any | None] = mapped_column(Json)


# --- background jobs (issue 13: scoring outside the request) ---------------------------------------------------
#: The life of a job: ``queued`` → ``running`` (a worker claimed it) → ``succeeded`` / ``failed`` / ``cancelled``.
JOB_STATES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled")
#: The states a job ends in (nothing changes it after).
JOB_ENDED: tuple[str, ...] = ("succeeded", "failed", "cancelled")


class Job(Base):
    """A unit of work done outside the request that asked for it (``kind``: a name of the job kinds' registry,
    :data:`fintech_eval.app.jobs.KINDS`; ``params``: its JSON parameters). The database is the queue: a worker
    claims the oldest ``queued`` job with a conditional UPDATE (``FOR UPDATE SKIP LOCKED`` first on PostgreSQL),
    writes ``heartbeat_at`` while it runs and ``progress`` (0-1) with the ``step`` it is at; a running job whose
    heartbeat is stale lost its worker and is marked failed (``error_rule`` ``job.abandoned``). ``result_ref``:
    what it made (``run:12``); ``campaign_id``: whose campaign it is (who may see it)."""

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(_in("state", JOB_STATES), name="state"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        Index("ix_job_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[Any] = mapped_column(Json)
    state: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(254))
    requested_by_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid:thread of the worker that claimed it
    progress: Mapped[float] = mapped_column(Double, default=0.0, server_default="0")
    step: Mapped[str | None] = mapped_column(String(500))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    result_ref: Mapped[str | None] = mapped_column(String(200))
    error_rule: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
