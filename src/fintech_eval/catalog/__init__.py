"""Indicator frameworks as validated data: models, YAML loading, extensions, version diffs."""

from .diff import diff_frameworks
from .loader import list_frameworks, load_extension, load_file, load_framework, shipped_files, validate_file
from .models import Framework, Heading, Indicator, Parameter, Rollup, Task, Text, Variable, Variant

__all__ = [
    "Framework", "Heading", "Indicator", "Parameter", "Rollup", "Task", "Text", "Variable", "Variant",
    "diff_frameworks", "list_frameworks", "load_extension", "load_file", "load_framework",
    "shipped_files", "validate_file",
]
