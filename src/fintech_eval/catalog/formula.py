"""Indicator formulas as data: parsed once, checked, evaluated vectorised, never ``eval``-ed.

The grammar is a small subset of Python expressions:

* numbers, names (raw variables or framework parameters), parentheses;
* ``+ - * / **``, unary ``-``; comparisons ``< <= > >= == !=`` (1.0 / 0.0), ``and``, ``or``, ``not``;
* ``a if cond else b``;
* functions ``min(a, b, ...)``, ``max(...)``, ``abs(x)``, ``log(x)``, ``sqrt(x)``.

Evaluation works on scalars, numpy arrays or pandas Series alike. Missing inputs (NaN) stay missing,
and a division by zero gives NaN rather than ``inf``: an indicator whose denominator is zero is
undefined, not infinite.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np

from ..errors import FormulaError


def _safe_div(a: Any, b: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.true_divide(a, b)
    return np.where(np.isfinite(out), out, np.nan) if np.ndim(out) else (out if np.isfinite(out) else np.nan)


def _safe_log(a: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(a)
    return np.where(np.isfinite(out), out, np.nan) if np.ndim(out) else (out if np.isfinite(out) else np.nan)


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _safe_div,
    ast.Pow: np.power,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCS: dict[str, tuple[int, int | None, Callable[..., Any]]] = {
    # name: (min args, max args or None, implementation)
    "min": (2, None, lambda *a: reduce(np.minimum, a)),
    "max": (2, None, lambda *a: reduce(np.maximum, a)),
    "abs": (1, 1, np.abs),
    "log": (1, 1, _safe_log),
    "sqrt": (1, 1, np.sqrt),
}


def _as_float(x: Any) -> Any:
    """Booleans from comparisons become 1.0 / 0.0, keeping NaN where an operand was NaN."""
    return np.asarray(x, dtype=float) if np.ndim(x) else float(x)


def _nan_mask(*args: Any) -> Any:
    return reduce(np.logical_or, [np.isnan(np.asarray(a, dtype=float)) for a in args])


@dataclass(frozen=True)
class Formula:
    """A parsed formula. ``names`` are the variables and parameters it reads."""

    text: str
    tree: ast.Expression = field(repr=False, compare=False)
    names: frozenset[str] = frozenset()

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate over ``env`` (name → scalar / array / Series). Missing names raise KeyError."""
        return _Evaluator(env).visit(self.tree.body)

    def __str__(self) -> str:
        return self.text


class _Evaluator(ast.NodeVisitor):
    def __init__(self, env: Mapping[str, Any]):
        self.env = env

    def generic_visit(self, node: ast.AST) -> Any:  # pragma: no cover - parse() rejects these
        raise FormulaError(f"unsupported syntax {type(node).__name__}")

    def visit_Constant(self, node: ast.Constant) -> Any:
        return float(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        v = self.env[node.id]
        return np.asarray(v, dtype=float) if np.ndim(v) else float(v)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        return _BINOPS[type(node.op)](self.visit(node.left), self.visit(node.right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        v = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        return np.where(np.isnan(v), np.nan, _as_float(v == 0))  # not

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        result: Any = True
        nan = np.isnan(np.asarray(left, dtype=float))
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comp)
            nan = np.logical_or(nan, np.isnan(np.asarray(right, dtype=float)))
            result = np.logical_and(result, _CMPOPS[type(op)](left, right))
            left = right
        return np.where(nan, np.nan, _as_float(result))

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        vals = [self.visit(v) for v in node.values]
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = _as_float(reduce(fn, [np.asarray(v) != 0 for v in vals]))
        return np.where(_nan_mask(*vals), np.nan, out)

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        cond = self.visit(node.test)
        a, b = self.visit(node.body), self.visit(node.orelse)
        out = np.where(np.asarray(cond) != 0, a, b)
        return np.where(np.isnan(np.asarray(cond, dtype=float)), np.nan, out)

    def visit_Call(self, node: ast.Call) -> Any:
        _, _, fn = _FUNCS[node.func.id]  # type: ignore[attr-defined]
        return fn(*[self.visit(a) for a in node.args])


_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp,
    ast.IfExp, ast.Call, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, *_BINOPS, *_CMPOPS,
)


def parse(text: str, *, known: set[str] | None = None, where: dict[str, Any] | None = None) -> Formula:
    """Parse ``text``; with ``known``, every name must be in it. Errors name the formula and the rule."""
    where = dict(where or {})
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("formula is empty", rule="formula.empty", **where)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"formula {text!r} does not parse: {exc.msg}", **where) from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise FormulaError(f"formula {text!r}: {type(node).__name__} is not allowed", **where)
        if isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, int | float)
        ):
            raise FormulaError(f"formula {text!r}: only numeric constants are allowed", **where)
        if isinstance(node, ast.Call):
            fname = getattr(node.func, "id", None)
            if fname not in _FUNCS or node.keywords:
                raise FormulaError(
                    f"formula {text!r}: unknown function {fname or ast.unparse(node.func)!r}; "
                    f"allowed: {', '.join(sorted(_FUNCS))}",
                    **where,
                )
            lo, hi, _ = _FUNCS[fname]
            if len(node.args) < lo or (hi is not None and len(node.args) > hi):
                raise FormulaError(f"formula {text!r}: {fname}() takes {lo}..{hi or 'n'} arguments", **where)
        if isinstance(node, ast.Name) and not (isinstance(getattr(node, "ctx", None), ast.Load)):
            raise FormulaError(f"formula {text!r}: bad name use", **where)  # pragma: no cover
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not _is_func_name(tree, node):
            names.add(node.id)
    if known is not None:
        unknown = sorted(names - known)
        if unknown:
            raise FormulaError(
                f"formula {text!r} uses unknown variable(s) {', '.join(unknown)}", **where
            )
    return Formula(text.strip(), tree, frozenset(names))


def _is_func_name(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))
