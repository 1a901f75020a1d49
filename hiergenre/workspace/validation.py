"""A trained tree's calibration scores (``validation.npz``), written at training, read for ``--target-accuracy``.

The scores are every node's raw probabilities for the split's validation clips, which no model
trained, early-stopped or was chosen on: the calibration clips. How a threshold is set on them is
:mod:`hiergenre.cascade.conformal`;
this module runs the models, stores the scores beside them and reads them back.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hiergenre.cascade.calibration import get_calibration
from hiergenre.cascade.cascade import ClipScores, clip_probabilities
from hiergenre.cascade.conformal import climb, conformal_guarantee, cross_fitted_decision, genre_sets
from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.cascade.routing import RoutingPolicy
from hiergenre.data.datasets import Clip
from hiergenre.errors import HierGenreError
from hiergenre.features.registry import AnyFrontEnd
from hiergenre.models.nodes import ConstantNode, load_node
from hiergenre.storage import atomic_path
from hiergenre.workspace.folders import VersionFolder
from hiergenre.workspace.trained import TrainedTree


def write_tree_validation(
    tree: GenreTree,
    folder: VersionFolder,
    calibration_clips: Sequence[Clip],
    frames: Mapping[str, np.ndarray],
    front_end: AnyFrontEnd,
) -> int:
    """Score the calibration clips at every node with the trained models in ``folder``, write the
    scores; returns how many clips.

    No model trained, early-stopped or was chosen on these clips (the split's validation part), so
    every node's deployed model scores each of them honestly. ``frames`` are their feature matrices,
    cut into windows by the tree's ``front_end``. Deployed models run on LiteRT (no TensorFlow here).
    """
    clips = [c for c in calibration_clips if str(c.path) in frames]
    stacks = [front_end.clip_windows(frames[str(c.path)]) for c in clips]
    nodes = {}
    for node in tree.model_nodes:
        model, width = load_node(folder.path, node, "litert"), len(tree.children(node))
        what = f"model of node {node!r}"
        nodes[node] = clip_probabilities(model, stacks, tree.children(node), what) if clips else np.zeros((0, width))
    save_validation(folder.validation_file, [str(c.path) for c in clips], [c.genre for c in clips], ClipScores(nodes))
    return len(clips)


def save_validation(path: Path, ids: Sequence[str], genres: Sequence[str], scores: ClipScores) -> None:
    """Write a tree's validation scores (ids, genres, one raw matrix per node) as ``.npz``, atomically."""
    arrays = {f"node:{node}": p for node, p in scores.nodes.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        np.savez(out, ids=np.array(ids, dtype=str), genres=np.array(genres, dtype=str), **arrays)


def load_validation(source: Path | BinaryIO) -> tuple[list[str], list[str], ClipScores]:
    """Inverse of :func:`save_validation` (from a file or the bytes a trained tree holds)."""
    with np.load(source, allow_pickle=False) as data:
        nodes = {key.removeprefix("node:"): data[key] for key in data.files if key.startswith("node:")}
        return [str(i) for i in data["ids"]], [str(g) for g in data["genres"]], ClipScores(nodes)


def stored_validation(trained: TrainedTree) -> tuple[list[str], list[str], ClipScores]:
    """A trained tree's validation scores as its version held them when it was opened."""
    if trained.validation is None:
        raise HierGenreError(
            f"tree {trained.name!r} has no validation scores (trained by an older hiergenre): "
            "run 'hiergenre train-all' again"
        )
    try:
        return load_validation(io.BytesIO(trained.validation))
    except (OSError, ValueError, KeyError) as exc:
        raise HierGenreError(f"the validation scores of tree {trained.name!r} are unreadable ({exc})") from None


#: What a node model trained by hiergenre 0.5 or later records as the source of its calibration.
CALIBRATION_SOURCE = "calibration clips"


def check_calibration_clips(trained: TrainedTree) -> None:
    """Refuse, with one line, a tree whose models were calibrated on clips they trained on.

    hiergenre before 0.5 fitted temperatures (and kept validation scores) out of fold, on clips
    the ensemble as a whole had trained on: no guarantee can be set on those.
    """
    sources = {r["calibration"]["source"] for r in trained.node_records.values() if "calibration" in r}
    if sources - {CALIBRATION_SOURCE}:
        raise HierGenreError(
            f"tree {trained.name!r} was trained by an older hiergenre, whose scores come from clips its models "
            "trained on: --target-accuracy could promise nothing; run 'hiergenre train-all' again"
        )


def cascade_validation(trained: TrainedTree, policy: RoutingPolicy) -> tuple[list[str], np.ndarray, list[str]]:
    """A trained tree's calibration clips: their genres, calibrated distributions over ``tree.leaves``
    and the genres ``policy`` routes them to.

    Each clip is calibrated by temperatures fitted on the other calibration clips
    (:func:`~hiergenre.cascade.conformal.cross_fitted_decision`): what a threshold is set on must
    look like what a new clip gets, whose temperatures never saw it.

    ``blend`` mixes in the scores of the same clips by the flat model opened with the tree.
    """
    check_calibration_clips(trained)
    tree, cascade = trained.tree, trained.cascade
    ids, genres, raw = stored_validation(trained)
    flat = None
    if policy.uses_flat and trained.flat is not None:
        check_calibration_clips(trained.flat)
        flat_ids, _, flat_raw = stored_validation(trained.flat)
        row = {clip: i for i, clip in enumerate(flat_ids)}
        keep = [i for i, clip in enumerate(ids) if clip in row]
        ids, genres = [ids[i] for i in keep], [genres[i] for i in keep]
        raw = ClipScores({node: p[keep] for node, p in raw.nodes.items()})
        columns = trained.flat.tree.children(ROOT)
        flat = flat_raw.nodes[ROOT][[row[clip] for clip in ids]][:, [columns.index(g) for g in tree.leaves]]
    decision = cross_fitted_decision(
        tree,
        ClipScores(raw.nodes, flat),
        genres,
        policy,
        get_calibration(calibration_method(trained)),
        cascade.flat_weight,
        uncalibrated=[node for node, model in trained.models.items() if isinstance(model, ConstantNode)],
    )
    return genres, decision.leaves, decision.genres


def calibration_method(trained: TrainedTree) -> str:
    """How the tree's node models were calibrated (``temperature`` or ``none``), as their records say."""
    methods = [r["calibration"]["method"] for r in trained.node_records.values() if "calibration" in r]
    return methods[0] if methods else "none"


def target_on_test(
    trained: TrainedTree,
    policy: RoutingPolicy,
    reference: GenreTree,
    test: tuple[np.ndarray, Sequence[str], Sequence[str]],
    target: float,
) -> dict[str, float | int | bool]:
    """The thresholds (climb and sets) set on the calibration clips for ``target``, and what they give on test.

    ``test`` is the test clips' distributions ``(n_clips, n_leaves)`` in ``reference.leaves`` order,
    their genres and the genres routed to; climbs go up the reference tree (so the flat model
    gets groups too).
    """
    genres, leaves, routed = cascade_validation(trained, policy)
    order = [trained.tree.leaves.index(g) for g in reference.leaves]
    guarantee = conformal_guarantee(reference, leaves[:, order], genres, routed, target, sets=True)
    distributions, true, starts = test
    stops = climb(reference, distributions, guarantee.threshold, starts)
    sets = genre_sets(reference, distributions, guarantee.set_threshold)
    return {
        **guarantee.as_dict(),
        "test_clips": len(true),
        "test_accuracy": float(np.mean([reference.covers(n, g) for n, g in zip(stops, true, strict=True)])),
        "test_leaf_share": float(np.mean([reference.is_leaf(n) for n in stops])),
        "test_set_coverage": float(
            np.mean([any(reference.covers(n, g) for n in nodes) for nodes, g in zip(sets, true, strict=True)])
        ),
        "test_set_genres": float(np.mean([sum(len(reference.leaves_under(n)) for n in nodes) for nodes in sets])),
    }
