"""The small LMFCC CNN in Keras: how it is built, averaged into an ensemble, and loaded.

Only training and the reference prediction path (``--runtime keras``) import this module's
Keras; the default prediction path runs the LiteRT exports (:mod:`hiergenre.models.litert`).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

from hiergenre.config import FeatureConfig, ModelConfig
from hiergenre.errors import HierGenreError
from hiergenre.native import native_stderr_muted

#: TensorFlow's intra- and inter-op threads in every process that trains. On this network and
#: batches of 32, one thread trains as fast as two (measured: optimiser steps of train-all on
#: gtzan-mini took 30.6 s on one thread, 37.6 s on two), parallelism comes from training node
#: models in parallel processes (``--jobs``), and a thread count that never changes keeps the
#: float32 sums, so the trained weights, the same whatever ``--jobs`` is.
TRAINING_THREADS = 1


def pin_training_threads() -> bool:
    """Set TensorFlow's intra- and inter-op threads of this process to :data:`TRAINING_THREADS`.

    The setting is process-wide and TensorFlow accepts it only before its runtime starts (the
    first operation), so training calls this before it touches TensorFlow
    (:func:`hiergenre.training.tree.run_node_job`, :mod:`hiergenre.training.keras_loop`). Nothing
    else does: importing hiergenre, predicting (even with the Keras runtime) and evaluating leave
    the threads of a notebook or application as they are.

    Returns whether the threads are pinned. When TensorFlow already runs in this process with
    other threads (a Keras prediction, or the caller's own TensorFlow work, came first) they cannot
    change; training still runs, with a warning that its weights may differ from those of a fresh
    process (``hiergenre train-all``, or ``jobs`` of 2 or more, trains in fresh processes).
    """
    _quiet_tensorflow_environment()
    with native_stderr_muted():
        import tensorflow as tf

    threading = tf.config.threading
    wanted = (TRAINING_THREADS, TRAINING_THREADS)
    if (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()) == wanted:
        return True
    try:
        threading.set_intra_op_parallelism_threads(TRAINING_THREADS)
        threading.set_inter_op_parallelism_threads(TRAINING_THREADS)
    except RuntimeError:  # the runtime already started: its thread pools are fixed for the process
        warnings.warn(
            "TensorFlow already runs in this process with other thread settings, so training here cannot use "
            f"{TRAINING_THREADS} thread(s): its weights may differ from those of a fresh process",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True


def _quiet_tensorflow_environment() -> None:
    """Keras on TensorFlow, without TensorFlow's informational native log lines (unless the user set them)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def import_keras() -> Any:
    """Import Keras on the TensorFlow backend, its start-up chatter silenced.

    It leaves TensorFlow's thread settings alone (training pins them first, see
    :func:`pin_training_threads`). TensorFlow 2.21 prints native log lines (absl, oneDNN) at import
    time that ignore ``TF_CPP_MIN_LOG_LEVEL``; they would bury the one-line messages users need, so
    the native stderr is muted for the duration of the import only. Python exceptions still propagate.
    """
    _quiet_tensorflow_environment()
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with native_stderr_muted():
        import keras
        import tensorflow as tf

        tf.constant(0.0) + 1.0  # the first op triggers the remaining one-off log lines
        tf.get_logger().setLevel("ERROR")  # retracing notices are about Keras internals, not the user
    return keras


def training_device() -> str:
    """Where TensorFlow trains in this process: ``CPU``, or ``GPU`` and the device's name."""
    import_keras()
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return f"GPU ({', '.join(g.name for g in gpus)})" if gpus else "CPU"


def build_cnn(n_classes: int, model: ModelConfig, features: FeatureConfig, *, seed: int | None = None) -> Any:
    """The small LMFCC CNN with ``n_classes`` softmax outputs.

    ``seed`` seeds each layer's initial weights and the dropout masks explicitly. Without it Keras
    draws layer seeds from Python's global ``random``, which other threads of the process may use
    at the same time (a Dask worker's event loop does), so the same seed could give another network.

    Input ``(window_frames, n_mfcc, 1)``. Conv 1 has kernel ``(first_kernel_time, n_mfcc)``,
    spanning all coefficients, and stride ``first_stride_time`` over time (the kernel length by
    default); max-pooling over time follows convs 1 and 2; conv 3 is
    followed by average pooling over time; then dropout and a dense softmax layer. With the
    ``paper`` preset this is exactly the report's network (about 8k parameters for 10 classes).
    """
    if n_classes < 2:
        raise HierGenreError(f"a classifier needs at least two classes, got {n_classes}")
    keras = import_keras()
    layers = keras.layers
    inputs = keras.Input((features.window_frames, features.n_mfcc, 1), name="lmfcc")
    x = inputs
    kernels = [(model.first_kernel_time, features.n_mfcc), (model.kernel_time, 1), (model.kernel_time, 1)]

    def seeded(offset: int) -> dict[str, Any]:  # the same initialiser Keras picks, with an explicit seed
        return {} if seed is None else {"kernel_initializer": keras.initializers.GlorotUniform(seed=seed + offset)}

    for index, kernel in enumerate(kernels):
        first = index == 0
        x = layers.Conv2D(
            model.filters,
            kernel,
            strides=(model.first_stride_time or kernel[0], kernel[1]) if first else (1, 1),
            padding="valid" if first else "same",
            use_bias=not model.batch_norm,
            name=f"conv{index + 1}",
            **seeded(index),
        )(x)
        if model.batch_norm:
            x = layers.BatchNormalization(name=f"bn{index + 1}")(x)
        x = layers.ReLU(name=f"relu{index + 1}")(x)
        conv_output = x
        if index < 2:
            x = layers.MaxPooling2D((model.pool_time, 1), padding="same", name=f"maxpool{index + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="time_average")(x)
    if model.stat_pooling:
        x = layers.Concatenate(name="mean_variance")([x, _time_variance(keras, conv_output)])
        if model.batch_norm:
            x = layers.BatchNormalization(name="bn_stats")(x)
    x = layers.Dropout(model.dropout, name="dropout", seed=None if seed is None else seed + 10)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax", **seeded(11))(x)
    return keras.Model(inputs, outputs, name="lmfcc_cnn")


def average_networks(networks: list[Any]) -> Any:
    """One Keras model whose output is the mean of ``networks``' outputs (a seed ensemble).

    Kept as a single graph so it saves, loads in safe mode and exports to LiteRT exactly like a
    single network: nothing downstream needs to know how many members it has.
    """
    keras = import_keras()
    inputs = keras.Input(networks[0].input_shape[1:], name="lmfcc")
    outputs = []
    for index, network in enumerate(networks):
        network.name = f"member{index + 1}"
        outputs.append(network(inputs))
    average = keras.layers.Average(name="member_average")(outputs)
    return keras.Model(inputs, average, name="lmfcc_cnn_ensemble")


def _time_variance(keras: Any, x: Any) -> Any:
    """Variance over time of each filter (statistics pooling).

    Built from stock layers only (mean of squares minus squared mean), so the saved model loads
    in Keras safe mode without custom code.
    """
    layers = keras.layers
    mean = layers.GlobalAveragePooling2D(name="stat_mean")(x)
    squares = layers.GlobalAveragePooling2D(name="stat_mean_square")(layers.Multiply(name="stat_square")([x, x]))
    squared_mean = layers.Multiply(name="stat_squared_mean")([mean, mean])
    return layers.Subtract(name="time_variance")([squares, squared_mean])


def load_network(path: Path, node: str) -> Any:
    """A saved Keras network, loaded in safe mode (no pickled code), or a one-line error."""
    keras = import_keras()
    if not path.is_file():
        raise HierGenreError(f"network of node {node!r} is missing: {path}")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError) as exc:
        raise HierGenreError(f"cannot load model of node {node!r} from {path.parent}: {exc}") from None
