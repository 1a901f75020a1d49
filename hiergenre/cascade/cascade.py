"""A genre tree with one window classifier per decision node: clips in, routes out.

The cascade only needs, at each node with two or more children, a classifier in scikit-learn's
terms (:mod:`hiergenre.cascade.classifiers`): ``classes_`` (the child names its outputs stand for)
and ``predict_proba``. Any fitted scikit-learn classifier qualifies as it is (fitted on flattened
windows, it gets flattened windows), so the routing logic is tested fast and without TensorFlow;
the node models of :mod:`hiergenre.models.nodes` implement the same two members over raw windows.

A clip arrives as a stack of LMFCC windows ``(n_windows, frames, n_mfcc)``. Each node scores the
windows of a whole batch of clips in one call and averages each clip's window probabilities into
one row of a ``(n_clips, n_children)`` matrix (:class:`ClipScores`). A model with a ``calibrate``
method (every :mod:`hiergenre.models.nodes` model: its temperature) then calibrates those clip rows
(:meth:`ClipScores.calibrated`, which the estimator uses too), and :mod:`hiergenre.cascade.routing`
turns the matrices into genres, exactly as it does for
:class:`~hiergenre.cascade.estimator.HierarchicalClassifier`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiergenre.cascade.calibration import calibrate
from hiergenre.cascade.classifiers import NodeClassifier, class_names, class_probabilities
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route, RoutingPolicy, get_policy, routes
from hiergenre.errors import HierGenreError

#: Clips scored per call of a node model: bounds memory on large evaluation sets.
CLIPS_PER_BATCH = 256


class Cascade:
    """A genre tree with one classifier per decision node (and optionally a flat one for ``blend``)."""

    def __init__(
        self,
        tree: GenreTree,
        classifiers: Mapping[str, NodeClassifier],
        *,
        flat: NodeClassifier | None = None,
        flat_weight: float = 0.5,
    ) -> None:
        self.tree = tree
        self.classifiers = dict(classifiers)
        self.flat = flat
        self.flat_weight = flat_weight
        self._check_classifiers()

    def _check_classifiers(self) -> None:
        missing = [n for n in self.tree.model_nodes if n not in self.classifiers]
        if missing:
            raise HierGenreError(f"tree {self.tree.name!r} has no model for node(s): {', '.join(missing)}")
        for node in self.tree.model_nodes:
            classes = class_names(self.classifiers[node])
            if sorted(classes) != sorted(self.tree.children(node)):
                raise HierGenreError(
                    f"model of node {node!r} predicts {classes}, but the tree's children are {self.tree.children(node)}"
                )
        if self.flat is not None and sorted(class_names(self.flat)) != sorted(self.tree.leaves):
            raise HierGenreError(f"the flat model predicts {class_names(self.flat)}, not the tree's genres")

    def node_probabilities(self, clips: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """For each decision node, ``(n_clips, n_children)``: each clip's window probabilities averaged (raw)."""
        return {
            node: clip_probabilities(self.classifiers[node], clips, self.tree.children(node), f"model of node {node!r}")
            for node in self.tree.model_nodes
        }

    def flat_probabilities(self, clips: Sequence[np.ndarray]) -> np.ndarray | None:
        """The flat model's raw ``(n_clips, n_leaves)`` in ``tree.leaves`` order, or None without one."""
        if self.flat is None:
            return None
        return clip_probabilities(self.flat, clips, self.tree.leaves, "the flat model")

    def scores(self, clips: Sequence[np.ndarray], policy: str | RoutingPolicy = "greedy") -> ClipScores:
        """Raw node (and, when ``policy`` uses it, flat) probabilities of clips, scored in batches."""
        chosen = get_policy(policy)
        batches = [clips[start : start + CLIPS_PER_BATCH] for start in range(0, len(clips), CLIPS_PER_BATCH)]
        parts = [self.node_probabilities(batch) for batch in batches]
        nodes = {node: np.concatenate([p[node] for p in parts]) for node in self.tree.model_nodes}
        flat = None
        if chosen.uses_flat and self.flat is not None:
            flat = np.concatenate([self.flat_probabilities(batch) for batch in batches])
        return ClipScores(nodes, flat)

    def calibrated(self, scores: ClipScores) -> ClipScores:
        """``scores`` through each model's calibration (a model without ``calibrate`` is kept raw)."""
        return scores.calibrated(self.classifiers, self.flat)

    def routes_of(self, scores: ClipScores, policy: str | RoutingPolicy = "greedy") -> list[Route]:
        """The route of every scored clip under a routing policy."""
        return routes(self.tree, scores.nodes, get_policy(policy), flat=scores.flat, flat_weight=self.flat_weight)

    def route_clips(
        self, clips: Sequence[np.ndarray], policy: str | RoutingPolicy = "greedy", *, calibrated: bool = True
    ) -> list[Route]:
        """The route of every clip (each a stack of windows) under a routing policy.

        ``calibrated=False`` routes on the models' raw probabilities.
        """
        scores = self.scores(clips, policy)
        return self.routes_of(self.calibrated(scores) if calibrated else scores, policy)

    def route(self, windows: np.ndarray, policy: str | RoutingPolicy = "greedy") -> Route:
        """The genre of one clip (a stack of windows) under a routing policy."""
        return self.route_clips([windows], policy)[0]


