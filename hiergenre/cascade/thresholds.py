"""Choosing a minimum confidence for a target hierarchical accuracy, on honest validation scores.

``--target-accuracy A`` needs a confidence threshold chosen on clips the models did not train on,
scored by the *whole tree* as prediction scores them. No clip is untouched by a cross-fitted
ensemble, but every clip has an honest score at every node:

- at a node above the clip's genre, the node's held-out prediction (:class:`~hiergenre.cascade.calibration.HeldOut`:
  out of fold for a cross-fitted ensemble, otherwise on the validation clips), kept when the node
  was trained;
- at any other node, the deployed model, which never trained on the clip (a node only learns
  from the clips below it).

A clip is usable when every node above its genre holds it out. :func:`tree_validation` assembles
those raw scores; :func:`choose_min_confidence` then picks the smallest threshold whose
hierarchical accuracy on them reaches the target. Numpy only: the estimator and the workspace
(:mod:`hiergenre.workspace.validation`, which stores a trained tree's scores) both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from hiergenre.cascade.calibration import HeldOut
from hiergenre.cascade.cascade import ClipScores
from hiergenre.cascade.decoding import ConfidenceDecoder
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import InvalidValue

#: Thresholds :func:`choose_min_confidence` tries, lowest (most specific) first.
CANDIDATES = tuple(np.round(np.arange(0.0, 1.0001, 0.01), 2))


def tree_validation(
    tree: GenreTree,
    genres: Mapping[str, str],
    held_out: Mapping[str, HeldOut],
    deployed: Callable[[str, list[str]], np.ndarray],
    unlearned: Sequence[str] = (),
) -> tuple[list[str], ClipScores]:
    """The usable clip ids (in ``genres`` order) and their raw scores at every decision node.

    ``genres`` maps each candidate clip id to its genre; ``held_out`` gives each node's held-out
    set; ``deployed(node, ids)`` scores clips with the node's deployed model (raw probabilities,
    columns in ``tree.children(node)`` order). Nodes in ``unlearned`` (constant models) learned
    nothing from any clip, so they score every clip with the deployed model.
    """
    index = {node: {clip: row for row, clip in enumerate(h.ids)} for node, h in held_out.items()}

    def above(node: str, genre: str) -> bool:
        return node not in unlearned and tree.child_towards(node, genre) is not None

    usable = [
        clip
        for clip, genre in genres.items()
        if all(clip in index.get(node, {}) for node in tree.model_nodes if above(node, genre))
    ]
    nodes = {}
    for node in tree.model_nodes:
        width = len(tree.children(node))
        scores = np.zeros((len(usable), width))
        mine = [i for i, clip in enumerate(usable) if above(node, genres[clip])]
        others = [i for i, clip in enumerate(usable) if not above(node, genres[clip])]
        if mine:
            scores[mine] = held_out[node].probabilities[[index[node][usable[i]] for i in mine]]
        if others:
            scores[others] = deployed(node, [usable[i] for i in others])
        nodes[node] = scores
    return usable, ClipScores(nodes)


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
