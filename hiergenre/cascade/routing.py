"""Turning node probabilities into genres: the routing policies, vectorised over clips.

Every path that classifies clips, the CNN cascade (window probabilities averaged per clip) and
the scikit-learn :class:`~hiergenre.cascade.estimator.HierarchicalClassifier` (one row of features per
clip), first computes, for each decision node, a matrix of shape ``(n_clips, n_children)`` whose
columns follow ``tree.children(node)``. Both then call the code here, so a policy means the same
thing whichever way the probabilities were made. Nothing here imports TensorFlow.

Policies are small classes in :data:`ROUTING_POLICIES`, looked up by name with :func:`get_policy`:

- ``greedy``: follow the most probable child from the root down (the report's cascade). Cheap,
  but a wrong turn at the root can never be undone.
- ``product``: score every genre by the product of the probabilities along its path (the leaf
  marginal; exhaustive beam search) and take the best. A confident lower node can overrule an
  unsure root.
- ``blend``: average the ``product`` distribution with a flat model's distribution over the
  genres, so the cascade does not throw away what the flat model knows. A tree with a single
  decision node is its own flat model: there ``blend`` is ``product``.

With ``product`` and ``blend`` each step's probability is the share of the leaf distribution's
mass below the chosen child, so the route still reads root to leaf.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.errors import HierGenreError, InvalidValue

#: For each decision node, an array ``(n_clips, n_children)``, columns in ``tree.children(node)`` order.
NodeProbabilities = Mapping[str, np.ndarray]


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
    """The path a clip took from the root to a genre, and every genre's probability.

    ``distribution`` is what the policy scores genres by: each genre's whole-path probability
    (for ``blend``, mixed with the flat model's); greedy routing walks down instead, so its genre
    is not always the most probable one there.
    """

    genre: str
    steps: list[Step]
    distribution: dict[str, float] | None = None

    def top(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` most probable genres of :attr:`distribution`, most probable first."""
        ranked = sorted((self.distribution or {self.genre: self.p}).items(), key=lambda item: -item[1])
        return ranked[:k]

    @property
    def p(self) -> float:
        """Probability of the whole path: the product of its steps."""
        return float(np.prod([s.p for s in self.steps])) if self.steps else 1.0


def leaf_probabilities(tree: GenreTree, nodes: NodeProbabilities) -> np.ndarray:
    """Probability of every genre, ``(n_clips, n_leaves)`` in ``tree.leaves`` order.

    Each genre's probability is the product of the node probabilities along its path, root first
    (a single-child group passes its probability through unchanged).
    """
    columns = []
    for leaf in tree.leaves:
        path = tree.path_to(leaf)
        column = None
        for parent, child in zip(path, path[1:], strict=False):
            if parent not in nodes:  # a pass-through group
                continue
            factor = nodes[parent][:, tree.children(parent).index(child)]
            column = factor.copy() if column is None else column * factor
        columns.append(column)
    return np.stack(columns, axis=1)


class RoutingPolicy:
    """How a distribution over each node's children becomes one genre per clip."""

    name: ClassVar[str]
    help: ClassVar[str]
    #: Whether the policy mixes in a flat model's probabilities.
    uses_flat: ClassVar[bool] = False

    def leaf_distribution(
        self, tree: GenreTree, nodes: NodeProbabilities, flat: np.ndarray | None, flat_weight: float
    ) -> np.ndarray:
        """The distribution over genres this policy decides on, ``(n_clips, n_leaves)``."""
        return leaf_probabilities(tree, nodes)

    def choose(self, tree: GenreTree, nodes: NodeProbabilities, leaves: np.ndarray) -> np.ndarray:
        """Index into ``tree.leaves`` of each clip's genre: the most probable genre."""
        return leaves.argmax(axis=1)

    def steps(self, tree: GenreTree, nodes: NodeProbabilities, leaves: np.ndarray, clip: int, genre: str) -> list[Step]:
        """The route's steps for one clip, root to ``genre``, each with :meth:`step_distribution`."""
        path = tree.path_to(genre)
        steps = []
        for parent, child in zip(path, path[1:], strict=False):
            distribution = self.step_distribution(tree, nodes, leaves[clip], clip, parent)
            steps.append(Step(parent, child, distribution[child], distribution))
        return steps

    def step_distribution(
        self, tree: GenreTree, nodes: NodeProbabilities, leaves: np.ndarray, clip: int, parent: str
    ) -> dict[str, float]:
        """What a step shows: each child's share of the leaf mass below ``parent`` (``leaves`` of one clip)."""
        mass = dict(zip(tree.leaves, leaves.tolist(), strict=True))
        below = {c: sum(mass[g] for g in tree.leaves_under(c)) for c in tree.children(parent)}
        total = sum(below.values()) or 1.0
        return {c: m / total for c, m in below.items()}


class Greedy(RoutingPolicy):
    """Follow the most probable child from the root down."""

    name = "greedy"
    help = "follow the most probable child from the root down (the report's cascade)"

    def choose(self, tree: GenreTree, nodes: NodeProbabilities, leaves: np.ndarray) -> np.ndarray:
        """Walk down each clip's argmax children (ties go to the first child)."""
        best = {node: proba.argmax(axis=1) for node, proba in nodes.items()}
        index = {leaf: i for i, leaf in enumerate(tree.leaves)}
        chosen = np.empty(len(leaves), dtype=int)
        for clip in range(len(leaves)):
            node = ROOT
            while not tree.is_leaf(node):
                children = tree.children(node)
                node = children[int(best[node][clip])] if node in best else children[0]
            chosen[clip] = index[node]
        return chosen

    def step_distribution(
        self, tree: GenreTree, nodes: NodeProbabilities, leaves: np.ndarray, clip: int, parent: str
    ) -> dict[str, float]:
        """The node's own distribution over its children (a pass-through group: its one child, 1.0)."""
        children = tree.children(parent)
        if parent not in nodes:
            return {children[0]: 1.0}
        return dict(zip(children, nodes[parent][clip].tolist(), strict=True))


class Product(RoutingPolicy):
    """The genre with the highest product of probabilities along its path."""

    name = "product"
    help = "the genre with the highest product of probabilities along its path"


class Blend(RoutingPolicy):
    """The product distribution averaged with the flat model's distribution over genres."""

    name = "blend"
    help = "product, averaged with the flat model's genre probabilities"
    uses_flat = True

    def leaf_distribution(
        self, tree: GenreTree, nodes: NodeProbabilities, flat: np.ndarray | None, flat_weight: float
    ) -> np.ndarray:
        """``(1 − w) · product + w · flat``; a single-node tree without a flat model is its own."""
        leaves = leaf_probabilities(tree, nodes)
        if flat is None:
            if len(tree.model_nodes) == 1:
                return leaves
            raise HierGenreError("routing 'blend' needs the flat model: train it with train-all")
        return (1 - flat_weight) * leaves + flat_weight * flat


#: Every routing policy by name, in the order help texts list them.
ROUTING_POLICIES: dict[str, RoutingPolicy] = {p.name: p for p in (Greedy(), Product(), Blend())}


def get_policy(policy: str | RoutingPolicy) -> RoutingPolicy:
    """The policy called ``policy`` (a policy object passes through), or an error listing the names."""
    if isinstance(policy, RoutingPolicy):
        return policy
    try:
        return ROUTING_POLICIES[policy]
    except (KeyError, TypeError):
        names = ", ".join(ROUTING_POLICIES)
        raise InvalidValue(f"unknown routing policy {policy!r}; choose one of: {names}") from None


def policy_help() -> str:
    """One sentence per policy, for command-line help."""
    return "; ".join(f"'{p.name}': {p.help}" for p in ROUTING_POLICIES.values()) + "."


@dataclass(frozen=True)
class Decision:
    """What routing decided for a batch of clips: each clip's genre and the distribution it came from."""

    genres: list[str]
    leaves: np.ndarray


def decide(
    tree: GenreTree,
    nodes: NodeProbabilities,
    policy: str | RoutingPolicy = "greedy",
    *,
    flat: np.ndarray | None = None,
    flat_weight: float = 0.5,
) -> Decision:
    """The genre of every clip under ``policy``; ``flat`` is ``(n_clips, n_leaves)`` in leaves order."""
    chosen = get_policy(policy)
    check_shapes(tree, nodes, flat)
    leaves = chosen.leaf_distribution(tree, nodes, flat, flat_weight)
    index = chosen.choose(tree, nodes, leaves)
    names = tree.leaves  # a property that walks the tree: once, not once a clip
    return Decision([names[i] for i in index], leaves)


def routes(
    tree: GenreTree,
    nodes: NodeProbabilities,
    policy: str | RoutingPolicy = "greedy",
    *,
    flat: np.ndarray | None = None,
    flat_weight: float = 0.5,
) -> list[Route]:
    """Every clip's :class:`Route`: its genre and the probability of each step from the root down."""
    chosen = get_policy(policy)
    decision = decide(tree, nodes, chosen, flat=flat, flat_weight=flat_weight)
    out = []
    for clip, genre in enumerate(decision.genres):
        distribution = dict(zip(tree.leaves, decision.leaves[clip].tolist(), strict=True))
        out.append(Route(genre, chosen.steps(tree, nodes, decision.leaves, clip, genre), distribution))
    return out


def check_shapes(tree: GenreTree, nodes: NodeProbabilities, flat: np.ndarray | None) -> None:
    """Every decision node present, with one column per child and the same number of clips."""
    missing = [n for n in tree.model_nodes if n not in nodes]
    if missing:
        raise HierGenreError(f"no probabilities for node(s) {', '.join(missing)} of tree {tree.name!r}")
    counts = set()
    for node in tree.model_nodes:
        proba = nodes[node]
        if proba.ndim != 2 or proba.shape[1] != len(tree.children(node)):
            raise HierGenreError(f"model of node {node!r} returned probabilities of shape {proba.shape}")
        counts.add(proba.shape[0])
    if flat is not None:
        if flat.ndim != 2 or flat.shape[1] != len(tree.leaves):
            raise HierGenreError(f"the flat model returned probabilities of shape {flat.shape}")
        counts.add(flat.shape[0])
    if len(counts) > 1:
        raise HierGenreError(f"node probabilities disagree on the number of clips: {sorted(counts)}")


def check_routing_applies(tree: GenreTree, policy: RoutingPolicy) -> None:
    """Refuse a routing other than greedy for a tree of one decision node, where it would change nothing."""
    if policy.name != Greedy.name and len(tree.model_nodes) == 1:
        raise InvalidValue(
            f"--routing {policy.name} has no effect on tree {tree.name!r}: it has a single decision node "
            "(routing policies combine the decisions of a cascade); leave --routing out"
        )
