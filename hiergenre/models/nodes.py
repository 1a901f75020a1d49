"""Node models: what the cascade calls at one decision node, one small class per kind.

Every kind answers ``predict_proba(windows) -> (n_windows, n_classes)`` over the node's children
(``classes``; the cascade reads them as scikit-learn's ``classes_``) from raw windows
``(n_windows, frames, n_dims)`` of the tree's front-end, and knows how to write itself to and read itself from a JSON
dictionary (:meth:`NodeModel.to_dict` / :meth:`NodeModel.from_dict`). :data:`NODE_KINDS` maps the
``kind`` recorded in the JSON to its class, so loading never branches on kind strings elsewhere:

- :class:`CnnNode`: the small LMFCC CNN (one network, or a seed ensemble saved as one network);
- :class:`StatsNode`: window statistics (LMFCC or musicnn) and a logistic regression, stored as
  arrays (no TensorFlow, no scikit-learn at prediction): the node of the musicnn front-end;
- :class:`EnsembleNode`: both, probabilities mixed as ``w · cnn + (1 − w) · stats``;
- :class:`ConstantNode`: a node whose training data held a single class always answers it.

Under the paired front-end (``musicnn+lmfcc``) windows are records of an LMFCC window and a
musicnn window (:class:`~hiergenre.features.windows.PairedFrames`): the CNN reads the ``lmfcc``
field, the statistics classifier the ``musicnn`` field, so an ensemble mixes the two front-ends.

On disk a node is ``<node>.json`` plus, when it has a network, ``<node>.keras`` and its LiteRT
export ``<node>.tflite``. Each file is written atomically and the JSON last, so its presence
means the node is complete. Loading uses Keras' safe mode; no pickle is involved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hiergenre.cascade.calibration import HeldOut, apply_temperature
from hiergenre.cascade.classifiers import single_class_probabilities
from hiergenre.config import FeatureSettings, feature_settings
from hiergenre.errors import HierGenreError
from hiergenre.features.windows import Normalizer, part_of
from hiergenre.models.statistics import StatsClassifier
from hiergenre.storage import atomic_path, read_json, write_json_atomic

#: Version of the node-model files; 2 added node kinds, statistics classifiers and LiteRT files.
FORMAT_VERSION = 2
BACKENDS = ("litert", "keras")
#: A node's held-out clip probabilities, ``<node>.held-out.npz``, as hiergenre before 0.5 kept them (removed
#: when a node is saved again; the tree's ``validation.npz`` holds the calibration clips' scores now).
HELD_OUT_SUFFIX = ".held-out.npz"
#: Every file a node may have in a model folder, in the order they are written: the JSON record last,
#: because its presence means the node is complete (copying a node in this order keeps that true).
NODE_SUFFIXES = (".keras", ".tflite", HELD_OUT_SUFFIX, ".json")


def node_file(directory: str | Path, node: str, suffix: str = ".json") -> Path:
    """``<directory>/<node><suffix>``: where one of a node's files (:data:`NODE_SUFFIXES`) lives.

    The one place that names a node's files; :mod:`hiergenre.workspace.folders` names the folders around them.
    """
    if suffix not in NODE_SUFFIXES:
        raise ValueError(f"not a node file suffix: {suffix!r}")
    return Path(directory) / f"{node}{suffix}"


@dataclass(kw_only=True)
class NodeModel:
    """A trained classifier of one tree node; subclasses are the kinds."""

    kind: ClassVar[str]
    node: str
    classes: list[str]
    features: FeatureSettings | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Divides the log of each clip's averaged probabilities (:mod:`hiergenre.cascade.calibration`); 1 = raw.
    temperature: float = 1.0
    #: The clips the temperature was fitted on, with their raw probabilities (saved beside the JSON).
    held_out: HeldOut | None = None

    def calibrate(self, clip_probabilities: np.ndarray) -> np.ndarray:
        """``(n_clips, n_classes)`` clip probabilities (window probabilities averaged) calibrated.

        Calibration acts on clips, not windows, because a clip's probability is what routing and
        decoding use; :class:`~hiergenre.cascade.cascade.Cascade` calls this after averaging.
        """
        return apply_temperature(clip_probabilities, self.temperature)

    @property
    def classes_(self) -> np.ndarray:
        """``classes`` under scikit-learn's name, read-only: the one name the cascade reads."""
        return np.asarray(self.classes)

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities over ``classes`` for each raw (unnormalised) window."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The kind's own JSON fields (the common ones are added by :func:`save_node`)."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, meta: dict[str, Any], directory: Path, backend: str) -> NodeModel:
        """Rebuild from :func:`save_node`'s JSON; ``directory`` holds the node's other files."""
        raise NotImplementedError

    @property
    def network(self) -> Any:
        """The Keras network to save with the node, if the kind has one."""
        return None

    @property
    def n_parameters(self) -> int:
        """Number of fitted numbers."""
        return 0

    @property
    def label(self) -> str:
        """The kind as the training table shows it."""
        return self.kind


