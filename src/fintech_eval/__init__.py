"""fintech-eval: China's FinTech evaluations end to end.

    import fintech_eval as fe
    fw = fe.load_framework("jrt0201-2020")
    fw.indicator("J-A3B2-C6").variants
    result = fe.evaluate("examples/asem-pipeline-c.yaml")   # COINr's pipeline C, number for number
    result.scores                                           # uCode, indicators, aggregates
"""

from .catalog import Framework, Indicator, list_frameworks, load_framework
from .coinr import read_coinr
from .errors import (
    DataError,
    FintechEvalError,
    FormulaError,
    FrameworkError,
    MethodError,
    SpecError,
)
from .pipeline import STAGES, evaluate
from .result import Result
from .spec import Spec, load_spec
from .tree import Tree

__version__ = "0.1.0"

__all__ = [
    "STAGES",
    "Result",
    "Spec",
    "Tree",
    "evaluate",
    "load_spec",
    "read_coinr",
    "DataError",
    "FintechEvalError",
    "FormulaError",
    "Framework",
    "FrameworkError",
    "Indicator",
    "MethodError",
    "SpecError",
    "__version__",
    "list_frameworks",
    "load_framework",
]
