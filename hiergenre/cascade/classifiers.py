"""What a decision node's classifier must offer, and the one constant classifier the cascade ships.

The cascade speaks scikit-learn's language: a node's classifier names its output columns in
``classes_`` and answers ``predict_proba(X) -> (n_samples, n_classes)``. Any fitted scikit-learn
classifier qualifies as it is (no attribute to copy), and so do the node models of
:mod:`hiergenre.models.nodes`, which add the same ``classes_``. :func:`class_probabilities` is the one
place that asks a classifier for probabilities, for :class:`~hiergenre.cascade.cascade.Cascade` and
:class:`~hiergenre.cascade.estimator.HierarchicalClassifier` alike:

- a classifier that declares ``n_features_in_`` (every fitted scikit-learn estimator) takes 2-D
  rows, so each LMFCC window ``(frames, n_mfcc)`` is flattened into one row of ``frames · n_mfcc``;
  hiergenre's node models take the windows as they are;
- a classifier without ``predict_proba`` (an ``SVC``, say) answers with hard decisions: the class
  it predicts gets probability 1.

:class:`ConstantClassifier` stands in at a node whose training rows held a single class: nothing can
be learned from one class, and a classifier fitted on it would crash or emit noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from hiergenre.errors import HierGenreError


class NodeClassifier(Protocol):
    """What the cascade needs from a node model (a fitted scikit-learn classifier is one)."""

    @property
    def classes_(self) -> Any:
        """The class names, in the order of ``predict_proba``'s columns."""
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in ``classes_`` order."""
        ...


def class_names(classifier: Any) -> list[str]:
    """The classifier's ``classes_`` as strings (scikit-learn keeps them as an array of labels)."""
    return [str(c) for c in classifier.classes_]


def class_probabilities(classifier: Any, inputs: np.ndarray, what: str = "the classifier") -> np.ndarray:
    """``(n_samples, n_classes)`` float64 probabilities of ``inputs``, columns in ``classes_`` order.

    ``inputs`` is ``(n_samples, n_features)`` or a stack of windows ``(n_windows, frames, n_mfcc)``;
    a scikit-learn estimator (``n_features_in_``) gets windows flattened to rows, and a wrong width
    is a one-line error naming ``what`` rather than scikit-learn's traceback.
    """
    x = np.asarray(inputs)
    expected = getattr(classifier, "n_features_in_", None)
    if expected is not None:
        if x.ndim > 2:
            x = x.reshape(len(x), -1)
        if x.ndim != 2 or x.shape[1] != expected:
            got = f"{x.shape[1]}" if x.ndim == 2 else f"an array of shape {x.shape}"
            raise HierGenreError(f"{what} expects {expected} features per window, got {got}")
    if hasattr(classifier, "predict_proba"):
        return np.asarray(classifier.predict_proba(x), dtype=np.float64)
    predicted = np.array([str(p) for p in classifier.predict(x)], dtype=object)
    return (predicted[:, np.newaxis] == np.array(class_names(classifier), dtype=object)).astype(np.float64)


def single_class_probabilities(n_classes: int, labels: np.ndarray) -> np.ndarray:
    """``(n_classes,)``: probability 1 on the one class in ``labels`` (class indices), uniform if none is."""
    present = np.unique(labels)
    if len(present) == 1:
        return np.eye(n_classes)[int(present[0])]
    return np.full(n_classes, 1.0 / n_classes)


class ConstantClassifier:
    """Always the same probabilities, for any 2-D or 3-D input: a node that saw one class (or none).

    It has scikit-learn's fitted interface (``classes_``, ``predict_proba``, ``predict``), so the
    cascade and the estimator route through it like through any other node.
    """

    def __init__(self, classes: Sequence[str], probabilities: Sequence[float]) -> None:
        if len(classes) != len(probabilities):
            raise HierGenreError(f"{len(probabilities)} constant probabilities for {len(classes)} classes")
        self.classes_ = np.asarray(classes)
        self.probabilities = np.asarray(probabilities, dtype=np.float64)

    @classmethod
    def for_labels(cls, classes: Sequence[str], labels: np.ndarray) -> ConstantClassifier:
        """The class seen in ``labels`` (indices into ``classes``) with probability 1, or uniform if none was seen."""
        return cls(classes, single_class_probabilities(len(classes), labels))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The stored probabilities, once per input row: ``(len(X), n_classes)``."""
        return np.tile(self.probabilities, (len(X), 1))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class, once per input row."""
        return np.repeat(self.classes_[int(np.argmax(self.probabilities))], len(X))

    def __repr__(self) -> str:
        return f"ConstantClassifier({self.classes_.tolist()}, {self.probabilities.tolist()})"
