"""CSV input read with pyarrow's reader (and large tables written with its writer): the bytes read once (hashed alongside), columns typed up front.

:func:`read_csv` parses a file (or bytes) into a :class:`pyarrow.Table`, with pandas' missing-value
markers (``""``, ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``#N/A`` …, so a file means what it meant to
``pandas.read_csv``), the columns named in ``floats`` parsed as float64 and those in ``strings`` kept as
text (a unit code ``007`` stays ``007``). A large file is parsed on a long-lived background thread (one
of :func:`_pool`'s: no thread is started per file, which costs milliseconds on a loaded machine) while the
calling thread computes the SHA-256 of the very bytes parsed, when asked, and any other work it hands in as
``meanwhile`` (both release the GIL): the fingerprint costs no extra pass over the file.

Bad input raises :class:`~fintech_eval.errors.DataError` naming the file, line, column and rule
(``<rules>.parse``, ``<rules>.numeric``, ``<rules>.encoding``, ``<rules>.header``); finding the line of a
bad cell is the only part that looks at rows one by one, and it runs only once the fast parse has failed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import DataError

#: pandas' default missing-value markers (``pandas.read_csv`` ``na_values``), so that files read the same.
NA_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
    "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]
#: The markers almost every file uses (an empty field, R's ``NA``): parsed with these alone, pyarrow compares
#: each field with 2 markers, not 19 (about 7 % of the parse). A number column cannot tell the difference
#: (``NaN`` parses as NaN; any other marker is not a number and sends the file to the full parse); a text or
#: untyped column holding another marker does, and sends it there too, so every file reads as with all of
#: :data:`NA_VALUES`.
FAST_NA = ["", "NA"]
_OTHER_NA = pa.array(sorted(set(NA_VALUES) - set(FAST_NA)), type=pa.string())
#: Parse a large file with pyarrow's thread pool, block by block (the SHA-256 and the tree are computed
#: meanwhile on the calling thread): True, False, or None = when a CPU may be free (the 1-minute load
#: average below the CPU count). Measured with ``bench/bench_coinr_synthetic.py`` at load 0.9 (before the
#: parse moved to :func:`_pool`): the whole 5,000 × 50 build 47 → 42.5 ms median wall, 20,000 × 50 137 →
#: 129 ms; but the threads cost 20-25 % more CPU (20,000 × 50: 37 → 46 ms), a loss when no CPU is free.
USE_THREADS: bool | None = None
#: Bytes a parse block: 1 MiB (pyarrow's default) keeps a block's work in cache. Half the file a block, as
#: before, cost 60 % more CPU on the 19 MB 20,000 × 50 iData (58 → 37 ms on one thread; the same at 5,000).
BLOCK = 1 << 20
#: Files smaller than this are parsed on the calling thread and hashed after parsing: for a small file (an
#: iMeta) starting and joining threads costs more than it saves, and far more on a loaded machine.
SMALL = 1 << 20


@dataclass(frozen=True, eq=False)
class CsvTable:
    table: pa.Table
    name: str  # the file's path as given, or the label of in-memory bytes
    sha256: str | None = None  # of the bytes parsed, when asked for


def read_csv(
    source: str | Path | bytes,
    *,
    floats: Iterable[str] = (),
    strings: Iterable[str] = (),
    sha256: bool = False,
    rules: str = "csv",
    name: str | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> CsvTable:
    """Parse ``source`` (see the module doc); ``rules`` prefixes the error rules (e.g. ``idata``).
    ``meanwhile``: run on the calling thread while a large file parses (a small one: once it has parsed)."""
    if isinstance(source, bytes | bytearray | memoryview):
        buf, name = bytes(source), name or "<bytes>"
    else:
        name = name or str(source)
        try:  # read whole (not memory-mapped: a file truncated meanwhile would kill the process with SIGBUS)
            buf = Path(source).read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read: {exc.strerror}", rule=f"{rules}.read", file=name) from None
    floats, strings = list(floats), list(strings)
    small = len(buf) < SMALL
    if small:  # (a thread costs more than it saves)
        table = _parse_all(buf, floats, strings, name, rules, threads=False)
        digest = hashlib.sha256(buf).hexdigest() if sha256 else None
        if meanwhile is not None:
            meanwhile()
    else:
        job = _pool().submit(_parse_all, buf, floats, strings, name, rules, threads=_threads())
        try:
            digest = hashlib.sha256(buf).hexdigest() if sha256 else None
            if meanwhile is not None:
                meanwhile()
        finally:
            table = job.result()  # (waited for even when meanwhile fails: the buffer is the parser's until then)
    names = table.column_names
    if len(set(names)) < len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise DataError(f"column(s) {', '.join(map(repr, dup))} appear more than once in the header", rule=f"{rules}.header", file=name, line=1)
    return CsvTable(table, name, digest)


_POOL: tuple[int, ThreadPoolExecutor] | None = None


def _threads() -> bool:
    """:data:`USE_THREADS`, or with None whether a CPU may be free now."""
    if USE_THREADS is not None:
        return USE_THREADS
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1)
    except (AttributeError, OSError):  # (no load average on this system)
        return True


def _pool() -> ThreadPoolExecutor:
    """The process's parsing threads, started once (again in a forked child: a pool's threads do not survive
    a fork). Parse jobs never wait for other jobs, so concurrent reads queue and never deadlock."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="fintech-eval-csv"))
    return _POOL[1]


