"""FinTech service-capability rating of technology vendors (金融科技服务能力评价, 2023).

    from fintech_eval.capability import load_capability_framework, rate_both, render_html
    fw = load_capability_framework()                 # fcsc-2023-default: our default model, not the official list
    ratings = rate_both(fw, Vendor("V001", "product"), scores)   # comprehensive and innovation, same evidence
    ratings["comprehensive"].level, ratings["comprehensive"].explanation["en"]
    html = render_html(ratings, lang="en")

The framework is data (``capability/data/*.yaml``); any file in the same format loads by path, so the
official indicator list can replace the default the day it is available.
"""

from .loader import DEFAULT_FRAMEWORK, load_capability_framework, load_file, shipped_files, validate_file
from .models import CapabilityFramework, ModelTree, Requirement
from .rating import (
    ImprovementPlan,
    Note,
    PlanItem,
    Rating,
    Vendor,
    explain,
    min_step_plan,
    rate_both,
    rate_vendor,
    read_entries,
)
from .report import render_html, write_html
from .workbook import WorkbookEntries, read_workbook, template_indicators, write_workbook

__all__ = [
    "DEFAULT_FRAMEWORK",
    "CapabilityFramework",
    "ImprovementPlan",
    "ModelTree",
    "Note",
    "PlanItem",
    "Rating",
    "Requirement",
    "Vendor",
    "WorkbookEntries",
    "explain",
    "load_capability_framework",
    "load_file",
    "min_step_plan",
    "rate_both",
    "rate_vendor",
    "read_entries",
    "read_workbook",
    "render_html",
    "shipped_files",
    "template_indicators",
    "validate_file",
    "write_html",
    "write_workbook",
]
