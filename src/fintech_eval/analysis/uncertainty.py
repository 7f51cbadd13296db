"""Uncertainty analysis: how far each unit's rank and score move over the plausible choices of method.

``uncertainty_analysis(result, ["weights=0.25", "normalise.method=minmax,zscore"], n=100, seed=1)`` checks the
assumptions (:mod:`.assumptions`), draws ``n`` replications (plain Monte Carlo as COINr, or a Latin
hypercube or scrambled Sobol design: ``design``), runs them through the engine (:mod:`.variants`) and returns
per unit the nominal rank and score with the mean, median and the 5-95 % interval over the replications,
and per replication the sampled assumptions and diagnostics (mean absolute rank shift, Spearman's rho with
the nominal ranking). Quantiles are R's default (type 7, linear), as COINr's ``RankStats``.

Saisana, Saltelli & Tarantola (2005), Uncertainty and sensitivity analysis techniques as tools for the
quality assessment of composite indicators, JRSS A 168(2), doi:10.1111/j.1467-985X.2005.00350.x.
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
from .variants import run_variants

DESIGNS = ("random", "lhs", "sobol")


def design_matrix(n: int, d: int, design: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` × ``d`` points in [0, 1)^d: ``random`` (COINr's plain Monte Carlo), ``lhs`` (Latin hypercube) or
    ``sobol`` (scrambled Sobol sequence; best with n a power of 2)."""
    if design == "random":
        return rng.random((n, d))
    from scipy.stats import qmc

    if design == "lhs":
        return qmc.LatinHypercube(d=d, seed=rng).random(n)
    if design == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "balance properties … n a power of 2"
            return qmc.Sobol(d=d, scramble=True, seed=rng).random(n)
    raise SpecError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}", rule="uncertainty.design", parameter="design")


def seeds(seed: int | None) -> tuple[np.random.Generator, np.random.Generator]:
    """(generator for the assumptions' pools, generator for the design), both from ``seed``."""
    a, b = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


def default_target(result) -> list[str]:
    return [result.tree.codes(result.tree.n_levels)[0]]


