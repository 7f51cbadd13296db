"""The HTML rating report: self-contained, in Chinese and in English, explaining the level."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from fintech_eval.capability import (
    Vendor,
    load_capability_framework,
    load_file,
    rate_both,
    render_html,
    write_html,
)

from . import entries, mini, write

ACME = ({"G1": 2, "P1": 3, "P2": 3, "S1": 4, "S3": 3}, {"G2": 0, "S2": 85})


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    fw = load_file(write(tmp_path_factory.mktemp("mini"), mini()))
    return rate_both(fw, Vendor("ACME", "comprehensive", "艾克米科技"), entries(ACME[0], values=ACME[1]))


class _Check(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.external = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br", "img", "link", "input"):
            self.stack.append(tag)
        for k, v in attrs:
            if k in ("src", "href") and v and re.match(r"(https?:)?//", v):
                self.external.append(v)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_chinese_report_explains_the_level(both):
    html = render_html(both, "zh", generated=dt.date(2024, 7, 1))
    t = text(html)
    assert '<html lang="zh-CN">' in html and "金融科技服务能力评级报告" in t
    assert "艾克米科技" in t and "综合型金融科技服务商" in t and "2024-07-01" in t
    assert "测试用框架，非官方" in t  # the disclaimer
    assert "第3级 · 稳健级" in t and "第4级 · 优秀级" in t  # comprehensive and innovation side by side
    assert "仅看分数可达第4级" in t and "封顶于第3级" in t  # why level 3
    assert "为何未达第4级" in t and "G1 安全认证：须达第3档" in t
    assert 'data-requirement="G1@L4"' in html and "✗ 未满足" in html and "✓ 已满足" in html
    assert 'data-plan="G1"' in html and "共需提升 1 个档位" in t
    assert html.index('id="summary-comprehensive"') < html.index('id="summary-innovation"')


def test_english_report_explains_the_level(both):
    html = render_html(both, "en")
    t = text(html)
    assert '<html lang="en">' in html and "FinTech Service Capability Rating Report" in t
    assert "a test framework, not official" in t
    assert "Level 3 · Robust" in t and "Level 4 · Excellent" in t
    assert "would allow Level 4" in t and "capped at Level 3" in t
    assert "Why not Level 4 (Excellent)" in t and "G1 Security certification: step ≥ 3" in t
    assert "1 step increase(s) in all" in t
    assert "How the level is determined" in t and "staged" in t


def test_self_contained_and_well_formed(both):
    for lang in ("zh", "en"):
        html = render_html(both, lang)
        c = _Check()
        c.feed(html)
        assert c.external == [] and c.stack == []
        assert "<script" not in html and "<style>" in html


def test_single_rating_and_escaping(tmp_path):
    doc = mini()
    doc["capabilities"][0]["name"]["en"] = "Gov <b>&</b> security"
    fw = load_file(write(tmp_path, doc))
    r = rate_both(fw, Vendor("X<1>", "consulting"), entries({"G1": 3, "S1": 3}, values={"G2": 0, "S2": 91}))
    html = render_html(r["comprehensive"], "en")
    assert "Gov &lt;b&gt;&amp;&lt;/b&gt; security" in html and "X&lt;1&gt;" in html and "<b>&</b>" not in html
    assert "not applicable" in html  # capability P for a consulting provider
    out = write_html(r, tmp_path / "sub" / "r.html", "zh")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match="lang"):
        render_html(r, "fr")


def test_default_model_report_renders(tmp_path):
    import pandas as pd

    fw = load_capability_framework()
    rows = [{"indicator": i.code, "step": fw.step_numbers(i.code)[-2], "evidence_ref": "EV"} for i in fw.indicators()]
    both = rate_both(fw, Vendor("V", "outsourcing"), pd.DataFrame(rows))
    for lang in ("zh", "en"):
        html = render_html(both, lang)
        assert "本项目默认模型，非官方指标清单" in html or "our default model, not the official list" in html
        c = _Check()
        c.feed(html)
        assert c.stack == []
