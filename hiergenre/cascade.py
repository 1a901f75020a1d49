"""Routing a clip through a genre tree, root to leaf.

The cascade only needs, at each node with two or more children, an object with ``classes`` (the
child names its outputs stand for) and ``predict_proba(windows) -> (n_windows, n_classes)``. Any
scikit-learn classifier fitted on child names qualifies, so the routing logic is tested fast and
without TensorFlow; the CNN node models implement the same two members.

A clip arrives as a stack of feature windows; each node averages its window probabilities into
one distribution over its children. Three routing policies turn those into a genre:

- ``greedy``: follow the most probable child from the root down (the report's cascade). Cheap,
  but a wrong turn at the root can never be undone.
- ``product``: score every genre by the product of the probabilities along its path (the
  leaf marginal; exhaustive beam search) and take the best. A confident lower node can
  overrule an unsure root.
- ``blend``: average the ``product`` distribution with a flat model's distribution over the
  genres, so the cascade does not throw away what the flat model knows. A tree with a single
  decision node is its own flat model: there ``blend`` is ``product``.

With ``product`` and ``blend`` each step's probability is the share of the leaf distribution's
mass below the chosen child, so the route still reads root to leaf.
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


ROUTING_POLICIES = ("greedy", "product", "blend")


@dataclass(frozen=True)
class Route:
    """The path a clip took from the root to a genre (and, unless greedy, every genre's probability)."""

    genre: str
    steps: list[Step]
    distribution: dict[str, float] | None = None

    @property
    def p(self) -> float:
        """Probability of the whole path: the product of its steps."""
        return float(np.prod([s.p for s in self.steps])) if self.steps else 1.0


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
            classes = list(self.classifiers[node].classes)
            if sorted(classes) != sorted(self.tree.children(node)):
                raise HierGenreError(
                    f"model of node {node!r} predicts {classes}, but the tree's children are {self.tree.children(node)}"
                )
        if self.flat is not None and sorted(self.flat.classes) != sorted(self.tree.leaves):
            raise HierGenreError(f"the flat model predicts {list(self.flat.classes)}, not the tree's genres")

    def node_distribution(self, node: str, windows: np.ndarray) -> dict[str, float]:
        """Probability of each child of ``node``, averaged over the clip's windows."""
        children = self.tree.children(node)
        if len(children) == 1:
            return {children[0]: 1.0}
        return _mean_distribution(self.classifiers[node], windows, f"model of node {node!r}")

    def route(self, windows: np.ndarray, policy: str = "greedy") -> Route:
        """The genre of one clip (a stack of windows) under a routing policy."""
        if len(windows) == 0:
            raise HierGenreError("cannot route a clip with no feature windows")
        if policy == "greedy":
            return self._greedy(windows)
        if policy not in ROUTING_POLICIES:
            raise HierGenreError(f"unknown routing policy {policy!r}; choose one of: {', '.join(ROUTING_POLICIES)}")
        leaves = self.leaf_distribution(windows)
        if policy == "blend" and not (self.flat is None and len(self.tree.model_nodes) == 1):
            if self.flat is None:
                raise HierGenreError("routing 'blend' needs the flat model: train it with train-all")
            flat = _mean_distribution(self.flat, windows, "the flat model")
            w = self.flat_weight
            leaves = {g: (1 - w) * p + w * flat[g] for g, p in leaves.items()}
        return self._route_to_best_leaf(leaves)

    def _greedy(self, windows: np.ndarray) -> Route:
        node, steps = ROOT, []
        while not self.tree.is_leaf(node):
            distribution = self.node_distribution(node, windows)
            choice = max(distribution, key=distribution.__getitem__)
            steps.append(Step(node, choice, distribution[choice], distribution))
            node = choice
        return Route(node, steps)

    def leaf_distribution(self, windows: np.ndarray) -> dict[str, float]:
        """Probability of every genre: the product of the node probabilities along its path."""
        nodes = {n: self.node_distribution(n, windows) for n in self.tree.preorder() if not self.tree.is_leaf(n)}
        out = {}
        for leaf in self.tree.leaves:
            path = self.tree.path_to(leaf)
            out[leaf] = float(np.prod([nodes[parent][child] for parent, child in zip(path, path[1:], strict=False)]))
        return out

    def _route_to_best_leaf(self, leaves: dict[str, float]) -> Route:
        genre = max(leaves, key=leaves.__getitem__)
        path = self.tree.path_to(genre)
        steps = []
        for parent, child in zip(path, path[1:], strict=False):
            mass = {c: sum(leaves[g] for g in self.tree.leaves_under(c)) for c in self.tree.children(parent)}
            total = sum(mass.values()) or 1.0
            shares = {c: m / total for c, m in mass.items()}
            steps.append(Step(parent, child, shares[child], shares))
        return Route(genre, steps, leaves)

    def route_many(self, clips: Sequence[np.ndarray], policy: str = "greedy") -> list[Route]:
        """Route each clip (a stack of windows) independently."""
        return [self.route(windows, policy) for windows in clips]


def _mean_distribution(classifier: NodeClassifier, windows: np.ndarray, what: str) -> dict[str, float]:
    proba = np.asarray(classifier.predict_proba(windows), dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(classifier.classes):
        raise HierGenreError(f"{what} returned probabilities of shape {proba.shape}")
    mean = proba.mean(axis=0)
    return {str(c): float(p) for c, p in zip(classifier.classes, mean, strict=True)}