@dataclass
class UncertaintyResult:
    """Replications of one result under its uncertain assumptions; frames from :meth:`rank_stats`,
    :meth:`replications`, :meth:`rank_intervals`; :meth:`save` writes them to a folder."""

    units: pd.Index
    targets: list[str]
    nominal_scores: np.ndarray  # units × targets
    nominal_ranks: np.ndarray
    scores: np.ndarray  # replications × units × targets
    ranks: np.ndarray
    samples: pd.DataFrame  # replication → each assumption's sampled value
    assumptions: list[dict[str, Any]]
    n: int
    seed: int | None
    design: str
    errors: dict[int, str] = field(default_factory=dict)
    names: pd.Series | None = None
    seconds: float = 0.0
    level: float = 0.9
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # drawn pools (weight sets) by assumption

    @property
    def q(self) -> tuple[float, float]:
        lo = (1 - self.level) / 2
        return lo, 1 - lo

    def rank_stats(self, target: str | None = None) -> pd.DataFrame:
        """Per unit (and target): nominal, mean, median, q5 and q95 rank (COINr's ``RankStats``), then the
        same for the score; failed replications left out."""
        rows = []
        lo, hi = self.q
        for j, t in enumerate(self.targets if target is None else [target]):
            j = self.targets.index(t)
            r, s = self.ranks[:, :, j], self.scores[:, :, j]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN units
                df = pd.DataFrame({
                    "uCode": self.units.astype(str), "target": t,
                    "Nominal": self.nominal_ranks[:, j], "Mean": np.nanmean(r, 0), "Median": np.nanmedian(r, 0),
                    "Q5": np.nanquantile(r, lo, axis=0), "Q95": np.nanquantile(r, hi, axis=0),
                    "ScoreNominal": self.nominal_scores[:, j], "ScoreMean": np.nanmean(s, 0), "ScoreMedian": np.nanmedian(s, 0),
                    "ScoreQ5": np.nanquantile(s, lo, axis=0), "ScoreQ95": np.nanquantile(s, hi, axis=0),
                })
            if self.level != 0.9:
                df = df.rename(columns={"Q5": f"Q{lo * 100:g}", "Q95": f"Q{hi * 100:g}",
                                        "ScoreQ5": f"ScoreQ{lo * 100:g}", "ScoreQ95": f"ScoreQ{hi * 100:g}"})
            rows.append(df)
        return pd.concat(rows, ignore_index=True)

    def replications(self) -> pd.DataFrame:
        """Per replication: the sampled assumptions, then diagnostics against the nominal ranking of the first
        target (mean and largest absolute rank shift, Spearman's rho) and the error of a failed one."""
        r, nom = self.ranks[:, :, 0], self.nominal_ranks[:, 0]
        shift = np.abs(r - nom)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean_shift, max_shift = np.nanmean(shift, 1), np.nanmax(shift, 1)
        rho = [_spearman(r[i], nom) for i in range(len(r))]
        out = self.samples.copy()
        out.insert(0, "replication", np.arange(1, len(out) + 1))
        out["mean_abs_rank_shift"] = mean_shift
        out["max_abs_rank_shift"] = max_shift
        out["spearman_vs_nominal"] = rho
        out["error"] = [self.errors.get(i, "") for i in range(len(out))]
        return out

    def rank_intervals(self) -> pd.DataFrame:
        """Per unit, for the reports: rank, the interval of plausible ranks (its quantile ends rounded outwards
        to whole ranks) and the sentence to print ("rank 12; 90 % of plausible choices put it between 9 and 17")."""
        st = self.rank_stats(self.targets[0])
        lo_c, hi_c = [c for c in st.columns if c.startswith("Q") and c not in ("Q5", "Q95")] or ["Q5", "Q95"]
        lo, hi = np.floor(st[lo_c].to_numpy()), np.ceil(st[hi_c].to_numpy())
        names = self.names.reindex(self.units).astype(str).to_numpy() if self.names is not None else st["uCode"].to_numpy()
        pct = f"{self.level * 100:g} %"
        text = [
            f"rank {int(r)}; {pct} of plausible choices put it between {int(a)} and {int(b)}" if np.isfinite([r, a, b]).all() else ""
            for r, a, b in zip(st["Nominal"], lo, hi, strict=True)
        ]
        return pd.DataFrame({
            "uCode": st["uCode"], "name": names, "target": st["target"], "rank": st["Nominal"],
            "rank_low": lo, "rank_high": hi, "rank_median": st["Median"], "level": self.level, "text": text,
        })

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n, "seed": self.seed, "design": self.design, "targets": self.targets, "level": self.level,
            "assumptions": self.assumptions, "failed": len(self.errors), "seconds": round(self.seconds, 4),
        }

    def save(self, out: str | Path, *, plots: bool = True) -> list[Path]:
        """Write ``rank_stats.csv``, ``rank_intervals.csv``, ``replications.csv``, ``weights_sets.csv`` (the
        drawn weight sets a replication's number refers to), ``ranks.parquet`` and
        ``scores.parquet`` (long: replication, uCode, target, value), ``uncertainty.json`` and, with
        ``plots``, ``rank_intervals.png``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "rank_stats.csv": self.rank_stats(), "rank_intervals.csv": self.rank_intervals(), "replications.csv": self.replications(),
        }
        written = []
        for name, df in files.items():
            df.to_csv(out / name, index=False)
            written.append(out / name)
        for name, table in self.tables.items():
            p = out / f"{_slug(name)}_sets.csv"
            table.to_csv(p)
            written.append(p)
        for name, arr in (("ranks.parquet", self.ranks), ("scores.parquet", self.scores)):
            _long(arr, self.units, self.targets).to_parquet(out / name, index=False)
            written.append(out / name)
        (out / "uncertainty.json").write_text(json.dumps(self.summary(), indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        written.append(out / "uncertainty.json")
        if plots:
            written.append(plot_rank_intervals(self.rank_intervals(), out / "rank_intervals.png"))
        return written


def load_rank_intervals(result_dir: str | Path) -> pd.DataFrame | None:
    """The rank intervals an ``analyse`` of a result folder wrote beside it (``RESULT/analysis/
    rank_intervals.csv``), indexed by uCode; None when no uncertainty analysis was run. For the reports."""
    p = Path(result_dir) / "analysis" / "rank_intervals.csv"
    if not p.is_file():
        return None
    return pd.read_csv(p, dtype={"uCode": str}).set_index("uCode")


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def _long(arr: np.ndarray, units: pd.Index, targets: list[str]) -> pd.DataFrame:
    v, u, t = np.meshgrid(np.arange(arr.shape[0]), np.arange(arr.shape[1]), np.arange(arr.shape[2]), indexing="ij")
    return pd.DataFrame({
        "replication": v.ravel() + 1, "uCode": np.asarray(units.astype(str))[u.ravel()],
        "target": np.asarray(targets, dtype=object)[t.ravel()], "value": arr.ravel(),
    })


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 3:
        return float("nan")
    ra, rb = pd.Series(a[ok]).rank().to_numpy(), pd.Series(b[ok]).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def plot_rank_intervals(intervals: pd.DataFrame, path: Path) -> Path:
    """COINr's ``plot_uncertainty``: units by nominal rank, median rank with the interval as a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = intervals.sort_values("rank")
    fig, ax = plt.subplots(figsize=(max(6, 0.18 * len(d)), 4.5))
    x = np.arange(len(d))
    ax.vlines(x, d["rank_low"], d["rank_high"], color="#4c72b0", lw=3, alpha=0.6, label=f"{d['level'].iloc[0] * 100:g} % interval")
    ax.plot(x, d["rank_median"], "o", color="#4c72b0", ms=3, label="median")
    ax.plot(x, d["rank"], "_", color="#c44e52", ms=8, mew=2, label="nominal")
    ax.set_xticks(x, d["uCode"], rotation=90, fontsize=6)
    ax.invert_yaxis()
    ax.set_ylabel("rank")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def uncertainty_analysis(
    result,
    assumptions: Sequence[str | Mapping[str, Any]] | Assumptions | None = None,
    *,
    n: int | None = None,
    seed: int | None = None,
    design: str | None = None,
    target: Sequence[str] | str | None = None,
    level: float | None = None,
    workers: int | None = None,
    on_error: str = "raise",
    progress: Callable[[int], None] | None = None,
) -> UncertaintyResult:
    """Run the uncertainty analysis (module doc). ``target``: the nodes whose ranks are summarised (default
    the index); ``level``: the central interval (0.9 = 5-95 %); ``on_error="skip"`` leaves failed
    replications out (listed in :meth:`UncertaintyResult.replications`). Without ``assumptions``, those of the
    spec's ``uncertainty:`` section (:mod:`.section`); ``n``, ``seed``, ``design`` and ``level`` not given come
    from the section's ``replications``, ``seed``, ``design``, ``level``, else 100, None, random, 0.9."""
    from .section import declarations, settings

    s = settings(result.spec.uncertainty, replications=n, seed=seed, design=design, level=level)
    n, seed, design, level = s["replications"], s["seed"], s["design"], s["level"]
    if assumptions is None:
        assumptions = declarations(result.spec)
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise SpecError(f"n must be an integer >= 2, got {n!r}", rule="uncertainty.n", parameter="n")
    if not 0 < level < 1:
        raise SpecError(f"level must be within (0, 1), got {level!r}", rule="uncertainty.level", parameter="level")
    if design not in DESIGNS:
        raise SpecError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}", rule="uncertainty.design", parameter="design")
    targets = [target] if isinstance(target, str) else list(target or default_target(result))
    unknown = [t for t in targets if t not in result.final.columns]
    if unknown:
        raise SpecError(f"target(s) not in the result: {', '.join(unknown)}", rule="uncertainty.target", parameter="target")
    t0 = time.perf_counter()
    a = assumptions if isinstance(assumptions, Assumptions) else resolve(result, assumptions, n=n, seed=seed)
    _, rng = seeds(seed)
    u = design_matrix(n, len(a.factors), design, rng)
    changes = [a.changes(row) for row in u]
    v = run_variants(result, changes, target=targets, workers=workers, on_error=on_error, progress=progress)
    nominal = result.final[targets].to_numpy(dtype=float, na_value=np.nan)
    from .variants import ranks_of

    samples = pd.DataFrame([a.labels(row) for row in u])
    return UncertaintyResult(
        units=result.final.index, targets=targets, nominal_scores=nominal, nominal_ranks=ranks_of(nominal[None])[0],
        scores=v.scores, ranks=v.ranks, samples=samples, assumptions=a.describe(), n=n, seed=seed, design=design,
        errors=v.errors, names=result.names, seconds=time.perf_counter() - t0, level=level, tables=a.tables(),
    )
