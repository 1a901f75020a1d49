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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hiergenre.config import FeatureConfig, ModelConfig
from hiergenre.errors import HierGenreError
from hiergenre.features import Normalizer
from hiergenre.storage import atomic_file, atomic_path

#: Version of the node-model files; 2 added node kinds, statistics classifiers and LiteRT files.
FORMAT_VERSION = 2


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
    with native_stderr_muted():
        import keras
        import tensorflow as tf

        tf.constant(0.0) + 1.0  # the first op triggers the remaining one-off log lines
        tf.get_logger().setLevel("ERROR")  # retracing notices are about Keras internals, not the user
    return keras


@contextlib.contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Silence file descriptor 2 (native libraries' log lines) for the duration of the block."""
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
    for index, kernel in enumerate(kernels):
        first = index == 0
        x = layers.Conv2D(
            model.filters,
            kernel,
            strides=(model.first_stride_time or kernel[0], kernel[1]) if first else (1, 1),
            padding="valid" if first else "same",
            use_bias=not model.batch_norm,
            name=f"conv{index + 1}",
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
    x = layers.Dropout(model.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
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


def window_statistics(windows: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of each coefficient over each window: ``(n, 2 * n_mfcc)``.

    These timbre statistics are what the non-deep baseline classifies; they are also the bar a CNN
    has to beat to justify itself.
    """
    windows = np.asarray(windows, dtype=np.float64)
    return np.concatenate([windows.mean(axis=1), windows.std(axis=1)], axis=1)


@dataclass
class StatsClassifier:
    """LMFCC statistics, standardised, then a multinomial logistic regression.

    Fitted with scikit-learn but stored as plain arrays (JSON), so loading it needs neither
    pickle nor TensorFlow.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    @classmethod
    def fit(cls, windows: np.ndarray, labels: np.ndarray, n_classes: int, *, c: float = 1.0) -> StatsClassifier:
        """Fit on raw LMFCC windows and integer labels (class-balanced)."""
        from sklearn.linear_model import LogisticRegression

        x = window_statistics(windows)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 1e-8, scale, 1.0)
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        model.fit((x - mean) / scale, labels)
        coef = np.zeros((n_classes, x.shape[1]))
        intercept = np.zeros(n_classes)
        seen = model.classes_.astype(int)
        if len(seen) == 2:  # binary: sklearn keeps one row, the log-odds of the second class
            coef[seen[1]], intercept[seen[1]] = model.coef_[0], model.intercept_[0]
        else:
            coef[seen], intercept[seen] = model.coef_, model.intercept_
        absent = np.setdiff1d(np.arange(n_classes), seen)
        intercept[absent] = -1e3  # a class with no training data is never predicted
        return cls(mean, scale, coef, intercept)

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Class probabilities per window."""
        logits = ((window_statistics(windows) - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict[str, list]:
        """JSON-friendly form."""
        return {k: getattr(self, k).tolist() for k in ("mean", "scale", "coef", "intercept")}

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> StatsClassifier:
        """Inverse of :meth:`to_dict`."""
        return cls(*(np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef", "intercept")))

    @property
    def n_parameters(self) -> int:
        """Number of fitted numbers."""
        return int(self.coef.size + self.intercept.size)


@dataclass
class NodeModel:
    """A trained classifier for one tree node, in the form the cascade expects.

    It holds a CNN, a statistics classifier, or both (an ensemble whose probabilities are
    ``cnn_weight · cnn + (1 − cnn_weight) · stats``): each node of the tree may use the kind
    that suits it.
    """

    node: str
    classes: list[str]
    normalizer: Normalizer
    features: FeatureConfig
    network: Any = None
    stats: StatsClassifier | None = None
    cnn_weight: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict)
    constant: list[float] | None = None

    @property
    def kind(self) -> str:
        """``cnn``, ``stats``, ``ensemble``, or ``constant`` (a node trained on a single class)."""
        if self.constant is not None:
            return "constant"
        if self.stats is None:
            return "cnn"
        return "stats" if self.network is None else "ensemble"

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities over ``classes`` for each raw (unnormalised) LMFCC window."""
        windows = np.asarray(windows)
        if self.constant is not None:
            return np.tile(np.asarray(self.constant, dtype=np.float64), (len(windows), 1))
        if self.kind == "stats":
            return self.stats.predict_proba(windows)
        x = self.normalizer.transform(windows)[..., np.newaxis]
        cnn = np.asarray(self.network(x, training=False), dtype=np.float64)
        if self.kind == "cnn":
            return cnn
        return self.cnn_weight * cnn + (1 - self.cnn_weight) * self.stats.predict_proba(windows)

    @property
    def n_parameters(self) -> int:
        """Number of fitted weights (network and statistics classifier)."""
        network = int(self.network.count_params()) if self.network is not None else 0
        return network + (self.stats.n_parameters if self.stats is not None else 0)

    def save(self, directory: str | Path) -> None:
        """Write ``<node>.keras`` and ``<node>.tflite`` (when there is a CNN), then ``<node>.json``.

        Each file is written atomically and the JSON comes last, so its presence means the node is
        complete.
        """
        from hiergenre.runtime import export_litert

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.network is not None:
            with atomic_path(directory / f"{self.node}.keras") as tmp:
                self.network.save(tmp)
            export_litert(self.network, directory / f"{self.node}.tflite")
        else:  # stale networks from an older run of this node
            for suffix in (".keras", ".tflite"):
                (directory / f"{self.node}{suffix}").unlink(missing_ok=True)
        meta = {
            **self.metadata,
            "format_version": FORMAT_VERSION,
            "node": self.node,
            "kind": self.kind,
            "classes": self.classes,
            "features": asdict(self.features),
            "normalizer": self.normalizer.to_dict(),
            "stats": self.stats.to_dict() if self.stats is not None else None,
            "cnn_weight": self.cnn_weight,
            "constant": self.constant,
            "parameters": self.n_parameters,
            "network_parameters": int(self.network.count_params()) if self.network is not None else 0,
        }
        write_json_atomic(directory / f"{self.node}.json", meta)

    @classmethod
    def load(cls, directory: str | Path, node: str, backend: str = "keras") -> NodeModel:
        """Load a node model saved by :meth:`save`.

        ``backend="keras"`` loads the Keras file in safe mode (imports TensorFlow); ``"litert"``
        runs the exported LiteRT file with ai-edge-litert and numpy only.
        """
        directory = Path(directory)
        meta = read_json(directory / f"{node}.json", what=f"metadata of node {node!r}")
        if meta.get("format_version") != FORMAT_VERSION:
            raise HierGenreError(
                f"node {node!r} in {directory} was written by an incompatible hiergenre "
                f"(format {meta.get('format_version')}, expected {FORMAT_VERSION}); retrain with train-all"
            )
        kind = meta.get("kind", "cnn")
        network = None
        if kind == "constant":
            pass
        elif kind != "stats" and backend == "litert":
            from hiergenre.runtime import LiteNetwork

            network = LiteNetwork(directory / f"{node}.tflite", int(meta.get("network_parameters", 0)))
        elif kind != "stats":
            network = _load_network(directory / f"{node}.keras", node)
        return cls(
            node=node,
            classes=list(meta["classes"]),
            normalizer=Normalizer.from_dict(meta["normalizer"]),
            features=FeatureConfig(**meta["features"]),
            network=network,
            stats=StatsClassifier.from_dict(meta["stats"]) if kind in ("stats", "ensemble") else None,
            cnn_weight=float(meta.get("cnn_weight", 1.0)),
            metadata=meta,
            constant=meta.get("constant") if kind == "constant" else None,
        )


def _load_network(path: Path, node: str) -> Any:
    keras = import_keras()
    if not path.is_file():
        raise HierGenreError(f"network of node {node!r} is missing: {path}")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError) as exc:
        raise HierGenreError(f"cannot load model of node {node!r} from {path.parent}: {exc}") from None


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename: never a half-written file."""
    with atomic_file(path) as out:
        json.dump(data, out, indent=2)


def read_json(path: str | Path, *, what: str) -> Any:
    """Read a JSON file, turning absence or corruption into a one-line error."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HierGenreError(f"{what} not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise HierGenreError(f"{what} is unreadable ({path}): {exc}") from None
