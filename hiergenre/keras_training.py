"""Training the small LMFCC CNN with Keras: augmented epochs, clip-level validation, ensembles.

Importing this module imports TensorFlow (seconds), so only :func:`hiergenre.node_training.fit_node`
imports it, and only for node kinds that have a network.

Each epoch draws fresh training windows (random crops, masks and mixup when the preset asks for
them); validation scores whole clips as prediction does (windows spread over the clip,
probabilities averaged), so early stopping picks the epoch that is best for what the cascade
actually uses. Several members (a seed ensemble, optionally cross-fitted) are averaged into one
network that saves, loads and exports like a single one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hiergenre.augmentation import mask_runs, mixup, random_crops
from hiergenre.config import Preset
from hiergenre.features import Normalizer, prediction_windows
from hiergenre.network import average_networks, build_cnn, import_keras
from hiergenre.node_data import NodeData, balanced_weights, clip_log_loss, cross_fit_parts, pooled, stacked_windows
from hiergenre.progress import Reporter

keras = import_keras()

History = dict[str, list[float]]


def fit_cnn(
    train: NodeData, valid: NodeData, preset: Preset, n_classes: int, *, epochs: int, seed: int, reporter: Reporter
) -> tuple[Normalizer, Any, History]:
    """Train the preset's CNN (all its members); returns the normaliser, the network and the history.

    With ``patience`` set, each member stops once its clip-level validation loss has not improved
    for that many epochs, and the weights of its best epoch are restored. The history of an
    ensemble is its members' histories one after another.
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
        network, history = fit_network(
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


def fit_network(
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
) -> tuple[Any, History]:
    """One CNN from one seed; ``fixed`` are the windows used when the preset does not crop at random."""
    keras.utils.set_random_seed(seed)
    config = preset.train
    network = build_cnn(n_classes, preset.model, preset.features)
    network.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    batches = EpochBatches(train, fixed, normalizer, preset, n_classes, np.random.default_rng(seed))
    callbacks = [ClipValidation(valid, normalizer, preset, config.patience), ReporterCallback(reporter)]
    history = network.fit(batches, epochs=epochs, callbacks=callbacks, verbose=0)
    return network, {k: [float(v) for v in values] for k, values in history.history.items()}


class EpochBatches(keras.utils.PyDataset):
    """Batches of (x, one-hot y, class weight); a fresh augmented epoch is drawn after each one."""

    def __init__(
        self,
        train: NodeData,
        fixed: tuple[np.ndarray, np.ndarray],
        normalizer: Normalizer,
        preset: Preset,
        n_classes: int,
        rng: np.random.Generator,
    ) -> None:
        super().__init__()
        self.train, self.fixed, self.normalizer, self.preset = train, fixed, normalizer, preset
        self.n_classes, self.rng = n_classes, rng
        self.weights = balanced_weights(train.labels, n_classes) if preset.train.balance_classes else None
        self.data = self.draw_epoch()

    def draw_epoch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Windows ``(n, frames, n_mfcc, 1)`` normalised, masked and mixed; labels; weights."""
        config, rng = self.preset.train, self.rng
        if config.windows == "random":
            x, y = random_crops(
                self.train.clips, self.train.labels, self.preset.features.window_frames, config.crops_per_clip, rng
            )
        else:
            x, y = self.fixed
        order = rng.permutation(len(x))
        x, y = self.normalizer.transform(x[order]), y[order]
        if self.weights:
            w = np.array([self.weights[int(label)] for label in y], np.float32)
        else:
            w = np.ones(len(y), np.float32)
        x = mask_runs(mask_runs(x, config.time_mask, 1, rng), config.coef_mask, 2, rng)
        onehot = np.eye(self.n_classes, dtype=np.float32)[y]
        x, onehot = mixup(x, onehot, config.mixup, rng)
        return x[..., None], onehot, w

    def __len__(self) -> int:
        return max(1, int(np.ceil(len(self.data[0]) / self.preset.train.batch_size)))

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        size = self.preset.train.batch_size
        batch = slice(index * size, (index + 1) * size)
        return tuple(part[batch] for part in self.data)

    def on_epoch_end(self) -> None:
        """Draw the next epoch."""
        self.data = self.draw_epoch()


class ClipValidation(keras.callbacks.Callback):
    """Logs clip-level ``val_loss``/``val_accuracy`` each epoch; early stopping on ``val_loss``."""

    def __init__(self, valid: NodeData, normalizer: Normalizer, preset: Preset, patience: int | None) -> None:
        super().__init__()
        stacks = [prediction_windows(f, preset.features) for f in valid.clips]
        self.labels, self.patience, self.count = valid.labels, patience, len(stacks)
        self.owners = np.concatenate([np.full(len(s), i) for i, s in enumerate(stacks)]) if stacks else None
        self.x = normalizer.transform(np.concatenate(stacks))[..., None] if stacks else None

    def on_train_begin(self, logs: Mapping[str, float] | None = None) -> None:
        """Reset the best epoch."""
        self.best, self.best_weights, self.waited = np.inf, None, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Score the validation clips; stop after ``patience`` epochs without improvement."""
        if self.x is None or logs is None:
            return
        window_proba = np.asarray(self.model(self.x, training=False), dtype=np.float64)
        proba = np.stack([window_proba[self.owners == i].mean(axis=0) for i in range(self.count)])
        logs["val_loss"] = clip_log_loss(proba, self.labels)
        logs["val_accuracy"] = float(np.mean(proba.argmax(axis=1) == self.labels))
        if self.patience is None:
            return
        if logs["val_loss"] < self.best:
            self.best, self.best_weights, self.waited = logs["val_loss"], self.model.get_weights(), 0
        else:
            self.waited += 1
            self.model.stop_training = self.waited >= self.patience

    def on_train_end(self, logs: Mapping[str, float] | None = None) -> None:
        """Restore the best epoch's weights."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ReporterCallback(keras.callbacks.Callback):
    """Forwards each epoch's logs to a :class:`~hiergenre.progress.Reporter` (the CLI's progress bars)."""

    def __init__(self, reporter: Reporter) -> None:
        super().__init__()
        self.reporter = reporter

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        """Report the epoch."""
        self.reporter.epoch(dict(logs or {}))
