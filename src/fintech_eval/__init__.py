"""fintech-eval: China's FinTech evaluations end to end.

    import fintech_eval as fe
    fw = fe.load_framework("jrt0201-2020")
    fw.indicator("J-A3B2-C6").variants
    result = fe.evaluate("examples/asem-pipeline-c.yaml")   # COINr's pipeline C, number for number
    result.scores                                           # uCode, indicators, aggregates
"""

from ._version import __version__
from .catalog import Framework, Indicator, list_frameworks, load_framework
from .engine.coinr import read_coinr
from .engine.pipeline import evaluate, evaluate_many, regen
from .engine.result import Result, load_result
from .engine.spec import Spec, load_spec
from .engine.stages import STAGES
from .engine.tree import Tree
from .errors import (
    DataError,
    FintechEvalError,
    FormulaError,
    FrameworkError,
    MethodError,
    SpecError,
)

__all__ = [
    "STAGES",
    "Result",
    "Spec",
    "Tree",
    "evaluate",
    "evaluate_many",
    "regen",
    "load_result",
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
