"""Fitting the model of one decision node, of the kind the preset asks for.

``--node-model`` picks the kind: ``cnn``, ``stats``, ``ensemble`` (both, averaged) or ``auto``,
which fits both and keeps, per node, whichever of CNN, statistics or their average has the lowest
clip-level validation loss (:func:`choose_cnn_weight`, a pure function of the validation
probabilities). A node whose training data holds a single class gets a
:class:`~hiergenre.models.nodes.ConstantNode` instead of a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from hiergenre.cascade.calibration import Calibration, HeldOut, get_calibration
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.config import PairedConfig, Preset
from hiergenre.data.datasets import Clip
from hiergenre.models.nodes import CnnNode, ConstantNode, EnsembleNode, NodeModel, StatsNode
from hiergenre.models.statistics import StatsClassifier
from hiergenre.progress import ModelProgress, PhaseTimer
from hiergenre.training.node_data import (
    NodeData,
    clip_log_loss,
    clip_probabilities,
    cross_fit_parts,
    node_data,
    stacked_windows,
)

#: Ensemble weights of the CNN that ``auto`` chooses among (1 = CNN only, 0 = statistics only).
AUTO_CNN_WEIGHTS = (1.0, 0.5, 0.0)
#: The CNN weight of the ``ensemble`` node model.
ENSEMBLE_CNN_WEIGHT = 0.5


def fit_node(
    tree: GenreTree,
    node: str,
    train: Sequence[Clip],
    valid: Sequence[Clip],
    frames: Mapping[str, np.ndarray],
    preset: Preset,
    *,
    epochs: int,
    seed: int,
    progress: ModelProgress | None = None,
    timer: PhaseTimer | None = None,
) -> tuple[NodeModel, int]:
    """Train the classifier of one node (kind set by the preset); returns it and the epochs run.

    ``timer`` receives the seconds of each training phase (see :func:`~hiergenre.training.keras_loop.fit_network`).
    """
    timer = timer or PhaseTimer()
    classes = tree.children(node)
    features = preset.features
    train_data, valid_data = node_data(tree, node, train, frames), node_data(tree, node, valid, frames)
    if len(np.unique(train_data.labels)) < 2:
        return ConstantNode.for_labels(node, classes, train_data.labels, features=features), 0
    kind = preset.train.node_model
    stats = None
    if kind != "cnn":
        with timer.phase("statistics"):
            stats = StatsNode(
                node=node, classes=classes, features=features, stats=fit_statistics(train_data, preset, len(classes))
            )
    calibration = get_calibration(preset.train.calibration)
    if kind == "stats":
        stats_proba = clip_probabilities(stats, valid_data, features)
        held_out = HeldOut(stats_proba, valid_data.labels, "validation clips", tuple(valid_data.ids))
        stats.metadata["history"] = {}
        return calibrated(stats, held_out, calibration), 0
    with timer.phase("import"):
        from hiergenre.training.keras_loop import fit_cnn  # imports TensorFlow (once per process)

    cnn_preset = replace(preset, features=features.lmfcc) if isinstance(features, PairedConfig) else preset
    normalizer, network, history, held_out = fit_cnn(
        train_data.part("lmfcc"),
        valid_data.part("lmfcc"),
        cnn_preset,
        len(classes),
        epochs=epochs,
        seed=seed,
        progress=progress,
        timer=timer,
    )
    cnn = CnnNode(node=node, classes=classes, features=features, normalizer=normalizer, cnn=network)
    metadata = {"history": history}
    weight = 1.0 if kind == "cnn" else ENSEMBLE_CNN_WEIGHT
    if kind == "auto" and len(valid_data):
        weight, losses = choose_cnn_weight(cnn, stats, valid_data, preset)
        metadata["auto_validation_loss"] = {str(w): v for w, v in losses.items()}
    model = blend_of(cnn, stats, weight, metadata)
    if stats is not None and weight < 1.0:
        with timer.phase("statistics"):
            held_out = mixed_held_out(held_out, weight, train_data, valid_data, preset, seed, stats)
    return calibrated(model, held_out, calibration), len(history.get("loss", []))


def fit_statistics(data: NodeData, preset: Preset, n_classes: int) -> StatsClassifier:
    """The statistics classifier of a node, fitted on every window of ``data`` (its musicnn part when paired)."""
    features = preset.features
    if isinstance(features, PairedConfig):
        data, preset = data.part("musicnn"), replace(preset, features=features.musicnn)
    x, y = stacked_windows(data, preset, mode="all", hop=preset.features.spread_hop_frames)
    return StatsClassifier.fit(x, y, n_classes)


def calibrated(model: NodeModel, held_out: HeldOut, calibration: Calibration) -> NodeModel:
    """``model`` with the temperature ``calibration`` fits on its held-out clips, recorded in its metadata."""
    model.temperature, model.metadata["calibration"] = held_out.fitted(calibration)
    model.held_out = held_out
    return model


def mixed_held_out(
    cnn: HeldOut, weight: float, train: NodeData, valid: NodeData, preset: Preset, seed: int, stats: StatsNode
) -> HeldOut:
    """The held-out probabilities of ``weight · cnn + (1 − weight) · stats`` on the CNN's held-out clips.

    For a cross-fitted CNN those are every clip of train+valid, out of fold; the statistics part
    is then refitted on the same folds, so that no clip is predicted by a model that saw it. Else
    they are the validation clips, which the deployed statistics model never saw.
    """
    if preset.train.cross_fitted:
        parts = []
        for part_train, part_valid in cross_fit_parts(train, valid, preset.train.members, seed):
            part = replace(stats, stats=fit_statistics(part_train, preset, len(stats.classes)))
            parts.append(clip_probabilities(part, part_valid, preset.features))
        stats_proba = np.concatenate(parts)
    else:
        stats_proba = clip_probabilities(stats, valid, preset.features)
    mixed = weight * cnn.probabilities + (1 - weight) * stats_proba
    return HeldOut(mixed, cnn.labels, cnn.source, cnn.ids)


def blend_of(cnn: CnnNode, stats: StatsNode | None, weight: float, metadata: dict) -> NodeModel:
    """The node that mixes ``cnn`` and ``stats`` with ``weight`` on the CNN: only what predicts is kept."""
    if stats is None or weight == 1.0:
        chosen: NodeModel = cnn
    elif weight == 0.0:
        chosen = stats
    else:
        chosen = EnsembleNode(
            node=cnn.node, classes=cnn.classes, features=cnn.features, cnn=cnn, stats=stats, cnn_weight=weight
        )
    chosen.metadata = metadata
    return chosen


def choose_cnn_weight(
    cnn: NodeModel, stats: NodeModel, valid: NodeData, preset: Preset
) -> tuple[float, dict[float, float]]:
    """The CNN weight among :data:`AUTO_CNN_WEIGHTS` with the lowest clip-level validation loss.

    Returns the weight and every candidate's loss. Each model scores the validation clips once;
    the candidates are mixtures of those clip probabilities, exactly as the ensemble node mixes
    its window probabilities (the mean of a mixture is the mixture of the means).
    """
    cnn_proba = clip_probabilities(cnn, valid, preset.features)
    stats_proba = clip_probabilities(stats, valid, preset.features)
    losses = {
        weight: clip_log_loss(weight * cnn_proba + (1 - weight) * stats_proba, valid.labels)
        for weight in AUTO_CNN_WEIGHTS
    }
    return min(losses, key=losses.__getitem__), losses
