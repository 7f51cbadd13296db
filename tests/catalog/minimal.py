"""A small valid framework (as a dict) that tests mutate into malformed ones."""

import copy

import yaml

BASE = {
    "id": "mini",
    "version": "1",
    "title": {"zh": "测试框架", "en": "Test framework"},
    "issuer": {"zh": "测试", "en": "Test"},
    "parameters": [{"name": "w_p", "default": 0.5, "min": 0, "max": 1, "description": {"zh": "权重", "en": "weight"}}],
    "variables": [
        {"name": "staff", "unit": "person", "type": "count", "help": {"zh": "员工", "en": "staff"}},
        {"name": "it_staff", "unit": "person", "type": "count", "help": {"zh": "科技人员", "en": "IT staff"}, "part_of": "staff"},
        {"name": "r_amount", "unit": "CNY 10k", "type": "money", "help": {"zh": "区域金额", "en": "region amount"}, "entity": "region"},
    ],
    "blocks": [
        {
            "code": "J", "name": {"zh": "机构指标", "en": "Institution"}, "entity": "institution",
            "children": [
                {
                    "code": "J-A1", "name": {"zh": "一级", "en": "L1"},
                    "children": [
                        {
                            "code": "J-A1B1", "name": {"zh": "二级", "en": "L2"},
                            "indicators": [
                                {
                                    "code": "J-A1B1-C1", "name": {"zh": "科技人员占比", "en": "IT staff share"},
                                    "definition": {"zh": "科技人员除以员工", "en": "IT staff / staff"},
                                    "unit": "%", "type": "ratio", "collection": ["S", "A"],
                                    "formula": "it_staff / staff",
                                },
                                {
                                    "code": "J-A1B1-C2", "name": {"zh": "加权", "en": "weighted"},
                                    "definition": {"zh": "加权", "en": "weighted"}, "unit": "%", "type": "ratio",
                                    "collection": ["S"], "direction": -1, "sectors": ["bank", "insurance"],
                                    "variants": [
                                        {"sectors": ["bank"], "definition": {"zh": "银行", "en": "banks"}, "formula": "w_p * it_staff"},
                                        {"sectors": ["insurance"], "definition": {"zh": "保险", "en": "insurers"}, "formula": "staff"},
                                    ],
                                },
                            ],
                        }
                    ],
                }
            ],
        },
        {
            "code": "H", "name": {"zh": "行业指标", "en": "Industry"}, "entity": "industry",
            "children": [
                {
                    "code": "H-A1", "name": {"zh": "一级", "en": "L1"},
                    "children": [
                        {
                            "code": "H-A1B1", "name": {"zh": "二级", "en": "L2"},
                            "indicators": [
                                {
                                    "code": "H-A1B1-C1", "name": {"zh": "行业均值", "en": "mean"},
                                    "definition": {"zh": "均值", "en": "mean"}, "unit": "%", "type": "ratio",
                                    "collection": ["S"], "rollup": {"method": "mean", "of": "J-A1B1-C1"},
                                }
                            ],
                        }
                    ],
                }
            ],
        },
    ],
}


def base() -> dict:
    return copy.deepcopy(BASE)


def write(tmp_path, doc, name="fw.yaml") -> str:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(p)


def indicator(doc, code):
    for b in doc["blocks"]:
        for a in b.get("children", []):
            for g in a.get("children", []):
                for i in g.get("indicators", []):
                    if i["code"] == code:
                        return i
    raise KeyError(code)
