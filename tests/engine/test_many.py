"""evaluate_many: each variant's targets are the ones a regen of that variant gives (scores and ranks)."""

from pathlib import Path

import numpy as np
import pytest

import fintech_eval as fe
from fintech_eval.errors import SpecError
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
