"""A trained tree's honest validation scores (``validation.npz``), written at training, read for ``--target-accuracy``.

How the scores are assembled and how a threshold is chosen on them is :mod:`hiergenre.cascade.thresholds`;
this module runs the models, stores the scores beside them and reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hiergenre.cascade.calibration import HeldOut
from hiergenre.cascade.cascade import Cascade, ClipScores, clip_probabilities
from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.cascade.routing import RoutingPolicy, decide
from hiergenre.cascade.thresholds import choose_min_confidence, confident_paths, tree_validation
from hiergenre.config import FeatureConfig
from hiergenre.data.datasets import Clip
from hiergenre.errors import HierGenreError
from hiergenre.features.lmfcc import prediction_windows
from hiergenre.storage import atomic_path

if TYPE_CHECKING:
    from hiergenre.workspace.layout import Workspace

#: The file of a trained tree's validation scores, beside its node models.
VALIDATION_FILE = "validation.npz"


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
