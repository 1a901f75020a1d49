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

from hiergenre.augmentation import mask_runs, mixup, random_crops
from hiergenre.config import Preset, stable_hash
from hiergenre.datasets import Clip
from hiergenre.features import Normalizer, prediction_windows, windows
from hiergenre.hierarchy import GenreTree
from hiergenre.models import NodeModel, StatsClassifier, average_networks, build_cnn, import_keras, read_json
from hiergenre.runtime import export_litert

#: Windows of a clip at this distance train the statistics classifier.
STATS_HOP_FRAMES = 50
#: Ensemble weights of the CNN that ``auto`` chooses among (1 = CNN only, 0 = statistics only).
AUTO_CNN_WEIGHTS = (1.0, 0.5, 0.0)


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
    kind: str = "cnn"


@dataclass
class NodeData:
    """The clips below one node: their LMFCC matrices and the index of the child each belongs to."""

    clips: list[np.ndarray]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.clips)

    def subset(self, keep: np.ndarray) -> NodeData:
        """The clips where the boolean mask ``keep`` is true."""
        return NodeData([c for c, k in zip(self.clips, keep, strict=True) if k], self.labels[keep])


def node_data(tree: GenreTree, node: str, clips: Sequence[Clip], frames: Mapping[str, np.ndarray]) -> NodeData:
    """Clips whose genre lies below ``node``, labelled by the child on the path to their genre."""
    children = tree.children(node)
    matrices, labels = [], []
    for clip in clips:
        child = tree.child_towards(node, clip.genre)
        if child is not None and str(clip.path) in frames:
            matrices.append(frames[str(clip.path)])
            labels.append(children.index(child))
    return NodeData(matrices, np.asarray(labels, dtype=int))


def node_examples(
    tree: GenreTree, node: str, clips: Sequence[Clip], frames: Mapping[str, np.ndarray], preset: Preset, *, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """Windows and child indices for the clips below ``node`` (``mode`` as in features.windows)."""
    return stacked_windows(node_data(tree, node, clips, frames), preset, mode=mode, hop=preset.train.window_hop_frames)


def stacked_windows(data: NodeData, preset: Preset, *, mode: str, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Every clip's windows (cut by ``mode``) stacked, with one label per window."""
    if not len(data):
        shape = (0, preset.features.window_frames, preset.features.n_mfcc)
        return np.zeros(shape, np.float32), np.zeros(0, int)
    stacks = [windows(f, preset.features.window_frames, mode=mode, hop=hop) for f in data.clips]
    labels = [np.full(len(stack), label) for stack, label in zip(stacks, data.labels, strict=True)]
    return np.concatenate(stacks), np.concatenate(labels)


def clip_probabilities(model: NodeModel, data: NodeData) -> np.ndarray:
    """One probability row per clip: the model's window probabilities averaged, as prediction does."""
    return np.stack([model.predict_proba(prediction_windows(f, model.features)).mean(axis=0) for f in data.clips])


def clip_log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-probability of each clip's true class."""
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))


def clip_accuracy(
    model: NodeModel, tree: GenreTree, clips: Sequence[Clip], frames: Mapping[str, np.ndarray], preset: Preset
) -> float | None:
    """Share of clips below the model's node whose child is predicted right (prediction windows)."""
    data = node_data(tree, model.node, clips, frames)
    if not len(data):
        return None
    return float(np.mean(clip_probabilities(model, data).argmax(axis=1) == data.labels))


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
    """Train the classifier of one node (kind set by the preset); returns it and the epochs run."""
    classes = tree.children(node)
    train_data, valid_data = node_data(tree, node, train, frames), node_data(tree, node, valid, frames)
    present = np.unique(train_data.labels)
    if len(present) < 2:
        return constant_model(node, classes, train_data, preset), 0
    kind = preset.train.node_model
    stats = _fit_stats(train_data, preset, len(classes)) if kind != "cnn" else None
    normalizer, network, history = (None, None, {})
    if kind != "stats":
        normalizer, network, history = fit_cnn(
            train_data, valid_data, preset, len(classes), epochs=epochs, seed=seed, reporter=reporter
        )
    if normalizer is None:
        normalizer = Normalizer.fit(stacked_windows(train_data, preset, mode="first", hop=1)[0])
    model = NodeModel(node, classes, normalizer, preset.features, network, stats, 0.0 if kind == "stats" else 1.0)
    model.metadata["history"] = history
    if kind in ("ensemble", "auto"):
        model.cnn_weight = _choose_cnn_weight(model, valid_data) if kind == "auto" else 0.5
        if model.cnn_weight == 1.0:  # auto chose the CNN alone: keep only what predicts
            model.stats = None
        elif model.cnn_weight == 0.0:
            model.network = None
    return model, len(history.get("loss", []))


