"""A decision node's training data, and how a node model is scored on it clip by clip.

Each decision node learns to tell its children apart from the clips whose genre lies below it:
a clip's label at a node is the child on the path to its genre. Training data never leaks
validation or test clips, since the split is made before any of this is computed. Models are
scored as prediction uses them: windows spread over each clip, probabilities averaged per clip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hiergenre.cascade.cascade import NodeClassifier
from hiergenre.cascade.cascade import clip_probabilities as cascade_clip_probabilities
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.config import FeatureSettings, Preset
from hiergenre.data.datasets import Clip
from hiergenre.features.windows import PairedFrames, prediction_windows, windows


@dataclass
class NodeData:
    """The clips below one node: their matrices of frames ``(n_frames, n_dims)``, child indices and ids (paths)."""

    clips: list[np.ndarray] | list[PairedFrames]
    labels: np.ndarray
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.ids:  # anonymous clips (tests, tools): numbered
            self.ids = [f"#{i}" for i in range(len(self.clips))]

    def __len__(self) -> int:
        return len(self.clips)

    def part(self, name: str) -> NodeData:
        """The same clips seen by one part of a node (``lmfcc`` or ``musicnn``) under the paired front-end.

        Clips of a single front-end are returned as they are: each part then sees them all.
        """
        clips = [c.part(name) if isinstance(c, PairedFrames) else c for c in self.clips]
        return NodeData(clips, self.labels, self.ids)

    def subset(self, keep: np.ndarray) -> NodeData:
        """The clips where the boolean mask ``keep`` is true."""
        chosen = np.flatnonzero(keep)
        return NodeData([self.clips[i] for i in chosen], self.labels[keep], [self.ids[i] for i in chosen])


def node_data(tree: GenreTree, node: str, clips: Sequence[Clip], frames: Mapping[str, np.ndarray]) -> NodeData:
    """Clips whose genre lies below ``node``, labelled by the child on the path to their genre."""
    children = tree.children(node)
    matrices, labels, ids = [], [], []
    for clip in clips:
        child = tree.child_towards(node, clip.genre)
        if child is not None and str(clip.path) in frames:
            matrices.append(frames[str(clip.path)])
            labels.append(children.index(child))
            ids.append(str(clip.path))
    return NodeData(matrices, np.asarray(labels, dtype=int), ids)


def pooled(*parts: NodeData) -> NodeData:
    """The clips of several NodeData together."""
    return NodeData(
        [c for p in parts for c in p.clips],
        np.concatenate([p.labels for p in parts]).astype(int),
        [i for p in parts for i in p.ids],
    )


def stacked_windows(data: NodeData, preset: Preset, *, mode: str, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Every clip's windows (cut by ``mode``, see :func:`~hiergenre.features.lmfcc.windows`) stacked.

    Returns ``(n_windows, window_frames, n_dims)`` and one label per window.
    """
    if not len(data):
        shape = (0, preset.features.window_frames, preset.features.n_dims)
        return np.zeros(shape, np.float32), np.zeros(0, int)
    stacks = [windows(f, preset.features.window_frames, mode=mode, hop=hop) for f in data.clips]
    labels = [np.full(len(stack), label) for stack, label in zip(stacks, data.labels, strict=True)]
    return np.concatenate(stacks), np.concatenate(labels)


def cross_fit_parts(train: NodeData, folds: int, seed: int) -> list[tuple[NodeData, NodeData]]:
    """``folds`` (train, held-out) pairs that together hold out every clip of ``train`` once.

    The clips are dealt class by class into ``folds`` stratified folds; pair ``k`` holds out fold
    ``k`` and trains on the rest. Each member of a cross-fitted ensemble thus early-stops on clips
    it never trained on, while the ensemble as a whole learns from all of them. The split's
    validation clips take no part: they are the calibration clips (:func:`held_out_parts`).
    """
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(train), dtype=int)
    for label in np.unique(train.labels):
        of_class = rng.permutation(np.flatnonzero(train.labels == label))
        fold[of_class] = (np.arange(len(of_class)) + rng.integers(folds)) % folds
    return [(train.subset(fold != k), train.subset(fold == k)) for k in range(folds)]


#: A network that early-stops without cross-fitting holds out one fold of this many of its training clips.
STOPPING_FOLDS = 5


def can_hold_out(train: NodeData) -> bool:
    """Whether every class of ``train`` has a clip to hold out and one to train on (at least 2 clips).

    A node with fewer has nothing to early-stop on: its networks train for the epoch cap instead.
    """
    counts = np.bincount(train.labels) if len(train) else np.zeros(0, int)
    return bool(len(train)) and int(counts[counts > 0].min()) >= 2


def held_out_parts(train: NodeData, members: int, cross_fitted: bool, seed: int) -> list[tuple[NodeData, NodeData]]:
    """Each network member's (training, early-stopping) clips, all drawn from ``train``.

    The split's validation clips are never among them: they calibrate the deployed node (and set
    ``--target-accuracy``), which is honest only if no member trained, early-stopped or was chosen
    on them. Cross-fitted members hold out one fold each of ``members`` folds; other members share
    one held-out fold of :data:`STOPPING_FOLDS`.
    """
    if cross_fitted:
        return cross_fit_parts(train, members, seed)
    return [cross_fit_parts(train, STOPPING_FOLDS, seed)[0]] * members


#: Member ``m`` of a node's ensemble trains from ``node_seed + MEMBER_SEED_STRIDE * m``: the stride keeps
#: one node's members clear of the next nodes' seeds (``node_seed + 1``, ``+ 2``, ...).
MEMBER_SEED_STRIDE = 1000


def member_seed(node_seed: int, member: int) -> int:
    """The seed member ``member`` (0-based) of a node's ensemble trains from; member 0 uses the node's own."""
    return node_seed + MEMBER_SEED_STRIDE * member


def balanced_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """Class weights inversely proportional to class frequency (1.0 everywhere when balanced)."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.ones(n_classes)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return {i: float(w) for i, w in enumerate(weights)}


def clip_probabilities(model: NodeClassifier, data: NodeData, features: FeatureSettings) -> np.ndarray:
    """``(n_clips, n_classes)``: the model's window probabilities averaged per clip, as prediction does.

    Columns follow ``model.classes_``; all clips' windows go to the model in one call. These are
    the raw probabilities, before the model's calibration.
    """
    if not len(data):
        return np.zeros((0, len(model.classes_)))
    stacks = [prediction_windows(f, features) for f in data.clips]
    return cascade_clip_probabilities(
        model, stacks, [str(c) for c in model.classes_], f"model of node {getattr(model, 'node', '?')!r}"
    )


def clip_log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-probability of each clip's true class."""
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))


def clip_accuracy(model: NodeClassifier, data: NodeData, features: FeatureSettings) -> float | None:
    """Share of clips whose child is predicted right (prediction windows); None without clips."""
    if not len(data):
        return None
    return float(np.mean(clip_probabilities(model, data, features).argmax(axis=1) == data.labels))
