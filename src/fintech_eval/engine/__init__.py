"""The composite-indicator engine: a spec in, every stage's data set out, reproducible and re-runnable.

Modules, bottom up (no module imports one above it): ``tree`` (the aggregation tree), ``output`` (the
:class:`StageOutput` every stage returns), ``coinr`` (COINr's iData/iMeta reader), ``sources`` (where the
inputs come from: COINr files, frames, the database), ``checks`` (checking steps from the registries'
declarations), ``stages`` (the stage registry and the stage
functions), ``spec`` (the spec and its checks), ``result`` (the result, saved and loaded side by side) and
``pipeline`` (:func:`evaluate`, :func:`regen`, :func:`evaluate_many`).

Names are resolved lazily so that :mod:`fintech_eval.methods` can use ``engine.tree`` and ``engine.output``
without importing the pipeline (which imports the methods).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "Tree": ".tree",
    "StageOutput": ".output",
    "CoinInput": ".coinr",
    "read_coinr": ".coinr",
    "Inputs": ".sources",
    "SOURCES": ".sources",
    "STAGES": ".stages",
    "Spec": ".spec",
    "load_spec": ".spec",
    "check_spec": ".spec",
    "Result": ".result",
    "load_result": ".result",
    "evaluate": ".pipeline",
    "regen": ".pipeline",
    "evaluate_many": ".pipeline",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
