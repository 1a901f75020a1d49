"""Decoding: from a distribution over a tree's genres to a prediction that may stop at an inner node.

A routing policy gives every clip a distribution over the genres (``Decision.leaves``). Summing
it up the tree gives every node a probability: the chance that the true genre lies below it (the
root has 1). A decoder turns that into one node per clip:

- ``leaf``: the genre the routing policy chose (what ``predict`` always did);
- ``confidence`` (``--min-confidence P``): walk down from the root to the most probable child
  while that child's probability is at least ``P``; stop at the first node where it is not. With
  P = 0 this is greedy routing on the summed distribution; with P near 1 it rarely leaves the root.
- ``hf1``: the node with the highest *expected* hierarchical F1 (label sets are a node and its
  ancestors, the root excluded; predicting the root scores 0). For node n and true genre g,
  hF1 = 2·|common ancestors| / (depth(n) + depth(g)); its expectation under the distribution is one
  matrix product, ``(n_clips, n_leaves) @ (n_leaves, n_nodes)``: O(clips · genres · nodes).

Everything here is numpy on the tree; no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.errors import InvalidValue


def node_probabilities(tree: GenreTree, leaves: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Every node's probability ``(n_clips, n_nodes)``, nodes in preorder: its genres' summed probability.

    ``leaves`` is ``(n_clips, n_leaves)`` in ``tree.leaves`` order, rows summing to 1.
    """
    nodes = tree.preorder()
    column = {leaf: i for i, leaf in enumerate(tree.leaves)}
    membership = np.zeros((len(tree.leaves), len(nodes)))
    for j, node in enumerate(nodes):
        for leaf in tree.leaves_under(node):
            membership[column[leaf], j] = 1.0
    return nodes, np.asarray(leaves, dtype=float) @ membership


@dataclass(frozen=True)
class Decoded:
    """One clip's decoded prediction: a node, its probability, its depth (a genre or an inner node)."""

    node: str
    p: float
    depth: int
    leaf: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"node": self.node, "p": self.p, "depth": self.depth, "leaf": self.leaf}


class Decoder:
    """Turns routed clips into one node each."""

    name: ClassVar[str]
    help: ClassVar[str]

    def choose(self, tree: GenreTree, leaves: np.ndarray, genres: Sequence[str]) -> list[str]:
        """The node of each clip; ``genres`` are what the routing policy chose."""
        raise NotImplementedError

    def decode(self, tree: GenreTree, leaves: np.ndarray, genres: Sequence[str]) -> list[Decoded]:
        """:meth:`choose` with each node's probability and depth."""
        nodes, probabilities = node_probabilities(tree, leaves)
        index = {node: j for j, node in enumerate(nodes)}
        return [
            Decoded(node, float(probabilities[i, index[node]]), tree.depth(node), tree.is_leaf(node))
            for i, node in enumerate(self.choose(tree, leaves, genres))
        ]


class LeafDecoder(Decoder):
    """The genre the routing policy chose."""

    name = "leaf"
    help = "the genre the routing reaches (the default)"

    def choose(self, tree: GenreTree, leaves: np.ndarray, genres: Sequence[str]) -> list[str]:
        """The routing's genres, unchanged."""
        return list(genres)


@dataclass(frozen=True)
class ConfidenceDecoder(Decoder):
    """Walk down while the most probable child holds at least ``min_confidence`` of the distribution."""

    min_confidence: float
    name: ClassVar[str] = "confidence"
    help: ClassVar[str] = "stop where the most probable child has less than the minimum confidence"

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InvalidValue(f"--min-confidence must be between 0 and 1, got {self.min_confidence}")

    def choose(self, tree: GenreTree, leaves: np.ndarray, genres: Sequence[str]) -> list[str]:
        """Each clip's deepest node reached by confident steps from the root."""
        chosen = []
        for path, probabilities in self.paths(tree, leaves):
            steps = sum(1 for p in probabilities if p >= self.min_confidence)  # they shrink down the path
            chosen.append(path[steps])
        return chosen

    @staticmethod
    def paths(tree: GenreTree, leaves: np.ndarray) -> list[tuple[list[str], list[float]]]:
        """Each clip's walk to the most probable child down to a genre: the nodes from the root, and
        the probability of each node after the root (never larger than its parent's)."""
        nodes, probabilities = node_probabilities(tree, leaves)
        index = {node: j for j, node in enumerate(nodes)}
        out = []
        for row in probabilities:
            path, p = [ROOT], []
            while not tree.is_leaf(path[-1]):
                best = max(tree.children(path[-1]), key=lambda child: row[index[child]])
                path.append(best)
                p.append(float(row[index[best]]))
            out.append((path, p))
        return out


class ExpectedHF1Decoder(Decoder):
    """The node with the highest expected hierarchical F1 under the clip's distribution."""

    name = "hf1"
    help = "the node with the highest expected hierarchical F1 (may stop above the genres)"

    def choose(self, tree: GenreTree, leaves: np.ndarray, genres: Sequence[str]) -> list[str]:
        """Argmax over nodes of ``leaves @ hF1(leaf, node)``."""
        nodes = tree.preorder()
        expected = np.asarray(leaves, dtype=float) @ hf1_matrix(tree, nodes)
        return [nodes[j] for j in expected.argmax(axis=1)]


def hf1_matrix(tree: GenreTree, nodes: Sequence[str]) -> np.ndarray:
    """``(n_leaves, n_nodes)``: hierarchical F1 of predicting each node when each genre is true."""
    out = np.zeros((len(tree.leaves), len(nodes)))
    for i, leaf in enumerate(tree.leaves):
        true = set(tree.path_to(leaf)[1:])
        for j, node in enumerate(nodes):
            predicted = set(tree.path_to(node)[1:])
            if predicted:
                out[i, j] = 2 * len(true & predicted) / (len(true) + len(predicted))
    return out


#: The decoders that need no parameter, by name (``--decode``); ``--min-confidence`` makes a ConfidenceDecoder.
DECODERS: dict[str, Decoder] = {d.name: d for d in (LeafDecoder(), ExpectedHF1Decoder())}


def get_decoder(decode: str | None = None, min_confidence: float | None = None) -> Decoder:
    """The decoder a command line or estimator asks for (``--decode NAME`` or ``--min-confidence P``)."""
    if min_confidence is not None:
        if decode not in (None, "leaf", ConfidenceDecoder.name):
            raise InvalidValue("--min-confidence and --decode hf1 are two decoders: choose one")
        return ConfidenceDecoder(float(min_confidence))
    try:
        return DECODERS[decode or "leaf"]
    except KeyError:
        raise InvalidValue(f"unknown decoder {decode!r}; choose one of: {', '.join(DECODERS)}") from None