def _parse_all(buf: bytes, floats: list[str], strings: list[str], name: str, rules: str, threads: bool) -> pa.Table:
    """The table (first with :data:`FAST_NA`, then with every marker if need be), or the error naming line and column."""
    types = {**{c: pa.string() for c in strings}, **{c: pa.float64() for c in floats}}
    try:
        table = _parse(buf, types, threads=threads, nulls=FAST_NA)
        if _other_markers(table, set(floats)):
            table = None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table = None  # (a bad value or another marker: the full parse below says which)
    try:
        while table is None:
            try:
                table = _parse(buf, types, threads=threads)
            except pa.ArrowInvalid as exc:
                # a column typed from the file's first block may not fit a later one: read it as text
                bad = _bad_column(buf, exc)
                if bad is None or bad in types:
                    raise
                types[bad] = pa.string()
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _diagnose(buf, name, rules, exc) from None
    return table


def _parse(buf: bytes, types: dict[str, pa.DataType], threads: bool = False, nulls: list[str] = NA_VALUES) -> pa.Table:
    return pcsv.read_csv(
        pa.py_buffer(buf),
        read_options=pcsv.ReadOptions(use_threads=threads, block_size=BLOCK),
        convert_options=pcsv.ConvertOptions(column_types=types, null_values=nulls, strings_can_be_null=True),
    )


def _other_markers(table: pa.Table, floats: set[str]) -> bool:
    """Whether a column other than the number columns asked for may hold a missing-value marker beyond
    :data:`FAST_NA` (text equal to one; NaN in a column whose type was guessed), read differently with all of
    :data:`NA_VALUES`."""
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name in floats:
            continue
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            hit = pc.any(pc.is_in(col, value_set=_OTHER_NA))
        elif pa.types.is_floating(col.type):
            hit = pc.any(pc.is_nan(col))
        else:
            continue
        if hit.as_py():
            return True
    return False