def constant_model(node: str, classes: list[str], data: NodeData, preset: Preset) -> NodeModel:
    """The model of a node whose training data holds one class (or none): it always says that class.

    Nothing can be learned from one class, and a classifier fitted on it would crash or emit
    noise; the constant model keeps the tree usable and the summary says why.
    """
    present = np.unique(data.labels)
    probabilities = np.full(len(classes), 1.0 / len(classes))
    if len(present) == 1:
        probabilities = np.eye(len(classes))[int(present[0])]
    normalizer = Normalizer(np.zeros(preset.features.n_mfcc), np.ones(preset.features.n_mfcc))
    seen = ", ".join(classes[int(i)] for i in present) or "nothing"
    metadata = {"history": {}, "note": f"training data held a single class ({seen}): constant model"}
    return NodeModel(node, classes, normalizer, preset.features, metadata=metadata, constant=probabilities.tolist())


def _fit_stats(data: NodeData, preset: Preset, n_classes: int) -> StatsClassifier:
    x, y = stacked_windows(data, preset, mode="all", hop=STATS_HOP_FRAMES)
    return StatsClassifier.fit(x, y, n_classes)


def _choose_cnn_weight(model: NodeModel, valid: NodeData) -> float:
    """The CNN weight among AUTO_CNN_WEIGHTS with the lowest clip-level validation loss."""
    if not len(valid):
        return 0.5
    losses = {}
    for weight in AUTO_CNN_WEIGHTS:
        model.cnn_weight = weight
        losses[weight] = clip_log_loss(clip_probabilities(model, valid), valid.labels)
    model.metadata["auto_validation_loss"] = {str(w): v for w, v in losses.items()}
    return min(losses, key=losses.__getitem__)


def fit_cnn(
    train: NodeData,
    valid: NodeData,
    preset: Preset,
    n_classes: int,
    *,
    epochs: int,
    seed: int,
    reporter: Reporter,
) -> tuple[Normalizer, object, dict[str, list[float]]]:
    """Train the small CNN; returns its normaliser, the network and the per-epoch history.

    With ``patience`` set, training stops once the clip-level validation loss has not improved
    for that many epochs, and the weights of the best epoch are restored.
    """
    config = preset.train
    mode = "first" if config.windows == "first" else "all"
    parts = (
        cross_fit_parts(train, valid, config.members, seed)
        if config.cross_fitted
        else [(train, valid)] * config.members
    )
    seen = pooled(train, valid) if config.cross_fitted else train
    normalizer = Normalizer.fit(stacked_windows(seen, preset, mode=mode, hop=config.window_hop_frames)[0])
    members, histories = [], []
    for member, (member_train, member_valid) in enumerate(parts):
        fixed = stacked_windows(member_train, preset, mode=mode, hop=config.window_hop_frames)
        network, history = _fit_network(
            member_train,
            member_valid,
            fixed,
            normalizer,
            preset,
            n_classes,
            epochs=epochs,
            seed=seed + 1000 * member,
            reporter=reporter,
        )
        members.append(network)
        histories.append(history)
    if len(members) == 1:
        return normalizer, members[0], histories[0]
    history = {k: [v for h in histories for v in h.get(k, [])] for k in histories[0]}
    return normalizer, average_networks(members), history


def cross_fit_parts(train: NodeData, valid: NodeData, folds: int, seed: int) -> list[tuple[NodeData, NodeData]]:
    """``folds`` (train, validation) pairs that together use every clip of train and valid.

    The clips are pooled and dealt class by class into ``folds`` stratified folds; pair ``k``
    validates on fold ``k`` and trains on the rest. Each member of a cross-fitted ensemble thus
    early-stops on clips it never trained on, while the ensemble as a whole learns from all of
    them (as the statistics baseline, which needs no validation clips, does).
    """
    pool = pooled(train, valid)
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(pool), dtype=int)
    for label in np.unique(pool.labels):
        of_class = rng.permutation(np.flatnonzero(pool.labels == label))
        fold[of_class] = (np.arange(len(of_class)) + rng.integers(folds)) % folds
    return [(pool.subset(fold != k), pool.subset(fold == k)) for k in range(folds)]


def pooled(*parts: NodeData) -> NodeData:
    """The clips of several NodeData together."""
    return NodeData([c for p in parts for c in p.clips], np.concatenate([p.labels for p in parts]).astype(int))


