"""AHP (analytic hierarchy process): priority weights from pairwise judgement matrices, with Saaty's consistency check.

``ahp(matrix)`` → :class:`AHPResult` (weights, λmax, CI, RI, CR). The matrix must be square, positive and
reciprocal (``a_ji = 1/a_ij``; the lower triangle may be left NaN and is then filled in); an error names the
offending cell. ``CR = CI / RI`` with ``CI = (λmax - n)/(n - 1)``; ``CR >= 0.1`` raises
:class:`~fintech_eval.errors.InconsistentJudgementError` (its message states CR) unless
``allow_inconsistent=True``.

``ahp_tree(tree, {parent: matrix, ...})`` weights a whole tree, one matrix per parent node.

Random index RI (mean CI of random reciprocal matrices), Saaty, T.L. (1980) *The Analytic Hierarchy Process*,
McGraw-Hill, New York (table of random indices for n = 1..15): n = 1, 2: 0; 3: 0.58; 4: 0.90; 5: 1.12;
6: 1.24; 7: 1.32; 8: 1.41; 9: 1.45; 10: 1.49; 11: 1.51; 12: 1.48; 13: 1.56; 14: 1.57; 15: 1.59. Other
published tables differ for large n (e.g. Saaty 2000, or the values common in Chinese textbooks:
11: 1.52, 12: 1.54, 13: 1.56, 14: 1.58, 15: 1.59); pass ``ri=`` to use another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..engine.tree import Tree
from ..errors import DataError, InconsistentJudgementError, Problem, SpecError
from ..registry import Registry

AHP_METHODS = Registry("ahp")

RANDOM_INDEX: dict[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45,
    10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}
CR_THRESHOLD = 0.1


@dataclass(frozen=True)
class AHPResult:
    weights: pd.Series
    lambda_max: float
    ci: float
    ri: float
    cr: float
    matrix: pd.DataFrame = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def consistent(self) -> bool:
        return self.cr < CR_THRESHOLD

    def summary(self) -> str:
        return (f"n = {self.n}, λmax = {self.lambda_max:.4f}, CI = {self.ci:.4f}, RI = {self.ri:.2f}, "
                f"CR = {self.cr:.4f} ({'consistent' if self.consistent else 'INCONSISTENT'})")


def _where(node: str | None, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"step": "ahp"}
    if node is not None:
        out["node"] = node
    out.update(more)
    return out


def judgement_matrix(
    matrix: pd.DataFrame | Sequence[Sequence[float]] | np.ndarray,
    labels: Sequence[str] | None = None,
    reciprocal_tol: float = 0.01,
    node: str | None = None,
) -> pd.DataFrame:
    """Validated, completed judgement matrix: square, every entry finite and > 0, ``a_ij · a_ji = 1`` within
    ``reciprocal_tol`` (relative; so 0.333 for 1/3 passes). NaN cells whose mirror is given are filled with the
    reciprocal and a NaN diagonal with 1. Errors name the cell by its row and column labels."""
    if isinstance(matrix, pd.DataFrame):
        rows = [str(i) for i in matrix.index]
        cols = [str(c) for c in matrix.columns]
        if labels is not None and list(map(str, labels)) != rows:
            raise DataError("labels differ from the matrix's row labels", rule="ahp.labels", **_where(node))
        if rows != cols:
            raise DataError(f"matrix rows {rows} and columns {cols} must name the same criteria in the same order",
                            rule="ahp.labels", **_where(node))
        a = matrix.to_numpy(dtype=float, na_value=np.nan).copy()
        labels = rows
    else:
        a = np.array(matrix, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise DataError(f"judgement matrix must be square, got shape {a.shape}", rule="ahp.square", **_where(node))
    n = a.shape[0]
    labels = [str(x) for x in labels] if labels is not None else [f"c{i + 1}" for i in range(n)]
    if len(labels) != n or len(set(labels)) != n:
        raise DataError(f"need {n} distinct labels, got {labels}", rule="ahp.labels", **_where(node))
    diag = np.isnan(np.diag(a))
    a[np.diag_indices(n)] = np.where(diag, 1.0, np.diag(a))
    nan = np.isnan(a)
    fill = nan & ~nan.T
    a[fill] = 1.0 / a.T[fill]
    problems: list[Problem] = []
    for i in range(n):
        for j in range(n):
            v = a[i, j]
            cell = f"({labels[i]}, {labels[j]})"
            if np.isnan(v):
                problems.append(Problem("ahp.missing", f"cell {cell} and its mirror are both empty",
                                        _where(node, row=labels[i], column=labels[j])))
            elif not np.isfinite(v) or v <= 0:
                problems.append(Problem("ahp.positive", f"cell {cell} = {v} must be a positive number",
                                        _where(node, row=labels[i], column=labels[j])))
    if not problems:
        for i in range(n):
            if abs(a[i, i] - 1.0) > reciprocal_tol:
                problems.append(Problem("ahp.diagonal", f"diagonal cell ({labels[i]}, {labels[i]}) = {a[i, i]} must be 1",
                                        _where(node, row=labels[i], column=labels[i])))
            for j in range(i + 1, n):
                prod = a[i, j] * a[j, i]
                if abs(prod - 1.0) > reciprocal_tol:
                    problems.append(Problem(
                        "ahp.reciprocal",
                        f"cell ({labels[j]}, {labels[i]}) = {a[j, i]:g} is not the reciprocal of "
                        f"cell ({labels[i]}, {labels[j]}) = {a[i, j]:g} (expected {1 / a[i, j]:.6g})",
                        _where(node, row=labels[j], column=labels[i]),
                    ))
    if problems:
        raise DataError(problems)
    return pd.DataFrame(a, index=labels, columns=labels)


@AHP_METHODS.register("eigenvector", aliases=["eigen", "principal_eigenvector"])
def eigenvector_priorities(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Saaty's priority vector: the principal right eigenvector (Perron vector), normalised to sum 1; λmax its
    eigenvalue."""
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    v = np.abs(vecs[:, k].real)
    return v / v.sum(), float(vals[k].real)


