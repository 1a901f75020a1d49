"""Fitting the model of one decision node, of the kind the preset asks for.

``--node-model`` picks the kind: ``cnn``, ``stats``, ``ensemble`` (both, averaged) or ``auto``,
which fits both and keeps, per node, whichever of CNN, statistics or their average has the lowest
clip-level loss on the training clips the networks held out (:func:`choose_cnn_weight`, a pure
function of those probabilities; the validation clips are kept for calibration). A node whose
training data holds a single class gets a :class:`~hiergenre.models.nodes.ConstantNode` instead of
a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from hiergenre.cascade.calibration import Calibration, HeldOut, get_calibration
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.config import FeatureSettings, PairedConfig, Preset
from hiergenre.data.datasets import Clip
from hiergenre.models.nodes import CnnNode, ConstantNode, EnsembleNode, NodeModel, StatsNode
from hiergenre.models.statistics import StatsClassifier
from hiergenre.progress import ModelProgress, PhaseTimer
from hiergenre.training.node_data import (
    NodeData,
    clip_log_loss,
    clip_probabilities,
    held_out_parts,
    node_data,
    stacked_windows,
)
from hiergenre.workspace.validation import CALIBRATION_SOURCE

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
        stats.metadata["history"] = {}
        return calibrated(stats, valid_data, features, calibration), 0
    with timer.phase("import"):
        from hiergenre.training.keras_loop import fit_cnn  # imports TensorFlow (once per process)

    cnn_preset = replace(preset, features=features.lmfcc) if isinstance(features, PairedConfig) else preset
    normalizer, network, history, out_of_fold = fit_cnn(
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
    if kind == "auto" and out_of_fold is not None:
        with timer.phase("statistics"):
            stats_held = stats_out_of_fold(train_data, preset, seed, stats)
        weight, losses = choose_cnn_weight(out_of_fold.probabilities, stats_held, out_of_fold.labels)
        metadata["auto_held_out_loss"] = {str(w): v for w, v in losses.items()}
    model = blend_of(cnn, stats, weight, metadata)
    return calibrated(model, valid_data, features, calibration), len(history.get("loss", []))


def fit_statistics(data: NodeData, preset: Preset, n_classes: int) -> StatsClassifier:
    """The statistics classifier of a node, fitted on every window of ``data`` (its musicnn part when paired)."""
    features = preset.features
    if isinstance(features, PairedConfig):
        data, preset = data.part("musicnn"), replace(preset, features=features.musicnn)
    x, y = stacked_windows(data, preset, mode="all", hop=preset.features.spread_hop_frames)
    return StatsClassifier.fit(x, y, n_classes)


def calibrated(model: NodeModel, calibration_clips: NodeData, features: FeatureSettings, how: Calibration) -> NodeModel:
    """``model`` with the temperature ``how`` fits on its calibration clips, recorded in its metadata.

    Pool-then-calibrate (Rahaman & Thiery, NeurIPS 2021): the temperature is fitted on the
    *deployed* model's raw clip probabilities (an ensemble's members already averaged), on the
    split's validation clips, which no member trained, early-stopped or was chosen on. Those raw
    probabilities are kept as the node's held-out set; the tree's calibration scores (for
    ``--target-accuracy``) are assembled from them.
    """
    raw = clip_probabilities(model, calibration_clips, features)
    held_out = HeldOut(raw, calibration_clips.labels, CALIBRATION_SOURCE, tuple(calibration_clips.ids))
    model.temperature, model.metadata["calibration"] = held_out.fitted(how)
    model.held_out = held_out
    return model


def stats_out_of_fold(train: NodeData, preset: Preset, seed: int, stats: StatsNode) -> np.ndarray:
    """The statistics classifier's probabilities on the clips the CNN members held out of ``train``.

    Refitted on each member's training clips (:func:`~hiergenre.training.node_data.held_out_parts`,
    the same draw as the networks'), rows in the order of the CNN's out-of-fold set, so ``auto``
    compares the two on clips neither trained on, without touching the calibration clips.
    """
    config = preset.train
    parts = held_out_parts(train, config.members, config.cross_fitted, seed)
    parts = parts if config.cross_fitted else parts[:1]
    probabilities = []
    for part_train, part_held in parts:
        part = replace(stats, stats=fit_statistics(part_train, preset, len(stats.classes)))
        probabilities.append(clip_probabilities(part, part_held, preset.features))
    return np.concatenate(probabilities)


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
    cnn_proba: np.ndarray, stats_proba: np.ndarray, labels: np.ndarray
) -> tuple[float, dict[float, float]]:
    """The CNN weight among :data:`AUTO_CNN_WEIGHTS` with the lowest clip-level held-out loss.

    Returns the weight and every candidate's loss. ``cnn_proba`` and ``stats_proba`` are both
    models' clip probabilities ``(n_clips, n_classes)`` on the same held-out clips; the candidates
    are their mixtures, exactly as the ensemble node mixes its window probabilities (the mean of a
    mixture is the mixture of the means).
    """
    losses = {
        weight: clip_log_loss(weight * cnn_proba + (1 - weight) * stats_proba, labels) for weight in AUTO_CNN_WEIGHTS
    }
    return min(losses, key=losses.__getitem__), losses
