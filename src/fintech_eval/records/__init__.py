"""Raw records → raw variables, at any scale: record schemas and declarative derivations written once
(``records/data/*.yaml``), executed by DuckDB (embedded, default) or Apache Spark (``[spark]`` extra).

    from fintech_eval.records import derive_records, generate_records, load_records_spec
    generate_records("recs/", rows=1_000_000, seed=7)             # synthetic, partitioned Parquet
    d = derive_records("recs/", "2024", engine="duckdb")          # or engine="spark"
    d.observations, d.sources, d.provenance
    with Workspace("fintech-eval.sqlite") as ws:                 # fintech_eval.app.Workspace
        import_derived(d, ws)                                     # a submission with provenance

See ``docs/records.md``.
"""

from .backends import BACKENDS, Backend, get_backend
from .compile import RULES
from .derive import Derived, SourceReport, derive_records, period_bounds
from .loader import load_records_spec
from .models import RecordSpec

__all__ = [
    "BACKENDS", "RULES", "Backend", "Derived", "RecordSpec", "SourceReport", "derive_records", "get_backend",
    "load_records_spec", "period_bounds",
]
