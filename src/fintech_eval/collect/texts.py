"""Rules on the texts an import stores: lengths and characters, the same on every database.

SQLite keeps a ``VARCHAR(200)`` of any length and any character; PostgreSQL refuses a longer text and a NUL
byte. So that both databases accept and reject the same inputs, every text is checked here, before
storage, against the column limits declared once in :data:`fintech_eval.store.models.TEXT_LIMITS`:

* ``text.too_long``: longer than its column (``source`` 200 characters, ``entity_id`` 64, ``unit`` 32, …);
* ``text.control_character``: NUL, C0/C1 control characters other than tab (ESC sequences, BEL, backspace,
  vertical tab, form feed, line breaks), DEL, the Unicode line and paragraph separators, zero-width and
  bidirectional-override characters: they are invisible or drive the terminal that later prints them;
* ``file.name``: a file name or extension longer than the submission table keeps, or with such characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import shown
from ..store.models import TEXT_LIMITS
from .validate import CollectProblem, problem

#: characters no stored text may hold (tab is allowed)
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
#: long-frame column → the TEXT_LIMITS key of the field it is stored in
STORED_TEXTS = {"entity_id": "entity_id", "period": "period", "variable": "variable", "unit": "unit",
                "source": "source"}


def text_rule(text: str, limit: int | None) -> tuple[str, str] | None:
    """``(rule, reason)`` when ``text`` breaks a text rule, else None."""
    m = CONTROL.search(text)
    if m:
        return "text.control_character", f"holds the control character U+{ord(m.group(0)):04X} at position {m.start() + 1}"
    if limit is not None and len(text) > limit:
        return "text.too_long", f"is {len(text):,} characters long, the limit is {limit:,}"
    return None


def frame_text_problems(frame: pd.DataFrame) -> tuple[list[CollectProblem], np.ndarray]:
    """Every stored text column of a long frame (the readers' output), each distinct text checked once;
    returns the problems and the mask of the rows they concern (left out of the other checks: a 5 MB name
    compared with every variable name would take hours, and the row is rejected already)."""
    out: list[CollectProblem] = []
    rows = np.zeros(len(frame), dtype=bool)
    for col, key in STORED_TEXTS.items():
        if col not in frame.columns or not len(frame):
            continue
        codes, uniq = pd.factorize(frame[col])
        bad = {}
        for k, u in enumerate(uniq):
            if isinstance(u, str):
                hit = text_rule(u, TEXT_LIMITS[key])
                if hit:
                    bad[k] = hit
        if not bad:
            continue
        hit_rows = np.isin(codes, list(bad))
        rows |= hit_rows
        for i in np.flatnonzero(hit_rows):
            rule, reason = bad[int(codes[i])]
            r = frame.iloc[i]
            what = col.removesuffix("_id") if col == "entity_id" else col
            out.append(problem(rule, f"{what} {shown(r[col])} {reason}: shorten it or remove the character",
                               file=r.get("file"), sheet=r.get("sheet"), row=_int(r.get("row")), column=col,
                               entity=None if col == "entity_id" else _short(r.get("entity_id")),
                               variable=None if col == "variable" else _short(r.get("variable"))))
    return out, rows


def _short(v: Any) -> Any:
    """A place (entity, variable) to name in a problem: cut when it is itself an over-long text."""
    return v[:100] + "…" if isinstance(v, str) and len(v) > 100 else v


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def file_name_problems(paths: Iterable[str | Path]) -> list[CollectProblem]:
    """File names the submission table could not keep (too long, an over-long extension, control characters)."""
    out = []
    for p in paths:
        name, ext = Path(p).name, Path(p).suffix.lstrip(".")
        for text, key, what in ((name, "file_name", "file name"), (ext, "format", "file extension")):
            hit = text_rule(text, TEXT_LIMITS[key])
            if hit:
                out.append(problem("file.name", f"the {what} {shown(text)} {hit[1]}: rename the file", file=str(p)))
                break
    return out


def user_problems(user: str, option: str = "--user") -> list[CollectProblem]:
    """The name recorded with every change (``--user``): the same rules as any stored text."""
    hit = text_rule(user, TEXT_LIMITS["user"])
    if not hit:
        return []
    return [problem(hit[0], f"the user name {shown(user)} {hit[1]}", column=option)]
