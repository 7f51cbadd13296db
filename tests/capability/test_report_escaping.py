"""The vendor report escapes every text a user supplied (vendor id and name, evidence references, reviewer,
comment): markup in them is shown as text, never run (issue 16: keep it tested)."""

from __future__ import annotations

import html
import re

from fintech_eval.capability import Vendor, load_file, rate_both, render_html

from . import entries, mini, write

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_user_texts_are_escaped_in_the_vendor_report(tmp_path):
    fw = load_file(write(tmp_path, mini()))
    scores = entries({"G1": 2, "P1": 3, "P2": 3, "S1": 4, "S3": 3}, values={"G2": 0, "S2": 85})
    scores["evidence_ref"] = EVIL
    scores["reviewer"] = "<b>rev</b>"
    scores["comment"] = "=cmd|' /C calc'!A0 <iframe src=//evil>"
    ratings = rate_both(fw, Vendor("V<1>", "comprehensive", EVIL), scores)
    for lang in ("zh", "en"):
        page = render_html(ratings, lang=lang)
        assert "<script>alert" not in page and "<img src=x" not in page and "<iframe" not in page
        assert not re.search(r"<[^>]+onerror=", page)
        assert "<b>rev</b>" not in page
        assert html.escape(EVIL, quote=False) in page or html.escape(EVIL) in page  # shown, as text
