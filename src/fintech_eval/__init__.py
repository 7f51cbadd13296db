"""fintech-eval: China's FinTech evaluations end to end.

    import fintech_eval as fe
    fw = fe.load_framework("jrt0201-2020")
    fw.indicator("J-A3B2-C6").variants
"""

from .catalog import Framework, Indicator, list_frameworks, load_framework
from .errors import (
    DataError,
    FintechEvalError,
    FormulaError,
    FrameworkError,
    MethodError,
    SpecError,
)

__version__ = "0.1.0"

__all__ = [
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
