"""Node models: the small LMFCC CNN, and how a trained one is saved and loaded.

A :class:`NodeModel` is what the cascade calls at one tree node: it normalises raw LMFCC windows
with the statistics fitted on its own training data, runs the network and returns probabilities
over the node's children. It is saved as a Keras file plus a JSON file of metadata (label order,
feature parameters, normalisation statistics, training history, data fingerprint); the JSON is
written last, so its presence means the pair is complete. Loading uses Keras' safe mode; no
pickle is involved.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hiergenre.config import FeatureConfig, ModelConfig
from hiergenre.errors import HierGenreError
from hiergenre.features import Normalizer

FORMAT_VERSION = 1


def import_keras() -> Any:
    """Import Keras on the TensorFlow backend with TensorFlow's start-up chatter silenced.

    TensorFlow 2.21 prints native log lines (absl, oneDNN) at import time that ignore
    ``TF_CPP_MIN_LOG_LEVEL``; they would bury the one-line messages users need, so the native
    stderr is muted for the duration of the import only. Python exceptions still propagate.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with _native_stderr_muted():
        import keras
        import tensorflow as tf

        tf.constant(0.0) + 1.0  # the first op triggers the remaining one-off log lines
        tf.get_logger().setLevel("ERROR")  # retracing notices are about Keras internals, not the user
    return keras


@contextlib.contextmanager
def _native_stderr_muted() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def build_cnn(n_classes: int, model: ModelConfig, features: FeatureConfig) -> Any:
    """The small LMFCC CNN with ``n_classes`` softmax outputs.

    Input ``(window_frames, n_mfcc, 1)``. Conv 1 has kernel and stride ``(first_kernel_time,
    n_mfcc)``, spanning all coefficients; max-pooling over time follows convs 1 and 2; conv 3 is
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
    for index, kernel in enumerate(kernels):
        first = index == 0
        x = layers.Conv2D(
            model.filters,
            kernel,
            strides=kernel if first else (1, 1),
            padding="valid" if first else "same",
            use_bias=not model.batch_norm,
            name=f"conv{index + 1}",
        )(x)
        if model.batch_norm:
            x = layers.BatchNormalization(name=f"bn{index + 1}")(x)
        x = layers.ReLU(name=f"relu{index + 1}")(x)
        if index < 2:
            x = layers.MaxPooling2D((model.pool_time, 1), padding="same", name=f"maxpool{index + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="time_average")(x)
    x = layers.Dropout(model.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name="lmfcc_cnn")


@dataclass
class NodeModel:
    """A trained classifier for one tree node, in the form the cascade expects."""

    node: str
    classes: list[str]
    normalizer: Normalizer
    features: FeatureConfig
    network: Any
    metadata: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities over ``classes`` for each raw (unnormalised) LMFCC window."""
        x = self.normalizer.transform(np.asarray(windows))[..., np.newaxis]
        return np.asarray(self.network(x, training=False), dtype=np.float64)

    @property
    def n_parameters(self) -> int:
        """Number of weights of the network."""
        return int(self.network.count_params())

    def save(self, directory: str | Path) -> None:
        """Write ``<node>.keras`` then ``<node>.json``, each atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self.node}.", suffix=".keras")
        os.close(handle)
        try:
            self.network.save(tmp)
            os.replace(tmp, directory / f"{self.node}.keras")
        finally:
            Path(tmp).unlink(missing_ok=True)
        meta = {
            **self.metadata,
            "format_version": FORMAT_VERSION,
            "node": self.node,
            "classes": self.classes,
            "features": asdict(self.features),
            "normalizer": self.normalizer.to_dict(),
            "parameters": self.n_parameters,
        }
        write_json_atomic(directory / f"{self.node}.json", meta)

    @classmethod
    def load(cls, directory: str | Path, node: str) -> NodeModel:
        """Load a node model saved by :meth:`save`, in Keras safe mode."""
        directory = Path(directory)
        meta = read_json(directory / f"{node}.json", what=f"metadata of node {node!r}")
        if meta.get("format_version") != FORMAT_VERSION:
            raise HierGenreError(
                f"node {node!r} in {directory} was written by an incompatible hiergenre "
                f"(format {meta.get('format_version')}, expected {FORMAT_VERSION}); retrain with train-all"
            )
        keras = import_keras()
        try:
            network = keras.saving.load_model(directory / f"{node}.keras", compile=False, safe_mode=True)
        except (OSError, ValueError) as exc:
            raise HierGenreError(f"cannot load model of node {node!r} from {directory}: {exc}") from None
        return cls(
            node=node,
            classes=list(meta["classes"]),
            normalizer=Normalizer.from_dict(meta["normalizer"]),
            features=FeatureConfig(**meta["features"]),
            network=network,
            metadata=meta,
        )


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: str | Path, *, what: str) -> Any:
    """Read a JSON file, turning absence or corruption into a one-line error."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HierGenreError(f"{what} not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise HierGenreError(f"{what} is unreadable ({path}): {exc}") from None
