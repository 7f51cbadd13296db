"""fintech-eval: China's FinTech evaluations end to end.

    import fintech_eval as fe
    fw = fe.load_framework("jrt0201-2020")
    fw.indicator("J-A3B2-C6").variants
    result = fe.evaluate("examples/asem-pipeline-c.yaml")   # COINr's pipeline C, number for number
    result.scores                                           # uCode, indicators, aggregates

The public names are imported on first use (PEP 562), so that ``import fintech_eval`` and the CLI's start-up
do not pay for pandas, the catalog or the engine until a command needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__
from .errors import (
    DataError,
    FintechEvalError,
    FormulaError,
    FrameworkError,
    MethodError,
    SpecError,
)

_LAZY = {
    "Framework": ".catalog",
    "Indicator": ".catalog",
    "list_frameworks": ".catalog",
    "load_framework": ".catalog",
    "read_coinr": ".engine.coinr",
    "evaluate": ".engine.pipeline",
    "evaluate_many": ".engine.pipeline",
    "regen": ".engine.pipeline",
    "Result": ".engine.result",
    "load_result": ".engine.result",
    "Spec": ".engine.spec",
    "load_spec": ".engine.spec",
    "STAGES": ".engine.stages",
    "Tree": ".engine.tree",
}

if TYPE_CHECKING:
    from .catalog import Framework, Indicator, list_frameworks, load_framework
    from .engine.coinr import read_coinr
    from .engine.pipeline import evaluate, evaluate_many, regen
    from .engine.result import Result, load_result
    from .engine.spec import Spec, load_spec
    from .engine.stages import STAGES
    from .engine.tree import Tree


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

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