_CONVERSION = re.compile(r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to \w+: invalid value '(.*)'$", re.S)


def _header(buf: bytes) -> list[str]:
    return next((rec for _, rec in _records(buf)), [])


def _bad_column(buf: bytes, exc: Exception) -> str | None:
    """The column a conversion error names."""
    m = _CONVERSION.search(str(exc))
    header = _header(buf) if m else []
    return header[int(m.group(1))] if m and int(m.group(1)) < len(header) else None


def _diagnose(buf: bytes, name: str, rules: str, exc: Exception) -> DataError:
    """The fast parse failed: find the line and column at fault (error path only)."""
    msg = str(exc)
    if "UTF8" in msg:
        try:
            buf.decode("utf-8")
        except UnicodeDecodeError as u:
            line = buf.count(b"\n", 0, u.start) + 1
            return DataError(f"not UTF-8 text (byte {u.start}): save the file as UTF-8", rule=f"{rules}.encoding", file=name, line=line)
    m = _CONVERSION.search(msg)
    col = _bad_column(buf, exc)
    if m and col is not None:
        # re-read that column as text: the first row holding the value that is not a number
        value = m.group(2)
        text = _parse(buf, {col: pa.string()}).column(col)
        hits = np.flatnonzero(pc.fill_null(pc.equal(text, value), False).to_numpy(zero_copy_only=False))
        line = _line_of_record(buf, int(hits[0]) + 1) if len(hits) else None
        return DataError(f"non-numeric value {value!r}", rule=f"{rules}.numeric", file=name, line=line, column=col)
    m = re.search(r"Expected (\d+) columns, got (\d+)", msg)
    if m:
        line = _first_ragged_line(buf, int(m.group(1)))
        return DataError(f"expected {m.group(1)} fields (as in the header), got {m.group(2)}", rule=f"{rules}.parse", file=name, line=line)
    return DataError(f"cannot parse as CSV: {msg}", rule=f"{rules}.parse", file=name)


def _records(buf: bytes):
    reader = csv.reader(io.StringIO(buf.decode("utf-8-sig", errors="replace"), newline=""))
    for rec in reader:
        if rec:  # blank lines are skipped, as by the fast parser
            yield reader.line_num, rec


def record_lines(source: str | Path | None, rows: Iterable[int]) -> list[int]:
    """File lines of data rows (0 = the first row after the header), for error messages; without a file,
    row + 2 (a header line and 1-based lines)."""
    rows = [int(r) for r in rows]
    if source is None:
        return [r + 2 for r in rows]
    want = {r + 1 for r in rows}
    found = {n: line for n, (line, _) in enumerate(_records(Path(source).read_bytes())) if n in want}
    return [found.get(r + 1, r + 2) for r in rows]


def _line_of_record(buf: bytes, k: int) -> int | None:
    """The file line on which record ``k`` (0 = the header) ends."""
    for n, (line, _) in enumerate(_records(buf)):
        if n == k:
            return line
    return None


def _first_ragged_line(buf: bytes, width: int) -> int | None:
    for line, rec in _records(buf):
        if len(rec) != width:
            return line
    return None


# --- output ----------------------------------------------------------------------------------------------


def arrow_table(frame: pd.DataFrame) -> pa.Table | None:
    """``frame`` (its columns, not its index) as an Arrow table, or None when a column mixes types."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def csv_bytes(frame: pd.DataFrame | pa.Table) -> bytes:
    """A table as CSV text with pyarrow's writer (numbers in shortest round-trip form, NaN as an empty
    field, text quoted only where it must be), about ten times faster than ``DataFrame.to_csv`` on a large
    data set; a frame whose columns Arrow cannot type is written by pandas."""
    table = arrow_table(frame) if isinstance(frame, pd.DataFrame) else frame
    if table is None:
        return frame.to_csv(index=False).encode("utf-8")
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(table.column_names)
    body = io.BytesIO()
    try:
        pcsv.write_csv(table, body, pcsv.WriteOptions(include_header=False, quoting_style="none"))
    except pa.ArrowInvalid:  # a text value holds a comma, quote or newline: quote the text columns
        body = io.BytesIO()
        pcsv.write_csv(table, body, pcsv.WriteOptions(include_header=False, quoting_style="needed"))
    return head.getvalue().encode("utf-8") + body.getvalue()


def write_csv(frame: pd.DataFrame | pa.Table, path: Path) -> Path:
    """:func:`csv_bytes` written to ``path``."""
    Path(path).write_bytes(csv_bytes(frame))
    return path


def write_parquet(frame: pd.DataFrame | pa.Table, path: Path) -> Path:
    import pyarrow.parquet as pq

    table = arrow_table(frame) if isinstance(frame, pd.DataFrame) else frame
    if table is None:
        frame.to_parquet(path, index=False)
    else:
        pq.write_table(table, path)
    return path
