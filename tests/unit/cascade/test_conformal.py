"""The split-conformal climbing threshold: right exactly below the score, and right at least A of the time."""

from __future__ import annotations

import numpy as np
import pytest

from hiergenre.cascade.conformal import (
    climb,
    climb_scores,
    compact_nodes,
    conformal_threshold,
    genre_sets,
    minimum_calibration_clips,
    set_scores,
)
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import InvalidValue
from tests.commands import ROOT

TREE = GenreTree.from_file(ROOT / "hierarchies" / "default.yaml")


def overconfident_clips(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Leaf probabilities sharper than the truth they are drawn from (what an optimistic model gives)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, len(TREE.leaves))) * 2.5
    truth = np.exp(logits / 3)
    truth /= truth.sum(axis=1, keepdims=True)
    said = np.exp(logits)
    said /= said.sum(axis=1, keepdims=True)
    labels = [TREE.leaves[rng.choice(len(TREE.leaves), p=p)] for p in truth]
    return said, labels


def test_a_climb_is_hierarchically_right_exactly_when_its_score_is_below_the_threshold():
    leaves, labels = overconfident_clips(300, seed=1)
    scores = climb_scores(TREE, leaves, labels)
    for theta in (0.3, 0.6, 0.9, 0.99):
        right = [TREE.covers(node, label) for node, label in zip(climb(TREE, leaves, theta), labels, strict=True)]
        assert right == list(scores < theta)
    assert climb(TREE, leaves, 0.0) == [TREE.leaves[i] for i in leaves.argmax(axis=1)]
    assert set(climb(TREE, leaves, 1.0 + 1e-9)) == {"root"}


@pytest.mark.parametrize("target", [0.8, 0.9, 0.95])
def test_the_threshold_keeps_its_promise_on_average_over_calibration_draws(target):
    leaves, labels = overconfident_clips(20000, seed=2)
    scores = climb_scores(TREE, leaves, labels)
    assert np.mean(scores < 0.5) < 0.8  # the model's own probabilities promise more than they keep
    rng = np.random.default_rng(3)
    n_calibration = 40
    achieved = []
    for _ in range(1000):
        order = rng.permutation(len(scores))
        theta = conformal_threshold(scores[order[:n_calibration]], target)
        achieved.append(np.mean(scores[order[n_calibration : n_calibration + 500]] < theta))
    mean, spread = float(np.mean(achieved)), float(np.std(achieved) / np.sqrt(len(achieved)))
    assert target - 3 * spread <= mean <= target + 1 / (n_calibration + 1) + 3 * spread


def test_sets_name_groups_whole_and_contain_the_truth_at_least_a_of_the_time():
    assert compact_nodes(TREE, {"metal", "rock", "jazz"}) == ["jazz", "heavy"]
    assert compact_nodes(TREE, set(TREE.leaves)) == ["root"]
    leaves, labels = overconfident_clips(20000, seed=4)
    scores = set_scores(TREE, leaves, labels)
    top = np.array([TREE.leaves[i] for i in leaves.argmax(axis=1)]) == np.array(labels)
    sets = genre_sets(TREE, leaves[:300], 0.8)
    inside = [any(TREE.covers(n, label) for n in nodes) for nodes, label in zip(sets, labels[:300], strict=True)]
    assert inside == list((scores[:300] < 0.8) | top[:300])  # the truth is in exactly then (the top genre always is)
    rng = np.random.default_rng(5)
    achieved = []
    for _ in range(1000):
        order = rng.permutation(len(scores))
        theta = conformal_threshold(scores[order[:40]], 0.9)
        test = order[40:540]
        achieved.append(np.mean((scores[test] < theta) | top[test]))
    assert np.mean(achieved) >= 0.9 - 3 * np.std(achieved) / np.sqrt(len(achieved))


def test_too_few_calibration_clips_are_refused_with_the_number_needed():
    assert [minimum_calibration_clips(a) for a in (0.5, 0.8, 0.9, 0.95)] == [1, 4, 9, 19]
    conformal_threshold(np.linspace(0, 1, 19), 0.95)
    with pytest.raises(InvalidValue, match="needs at least 19 calibration clips, found 18"):
        conformal_threshold(np.linspace(0, 1, 18), 0.95)
    with pytest.raises(InvalidValue, match="between 0 and 1"):
        conformal_threshold(np.linspace(0, 1, 18), 1.0)
