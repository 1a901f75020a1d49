"""A split-conformal threshold for stopping early with a stated guarantee (groundwork for issue 32).

Climbing (Goren, Galil & El-Yaniv, NeurIPS 2024, hierarchical selective classification): start at
the most probable genre and climb towards the root until a node's probability (the sum of its
genres') reaches ``theta``; predict that node. The prediction is hierarchically right when the
node contains the true genre. Node probabilities grow towards the root, so for each clip there is
one number, its *score*: the probability of the last node on the climb that does NOT contain the
true genre (0 when the most probable genre is the true one). The climb is right exactly when
``score < theta``.

Split conformal: with the scores of ``n`` calibration clips exchangeable with a new clip, taking
``theta`` just above the ``ceil((n + 1) A)``-th smallest score makes the new clip's climb right with
probability at least ``A`` (marginally: on average over calibration sets and new clips), and,
scores being continuous, at most ``A + 1 / (n + 1)``. That needs ``ceil((n + 1) A) <= n``: at least
:func:`minimum_calibration_clips` clips (9 for 0.9, 19 for 0.95). Nothing here is wired into
``--target-accuracy`` yet: issue 32 does that on honest calibration clips.
"""

from __future__ import annotations

import math

import numpy as np

from hiergenre.cascade.decoding import node_probabilities
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import InvalidValue

#: Slack for ``(n + 1) * A`` computed in floating point (0.9 * 10 is 9.000000000000002).
_ROUNDING = 1e-9


def climb_paths(tree: GenreTree, leaves: np.ndarray) -> tuple[list[list[int]], list[str], np.ndarray]:
    """Each clip's climb, most probable genre first, as node columns; the node names; node probabilities.

    ``leaves`` is ``(n_clips, n_leaves)`` in ``tree.leaves`` order. Returns the paths (column
    indices into ``nodes``, from the genre up to the root), ``nodes`` and ``(n_clips, n_nodes)``.
    """
    nodes, probabilities = node_probabilities(tree, leaves)
    column = {node: j for j, node in enumerate(nodes)}
    starts = np.asarray(leaves).argmax(axis=1)
    upward = {leaf: [column[n] for n in reversed(tree.path_to(leaf))] for leaf in tree.leaves}
    return [upward[tree.leaves[s]] for s in starts], nodes, probabilities


def climb(tree: GenreTree, leaves: np.ndarray, theta: float) -> list[str]:
    """Where each clip's climb stops: the first node, from its most probable genre up, reaching ``theta``."""
    paths, nodes, probabilities = climb_paths(tree, leaves)
    return [nodes[next((j for j in path if probabilities[i, j] >= theta), path[-1])] for i, path in enumerate(paths)]


def climb_scores(tree: GenreTree, leaves: np.ndarray, true: list[str]) -> np.ndarray:
    """Each clip's score ``(n_clips,)``: the climb is hierarchically right exactly when ``score < theta``."""
    paths, nodes, probabilities = climb_paths(tree, leaves)
    scores = np.zeros(len(paths))
    for i, path in enumerate(paths):
        below = [j for j in path if not tree.covers(nodes[j], true[i])]
        scores[i] = probabilities[i, below[-1]] if below else 0.0
    return scores


def minimum_calibration_clips(target: float) -> int:
    """The fewest calibration clips for which a split-conformal threshold reaches ``target``: ``ceil(A / (1 - A))``."""
    check_target(target)
    n = 1
    while math.ceil((n + 1) * target - _ROUNDING) > n:
        n += 1
    return n


def conformal_threshold(scores: np.ndarray, target: float) -> float:
    """The threshold whose climb is hierarchically right with probability >= ``target`` on clips like these.

    Just above the ``ceil((n + 1) * target)``-th smallest calibration score; refused, with the
    number needed, when there are too few clips for that.
    """
    check_target(target)
    scores = np.sort(np.asarray(scores, dtype=float))
    rank = math.ceil((len(scores) + 1) * target - _ROUNDING)
    if rank > len(scores):
        raise InvalidValue(
            f"a target accuracy of {target} needs at least {minimum_calibration_clips(target)} calibration clips, "
            f"found {len(scores)}"
        )
    return float(np.nextafter(scores[rank - 1], np.inf))


def check_target(target: float) -> None:
    """Refuse a target outside (0, 1) with one line."""
    if not 0 < target < 1:
        raise InvalidValue(f"a target accuracy is between 0 and 1 (exclusive), got {target}")
