"""Honest validation scores of a whole tree, and the minimum confidence that reaches a target accuracy.

``--target-accuracy A`` needs a confidence threshold chosen on clips the models did not train on,
scored by the *whole tree* as prediction scores them. No clip is untouched by a cross-fitted
ensemble, but every clip has an honest score at every node:

- at a node above the clip's genre, the node's held-out prediction (:class:`~hiergenre.cascade.calibration.HeldOut`:
  out of fold for a cross-fitted ensemble, otherwise on the validation clips), kept when the node
  was trained;
- at any other node, the deployed model, which never trained on the clip (a node only learns
  from the clips below it).

A clip is usable when every node above its genre holds it out. :func:`tree_validation` assembles
those raw scores (training writes them beside the models as ``validation.npz``);
:func:`choose_min_confidence` then picks the smallest threshold whose hierarchical accuracy on
them reaches the target. Numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hiergenre.cascade.calibration import HeldOut
from hiergenre.cascade.cascade import Cascade, ClipScores, clip_probabilities
from hiergenre.cascade.decoding import ConfidenceDecoder
from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.cascade.routing import RoutingPolicy, decide
from hiergenre.config import FeatureConfig
from hiergenre.data.datasets import Clip
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.lmfcc import prediction_windows
from hiergenre.storage import atomic_path

if TYPE_CHECKING:
    from hiergenre.workspace.layout import Workspace

#: Thresholds :func:`choose_min_confidence` tries, lowest (most specific) first.
CANDIDATES = tuple(np.round(np.arange(0.0, 1.0001, 0.01), 2))
#: The file of a trained tree's validation scores, beside its node models.
VALIDATION_FILE = "validation.npz"


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


def write_tree_validation(
    tree: GenreTree, out_dir: Path, clips: Sequence[Clip], frames: Mapping[str, np.ndarray], features: FeatureConfig
) -> int:
    """Assemble and write ``validation.npz`` for the trained models in ``out_dir``; returns its clips.

    ``clips`` are the tree's training and validation clips, ``frames`` their LMFCC matrices.
    Deployed models run on LiteRT (no TensorFlow in this process).
    """
    from hiergenre.models.nodes import HELD_OUT_SUFFIX, ConstantNode, load_node

    genres = {str(c.path): c.genre for c in clips if str(c.path) in frames}
    models = {node: load_node(out_dir, node, "litert") for node in tree.model_nodes}
    held_out = {
        node: HeldOut.load(out_dir / f"{node}{HELD_OUT_SUFFIX}")
        for node in tree.model_nodes
        if (out_dir / f"{node}{HELD_OUT_SUFFIX}").is_file()
    }

    def deployed(node: str, ids: list[str]) -> np.ndarray:
        stacks = [prediction_windows(frames[i], features) for i in ids]
        return clip_probabilities(models[node], stacks, tree.children(node), f"model of node {node!r}")

    unlearned = [node for node, model in models.items() if isinstance(model, ConstantNode)]
    ids, scores = tree_validation(tree, genres, held_out, deployed, unlearned)
    save_validation(out_dir / VALIDATION_FILE, ids, [genres[i] for i in ids], scores)
    return len(ids)


def save_validation(path: Path, ids: Sequence[str], genres: Sequence[str], scores: ClipScores) -> None:
    """Write a tree's validation scores (ids, genres, one raw matrix per node) as ``.npz``, atomically."""
    arrays = {f"node:{node}": p for node, p in scores.nodes.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        np.savez(out, ids=np.array(ids, dtype=str), genres=np.array(genres, dtype=str), **arrays)


def load_validation(path: Path) -> tuple[list[str], list[str], ClipScores]:
    """Inverse of :func:`save_validation`."""
    with np.load(path, allow_pickle=False) as data:
        nodes = {key.removeprefix("node:"): data[key] for key in data.files if key.startswith("node:")}
        return [str(i) for i in data["ids"]], [str(g) for g in data["genres"]], ClipScores(nodes)


def cascade_validation(workspace: Workspace, cascade: Cascade, policy: RoutingPolicy) -> tuple[list[str], np.ndarray]:
    """The genres of a trained tree's validation clips and its calibrated distributions over ``tree.leaves``.

    ``blend`` mixes in the flat model's validation scores of the same clips.
    """
    tree = cascade.tree
    ids, genres, raw = _stored(workspace, tree.name)
    flat = None
    if policy.uses_flat and cascade.flat is not None:
        flat_ids, _, flat_raw = _stored(workspace, "flat")
        row = {clip: i for i, clip in enumerate(flat_ids)}
        keep = [i for i, clip in enumerate(ids) if clip in row]
        ids, genres = [ids[i] for i in keep], [genres[i] for i in keep]
        raw = ClipScores({node: p[keep] for node, p in raw.nodes.items()})
        columns = workspace.manifest("flat").genre_tree.children(ROOT)
        flat = flat_raw.nodes[ROOT][[row[clip] for clip in ids]][:, [columns.index(g) for g in tree.leaves]]
    scores = cascade.calibrated(ClipScores(raw.nodes, flat))
    decision = decide(tree, scores.nodes, policy, flat=scores.flat, flat_weight=cascade.flat_weight)
    return genres, decision.leaves


def _stored(workspace: Workspace, name: str) -> tuple[list[str], list[str], ClipScores]:
    path = workspace.model_dir(workspace.manifest(name)) / VALIDATION_FILE
    if not path.is_file():
        raise HierGenreError(
            f"tree {name!r} has no validation scores (trained by an older hiergenre): run 'hiergenre train-all' again"
        )
    return load_validation(path)


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


def target_on_test(
    workspace: Workspace,
    cascade: Cascade,
    policy: RoutingPolicy,
    reference: GenreTree,
    test: tuple[np.ndarray, Sequence[str]],
    target: float,
) -> dict[str, float | int | bool]:
    """The threshold chosen on validation for ``target``, and what it gives on test clips.

    ``test`` is the test clips' distributions ``(n_clips, n_leaves)`` in ``reference.leaves`` order
    and their genres; decoding sums them up the reference tree (so the flat model gets groups too).
    """
    genres, leaves = cascade_validation(workspace, cascade, policy)
    order = [cascade.tree.leaves.index(g) for g in reference.leaves]
    choice = choose_min_confidence(reference, leaves[:, order], genres, target)
    correct, leaf, probabilities = confident_paths(reference, *test)
    depth = (probabilities >= choice.min_confidence).sum(axis=1)
    rows = np.arange(len(test[1]))
    return {
        **{
            f"validation_{k}" if k in ("accuracy", "leaf_share", "clips") else k: v for k, v in choice.as_dict().items()
        },
        "test_accuracy": float(correct[rows, depth].mean()),
        "test_leaf_share": float(leaf[rows, depth].mean()),
    }


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
