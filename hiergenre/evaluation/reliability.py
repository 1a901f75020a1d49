"""How well a model's probabilities are calibrated: per model, per tree level and per decision node.

``evaluate`` asks this module, for every model, before and after calibration (the models' raw
clip probabilities, and the same through each node's temperature):

- ``model``: the probability the model gives its own genre (the route's genre under the routing
  policy) against whether that genre is right, plus the Brier score and log loss of its whole
  distribution over the genres;
- ``levels``: at each depth of the reference tree, the distribution summed up to that depth
  (a genre shallower than the depth is its own node there), top probability against the true node;
- ``nodes``: each decision node's own distribution over its children, on the clips whose genre
  lies below it.

The measures are :func:`hiergenre.cascade.calibration_error.calibration_metrics`. Pure numpy; no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hiergenre.cascade.calibration_error import calibration_metrics
from hiergenre.cascade.cascade import ClipScores
from hiergenre.cascade.decoding import node_probabilities
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route


def route_metrics(tree: GenreTree, true: Sequence[str], routes: Sequence[Route], *, samples: bool) -> dict[str, Any]:
    """Calibration of the genre each route chose (its probability in the route's distribution)."""
    labels = np.array([tree.leaves.index(g) for g in true], dtype=int)
    chosen = np.array([tree.leaves.index(r.genre) for r in routes], dtype=int)
    return calibration_metrics(distributions(tree, routes), labels, chosen=chosen, samples=samples)


def distributions(tree: GenreTree, routes: Sequence[Route]) -> np.ndarray:
    """``(n_clips, n_leaves)``: each route's distribution over ``tree.leaves``."""
    return np.array([[(r.distribution or {r.genre: 1.0}).get(g, 0.0) for g in tree.leaves] for r in routes])


def level_metrics(
    reference: GenreTree, true: Sequence[str], leaves: np.ndarray, *, samples: bool = False
) -> dict[str, dict[str, Any]]:
    """Per depth of ``reference``: calibration of the distribution summed up to that depth.

    ``leaves`` is ``(n_clips, n_leaves)`` in ``reference.leaves`` order.
    """
    nodes, probabilities = node_probabilities(reference, leaves)
    column = {node: j for j, node in enumerate(nodes)}
    out = {}
    for level in range(1, max(reference.depth(g) for g in reference.leaves) + 1):
        members = sorted({at_level(reference, leaf, level) for leaf in reference.leaves}, key=nodes.index)
        proba = probabilities[:, [column[n] for n in members]]
        labels = [members.index(at_level(reference, g, level)) for g in true]
        out[str(level)] = calibration_metrics(proba, np.array(labels, dtype=int), samples=samples)
    return out


def at_level(tree: GenreTree, genre: str, level: int) -> str:
    """The ancestor of ``genre`` at depth ``level`` (the genre itself when it is shallower)."""
    path = tree.path_to(genre)
    return path[min(level, len(path) - 1)]


def node_metrics(tree: GenreTree, true: Sequence[str], scores: ClipScores) -> dict[str, dict[str, Any]]:
    """Per decision node: its own distribution on the clips whose genre lies below it."""
    out = {}
    for node, proba in scores.nodes.items():
        rows = [i for i, g in enumerate(true) if tree.child_towards(node, g) is not None]
        if not rows:
            continue
        labels = np.array([tree.children(node).index(tree.child_towards(node, true[i])) for i in rows], dtype=int)
        out[node] = calibration_metrics(proba[rows], labels)
    return out


def model_calibration(
    reference: GenreTree,
    tree: GenreTree,
    true: Sequence[str],
    before: tuple[ClipScores, Sequence[Route]],
    after: tuple[ClipScores, Sequence[Route]],
    temperatures: dict[str, float],
    *,
    samples: bool = False,
) -> dict[str, Any]:
    """Every calibration measure of one model, before and after calibration.

    ``before`` and ``after`` are the raw and calibrated clip scores with the routes made from them;
    per-level numbers need the model's genres to be the reference tree's.
    """
    out: dict[str, Any] = {"temperatures": temperatures}
    for name, (scores, routes) in (("before", before), ("after", after)):
        entry: dict[str, Any] = {
            "model": route_metrics(tree, true, routes, samples=samples),
            "nodes": node_metrics(tree, true, scores),
        }
        if set(tree.leaves) == set(reference.leaves):
            entry["levels"] = level_metrics(reference, true, distributions(reference, routes), samples=samples)
        out[name] = entry
    return out
