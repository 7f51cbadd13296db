"""Analysis of a result: robustness (uncertainty, sensitivity, leave-one-out), COINr's diagnostics tables,
peers and the improvement planner. Every function takes a :class:`fintech_eval.engine.Result` (re-run through
:func:`fintech_eval.engine.evaluate_many`) and returns frames; the CLI and the web call the same functions.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "ASSUMPTIONS": ".assumptions",
    "resolve_assumptions": (".assumptions", "resolve"),
    "uncertainty_analysis": ".uncertainty",
    "run_variants": ".variants",
    "sensitivity_analysis": ".sensitivity",
    "sobol_indices": ".sensitivity",
    "morris_indices": ".sensitivity",
    "SensitivityResult": ".sensitivity",
    "UncertaintyResult": ".uncertainty",
    "load_rank_intervals": ".uncertainty",
    "remove_elements": ".leave_one_out",
    "plan_improvement": ".planner",
    "marginal_gains": ".planner",
    "evaluate_source": ".source",
    "indicator_stats": ".diagnostics",
    "correlations": ".diagnostics",
    "corr_flags": ".diagnostics",
    "cronbach": ".diagnostics",
    "cronbach_by_group": ".diagnostics",
    "denominator_correlations": ".diagnostics",
    "data_availability": ".diagnostics",
    "strengths_weaknesses": ".diagnostics",
    "unit_summary": ".diagnostics",
    "write_diagnostics": ".diagnostics",
    "peer_ranks": ".peers",
    "size_bands": ".peers",
    "changes_over_time": ".peers",
    "compare_results": ".peers",
    "plan_progress": ".progress",
    "peer_table": ".peers",
    "compare_peers": ".peers",
    "load_periods": ".source",
    "section_declarations": (".section", "declarations"),
    "combine_assumptions": (".section", "combine"),
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
