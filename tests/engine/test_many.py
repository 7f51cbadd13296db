"""evaluate_many: each variant's targets are the ones a regen of that variant gives (scores and ranks)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fintech_eval as fe
from fintech_eval.errors import MethodError, SpecError
from fintech_eval.methods import rank
from fintech_eval.methods.rank import min_ranks

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def asem():
    return fe.evaluate(EXAMPLES / "asem-pipeline-c.yaml")


def test_variants_match_regen(asem):
    nodes = asem.tree.codes(2)
    rng = np.random.default_rng(3)
    variants = [{"aggregate.weights": {c: float(w) for c, w in zip(nodes, rng.uniform(0.5, 1.5, len(nodes)), strict=True)}} for _ in range(3)]
    variants.append({"normalise.method": "zscore", "normalise.range": None})
    targets = ["Index", *asem.tree.codes(3)]
    scores = fe.evaluate_many(asem, variants, target=targets)
    ranks = fe.evaluate_many(asem, variants, target=targets, what="rank")
    assert scores.shape == ranks.shape == (len(variants), len(asem.final), len(targets))
    for k, v in enumerate(variants):
        final = asem.regen(v).final[targets]
        np.testing.assert_array_equal(scores[k], final.to_numpy(float))
        np.testing.assert_array_equal(ranks[k], rank(final).to_numpy(dtype=float, na_value=np.nan))
    assert not np.array_equal(scores[0], scores[1])


def test_ranks_keep_ties_and_missing():
    x = np.array([[3.0, 1.0], [5.0, np.nan], [5.0, 2.0], [np.nan, 2.0], [1.0, 0.5]])
    expected = np.array([[3, 3], [1, np.nan], [1, 1], [np.nan, 1], [4, 4]], dtype=float)
    np.testing.assert_array_equal(min_ranks(x), expected)


def test_unknown_target_is_named(asem):
    with pytest.raises(SpecError, match="Nope"):
        fe.evaluate_many(asem, [{"aggregate.dat_thresh": 0.5}], target="Nope")


def _alone(result, variants, targets, what):
    """Each variant run alone (a regen of its own spec), as evaluate_many did before it batched."""
    from fintech_eval.engine.pipeline import _run_variant

    return np.stack([_run_variant(result, result.spec.with_changes(v), targets, what) for v in variants])


def test_weight_variants_run_together_give_each_variant_its_own_bits(asem, monkeypatch):
    """Variants differing only in the aggregation's weights run as one stacked aggregation: every value is
    the one the variant gets alone, to the last bit (equal-weight rows, arithmetic and geometric means,
    a data threshold, weights of every level), ranks included."""
    from fintech_eval.engine import pipeline

    nodes = list(asem.tree.meta["code"])
    rng = np.random.default_rng(5)
    variants = []
    for i in range(24):
        w = {c: float(x) for c, x in zip(nodes, rng.uniform(0.5, 1.5, len(nodes)), strict=True)}
        if i % 3 == 0:
            w = {c: 3.0 for c in nodes[: len(nodes) // 2]}  # equal weights within some nodes: Σ x / count
        v = {"aggregate.weights": w}
        if i % 2:
            v.update({"aggregate.method": "gmean", "aggregate.params": {"zero_policy": "shift"}})
        variants.append(v)
    variants.append({"aggregate.dat_thresh": 0.95})  # alone in its batch: run alone
    calls = []
    real = pipeline._run_weight_batch
    monkeypatch.setattr(pipeline, "_run_weight_batch", lambda *a: calls.append(len(a[2])) or real(*a))
    targets = list(asem.final.columns)
    for what in ("score", "rank"):
        got = fe.evaluate_many(asem, variants, target=targets, what=what, workers=1)
        want = _alone(asem, variants, targets, what)
        assert got.shape == want.shape
        assert np.array_equal(got.view(np.int64), want.view(np.int64))  # bit for bit, NaN payloads too
    assert sorted(calls) == [12, 12, 12, 12]  # two batches (amean, gmean) per call


def test_weight_batches_keep_not_applicable_cells_out():
    from tests.engine.test_contract import TREE, UNITS

    data = pd.DataFrame({"yes": np.linspace(0, 1, 10), "x": np.arange(10.0), "y": np.arange(10.0)[::-1] ** 2}, index=UNITS)
    na = pd.DataFrame(False, index=UNITS, columns=list(data.columns))
    na.loc[UNITS[5:], "y"] = True
    na.loc["B0", ["yes", "x", "y"]] = True  # nothing applicable: the node is not applicable
    frames = {"data": data, "tree": TREE, "groups": pd.DataFrame(index=UNITS), "not_applicable": na}
    r = fe.evaluate({"data": {"source": "frame"}, "steps": [{"normalise": {}}, {"aggregate": {"dat_thresh": 0.6}}]}, frames=frames)
    variants = [{"aggregate.weights": {"yes": a, "x": b, "y": 1.0}} for a, b in [(1, 2), (2, 1), (0.3, 0.7), (1, 1)]]
    got = fe.evaluate_many(r, variants, target="P")
    want = _alone(r, variants, "P", "score")
    assert np.array_equal(got, want, equal_nan=True) and np.isnan(got[:, 0]).all()


def test_a_failing_variant_in_a_batch_is_named_as_when_run_alone(asem):
    """Geometric means meet the zeros of 0-100 min-max: the batch cannot run, each variant runs alone and
    the error names the node and the units as a lone run does."""
    nodes = asem.tree.codes(2)
    variants = [{"aggregate.method": "gmean", "aggregate.weights": {nodes[0]: w}} for w in (0.5, 2.0)]
    with pytest.raises(MethodError) as batch:
        fe.evaluate_many(asem, variants, workers=1)
    with pytest.raises(MethodError) as alone:
        asem.regen(variants[0])
    assert str(batch.value) == str(alone.value) and "units" in str(batch.value)


def test_stacked_chunks_and_one_variant_at_a_time_agree(asem):
    """aggregate_many stacks variants in chunks of max_cells values (one at a time for large data sets):
    the chunking changes no bit."""
    from fintech_eval.methods.aggregate import aggregate_many

    st = asem.states[-1]
    nodes = list(asem.tree.meta["code"])
    rng = np.random.default_rng(9)
    ws = [{c: float(x) for c, x in zip(nodes, rng.uniform(0.5, 1.5, len(nodes)), strict=True)} for _ in range(7)] + [None]
    cols, stacked = aggregate_many(st.data, st.tree, ws, not_applicable=st.not_applicable)
    cols1, alone = aggregate_many(st.data, st.tree, ws, not_applicable=st.not_applicable, max_cells=1)
    assert cols == cols1 and np.array_equal(stacked.view(np.int64), alone.view(np.int64))
    np.testing.assert_array_equal(stacked[-1], asem.final[cols].to_numpy(float))  # no weights: the nominal result
