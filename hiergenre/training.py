"""Training node models: one small CNN per decision node of a tree.

Each decision node learns to tell its children apart from the clips whose genre lies below it
(a clip's label at a node is the child on the path to its genre). Normalisation statistics are
fitted on that node's training windows only. Training data never leaks validation or test clips:
the split is made before any statistic is computed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from hiergenre.config import Preset, stable_hash
from hiergenre.datasets import Clip
from hiergenre.features import Normalizer, windows
from hiergenre.hierarchy import GenreTree
from hiergenre.models import NodeModel, build_cnn, import_keras, read_json

#: How many windows prediction and clip-level scoring look at per clip.
PREDICT_MAX_WINDOWS = 8


class Reporter(Protocol):
    """Receives progress while a model trains (the CLI draws progress bars from it)."""

    def start(self, label: str, epochs: int) -> None: ...

    def epoch(self, logs: Mapping[str, float]) -> None: ...

    def finish(self) -> None: ...


class SilentReporter:
    """A reporter that reports nothing (the API default)."""

    def start(self, label: str, epochs: int) -> None:
        """Ignore."""

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""


@dataclass(frozen=True)
class NodeResult:
    """One row of the training summary."""

    tree: str
    node: str
    classes: list[str]
    train_accuracy: float | None
    valid_accuracy: float | None
    epochs: int
    seconds: float
    parameters: int
    reused: bool = False


def node_examples(
    tree: GenreTree, node: str, clips: Sequence[Clip], frames: Mapping[str, np.ndarray], preset: Preset, *, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """Windows and child indices for the clips below ``node`` (``mode`` as in features.windows)."""
    children = tree.children(node)
    xs, ys = [], []
    for clip in clips:
        child = tree.child_towards(node, clip.genre)
        if child is None or str(clip.path) not in frames:
            continue
        stack = clip_windows(frames[str(clip.path)], preset, mode=mode)
        xs.append(stack)
        ys.append(np.full(len(stack), children.index(child)))
    if not xs:
        shape = (0, preset.features.window_frames, preset.features.n_mfcc)
        return np.zeros(shape, np.float32), np.zeros(0, int)
    return np.concatenate(xs), np.concatenate(ys)


def clip_windows(frames: np.ndarray, preset: Preset, *, mode: str) -> np.ndarray:
    """Windows of one clip as the preset cuts them (``spread`` is prediction's policy)."""
    return windows(
        frames,
        preset.features.window_frames,
        mode=mode,
        hop=preset.train.window_hop_frames,
        max_windows=PREDICT_MAX_WINDOWS,
    )


def clip_accuracy(
    model: NodeModel, tree: GenreTree, clips: Sequence[Clip], frames: Mapping[str, np.ndarray], preset: Preset
) -> float | None:
    """Share of clips below the model's node whose child is predicted right (prediction windows)."""
    hits = []
    for clip in clips:
        child = tree.child_towards(model.node, clip.genre)
        if child is None or str(clip.path) not in frames:
            continue
        proba = model.predict_proba(clip_windows(frames[str(clip.path)], preset, mode="spread")).mean(axis=0)
        hits.append(model.classes[int(np.argmax(proba))] == child)
    return float(np.mean(hits)) if hits else None


def balanced_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """Class weights inversely proportional to class frequency (1.0 everywhere when balanced)."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.ones(n_classes)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return {i: float(w) for i, w in enumerate(weights)}


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
    reporter: Reporter,
) -> tuple[NodeModel, int]:
    """Train the CNN of one node; returns the model and the number of epochs run."""
    keras = import_keras()
    classes = tree.children(node)
    x_train, y_train = node_examples(tree, node, train, frames, preset, mode=preset.train.windows)
    x_valid, y_valid = node_examples(tree, node, valid, frames, preset, mode=preset.train.windows)
    normalizer = Normalizer.fit(x_train)
    keras.utils.set_random_seed(seed)
    network = build_cnn(len(classes), preset.model, preset.features)
    network.compile(
        optimizer=keras.optimizers.Adam(preset.train.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks: list = [_ReporterCallback(keras, reporter)]
    validation = None
    if len(x_valid):
        validation = (normalizer.transform(x_valid)[..., None], y_valid)
        if preset.train.patience is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=preset.train.patience, restore_best_weights=True
                )
            )
    history = network.fit(
        normalizer.transform(x_train)[..., None],
        y_train,
        validation_data=validation,
        epochs=epochs,
        batch_size=preset.train.batch_size,
        class_weight=balanced_weights(y_train, len(classes)) if preset.train.balance_classes else None,
        callbacks=callbacks,
        verbose=0,
    )
    logs = {k: [float(v) for v in values] for k, values in history.history.items()}
    model = NodeModel(node, classes, normalizer, preset.features, network, {"history": logs})
    return model, len(logs.get("loss", []))


class _ReporterCallback:
    """Adapter from Keras callbacks to a Reporter (built lazily so Keras loads only when training)."""

    def __new__(cls, keras, reporter: Reporter):  # noqa: ANN001, D102
        class Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
                reporter.epoch(dict(logs or {}))

        return Callback()


def training_key(
    tree: GenreTree, node: str, preset: Preset, data_fingerprint: str, split_key: str, epochs: int, seed: int
) -> str:
    """Everything that determines a node model: equal keys mean the stored model can be reused."""
    return stable_hash(
        {
            "classes": tree.children(node),
            "leaves": {c: tree.leaves_under(c) for c in tree.children(node)},
            "preset": asdict(preset),
            "data": data_fingerprint,
            "split": split_key,
            "epochs": epochs,
            "seed": seed,
        }
    )


def train_tree(
    tree: GenreTree,
    split_parts: tuple[Sequence[Clip], Sequence[Clip]],
    frames: Mapping[str, np.ndarray],
    preset: Preset,
    out_dir: Path,
    *,
    epochs: int,
    seed: int,
    data_fingerprint: str,
    split_key: str,
    reporter: Reporter | None = None,
) -> list[NodeResult]:
    """Train (or reuse, when unchanged) every decision node of ``tree`` into ``out_dir``."""
    reporter = reporter or SilentReporter()
    train, valid = split_parts
    results = []
    for index, node in enumerate(tree.model_nodes):
        key = training_key(tree, node, preset, data_fingerprint, split_key, epochs, seed)
        started = time.perf_counter()
        model = _reusable(out_dir, node, key)
        reused = model is not None
        if model is None:
            reporter.start(f"{tree.name}/{node}", epochs)
            try:
                model, ran = fit_node(
                    tree, node, train, valid, frames, preset, epochs=epochs, seed=seed + index, reporter=reporter
                )
            finally:
                reporter.finish()
            model.metadata.update(
                {"training_key": key, "epochs_run": ran, "tree": tree.name, "seconds": time.perf_counter() - started}
            )
            model.save(out_dir)
        results.append(
            NodeResult(
                tree=tree.name,
                node=node,
                classes=model.classes,
                train_accuracy=clip_accuracy(model, tree, train, frames, preset),
                valid_accuracy=clip_accuracy(model, tree, valid, frames, preset),
                epochs=int(model.metadata.get("epochs_run", 0)),
                seconds=float(model.metadata.get("seconds", 0.0)),
                parameters=model.n_parameters,
                reused=reused,
            )
        )
    return results


def _reusable(out_dir: Path, node: str, key: str) -> NodeModel | None:
    meta_path = out_dir / f"{node}.json"
    if not meta_path.is_file() or not (out_dir / f"{node}.keras").is_file():
        return None
    try:
        if read_json(meta_path, what="node metadata").get("training_key") != key:
            return None
        return NodeModel.load(out_dir, node)
    except Exception:  # noqa: BLE001 - any damaged model is simply retrained
        return None
