"""Collection: questionnaire templates, readers of returns and public data, unit conversion, validation.

    import fintech_eval as fe
    from fintech_eval import collect

    fw = fe.load_framework("jrt0201-2020")
    collect.write_template(fw, {"id": "B001", "name_zh": "某银行", "sector": "bank", "region_code": "11"},
                           "2024", "out/")
    res = collect.import_files(["out/questionnaire_B001_2024.xlsx"], fw, institutions=inst)
    res.ok, res.clean, res.problems

Storage (all-or-nothing imports, audit) is :mod:`fintech_eval.store`; derivation of indicators is
:mod:`fintech_eval.derive`. This package only reads, converts and checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..catalog.models import Framework
from .readers import (
    ReadResult,
    parse_cell,
    read_csv,
    read_file,
    read_files,
    read_json,
    read_long_csv,
    read_questionnaire,
    read_wide_csv,
)
from .template import TEMPLATE_VERSION, fill_template, template_checksum, write_template, write_templates
from .texts import file_name_problems, frame_text_problems
from .units import UnitError, conversion_factor, convert, parse_unit
from .validate import (
    CLEAN_COLUMNS,
    LONG_COLUMNS,
    CollectProblem,
    applicable_variables,
    carry_over_pairs,
    errors_in,
    previous_period,
    validate,
    variable_feeds,
)

#: every rule this package reports: rule -> (severity, what it means)
RULES: dict[str, tuple[str, str]] = {
    # files and encodings (readers)
    "file.missing": ("error", "the file does not exist"),
    "file.empty": ("error", "the file is empty (0 bytes or only white space)"),
    "file.no_data": ("error", "a header and no rows / no records"),
    "file.format": ("error", "not the format its name says (e.g. a legacy .xls)"),
    "file.truncated": ("error", "an .xlsx whose zip is cut short or damaged"),
    "file.too_large": ("error", "a workbook that unpacks to more MB or declares more cells than the limit "
                       "($FINTECH_EVAL_MAX_WORKBOOK_MB, $FINTECH_EVAL_MAX_WORKBOOK_CELLS)"),
    "file.name": ("error", "a file name or extension longer than the database keeps, or with control characters"),
    "encoding.invalid": ("error", "bytes that decode neither as UTF-8 nor as GB18030/GBK Chinese text (detected per "
                         "file); give the file's encoding with --encoding NAME (e.g. --encoding big5)"),
    "encoding.mojibake": ("error", "text that is Chinese already decoded with the wrong encoding once"),
    "csv.truncated": ("error", "the last line stops mid-record, or a quote is never closed"),
    "csv.ragged": ("error", "a row with more or fewer fields than the header"),
    "csv.missing_column": ("error", "a required column (entity, period, variable, value) is missing"),
    "csv.accept_reason_wide": ("error", "an accept_reason column in a wide table (a row holds many values: give them "
                               "in a long table, or use --accept-unit)"),
    "csv.duplicate_column": ("error", "a column appears twice in the header"),
    "csv.invalid": ("error", "the CSV does not parse"),
    "json.truncated": ("error", "the JSON document ends early"),
    "json.invalid": ("error", "the JSON does not parse"),
    "json.structure": ("error", "not a list of records or {entity, period, values}"),
    "json.duplicate_key": ("error", "a record gives the same key twice (the last would win silently)"),
    # texts (every text field, the same on SQLite and PostgreSQL)
    "text.too_long": ("error", "a text longer than its database column (limits declared in store/models.py)"),
    "text.control_character": ("error", "NUL or a terminal control character (ESC, BEL, backspace, line "
                               "separator, vertical tab, form feed…) in a text"),
    # cells (readers)
    "cell.not_number": ("error", "text where a number is expected ('abc', '1,23')"),
    "cell.formula_injection": ("error", "text starting with = + - @ that is not a number"),
    "cell.formula": ("error", "a formula in a questionnaire value cell (not evaluated)"),
    "cell.excel_error": ("error", "an Excel error value (#DIV/0!, #N/A, ...)"),
    "cell.unit_conflict": ("error", "a cell written as 12% or 是 while the unit column says another unit"),
    "cell.merged": ("error", "a questionnaire answer cell merged with other cells"),
    # workbooks (readers)
    "workbook.hidden": ("error", "a hidden or very hidden sheet, or hidden answer rows or columns"),
    "workbook.unprotected": ("error", "the questionnaire's structure or sheet protection was removed"),
    # questionnaire workbooks (readers)
    "template.foreign": ("error", "not a fintech-eval questionnaire (no metadata sheet) nor a table"),
    "template.version": ("error", "a template version this reader does not understand"),
    "template.sheet_missing": ("error", "the questionnaire sheet was renamed or replaced"),
    "template.tampered": ("error", "variable codes or units differ from the template's checksum"),
    "template.framework_mismatch": ("error", "made from another framework id@version"),
    "template.outdated": ("error", "the framework now asks other variables of the sector"),
    "template.entity_mismatch": ("error", "the identification block names another institution"),
    "template.period_mismatch": ("error", "the identification block gives another period"),
    "template.no_values": ("warning", "no value cell is filled in"),
    "entity.mismatch": ("error", "the questionnaire is for another institution than the import expects"),
    "period.mismatch": ("error", "the questionnaire is for another period than the import expects"),
    # validation
    "variable.unknown": ("error", "not a variable of the framework (with the closest name)"),
    "variable.not_applicable": ("error", "the variable is not asked of the institution's sector"),
    "entity.kind": ("error", "entity kind unknown, or not the kind the variable is measured on"),
    "entity.unknown": ("error", "institution not in the register (also when it is empty: register first, or "
                       "import --register FILE) / not a province / not a sector"),
    "period.invalid": ("error", "not 2024, 2024Q1 or 2024-03"),
    "unit.unknown": ("error", "a unit not in the registry"),
    "unit.incompatible": ("error", "a unit of another kind than the declared one"),
    "value.not_finite": ("error", "an infinite value"),
    "type.not_whole": ("error", "a count or level that is not a whole number"),
    "type.binary": ("error", "a yes/no variable that is neither 0 nor 1"),
    "range.negative": ("error", "a negative count, amount or time"),
    "range.min": ("error", "below the variable's min"),
    "range.max": ("error", "above the variable's max"),
    "range.level": ("error", "a level outside its scale (1..5, 1..6)"),
    "range.share": ("error", "a share outside [0, 1]"),
    "duplicate": ("error", "same entity, period and variable more than once (every row named)"),
    "value.blank_mandatory": ("error", "a value left blank that the framework asks of the institution's sector "
                              "(one problem per institution and period, listing the variables)"),
    "unit.factor": ("error", "a value 10,000× or 100,000,000× (or that fraction of) the institution's previous-period "
                    "value or registered size: a unit slip (元/万元/亿元); accept with --accept-unit and a reason, or "
                    "with a reason in the return's accept_reason (接受理由) column"),
    "unit.accept_unused": ("warning", "an accept_reason beside a value no unit-factor check stopped: it accepts nothing"),
    "part_of.exceeds": ("error", "a part larger than its whole, same entity and period"),
    "turnover.inconsistent": ("error", "X_prev_end differs from the previous period's X"),
    "outlier": ("warning", "robust z-score above 5 within variable, sector and period: kept, flagged"),
    # public bank file
    "public.conflict": ("warning", "a CONFLICT note, or one bank-year-item given more than once"),
    "public.ratio_mismatch": ("warning", "a disclosed ratio that the recomputed one does not match within rounding"),
    "public.uncertain": ("warning", "a value the file marks UNCERTAIN"),
    "public.unknown_bank": ("warning", "a bank not in the institutions table (not imported)"),
    # template writing (raised as DataError)
    "template.entity": ("error", "write_template: the entity lacks id/name/sector or has a bad sector/region"),
    "template.empty": ("error", "write_template: no variable applies to the sector"),
}


@dataclass
class ImportResult:
    """Read and validated data of one import: ``ok`` is False when any problem is an error."""

    clean: pd.DataFrame
    problems: list[CollectProblem] = field(default_factory=list)
    files: list[ReadResult] = field(default_factory=list)

    @property
    def errors(self) -> list[CollectProblem]:
        return errors_in(self.problems)

    @property
    def warnings(self) -> list[CollectProblem]:
        return [p for p in self.problems if getattr(p, "severity", "error") == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> pd.DataFrame:
        """One row per problem (severity, rule, message, file, sheet, row, column, ...)."""
        return pd.DataFrame([p.as_dict() for p in self.problems])


def import_files(
    paths: Iterable[str | Path],
    framework: Framework,
    institutions: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    stored: Any = None,
    outlier_threshold: float = 5.0,
    *,
    mandatory: str = "applicable",
    optional: Iterable[str] = (),
    unit_checks: Any = None,
    **read_kw: Any,
) -> ImportResult:
    """Read every file, validate everything together, and report every problem of every file.
    ``stored``: the database's values, for the checks across stored data; ``outlier_threshold`` (``math.inf``:
    no outlier judged among the files), ``mandatory``, ``optional``, ``unit_checks``: see :func:`validate`."""
    paths = list(paths)
    results = [read_file(p, framework=framework, **read_kw) for p in paths]
    frames = [r.frame for r in results if len(r.frame)]
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LONG_COLUMNS)
    tprobs, bad_text = frame_text_problems(long)  # rows with an over-long text or a control character
    if bad_text.any():
        long = long[~bad_text].reset_index(drop=True)
    clean, vprobs = validate(long, framework, institutions, previous, stored=stored, outlier_threshold=outlier_threshold,
                             mandatory=mandatory, optional=optional, unit_checks=unit_checks)
    tprobs = file_name_problems(paths) + tprobs
    return ImportResult(clean, [p for r in results for p in r.problems] + tprobs + vprobs, results)


__all__ = [
    "RULES",
    "CLEAN_COLUMNS",
    "LONG_COLUMNS",
    "TEMPLATE_VERSION",
    "CollectProblem",
    "ImportResult",
    "ReadResult",
    "UnitError",
    "applicable_variables",
    "carry_over_pairs",
    "conversion_factor",
    "convert",
    "errors_in",
    "import_files",
    "parse_cell",
    "parse_unit",
    "previous_period",
    "read_csv",
    "read_file",
    "read_files",
    "read_json",
    "read_long_csv",
    "read_questionnaire",
    "read_wide_csv",
    "template_checksum",
    "validate",
    "variable_feeds",
    "fill_template",
    "write_template",
    "write_templates",
]
