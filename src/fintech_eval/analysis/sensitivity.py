"""Sensitivity analysis: which uncertain assumption moves the ranking, through SALib.

* :func:`sobol_indices` — first-order and total Sobol indices of any model ``X → Y`` with bootstrap
  percentile intervals: SALib's Saltelli sampling (``sample.sobol``, N(d+2) runs) and estimators (``analyze
  .sobol``: Si = E[yB (yAB_i − yA)] / V, Saltelli 2010; STi = E[(yA − yAB_i)²] / 2V, Jansen 1999), the same
  estimators COINr uses. Saltelli et al. (2010), Variance based sensitivity analysis of model output,
  Comput. Phys. Commun. 181(2), doi:10.1016/j.cpc.2009.09.018.
* :func:`morris_indices` — elementary effects (mu*, sigma) for screening many factors cheaply (Morris
  1991, doi:10.1080/00401706.1991.10484804; Campolongo et al. 2007).
* :func:`sensitivity` — both on a result: the factors are its uncertain assumptions (:mod:`.assumptions`,
  each mapped from [0, 1]), the outputs the mean absolute rank shift against the nominal ranking (COINr's
  output) and, optionally, chosen units' ranks. ``1 − Σ Si`` is reported as the share of variance no factor
  explains alone (interactions).

The tests check :func:`sobol_indices` against the Ishigami and Sobol G functions' analytic indices, so the
path an index's analysis takes is the one checked.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SpecError
from .assumptions import Assumptions, resolve
from .uncertainty import UncertaintyResult, default_target, seeds
from .variants import ranks_of, run_variants

METHODS = ("sobol", "morris")


def _outputs(y: np.ndarray) -> np.ndarray:
    return y[:, None] if y.ndim == 1 else y


def sobol_sample(problem: Mapping[str, Any], n: int, seed: int | None) -> np.ndarray:
    """SALib's Saltelli design without second-order terms: n(d + 2) rows."""
    from SALib.sample import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n not a power of 2: SALib warns, the estimates stay valid
        return sobol.sample(dict(problem), n, calc_second_order=False, seed=seed)


