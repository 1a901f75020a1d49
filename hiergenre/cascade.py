"""Routing a clip through a genre tree, root to leaf.

The cascade only needs, at each node with two or more children, an object with ``classes`` (the
child names its outputs stand for) and ``predict_proba(windows) -> (n_windows, n_classes)``. Any
scikit-learn classifier fitted on child names qualifies, so the routing logic is tested fast and
without TensorFlow; the CNN node models implement the same two members.

A clip arrives as a stack of feature windows; each node averages its window probabilities into
one distribution over its children and the greedy route follows the most probable child.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from hiergenre.errors import HierGenreError
from hiergenre.hierarchy import ROOT, GenreTree


class NodeClassifier(Protocol):
    """What the cascade needs from a node model."""

    classes: Sequence[str]

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per window, columns in ``classes`` order."""
        ...


@dataclass(frozen=True)
class Step:
    """One decision: at ``node`` the cascade chose ``choice`` with probability ``p``."""

    node: str
    choice: str
    p: float
    probabilities: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {"node": self.node, "choice": self.choice, "p": self.p, "probabilities": self.probabilities}


@dataclass(frozen=True)
class Route:
    """The path a clip took from the root to a genre."""

    genre: str
    steps: list[Step]

    @property
    def p(self) -> float:
        """Probability of the whole path: the product of its steps."""
        return float(np.prod([s.p for s in self.steps])) if self.steps else 1.0


class Cascade:
    """A genre tree with one classifier per decision node."""

    def __init__(self, tree: GenreTree, classifiers: Mapping[str, NodeClassifier]) -> None:
        self.tree = tree
        self.classifiers = dict(classifiers)
        self._check_classifiers()

    def _check_classifiers(self) -> None:
        missing = [n for n in self.tree.model_nodes if n not in self.classifiers]
        if missing:
            raise HierGenreError(f"tree {self.tree.name!r} has no model for node(s): {', '.join(missing)}")
        for node in self.tree.model_nodes:
            classes = list(self.classifiers[node].classes)
            if sorted(classes) != sorted(self.tree.children(node)):
                raise HierGenreError(
                    f"model of node {node!r} predicts {classes}, but the tree's children are {self.tree.children(node)}"
                )

    def node_distribution(self, node: str, windows: np.ndarray) -> dict[str, float]:
        """Probability of each child of ``node``, averaged over the clip's windows."""
        children = self.tree.children(node)
        if len(children) == 1:
            return {children[0]: 1.0}
        classifier = self.classifiers[node]
        proba = np.asarray(classifier.predict_proba(windows), dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] != len(classifier.classes):
            raise HierGenreError(f"model of node {node!r} returned probabilities of shape {proba.shape}")
        mean = proba.mean(axis=0)
        return {str(c): float(p) for c, p in zip(classifier.classes, mean, strict=True)}

    def route(self, windows: np.ndarray) -> Route:
        """Follow the most probable child from the root until a genre is reached."""
        if len(windows) == 0:
            raise HierGenreError("cannot route a clip with no feature windows")
        node, steps = ROOT, []
        while not self.tree.is_leaf(node):
            distribution = self.node_distribution(node, windows)
            choice = max(distribution, key=distribution.__getitem__)
            steps.append(Step(node, choice, distribution[choice], distribution))
            node = choice
        return Route(node, steps)

    def route_many(self, clips: Sequence[np.ndarray]) -> list[Route]:
        """Route each clip (a stack of windows) independently."""
        return [self.route(windows) for windows in clips]