@dataclass(kw_only=True)
class ConstantNode(NodeModel):
    """Always the same probabilities: the model of a node that saw one class (or none) in training.

    Nothing can be learned from one class, and a classifier fitted on it would crash or emit
    noise; the constant model keeps the tree usable and the training summary says why. It accepts
    any 2-D or 3-D input and behaves as :class:`~hiergenre.cascade.classifiers.ConstantClassifier`
    (the estimator's), plus what a saved node needs.
    """

    kind = "constant"
    probabilities: list[float]

    @classmethod
    def for_labels(cls, node: str, classes: list[str], labels: np.ndarray, **kwargs: Any) -> ConstantNode:
        """The class seen in ``labels`` (child indices) with probability 1, or uniform if none was seen."""
        present = np.unique(labels)
        probabilities = single_class_probabilities(len(classes), labels)
        seen = ", ".join(classes[int(i)] for i in present) or "nothing"
        note = f"training data held a single class ({seen}): constant model"
        metadata = {"history": {}, "note": note, **kwargs.pop("metadata", {})}
        return cls(node=node, classes=classes, probabilities=probabilities.tolist(), metadata=metadata, **kwargs)

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """The stored probabilities, once per input row."""
        return np.tile(np.asarray(self.probabilities, dtype=np.float64), (len(windows), 1))

    def to_dict(self) -> dict[str, Any]:
        """The probabilities."""
        return {"constant": list(self.probabilities)}

    @classmethod
    def from_dict(cls, meta: dict[str, Any], directory: Path, backend: str) -> ConstantNode:
        """Inverse of :meth:`to_dict`."""
        return cls(probabilities=list(meta["constant"]), **_common(meta))


@dataclass(kw_only=True)
class StatsNode(NodeModel):
    """Window statistics (mean and spread of each value over the window) and a logistic regression.

    On LMFCC windows: the timbre baseline; on musicnn windows (the ``musicnn`` field of paired
    ones): the embedding probe, the musicnn front-end's node.
    """

    kind = "stats"
    stats: StatsClassifier

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """The statistics classifier's probabilities."""
        return self.stats.predict_proba(part_of(windows, "musicnn"))

    def to_dict(self) -> dict[str, Any]:
        """The classifier's arrays."""
        return {"stats": self.stats.to_dict()}

    @classmethod
    def from_dict(cls, meta: dict[str, Any], directory: Path, backend: str) -> StatsNode:
        """Inverse of :meth:`to_dict`."""
        return cls(stats=StatsClassifier.from_dict(meta["stats"]), **_common(meta))

    @property
    def n_parameters(self) -> int:
        """Weights and intercepts of the regression."""
        return self.stats.n_parameters


@dataclass(kw_only=True)
class CnnNode(NodeModel):
    """The small LMFCC CNN, with the per-coefficient standardisation fitted on its training windows."""

    kind = "cnn"
    normalizer: Normalizer
    cnn: Any

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Normalise, run the network (Keras or LiteRT), return float64 probabilities."""
        x = self.normalizer.transform(part_of(windows, "lmfcc"))[..., np.newaxis]
        return np.asarray(self.cnn(x, training=False), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The normaliser (the network is saved next to the JSON)."""
        return {"normalizer": self.normalizer.to_dict()}

    @classmethod
    def from_dict(cls, meta: dict[str, Any], directory: Path, backend: str) -> CnnNode:
        """Inverse of :meth:`to_dict`, loading the network for ``backend``."""
        node = meta["node"]
        if backend == "litert":
            from hiergenre.models.litert import LiteNetwork

            network = LiteNetwork(node_file(directory, node, ".tflite"), int(meta.get("network_parameters", 0)))
        else:
            from hiergenre.models.network import load_network

            network = load_network(node_file(directory, node, ".keras"), node)
        return cls(normalizer=Normalizer.from_dict(meta["normalizer"]), cnn=network, **_common(meta))

    @property
    def network(self) -> Any:
        """The network."""
        return self.cnn

    @property
    def n_parameters(self) -> int:
        """Weights of the network (all members of an ensemble)."""
        return int(self.cnn.count_params())