@AHP_METHODS.register("geometric", aliases=["row_geometric_mean", "llsm"])
def geometric_priorities(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Row geometric means normalised (logarithmic least squares); λmax estimated as mean((A w)_i / w_i)."""
    g = np.exp(np.log(a).mean(axis=1))
    w = g / g.sum()
    return w, float(np.mean((a @ w) / w))


def random_index(n: int, ri: Mapping[int, float] | None = None) -> float:
    table = RANDOM_INDEX if ri is None else {**RANDOM_INDEX, **dict(ri)}
    if n not in table:
        raise SpecError(f"no random index RI for n = {n} criteria (table covers {min(table)}..{max(table)}); "
                        f"pass ri={{{n}: value}}", step="ahp", parameter="ri")
    return float(table[n])


def ahp(
    matrix: pd.DataFrame | Sequence[Sequence[float]] | np.ndarray,
    labels: Sequence[str] | None = None,
    allow_inconsistent: bool = False,
    method: str = "eigenvector",
    threshold: float = CR_THRESHOLD,
    ri: Mapping[int, float] | None = None,
    reciprocal_tol: float = 0.01,
    node: str | None = None,
) -> AHPResult:
    """Priority weights of a pairwise judgement matrix (1-9 scale) and Saaty's consistency check.

    Example (Wang & Chin 2011, Information Sciences 181(23):5240-5248) gives weights
    [0.3208, 0.1395, 0.0348, 0.1285, 0.2374, 0.1391], λmax = 7.4199, CR = 0.229 → inconsistent."""
    a = judgement_matrix(matrix, labels, reciprocal_tol=reciprocal_tol, node=node)
    n = a.shape[0]
    w, lam = AHP_METHODS.get(method)(a.to_numpy())
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri_n = random_index(n, ri)
    cr = ci / ri_n if ri_n > 0 else 0.0
    res = AHPResult(weights=pd.Series(w, index=a.index, name="weight"), lambda_max=lam, ci=ci, ri=ri_n, cr=cr,
                    matrix=a)
    if cr >= threshold and not allow_inconsistent:
        where = f" at node {node}" if node else ""
        raise InconsistentJudgementError(
            Problem(
                "ahp.consistency",
                f"AHP judgement matrix{where} is inconsistent: CR = {cr:.3f} >= {threshold} "
                f"(λmax = {lam:.4f}, CI = {ci:.3f}, RI({n}) = {ri_n}); revise the judgements or pass "
                f"allow_inconsistent=True",
                _where(node, cr=round(cr, 6), lambda_max=round(lam, 6)),
            )
        )
    return res


@dataclass(frozen=True)
class AHPTreeResult:
    weights: pd.Series  # every tree node: AHP weights for the children of the parents given, tree weights else
    results: dict[str, AHPResult]  # parent code → its AHP

    def tree(self, tree: Tree) -> Tree:
        return tree.with_weights(self.weights)


def ahp_tree(
    tree: Tree,
    matrices: Mapping[str, pd.DataFrame | tuple[Sequence[str], Sequence[Sequence[float]]]],
    allow_inconsistent: bool = False,
    method: str = "eigenvector",
    threshold: float = CR_THRESHOLD,
    ri: Mapping[int, float] | None = None,
) -> AHPTreeResult:
    """AHP weights for a whole tree: one judgement matrix per parent node, labelled by its children's codes (a
    DataFrame, or ``(labels, matrix)``). Every parent's children must all be covered. Inconsistent matrices are
    all reported together in one :class:`InconsistentJudgementError` (one problem per node, each with its CR)."""
    w = tree.weights.copy()
    results: dict[str, AHPResult] = {}
    incons: list[Problem] = []
    nodes = set(tree.meta["code"])
    for parent, m in matrices.items():
        if parent not in nodes:
            raise DataError(f"judgement matrix for unknown node {parent!r}", rule="ahp.node", step="ahp", node=parent)
        kids = tree.children(parent)
        if not kids:
            raise DataError(f"node {parent} is an indicator and has no children to weight", rule="ahp.node",
                            step="ahp", node=parent)
        if isinstance(m, pd.DataFrame):
            labels = [str(i) for i in m.index]
            mat: Any = m
        else:
            labels, mat = [str(x) for x in m[0]], m[1]
        if sorted(labels) != sorted(kids):
            raise DataError(
                f"judgement matrix for {parent} must compare exactly its children {kids}, got {labels}",
                rule="ahp.children", step="ahp", node=parent,
            )
        try:
            res = ahp(mat, labels=None if isinstance(mat, pd.DataFrame) else labels,
                      allow_inconsistent=allow_inconsistent, method=method, threshold=threshold, ri=ri, node=parent)
        except InconsistentJudgementError as e:
            incons.extend(e.problems)
            continue
        results[parent] = res
        w.loc[res.weights.index] = res.weights.to_numpy()
    if incons:
        raise InconsistentJudgementError(incons)
    return AHPTreeResult(weights=w.rename("weight"), results=results)