def _fit_network(
    train: NodeData,
    valid: NodeData,
    fixed: tuple[np.ndarray, np.ndarray],
    normalizer: Normalizer,
    preset: Preset,
    n_classes: int,
    *,
    epochs: int,
    seed: int,
    reporter: Reporter,
) -> tuple[object, dict[str, list[float]]]:
    """One CNN from one seed, early-stopped on clip-level validation loss when the preset says so."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    config = preset.train
    network = build_cnn(n_classes, preset.model, preset.features)
    network.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    batches = _epoch_batches(keras, train, fixed, normalizer, preset, n_classes, np.random.default_rng(seed))
    callbacks = [
        _clip_validation(keras, valid, normalizer, preset, config.patience),
        _reporter_callback(keras, reporter),
    ]
    history = network.fit(batches, epochs=epochs, callbacks=callbacks, verbose=0)
    return network, {k: [float(v) for v in values] for k, values in history.history.items()}


def _epoch_batches(keras, train: NodeData, fixed, normalizer, preset: Preset, n_classes: int, rng):  # noqa: ANN001, ANN202
    """A Keras PyDataset that draws a fresh augmented epoch of (x, one-hot y, weight) each time."""
    config = preset.train
    weights = balanced_weights(train.labels, n_classes) if config.balance_classes else None

    def draw_epoch() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if config.windows == "random":
            x, y = random_crops(train.clips, train.labels, preset.features.window_frames, config.crops_per_clip, rng)
        else:
            x, y = fixed
        order = rng.permutation(len(x))
        x, y = normalizer.transform(x[order]), y[order]
        w = np.array([weights[int(label)] for label in y], np.float32) if weights else np.ones(len(y), np.float32)
        x = mask_runs(mask_runs(x, config.time_mask, 1, rng), config.coef_mask, 2, rng)
        onehot = np.eye(n_classes, dtype=np.float32)[y]
        x, onehot = mixup(x, onehot, config.mixup, rng)
        return x[..., None], onehot, w

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.data = draw_epoch()

        def __len__(self) -> int:
            return max(1, int(np.ceil(len(self.data[0]) / config.batch_size)))

        def __getitem__(self, index: int):  # noqa: ANN204
            batch = slice(index * config.batch_size, (index + 1) * config.batch_size)
            return tuple(part[batch] for part in self.data)

        def on_epoch_end(self) -> None:
            self.data = draw_epoch()

    return EpochBatches()


def _clip_validation(keras, valid: NodeData, normalizer: Normalizer, preset: Preset, patience: int | None):  # noqa: ANN001, ANN202
    """Callback logging clip-level ``val_loss``/``val_accuracy``; early stopping on ``val_loss``.

    Validation clips are scored like predictions (windows spread over the clip, probabilities
    averaged), so the stopping point is chosen for the quantity the cascade actually uses.
    """
    stacks = [prediction_windows(f, preset.features) for f in valid.clips]
    owners = np.concatenate([np.full(len(s), i) for i, s in enumerate(stacks)]) if stacks else np.zeros(0, int)
    x = normalizer.transform(np.concatenate(stacks))[..., None] if stacks else None

    class ClipValidation(keras.callbacks.Callback):
        def on_train_begin(self, logs=None) -> None:  # noqa: ANN001
            self.best, self.best_weights, self.waited = np.inf, None, 0

        def on_epoch_end(self, epoch: int, logs=None) -> None:  # noqa: ANN001
            if x is None or logs is None:
                return
            window_proba = np.asarray(self.model(x, training=False), dtype=np.float64)
            proba = np.stack([window_proba[owners == i].mean(axis=0) for i in range(len(stacks))])
            logs["val_loss"] = clip_log_loss(proba, valid.labels)
            logs["val_accuracy"] = float(np.mean(proba.argmax(axis=1) == valid.labels))
            if patience is None:
                return
            if logs["val_loss"] < self.best:
                self.best, self.best_weights, self.waited = logs["val_loss"], self.model.get_weights(), 0
            else:
                self.waited += 1
                self.model.stop_training = self.waited >= patience

        def on_train_end(self, logs=None) -> None:  # noqa: ANN001
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return ClipValidation()


def _reporter_callback(keras, reporter: Reporter):  # noqa: ANN001, ANN202
    """Adapter from Keras callbacks to a Reporter (built lazily so Keras loads only when training)."""

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
    remove_leftovers(out_dir)
    results = []
    for index, node in enumerate(tree.model_nodes):
        key = training_key(tree, node, preset, data_fingerprint, split_key, epochs, seed)
        started = time.perf_counter()
        model = _reusable(out_dir, node, key)
        reused = model is not None
        if model is None:
            reporter.start(f"{tree.name}/{node}", epochs * preset.train.members)
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
                valid_accuracy=None
                if preset.train.cross_fitted and model.network is not None  # it trained on those clips
                else clip_accuracy(model, tree, valid, frames, preset),
                epochs=int(model.metadata.get("epochs_run", 0)),
                seconds=float(model.metadata.get("seconds", 0.0)),
                parameters=model.n_parameters,
                reused=reused,
                kind=model.kind if model.kind != "ensemble" else f"ensemble ({model.cnn_weight:.1f} cnn)",
            )
        )
    return results


def remove_leftovers(directory: Path) -> None:
    """Delete the hidden temporary files an interrupted run may have left (never complete files)."""
    if directory.is_dir():
        for path in directory.glob(".*"):
            if path.is_file():
                path.unlink(missing_ok=True)


def _reusable(out_dir: Path, node: str, key: str) -> NodeModel | None:
    meta_path = out_dir / f"{node}.json"
    if not meta_path.is_file():
        return None
    try:
        if read_json(meta_path, what="node metadata").get("training_key") != key:
            return None
        model = NodeModel.load(out_dir, node)
        if model.network is not None and not (out_dir / f"{node}.tflite").is_file():
            export_litert(model.network, out_dir / f"{node}.tflite")  # lost or never written: recreate it
        return model
    except Exception:  # noqa: BLE001 - any damaged model is simply retrained
        return None