def sobol_analyse(
    problem: Mapping[str, Any], y: np.ndarray, *, nboot: int = 200, level: float = 0.9, seed: int | None = None,
    output_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Si and STi per factor and output (columns of ``y``), with bootstrap percentile intervals at ``level``
    (``Si_lo``/``Si_hi``; SALib's normal half-width as ``Si_conf``). An output that never changes has every
    index 0 (no variance to apportion)."""
    from SALib.analyze import sobol

    y = _outputs(np.asarray(y, dtype=float))
    names = list(problem["names"])
    outs = list(output_names or [f"Y{k + 1}" for k in range(y.shape[1])])
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    rows = []
    for k, out in enumerate(outs):
        yk = y[:, k]
        if np.isnan(yk).any():
            raise SpecError(f"output {out}: {int(np.isnan(yk).sum())} run(s) gave no value; Sobol indices need every run",
                            rule="sensitivity.missing", parameter=out)
        if np.ptp(yk) == 0:
            for name in names:
                rows.append({"output": out, "factor": name, **dict.fromkeys(
                    ["Si", "Si_conf", "Si_lo", "Si_hi", "STi", "STi_conf", "STi_lo", "STi_hi"], 0.0)})
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            s = sobol.analyze(dict(problem), yk, calc_second_order=False, num_resamples=nboot, conf_level=level,
                              keep_resamples=True, seed=seed)
        for j, name in enumerate(names):
            rows.append({
                "output": out, "factor": name,
                "Si": s["S1"][j], "Si_conf": s["S1_conf"][j],
                "Si_lo": np.nanpercentile(s["S1_conf_all"][:, j], lo), "Si_hi": np.nanpercentile(s["S1_conf_all"][:, j], hi),
                "STi": s["ST"][j], "STi_conf": s["ST_conf"][j],
                "STi_lo": np.nanpercentile(s["ST_conf_all"][:, j], lo), "STi_hi": np.nanpercentile(s["ST_conf_all"][:, j], hi),
            })
    return pd.DataFrame(rows)


def sobol_indices(
    problem: Mapping[str, Any], model: Callable[[np.ndarray], np.ndarray], n: int, *, seed: int | None = None,
    nboot: int = 200, level: float = 0.9, output_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sample, run ``model`` on the n(d + 2) rows, analyse (see :func:`sobol_analyse`). ``problem`` is SALib's
    (``names``, ``bounds``, ``num_vars``)."""
    x = sobol_sample(problem, n, seed)
    return sobol_analyse(problem, model(x), nboot=nboot, level=level, seed=seed, output_names=output_names)


def morris_sample(problem: Mapping[str, Any], n: int, seed: int | None, levels: int = 4) -> np.ndarray:
    from SALib.sample import morris

    return morris.sample(dict(problem), n, num_levels=levels, seed=seed)


def morris_analyse(problem: Mapping[str, Any], x: np.ndarray, y: np.ndarray, *, levels: int = 4, nboot: int = 200,
                   level: float = 0.9, seed: int | None = None, output_names: Sequence[str] | None = None) -> pd.DataFrame:
    """mu, mu* (with its bootstrap half-width) and sigma of the elementary effects per factor and output."""
    from SALib.analyze import morris

    y = _outputs(np.asarray(y, dtype=float))
    outs = list(output_names or [f"Y{k + 1}" for k in range(y.shape[1])])
    rows = []
    for k, out in enumerate(outs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            s = morris.analyze(dict(problem), x, y[:, k], num_resamples=nboot, conf_level=level, num_levels=levels, seed=seed)
        for j, name in enumerate(problem["names"]):
            rows.append({"output": out, "factor": name, "mu": s["mu"][j], "mu_star": s["mu_star"][j],
                         "mu_star_conf": s["mu_star_conf"][j], "sigma": s["sigma"][j]})
    return pd.DataFrame(rows)


def morris_indices(problem: Mapping[str, Any], model: Callable[[np.ndarray], np.ndarray], n: int, *, levels: int = 4,
                   seed: int | None = None, nboot: int = 200, level: float = 0.9,
                   output_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Morris screening of ``model`` with ``n`` trajectories (n(d + 1) runs)."""
    x = morris_sample(problem, n, seed, levels)
    return morris_analyse(problem, x, model(x), levels=levels, nboot=nboot, level=level, seed=seed, output_names=output_names)


# --- on a result ----------------------------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    """Indices per output and factor, the runs as an uncertainty analysis (COINr's SA rank statistics), and
    the share of variance no factor explains alone."""

    method: str
    indices: pd.DataFrame
    runs: UncertaintyResult
    outputs: pd.DataFrame  # run → each output's value
    n: int
    seed: int | None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def unexplained(self) -> pd.DataFrame:
        """Per output: 1 − Σ Si (Sobol only), the variance left to interactions between factors."""
        if self.method != "sobol":
            return pd.DataFrame(columns=["output", "unexplained"])
        g = self.indices.groupby("output", sort=False)["Si"].sum()
        return pd.DataFrame({"output": g.index, "sum_Si": g.to_numpy(), "unexplained": 1 - g.to_numpy()})

    def save(self, out: str | Path, *, plots: bool = True) -> list[Path]:
        """``sensitivity_indices.csv`` (or ``morris_indices.csv``), ``sensitivity_unexplained.csv``,
        ``sensitivity_runs.csv`` (every run's sampled assumptions and outputs), ``sensitivity_rank_stats.csv``,
        ``sensitivity.json``, and a plot per output."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        name = "sensitivity_indices.csv" if self.method == "sobol" else "morris_indices.csv"
        written = [out / name, out / "sensitivity_unexplained.csv", out / "sensitivity_runs.csv", out / "sensitivity_rank_stats.csv"]
        self.indices.to_csv(written[0], index=False)
        self.unexplained().to_csv(written[1], index=False)
        pd.concat([self.runs.samples, self.outputs], axis=1).to_csv(written[2], index_label="run")
        self.runs.rank_stats().to_csv(written[3], index=False)
        info = {"method": self.method, "n": self.n, "seed": self.seed, "runs": int(len(self.outputs)),
                "seconds": round(self.seconds, 4), "assumptions": self.runs.assumptions, **self.info}
        (out / "sensitivity.json").write_text(json.dumps(info, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        written.append(out / "sensitivity.json")
        if plots:
            written += plot_indices(self.indices, self.method, out)
        return written


def plot_indices(indices: pd.DataFrame, method: str, out: Path) -> list[Path]:
    """One bar chart per output: Si and STi with their intervals (Sobol), or mu* against sigma (Morris)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for k, (output, d) in enumerate(indices.groupby("output", sort=False)):
        fig, ax = plt.subplots(figsize=(max(4, 0.9 * len(d) + 2), 3.5))
        x = np.arange(len(d))
        if method == "sobol":
            for off, key, colour in ((-0.2, "Si", "#4c72b0"), (0.2, "STi", "#dd8452")):
                err = np.vstack([d[key] - d[f"{key}_lo"], d[f"{key}_hi"] - d[key]]).clip(min=0)
                ax.bar(x + off, d[key], 0.4, yerr=err, color=colour, label=key, capsize=2)
            ax.set_xticks(x, d["factor"], rotation=30, ha="right", fontsize=8)
            ax.axhline(0, color="grey", lw=0.5)
        else:
            ax.errorbar(d["mu_star"], d["sigma"], xerr=d["mu_star_conf"], fmt="o")
            for _, r in d.iterrows():
                ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=7)
            ax.set_xlabel("mu*")
            ax.set_ylabel("sigma")
        ax.set_title(f"{method}: {output}", fontsize=9)
        if method == "sobol":
            ax.legend(fontsize=7)
        fig.tight_layout()
        p = out / f"sensitivity_{k + 1}.png"
        fig.savefig(p, dpi=120)
        plt.close(fig)
        paths.append(p)
    return paths


def sensitivity_analysis(
    result,
    assumptions: Sequence[str | Mapping[str, Any]] | Assumptions,
    *,
    method: str = "sobol",
    n: int = 256,
    seed: int | None = None,
    entities: Sequence[str] = (),
    target: str | None = None,
    nboot: int = 200,
    level: float = 0.9,
    morris_levels: int = 4,
    workers: int | None = None,
    on_error: str = "raise",
    progress: Callable[[int], None] | None = None,
) -> SensitivityResult:
    """Sobol (``n`` base samples → n(d + 2) runs) or Morris (``n`` trajectories → n(d + 1) runs) indices of the
    result's uncertain assumptions on the mean absolute rank shift of ``target`` (default the index) and on
    each of ``entities``' rank."""
    if method not in METHODS:
        raise SpecError(f"sensitivity method must be one of {', '.join(METHODS)}, got {method!r}", rule="sensitivity.method", parameter="method")
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise SpecError(f"n must be an integer >= 2, got {n!r}", rule="sensitivity.n", parameter="n")
    tgt = target or default_target(result)[0]
    if tgt not in result.final.columns:
        raise SpecError(f"target {tgt!r} is not in the result", rule="sensitivity.target", parameter="target")
    units = [str(u) for u in result.final.index]
    missing = [e for e in entities if str(e) not in units]
    if missing:
        raise SpecError(f"entities not in the result: {', '.join(map(str, missing))}", rule="sensitivity.entity", parameter="entities")
    t0 = time.perf_counter()
    a = assumptions if isinstance(assumptions, Assumptions) else resolve(result, assumptions, n=n, seed=seed)
    d = len(a.factors)
    problem = {"num_vars": d, "names": a.names, "bounds": [[0.0, 1.0]] * d}
    _, rng = seeds(seed)
    sseed = int(rng.integers(2**31))
    x = sobol_sample(problem, n, sseed) if method == "sobol" else morris_sample(problem, n, sseed, morris_levels)
    x = np.clip(x, 0.0, np.nextafter(1.0, 0.0))
    v = run_variants(result, [a.changes(row) for row in x], target=[tgt], workers=workers, on_error=on_error, progress=progress)
    nominal = result.final[[tgt]].to_numpy(dtype=float, na_value=np.nan)
    nominal_ranks = ranks_of(nominal[None])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shift = np.nanmean(np.abs(v.ranks[:, :, 0] - nominal_ranks[:, 0]), axis=1)
    outputs = {"mean_abs_rank_shift": shift}
    for e in entities:
        outputs[f"rank:{e}"] = v.ranks[:, units.index(str(e)), 0]
    out_frame = pd.DataFrame(outputs)
    y = out_frame.to_numpy()
    if method == "sobol":
        idx = sobol_analyse(problem, y, nboot=nboot, level=level, seed=sseed, output_names=list(outputs))
    else:
        idx = morris_analyse(problem, x, y, levels=morris_levels, nboot=nboot, level=level, seed=sseed, output_names=list(outputs))
    runs = UncertaintyResult(
        units=result.final.index, targets=[tgt], nominal_scores=nominal, nominal_ranks=nominal_ranks, scores=v.scores,
        ranks=v.ranks, samples=pd.DataFrame([a.labels(row) for row in x]), assumptions=a.describe(), n=len(x), seed=seed,
        design=method, errors=v.errors, names=result.names, level=level,
    )
    return SensitivityResult(method, idx, runs, out_frame, n, seed, time.perf_counter() - t0,
                             {"target": tgt, "entities": list(entities), "nboot": nboot, "level": level})