@dataclass(kw_only=True)
class EnsembleNode(NodeModel):
    """A CNN and a statistics classifier, probabilities mixed with weight ``cnn_weight`` on the CNN."""

    kind = "ensemble"
    cnn: CnnNode
    stats: StatsNode
    cnn_weight: float = 0.5

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """``w · cnn + (1 − w) · stats``."""
        cnn = self.cnn.predict_proba(windows)
        return self.cnn_weight * cnn + (1 - self.cnn_weight) * self.stats.predict_proba(windows)

    def to_dict(self) -> dict[str, Any]:
        """Both parts and the weight."""
        return {**self.cnn.to_dict(), **self.stats.to_dict(), "cnn_weight": self.cnn_weight}

    @classmethod
    def from_dict(cls, meta: dict[str, Any], directory: Path, backend: str) -> EnsembleNode:
        """Inverse of :meth:`to_dict`."""
        return cls(
            cnn=replace(CnnNode.from_dict(meta, directory, backend), temperature=1.0),  # the mix is calibrated
            stats=replace(StatsNode.from_dict(meta, directory, backend), temperature=1.0),
            cnn_weight=float(meta.get("cnn_weight", 0.5)),
            **_common(meta),
        )

    @property
    def network(self) -> Any:
        """The CNN part's network."""
        return self.cnn.network

    @property
    def n_parameters(self) -> int:
        """Both parts."""
        return self.cnn.n_parameters + self.stats.n_parameters

    @property
    def label(self) -> str:
        """``ensemble (0.5 cnn)``."""
        return f"ensemble ({self.cnn_weight:.1f} cnn)"


def _common(meta: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments every kind shares, read from the JSON."""
    features = meta.get("features")
    return {
        "node": meta["node"],
        "classes": list(meta["classes"]),
        "features": feature_settings(meta.get("features_kind") or "lmfcc", features) if features else None,
        "metadata": meta,
        "temperature": float(meta.get("temperature", 1.0)),
    }


#: Every node kind by the name stored in its JSON.
NODE_KINDS: dict[str, type[NodeModel]] = {k.kind: k for k in (CnnNode, StatsNode, EnsembleNode, ConstantNode)}


def save_node(model: NodeModel, directory: str | Path) -> None:
    """Write ``<node>.keras`` and ``<node>.tflite`` (when there is a network), then ``<node>.json``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    network = model.network
    if network is not None:
        from hiergenre.models.litert import export_litert

        with atomic_path(node_file(directory, model.node, ".keras")) as tmp:
            network.save(tmp)
        export_litert(network, node_file(directory, model.node, ".tflite"))
    else:  # stale networks from an older run of this node
        for suffix in (".keras", ".tflite"):
            node_file(directory, model.node, suffix).unlink(missing_ok=True)
    # hiergenre before 0.5 kept each node's held-out scores beside it; the tree's validation.npz has them now
    node_file(directory, model.node, HELD_OUT_SUFFIX).unlink(missing_ok=True)
    meta = {
        **model.metadata,
        **model.to_dict(),
        "format_version": FORMAT_VERSION,
        "node": model.node,
        "kind": model.kind,
        "classes": model.classes,
        "temperature": model.temperature,
        "features": asdict(model.features) if model.features else None,
        "features_kind": model.features.kind if model.features else None,
        "parameters": model.n_parameters,
        "network_parameters": int(network.count_params()) if network is not None else 0,
    }
    write_json_atomic(node_file(directory, model.node), meta, compact=True)


def load_node(directory: str | Path, node: str, backend: str = "keras") -> NodeModel:
    """Load a node saved by :func:`save_node`.

    ``backend="keras"`` loads the Keras file in safe mode (imports TensorFlow); ``"litert"`` runs
    the exported LiteRT file with ai-edge-litert and numpy only.
    """
    directory = Path(directory)
    meta = read_json(node_file(directory, node), what=f"metadata of node {node!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise HierGenreError(
            f"node {node!r} in {directory} was written by an incompatible hiergenre "
            f"(format {meta.get('format_version')}, expected {FORMAT_VERSION}); retrain with train-all"
        )
    kind = NODE_KINDS.get(meta.get("kind", "cnn"))
    if kind is None:
        raise HierGenreError(f"node {node!r} in {directory} has unknown kind {meta.get('kind')!r}")
    return kind.from_dict(meta, directory, backend)
