"""HTML reports escape every user-supplied text (institution names and codes, group names): markup in them
is shown as text, never run, also inside the charts' embedded data (issue 16: keep it tested)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.report import build_report, write

EVIL = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def result():
    tree = fe.Tree.from_framework(fe.load_framework("jrt0201-2020"), "J")
    units = [f"B{i:03d}" for i in range(12)]
    rng = np.random.default_rng(16)
    data = pd.DataFrame(rng.lognormal(1.0, 0.5, (len(units), len(tree.indicators))), columns=tree.indicators,
                        index=pd.Index(units, name="uCode"))
    groups = pd.DataFrame({"sector": ["bank", "<b>payment</b>"] * 6}, index=data.index)
    names = pd.Series([f"{EVIL} 银行 {i}" for i in range(len(units))], index=data.index)
    spec = {"name": f"escaping {EVIL}", "data": {"format": "frame"},
            "steps": [{"normalise": {"method": "minmax", "range": [0, 100]}}, {"aggregate": {}}],
            "ranks": {"groups": ["sector"]}}
    return fe.evaluate(spec, frames={"data": data, "tree": tree, "groups": groups, "names": names})


@pytest.mark.parametrize("kind", ["scorecard", "ranking"])
def test_user_texts_are_escaped_in_institution_reports(result, kind, tmp_path):
    rep = build_report(result, kind, entity="B000" if kind == "scorecard" else None, lang="en")
    page = write(rep, "html", tmp_path / f"{kind}.html").read_text(encoding="utf-8")
    assert 'alert("x")</script>' not in page and "<img src=x" not in page
    assert "<b>payment</b>" not in page
    # the name is shown (escaped in the page, or inside the charts' JSON with </ written as <\/)
    assert "&lt;img src=x" in page or "\\u003cimg src=x" in page or "<\\/script>" in page
