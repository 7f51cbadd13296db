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
from typing import Any, NamedTuple

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
#: the long-frame columns by their name in a Chinese message
COLUMN_ZH = {"entity_id": "主体", "period": "期间", "variable": "变量", "unit": "单位", "source": "来源"}


class TextRule(NamedTuple):
    """A broken text rule: the rule and why, in English and Chinese (``hit[0]``, ``hit[1]`` as before)."""

    rule: str
    reason: str
    reason_zh: str


def text_rule(text: str, limit: int | None) -> TextRule | None:
    """``(rule, reason, reason_zh)`` when ``text`` breaks a text rule, else None."""
    m = CONTROL.search(text)
    if m:
        code, at = f"U+{ord(m.group(0)):04X}", m.start() + 1
        return TextRule("text.control_character", f"holds the control character {code} at position {at}",
                        f"在第 {at} 个字符处含有控制字符 {code}")
    if limit is not None and len(text) > limit:
        return TextRule("text.too_long", f"is {len(text):,} characters long, the limit is {limit:,}",
                        f"长 {len(text):,} 个字符，超过上限 {limit:,}")
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
            rule, reason, reason_zh = bad[int(codes[i])]
            r = frame.iloc[i]
            what = col.removesuffix("_id") if col == "entity_id" else col
            out.append(problem(rule, f"{what} {shown(r[col])} {reason}: shorten it or remove the character",
                               zh=f"{COLUMN_ZH[col]} {shown(r[col], lang='zh')} {reason_zh}：请缩短或删除该字符",
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
        for text, key, what, what_zh in ((name, "file_name", "file name", "文件名"),
                                         (ext, "format", "file extension", "文件扩展名")):
            hit = text_rule(text, TEXT_LIMITS[key])
            if hit:
                out.append(problem("file.name", f"the {what} {shown(text)} {hit.reason}: rename the file",
                                   zh=f"{what_zh} {shown(text, lang='zh')} {hit.reason_zh}：请重命名文件", file=str(p)))
                break
    return out


def user_problems(user: str, option: str = "--user") -> list[CollectProblem]:
    """The name recorded with every change (``--user``): the same rules as any stored text."""
    hit = text_rule(user, TEXT_LIMITS["user"])
    if not hit:
        return []
    return [problem(hit.rule, f"the user name {shown(user)} {hit.reason}", zh=f"用户名 {shown(user, lang='zh')} {hit.reason_zh}",
                    column=option)]
