"""hiergenre 0.4's ``--target-accuracy`` rule, kept as the baseline the guarantee is measured against.

0.4 picked the smallest minimum confidence (:class:`~hiergenre.cascade.decoding.ConfidenceDecoder`)
whose hierarchical accuracy on validation scores reached the target: the empirical quantile, which
falls short of the target on new clips (``benchmarks/guarantee.py``: 85.1% for a target of 0.9 with
the LMFCC default tree). ``--target-accuracy`` now sets a split-conformal climb instead
(:mod:`hiergenre.cascade.conformal`); this module serves the benchmark's comparison. Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from hiergenre.cascade.decoding import ConfidenceDecoder
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import InvalidValue

#: Thresholds :func:`choose_min_confidence` tries, lowest (most specific) first.
CANDIDATES = tuple(np.round(np.arange(0.0, 1.0001, 0.01), 2))


@dataclass(frozen=True)
class TargetChoice:
    """The threshold chosen for a target hierarchical accuracy, and what it gave on the validation clips."""

    target: float
    min_confidence: float
    accuracy: float
    leaf_share: float
    clips: int
    reached: bool

    def as_dict(self) -> dict[str, float | int | bool]:
        """JSON-friendly form."""
        return asdict(self)


def choose_min_confidence(tree: GenreTree, leaves: np.ndarray, genres: Sequence[str], target: float) -> TargetChoice:
    """The smallest minimum confidence whose hierarchical accuracy on these clips is at least ``target``.

    ``leaves`` is ``(n_clips, n_leaves)`` in ``tree.leaves`` order. When no candidate reaches the
    target (possible only when even stopping near the root errs), the highest candidate is
    returned with ``reached`` False.
    """
    if not 0.0 < target <= 1.0:
        raise InvalidValue(f"--target-accuracy must be above 0 and at most 1, got {target}")
    if not len(genres):
        raise InvalidValue("no validation clip to choose a threshold on (the split has none): use --min-confidence")
    correct, leaf, probabilities = confident_paths(tree, leaves, genres)
    outcome = None
    rows = np.arange(len(genres))
    for candidate in CANDIDATES:
        depth = (probabilities >= candidate).sum(axis=1)  # probabilities shrink down a path: a prefix
        accuracy, share = float(correct[rows, depth].mean()), float(leaf[rows, depth].mean())
        outcome = TargetChoice(target, float(candidate), accuracy, share, len(genres), accuracy >= target)
        if outcome.reached:
            break
    assert outcome is not None
    return outcome


def confident_paths(
    tree: GenreTree, leaves: np.ndarray, genres: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each clip's most-probable-child path from the root, as arrays over its depth ``d`` (0 = root).

    Returns ``correct[clip, d]`` (the true genre lies below the path's node at depth d),
    ``leaf[clip, d]`` (that node is a genre) and ``probabilities[clip, d - 1]`` (the node's
    probability, -1 past the path's end). Stopping at threshold P ends at depth
    ``(probabilities >= P).sum(axis=1)``: the walk of :class:`~hiergenre.cascade.decoding.ConfidenceDecoder`.
    """
    paths = ConfidenceDecoder(0.0).paths(tree, leaves)
    depth = max(len(path) for path, _ in paths)
    correct = np.zeros((len(paths), depth), dtype=bool)
    leaf = np.zeros((len(paths), depth), dtype=bool)
    probabilities = np.full((len(paths), depth - 1), -1.0)
    for row, ((path, p), genre) in enumerate(zip(paths, genres, strict=True)):
        for d in range(depth):
            node = path[min(d, len(path) - 1)]
            correct[row, d], leaf[row, d] = tree.covers(node, genre), tree.is_leaf(node)
        probabilities[row, : len(p)] = p
    return correct, leaf, probabilities
