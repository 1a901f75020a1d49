"""Training the small LMFCC CNN with Keras: augmented epochs, clip-level validation, ensembles.

Importing this module imports TensorFlow (seconds) and pins its threads for the process
(:func:`~hiergenre.models.network.pin_training_threads`), so only :func:`hiergenre.training.node.fit_node`
imports it, and only for node kinds that have a network.

Each epoch draws fresh training windows (random crops, masks and mixup when the preset asks for
them); validation scores whole clips as prediction does (windows spread over the clip,
probabilities averaged), so early stopping picks the epoch that is best for what the cascade
actually uses. Several members (a seed ensemble, optionally cross-fitted) are averaged into one
network that saves, loads and exports like a single one.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

import numpy as np

from hiergenre.cascade.calibration import HeldOut
from hiergenre.config import Preset, stable_hash
from hiergenre.features.windows import Normalizer, prediction_windows
from hiergenre.models.network import average_networks, build_cnn, import_keras, pin_training_threads
from hiergenre.progress import ModelProgress, PhaseTimer, SilentProgress
from hiergenre.training.augmentation import mask_runs, mixup, random_crops
from hiergenre.training.node_data import (
    NodeData,
    balanced_weights,
    can_hold_out,
    clip_log_loss,
    held_out_parts,
    member_seed,
    stacked_windows,
)

pin_training_threads()  # before TensorFlow starts, if nothing in this process started it yet
keras = import_keras()

History = dict[str, list[float]]
#: Windows per forward pass when whole validation sets are scored.
FORWARD_CHUNK = 4096


def fit_cnn(
    train: NodeData,
    valid: NodeData,
    preset: Preset,
    n_classes: int,
    *,
    epochs: int,
    seed: int,
    progress: ModelProgress | None = None,
    timer: PhaseTimer | None = None,
) -> tuple[Normalizer, Any, History, HeldOut | None]:
    """Train the preset's CNN (all its members); returns the normaliser, the network, the history
    and the members' out-of-fold clip probabilities (None when they did not hold clips out).

    With ``patience`` set, each member stops once its clip-level loss on clips it holds out of
    ``train`` (:func:`~hiergenre.training.node_data.held_out_parts`) has not improved for that many
    epochs, and the weights of its best epoch are restored. Without it (the paper's fixed epochs)
    (or when a class has a single clip to learn from) the network trains on all of ``train`` for the
    epoch cap and ``valid`` is only watched. Either way ``valid``
    changes nothing: it stays honest for calibration. The history of an ensemble is its members'
    histories one after another.
    """
    config = preset.train
    mode = "first" if config.windows == "first" else "all"
    stops = config.patience is not None and can_hold_out(train)
    parts = held_out_parts(train, config.members, config.cross_fitted, seed) if stops else [(train, valid)]
    parts = parts if len(parts) == config.members else parts * config.members
    normalizer = Normalizer.fit(stacked_windows(train, preset, mode=mode, hop=config.window_hop_frames)[0])
    members, histories, member_held_out = [], [], []
    for member, (member_train, member_stop) in enumerate(parts):
        fixed = stacked_windows(member_train, preset, mode=mode, hop=config.window_hop_frames)
        network, history = fit_network(
            member_train,
            member_stop,
            fixed,
            normalizer,
            preset,
            n_classes,
            epochs=epochs,
            seed=member_seed(seed, member),
            progress=progress or SilentProgress(),
            timer=timer or PhaseTimer(),
        )
        members.append(network)
        histories.append(history)
        if stops and config.cross_fitted:
            proba = ClipValidation(member_stop, normalizer, preset).probabilities(network, n_classes)
            member_held_out.append(HeldOut(proba, member_stop.labels, "out-of-fold", tuple(member_stop.ids)))
    history = {k: [v for h in histories for v in h.get(k, [])] for k in histories[0]}
    history["member_epochs"] = [len(h["loss"]) for h in histories]
    held_out = [held_out_accuracy(h, restores_best=stops) for h in histories]
    if all(a is not None for a in held_out):
        history["member_valid_accuracy"] = held_out
    final = members[0] if len(members) == 1 else average_networks(members)
    out_of_fold = None
    if stops and config.cross_fitted:
        out_of_fold = HeldOut.join(member_held_out, "out-of-fold predictions of the members")
    elif stops:
        stop = parts[0][1]
        proba = ClipValidation(stop, normalizer, preset).probabilities(final, n_classes)
        out_of_fold = HeldOut(proba, stop.labels, "early-stopping clips", tuple(stop.ids))
    return normalizer, final, history, out_of_fold


def held_out_accuracy(history: History, *, restores_best: bool) -> float | None:
    """A member's clip accuracy on its validation clips at its kept epoch (the lowest validation loss).

    With early stopping the best epoch's weights are restored; without it the last epoch's stay.
    """
    if not history.get("val_loss"):
        return None
    losses = history["val_loss"]
    kept = int(np.argmin(losses)) if restores_best else len(losses) - 1
    return float(history["val_accuracy"][kept])


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
    progress: ModelProgress,
    timer: PhaseTimer,
) -> tuple[Any, History]:
    """One CNN from one seed; ``fixed`` are the windows used when the preset does not crop at random.

    Each epoch's windows are drawn in numpy (:class:`EpochDraws`, the same draws as before), then
    one compiled call (:class:`CompiledLoop`) runs every batch of the epoch and another scores the
    validation clips: no per-batch Python, no Keras ``fit`` machinery. ``timer`` receives the
    seconds of each phase: ``setup`` (network, compiled loop), ``draw`` (data preparation),
    ``steps`` (optimiser steps), ``validation``.
    """
    with timer.phase("setup"):
        keras.utils.set_random_seed(seed)
        config = preset.train
        network = build_cnn(n_classes, preset.model, preset.features, seed=seed)
        draws = EpochDraws(train, fixed, normalizer, preset, n_classes, np.random.default_rng(seed))
        loop = CompiledLoop.for_network(network, preset, n_classes)
        validation = ClipValidation(valid, normalizer, preset)
    history: History = {"loss": [], "accuracy": []}
    best, best_loss, waited = None, np.inf, 0
    for _ in range(epochs):
        with timer.phase("draw"):
            data = draws.next()
        timer.count("windows", len(data[0]))
        with timer.phase("steps"):
            loss, accuracy = loop.epoch(*data)
        with timer.phase("validation"):
            logs = {"loss": loss, "accuracy": accuracy, **validation.score(loop)}
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        progress.epoch(logs)
        if config.patience is None or "val_loss" not in logs:
            continue
        if logs["val_loss"] < best_loss:
            best_loss, waited = logs["val_loss"], 0
            best = loop.snapshot(best)
        else:
            waited += 1
            if waited >= config.patience:
                break
    if best is not None:
        loop.restore(best)
    loop.copy_to(network)
    return network, history


class EpochDraws:
    """Each epoch's (x, one-hot y, class weight): crops, normalisation, masks and mixup in numpy."""

    def __init__(
        self,
        train: NodeData,
        fixed: tuple[np.ndarray, np.ndarray],
        normalizer: Normalizer,
        preset: Preset,
        n_classes: int,
        rng: np.random.Generator,
    ) -> None:
        self.train, self.fixed, self.normalizer, self.preset = train, fixed, normalizer, preset
        self.n_classes, self.rng = n_classes, rng
        self.weights = balanced_weights(train.labels, n_classes) if preset.train.balance_classes else None

    def next(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


class CompiledLoop:
    """A network's training epoch and forward pass as compiled TensorFlow functions.

    One call runs every batch of an epoch in a ``tf.while_loop`` (Adam, weighted categorical
    cross-entropy averaged over each batch, as Keras' ``fit`` computes it), so the per-batch cost
    is the network's arithmetic and not Python's. Tracing those functions costs more than a second,
    so one loop per architecture is kept for the process (:meth:`for_network`): each new network
    (a member, a node) is trained in the loop's own network, started from the new network's
    initial weights and a fresh optimizer, and its trained weights are copied back.
    """

    _cache: ClassVar[dict[str, CompiledLoop]] = {}

    @classmethod
    def for_network(cls, network: Any, preset: Preset, n_classes: int) -> CompiledLoop:
        """The process's loop for this architecture, reset to ``network``'s weights and a fresh Adam."""
        train = preset.train
        key = stable_hash(
            [asdict(preset.model), asdict(preset.features), n_classes, train.learning_rate, train.batch_size]
        )
        if key not in cls._cache:
            template = build_cnn(n_classes, preset.model, preset.features)
            cls._cache[key] = cls(template, preset.train.learning_rate, preset.train.batch_size)
        loop = cls._cache[key]
        loop.start_from(network)
        return loop

    def start_from(self, network: Any) -> None:
        """Take ``network``'s weights (and random-generator states) and reset the optimizer."""
        for mine, theirs in zip(self.network.variables, network.variables, strict=True):
            mine.assign(theirs)
        for variable, initial in zip(self.optimizer.variables, self.optimizer_start, strict=True):
            variable.assign(initial)

    def copy_to(self, network: Any) -> None:
        """Give ``network`` the trained weights."""
        for theirs, mine in zip(network.variables, self.network.variables, strict=True):
            theirs.assign(mine)

    def __init__(self, network: Any, learning_rate: float, batch_size: int) -> None:
        import tensorflow as tf

        self.tf, self.network, self.batch_size = tf, network, batch_size
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(network.trainable_variables)
        self.optimizer_start = [np.array(v.numpy()) for v in self.optimizer.variables]
        signature = [tf.TensorSpec([None, *network.input_shape[1:]], tf.float32)]
        self._epoch = tf.function(
            self._run_epoch,
            input_signature=[
                *signature,
                tf.TensorSpec([None, network.output_shape[-1]], tf.float32),
                tf.TensorSpec([None], tf.float32),
            ],
        )
        self.forward = tf.function(lambda x: network(x, training=False), input_signature=signature)

    def _run_epoch(self, x: Any, y: Any, w: Any) -> tuple[Any, Any]:
        tf, network = self.tf, self.network
        n = tf.shape(x)[0]
        batches = (n + self.batch_size - 1) // self.batch_size
        total_loss, total_hits, total_weight = tf.constant(0.0), tf.constant(0.0), tf.constant(0.0)
        for index in tf.range(batches):
            start = index * self.batch_size
            xb, yb, wb = (
                x[start : start + self.batch_size],
                y[start : start + self.batch_size],
                w[start : start + self.batch_size],
            )
            with tf.GradientTape() as tape:
                proba = network(xb, training=True)
                per_window = keras.losses.categorical_crossentropy(yb, proba)
                loss = tf.reduce_sum(wb * per_window) / tf.cast(tf.shape(xb)[0], tf.float32)
            variables = network.trainable_variables
            self.optimizer.apply(tape.gradient(loss, variables), variables)
            size = tf.cast(tf.shape(xb)[0], tf.float32)
            hits = tf.cast(tf.equal(tf.argmax(proba, axis=1), tf.argmax(yb, axis=1)), tf.float32)
            total_loss += loss * size
            total_hits += tf.reduce_sum(wb * hits)
            total_weight += tf.reduce_sum(wb)
        return total_loss / tf.cast(n, tf.float32), total_hits / total_weight

    def epoch(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
        """Train on every batch of one epoch; returns its mean loss and weighted accuracy."""
        loss, accuracy = self._epoch(x, y, w)
        return float(loss), float(accuracy)

    def snapshot(self, into: list[Any] | None) -> list[Any]:
        """Copy every weight (batch-norm statistics included), reusing the buffers of ``into``."""
        if into is None:
            return [self.tf.Variable(v, trainable=False) for v in self.network.weights]
        for saved, current in zip(into, self.network.weights, strict=True):
            saved.assign(current)
        return into

    def restore(self, saved: list[Any]) -> None:
        """Put the weights of a :meth:`snapshot` back."""
        for current, value in zip(self.network.weights, saved, strict=True):
            current.assign(value)


class ClipValidation:
    """Clip-level ``val_loss``/``val_accuracy``: windows spread over each clip, probabilities averaged.

    The stopping point is thus chosen for the quantity the cascade actually uses.
    """

    def __init__(self, valid: NodeData, normalizer: Normalizer, preset: Preset) -> None:
        stacks = [prediction_windows(f, preset.features) for f in valid.clips]
        self.labels = valid.labels
        self.starts = np.cumsum([0, *(len(s) for s in stacks[:-1])]) if stacks else None
        self.sizes = np.array([len(s) for s in stacks])
        self.x = normalizer.transform(np.concatenate(stacks))[..., None] if stacks else None

    def probabilities(self, network: Any, n_classes: int) -> np.ndarray:
        """``(n_clips, n_classes)``: the window probabilities of ``network`` (or a compiled forward
        pass) averaged per clip."""
        if self.x is None:
            return np.zeros((0, n_classes))
        forward = network.forward if isinstance(network, CompiledLoop) else lambda x: network(x, training=False)
        window_proba = np.concatenate(  # in chunks: a large validation set must not be one giant batch
            [
                np.asarray(forward(self.x[i : i + FORWARD_CHUNK]), dtype=np.float64)
                for i in range(0, len(self.x), FORWARD_CHUNK)
            ]
        )
        return np.add.reduceat(window_proba, self.starts, axis=0) / self.sizes[:, None]

    def score(self, loop: CompiledLoop) -> dict[str, float]:
        """The logs of one epoch (empty without validation clips)."""
        if self.x is None:
            return {}
        proba = self.probabilities(loop, 0)
        return {
            "val_loss": clip_log_loss(proba, self.labels),
            "val_accuracy": float(np.mean(proba.argmax(axis=1) == self.labels)),
        }
