"""A small capability framework whose ratings can be computed by hand, and helpers to mutate and write it.

MINI: 7 indicators in 3 capabilities (no elements), 5 levels, 2 models, 4 provider types.

    G  governance & security  G1 security certification  rubric 0..4 (25 points a step)  mandatory L4: step >= 3
                              G2 major penalties, count   thresholds [3,2,1,0], lower is better → steps 0..4
                                                          mandatory L1: step >= 1 (at most 3 penalties)
       AHP [[1,3],[1/3,1]] → G1 0.75, G2 0.25 (consistent, CR 0)
    P  products (comprehensive and product providers only)
                              P1 product certification   rubric 0..4    mandatory L3: step >= 2
                              P2 product quality         rubric 0..4
       AHP [[1,1],[1,1]] → 0.5, 0.5
    S  service                S1 delivery                rubric 0..4
                              S2 client satisfaction, %  thresholds [60,70,80,90] → steps 0..4
                              S3 on-site staff (comprehensive and outsourcing providers only)  rubric 0..4
       AHP [[1,2,2],[1/2,1,1],[1/2,1,1]] → 0.5, 0.25, 0.25 (consistent)

    comprehensive model: G, P, S with AHP [[1,2,2],[1/2,1,1],[1/2,1,1]] → 0.5, 0.25, 0.25;
                         bands L1 0, L2 40, L3 55, L4 70, L5 85; staged requirements.
    innovation model:    P, S with [[1,1],[1,1]] → 0.5, 0.5; only P1, S1, S2 (P: P1 alone; S: sub-matrix
                         [[1,2],[1/2,1]] → S1 2/3, S2 1/3); bands L1 0, L2 30, L3 50, L4 70, L5 90; score only.
"""

from __future__ import annotations

import copy

import pandas as pd
import yaml

FOUR = [{"step": k, "descriptor": {"zh": f"第{k}档", "en": f"step {k}"}} for k in range(5)]


def _ind(code, zh, en, scoring, applies=None, mandatory=None):
    d = {"code": code, "name": {"zh": zh, "en": en}, "definition": {"zh": zh + "的定义", "en": "definition of " + en},
         "scoring": scoring, "evidence": [{"zh": "证明材料", "en": "supporting document"}]}
    if applies:
        d["applies_to"] = applies
    if mandatory:
        d["mandatory"] = mandatory
    d["grounding"] = {"rationale": {"zh": "测试用", "en": "for tests"}}
    return d


MINI = {
    "id": "mini-fcsc",
    "version": "1",
    "title": {"zh": "测试能力框架", "en": "Test capability framework"},
    "issuer": {"zh": "测试", "en": "tests"},
    "status": "unofficial",
    "disclaimer": {"zh": "测试用框架，非官方", "en": "a test framework, not official"},
    "counts": {"indicators": 7, "capabilities": 3, "levels": 5, "models": 2, "provider_types": 4},
    "code_scheme": "free",
    "provider_types": [
        {"code": "comprehensive", "name": {"zh": "综合型金融科技服务商", "en": "comprehensive provider"}},
        {"code": "product", "name": {"zh": "金融科技产品服务商", "en": "product provider"}},
        {"code": "consulting", "name": {"zh": "金融科技咨询服务商", "en": "consulting provider"}},
        {"code": "outsourcing", "name": {"zh": "金融科技外包服务商", "en": "outsourcing provider"}},
    ],
    "scales": [{"id": "four", "name": {"zh": "五档", "en": "five steps"}, "steps": FOUR}],
    "levels": [
        {"level": 1, "name": {"zh": "起始级", "en": "Initial"}},
        {"level": 2, "name": {"zh": "发展级", "en": "Developing"}},
        {"level": 3, "name": {"zh": "稳健级", "en": "Robust"}},
        {"level": 4, "name": {"zh": "优秀级", "en": "Excellent"}},
        {"level": 5, "name": {"zh": "卓越级", "en": "Outstanding"}},
    ],
    "capabilities": [
        {"code": "G", "name": {"zh": "治理与安全", "en": "Governance and security"},
         "judgements": [[1, 3], ["1/3", 1]],
         "indicators": [
             _ind("G1", "安全认证", "Security certification", {"type": "rubric", "scale": "four"},
                  mandatory=[{"level": 4, "min_step": 3}]),
             _ind("G2", "重大处罚", "Major penalties",
                  {"type": "quantitative", "unit": "cases", "direction": -1, "thresholds": [3, 2, 1, 0]},
                  mandatory=[{"level": 1, "min_step": 1}]),
         ]},
        {"code": "P", "name": {"zh": "产品", "en": "Products"},
         "judgements": [[1, 1], [1, 1]],
         "indicators": [
             _ind("P1", "产品认证", "Product certification", {"type": "rubric", "scale": "four"},
                  applies=["comprehensive", "product"], mandatory=[{"level": 3, "min_step": 2}]),
             _ind("P2", "产品质量", "Product quality", {"type": "rubric", "scale": "four"},
                  applies=["comprehensive", "product"]),
         ]},
        {"code": "S", "name": {"zh": "服务", "en": "Service"},
         "judgements": [[1, 2, 2], ["1/2", 1, 1], ["1/2", 1, 1]],
         "indicators": [
             _ind("S1", "交付", "Delivery", {"type": "rubric", "scale": "four"}),
             _ind("S2", "客户满意度", "Client satisfaction",
                  {"type": "quantitative", "unit": "%", "thresholds": [60, 70, 80, 90]}),
             _ind("S3", "驻场人员管理", "On-site staff", {"type": "rubric", "scale": "four"},
                  applies=["comprehensive", "outsourcing"]),
         ]},
    ],
    "models": [
        {"id": "comprehensive", "name": {"zh": "综合能力评价", "en": "comprehensive"},
         "capabilities": ["G", "P", "S"], "judgements": [[1, 2, 2], ["1/2", 1, 1], ["1/2", 1, 1]],
         "rule": {"bands": {1: 0, 2: 40, 3: 55, 4: 70, 5: 85}, "staged": True}},
        {"id": "innovation", "name": {"zh": "创新能力评价", "en": "innovation"},
         "capabilities": ["P", "S"], "include": ["P1", "S1", "S2"], "judgements": [[1, 1], [1, 1]],
         "rule": {"bands": {1: 0, 2: 30, 3: 50, 4: 70, 5: 90}, "staged": False}},
    ],
}


def mini() -> dict:
    return copy.deepcopy(MINI)


def write(tmp_path, doc, name="mini.yaml") -> str:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(p)


def indicator(doc, code):
    for cap in doc["capabilities"]:
        for el in cap.get("elements", [cap]):
            for ind in el.get("indicators", []):
                if ind["code"] == code:
                    return ind
    raise KeyError(code)


def entries(steps: dict, *, no_evidence=(), values: dict | None = None) -> pd.DataFrame:
    """Score rows: ``steps`` indicator → step, ``values`` indicator → value; evidence for all but ``no_evidence``."""
    rows = []
    for code in sorted(set(steps) | set(values or {})):
        rows.append({
            "indicator": code,
            "step": steps.get(code),
            "value": (values or {}).get(code),
            "evidence_ref": None if code in no_evidence else f"DOC-{code}",
            "reviewer": "张三",
            "date": "2024-06-30",
            "comment": None,
        })
    return pd.DataFrame(rows)
