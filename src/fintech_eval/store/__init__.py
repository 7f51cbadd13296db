"""Storage of the data layer: SQLAlchemy 2 models, Alembic migrations and repositories.

    from fintech_eval.store import init_db, session_factory, import_observations, observations_frame
    engine = init_db("sqlite:///fintech-eval.sqlite")        # or a postgresql+psycopg:// URL
    with session_factory(engine)() as s:
        result = import_observations(s, raw_bytes, frame, file_name="x.csv", fmt="csv", submitted_by="me")
        panel = observations_frame(s, period="2024")

The library itself needs no database (DataFrames in, DataFrames out); this package is the optional
persistent store used by the CLI and the web platform.

Transactions: every repository function writes in the session's transaction and never commits: the
caller owns the transaction (``with session.begin(): ...`` or :func:`~.db.session_scope`) and must roll
back on any exception. The exception is :func:`import_observations`, which is one complete
all-or-nothing transaction (submission row, periods, observations, audit entries): it commits on success
and rolls everything back on any failure (inside a caller's transaction: a savepoint).

Modules, one job each: :mod:`.db` (engines, migrations), :mod:`.models` (tables); the repositories
:mod:`.observations` (import, store, read back), :mod:`.corrections`, :mod:`.derived`, :mod:`.entities`
(institutions, vendors), :mod:`.registers` (key-technology enterprises, regions, sizes),
:mod:`.submissions`, :mod:`.periods`, :mod:`.returns`, :mod:`.reviews`; beneath them :mod:`.audit`
(audited writes, history), :mod:`.numbering` (observation key numbers), :mod:`.checks` (input frames),
:mod:`.keys` (keys and audited values as text), :mod:`.bulk` (bulk writers per dialect) and :mod:`.reads`
(bulk reads).
"""

from ..periods import period_kind
from .audit import StoreStats, history
from .corrections import correct_value
from .db import (
    DEFAULT_FILE,
    ENV_VAR,
    begin_write,
    current_revision,
    database_url,
    downgrade_db,
    head_revision,
    init_db,
    make_engine,
    session_factory,
    session_scope,
)
from .derived import DERIVED_COLUMNS, derived_frame, save_derived
from .entities import upsert_vendors, vendors_frame
from .institutions import INSTITUTION_COLUMNS, institutions_frame, upsert_institutions
from .keys import ObsKey, row_key
from .models import (
    DERIVED_STATUSES,
    ENTITY_KINDS,
    OBSERVATION_STATUSES,
    PERIOD_KINDS,
    PROVIDER_TYPES,
    PROVINCE_CODES,
    SECTORS,
    SIZE_ATTRIBUTES,
    AuditEntry,
    Base,
    DerivedValue,
    Institution,
    KeyTechEnterprise,
    Observation,
    ObservedEntity,
    ObservedVariable,
    Period,
    Region,
    SizeAttribute,
    Submission,
    Vendor,
    province_code,
)
from .observations import (
    OBSERVATION_COLUMNS,
    ImportResult,
    import_observations,
    observations_frame,
    store_observations,
)
from .periods import ensure_periods
from .registers import (
    key_tech_frame,
    regions_frame,
    size_frame,
    upsert_key_tech,
    upsert_regions,
    upsert_size_attributes,
)
from .submissions import store_submission, submissions_frame

__all__ = [
    "INSTITUTION_COLUMNS",
    "DEFAULT_FILE",
    "DERIVED_COLUMNS",
    "DERIVED_STATUSES",
    "ENTITY_KINDS",
    "ENV_VAR",
    "OBSERVATION_COLUMNS",
    "OBSERVATION_STATUSES",
    "PERIOD_KINDS",
    "PROVIDER_TYPES",
    "PROVINCE_CODES",
    "SECTORS",
    "SIZE_ATTRIBUTES",
    "AuditEntry",
    "Base",
    "DerivedValue",
    "ImportResult",
    "Institution",
    "KeyTechEnterprise",
    "ObsKey",
    "Observation",
    "Period",
    "Region",
    "ObservedEntity",
    "ObservedVariable",
    "SizeAttribute",
    "StoreStats",
    "Submission",
    "Vendor",
    "begin_write",
    "correct_value",
    "current_revision",
    "database_url",
    "derived_frame",
    "downgrade_db",
    "ensure_periods",
    "head_revision",
    "history",
    "import_observations",
    "init_db",
    "institutions_frame",
    "key_tech_frame",
    "make_engine",
    "observations_frame",
    "period_kind",
    "province_code",
    "regions_frame",
    "row_key",
    "save_derived",
    "session_factory",
    "session_scope",
    "size_frame",
    "store_observations",
    "store_submission",
    "submissions_frame",
    "upsert_institutions",
    "upsert_key_tech",
    "upsert_regions",
    "upsert_size_attributes",
    "upsert_vendors",
    "vendors_frame",
]