@dataclass(frozen=True)
class ClipScores:
    """What a cascade's models say about a set of clips, before routing.

    ``nodes`` maps each decision node to ``(n_clips, n_children)`` in ``tree.children`` order;
    ``flat`` is the flat model's ``(n_clips, n_leaves)`` in ``tree.leaves`` order, or None.
    """

    nodes: dict[str, np.ndarray]
    flat: np.ndarray | None = None

    def rows(self, keep: Sequence[int]) -> ClipScores:
        """The scores of the clips at indices ``keep`` only."""
        keep = list(keep)
        return ClipScores({n: p[keep] for n, p in self.nodes.items()}, None if self.flat is None else self.flat[keep])

    def calibrated(self, calibrators: Mapping[str, Any], flat: Any = None) -> ClipScores:
        """Each node's scores through ``calibrators[node].calibrate``, the flat ones through ``flat``'s.

        The one calibration path of :class:`Cascade` (its node models) and of
        :class:`~hiergenre.cascade.estimator.HierarchicalClassifier` (a
        :class:`~hiergenre.cascade.calibration.Temperature` per node); see
        :func:`~hiergenre.cascade.calibration.calibrate`.
        """
        nodes = {node: calibrate(calibrators.get(node), p) for node, p in self.nodes.items()}
        return ClipScores(nodes, calibrate(flat, self.flat) if self.flat is not None else None)


def clip_probabilities(
    classifier: NodeClassifier, clips: Sequence[np.ndarray], columns: Sequence[str], what: str
) -> np.ndarray:
    """``(n_clips, len(columns))``: window probabilities of each clip averaged, columns in ``columns`` order.

    All windows of all clips go to the classifier in one call (a network runs far faster on one
    batch than on many; :func:`~hiergenre.cascade.classifiers.class_probabilities` flattens them
    for a scikit-learn classifier); a clip with no window is an error.
    """
    sizes = [len(windows) for windows in clips]
    if not clips or min(sizes) == 0:
        raise HierGenreError("cannot route a clip with no feature windows")
    proba = class_probabilities(classifier, np.concatenate(list(clips)), what)
    classes = class_names(classifier)
    if proba.ndim != 2 or proba.shape != (sum(sizes), len(classes)):
        raise HierGenreError(f"{what} returned probabilities of shape {proba.shape}")
    order = [classes.index(c) for c in columns]
    ends = np.cumsum(sizes)
    return np.stack([proba[end - size : end].mean(axis=0)[order] for size, end in zip(sizes, ends, strict=True)])
