"""``HierarchicalClassifier``: the cascade as a scikit-learn estimator over 2-D feature arrays.

In the spirit of hiclass's local classifier per parent node: ``fit`` clones ``estimator`` once per
decision node of the tree and trains it to tell that node's children apart on the rows whose class
lies below it; ``predict`` routes every row root to leaf with the same vectorised routing code
(:mod:`hiergenre.cascade.routing`) as the CNN cascade. It works in a ``Pipeline``, with ``clone`` and in
``GridSearchCV`` (for example over ``routing`` and ``blend_weight``); README.md has an example.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from hiergenre.cascade.calibration import Calibration, Temperature, get_calibration
from hiergenre.cascade.cascade import ClipScores
from hiergenre.cascade.classifiers import ConstantClassifier, class_names, class_probabilities
from hiergenre.cascade.conformal import (
    ClimbDecoder,
    check_target,
    climb_scores,
    conformal_threshold,
    cross_fitted_decision,
    fitted_temperatures,
)
from hiergenre.cascade.decoding import Decoder, get_decoder
from hiergenre.cascade.hierarchy import GenreTree, valid_name
from hiergenre.cascade.routing import Decision, decide, get_policy
from hiergenre.errors import HierGenreError

#: Why a fitted target refuses the other decoders: the climb is the one its guarantee is about.
TARGET_ALONE = "target_accuracy sets the climb threshold: drop decode and min_confidence"


class HierarchicalClassifier(ClassifierMixin, BaseEstimator):
    """A local classifier per parent node, routed root to leaf.

    Parameters
    ----------
    tree : GenreTree, str, Path, mapping or list, default None
        The class hierarchy: a :class:`~hiergenre.cascade.hierarchy.GenreTree`, the path of a YAML tree
        file, or the value of a tree file's ``tree:`` key. ``None`` is a flat tree over the
        classes of ``y`` (one node, the ``estimator`` itself).
    estimator : classifier, default None
        Cloned for every decision node. ``None`` is a ``LogisticRegression(max_iter=1000)``. A
        classifier without ``predict_proba`` (an ``SVC``, say) routes on its hard decisions: the
        child it predicts gets probability 1.
    routing : {"greedy", "product", "blend"}, default "greedy"
        How node probabilities become a class (see :mod:`hiergenre.cascade.routing`).
    flat_estimator : classifier, default None
        The flat model that ``blend`` mixes in, fitted over all classes; ``None`` clones ``estimator``.
    blend_weight : float, default 0.5
        Weight of the flat model's probabilities under ``blend``.
    decode : {None, "hf1"}, default None
        How :meth:`predict_node` may stop above the classes: ``"hf1"`` maximises the expected
        hierarchical F1 (see :mod:`hiergenre.cascade.decoding`). :meth:`predict` always returns classes.
    min_confidence : float or None, default None
        :meth:`predict_node` walks down while the most probable child holds at least this share.
    calibration : {"none", "temperature"}, default "none"
        ``"temperature"`` fits one temperature per node (and for the flat model) on the fitted
        model's probabilities of the calibration rows (below the node), as the CNN nodes do.
    target_accuracy : float or None, default None
        :meth:`predict_node` climbs from the routed class towards the root until a node is probable enough,
        the threshold set by split conformal on the calibration rows (:mod:`hiergenre.cascade.conformal`).
        Marginal guarantee: a new row exchangeable with them gets a node containing its class with probability
        >= A (on average, not per row or class). Needs ``ceil(A / (1 - A))`` calibration rows (9 for 0.9).
    calibration_size : float, default 0.2
        Share of the rows, stratified by class, held out as calibration rows when ``calibration`` or
        ``target_accuracy`` asks for them (a class of one row is kept for fitting). Else all rows fit.
    random_state : int or None, default 0
        Seed of the calibration draw.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        With ``tree=None`` the sorted classes of ``y``; otherwise the tree's leaves, sorted.
    tree_ : GenreTree
        The fitted hierarchy (leaves are the classes, or ``c0``, ``c1``... for invalid names, such as numbers).
    estimators_ : dict
        The fitted classifier of each decision node (a ``ConstantClassifier`` where the node saw one class).
    flat_estimator_ : classifier or None
        The fitted flat model (only when the routing uses one).
    temperatures_ : dict
        Each node's temperature (1.0 without calibration); the flat model's under ``"flat"``.
    climb_threshold_ : float or None
        The split-conformal climb threshold ``target_accuracy`` set (None without one).
    n_calibration_ : int
        Calibration rows held out (0 when neither calibration nor a target asks for them).

    Notes
    -----
    ``predict_proba`` is the distribution the routing policy decides on: the leaf marginal (the
    product of probabilities along each path) for ``greedy`` and ``product``, mixed with the flat
    model for ``blend``. ``product`` and ``blend`` predict its argmax; ``greedy`` follows the
    best child at each node, which can differ from that argmax on a tree with several levels.
    """

    def __init__(
        self,
        tree: Any = None,
        estimator: Any = None,
        routing: str = "greedy",
        flat_estimator: Any = None,
        blend_weight: float = 0.5,
        decode: str | None = None,
        min_confidence: float | None = None,
        calibration: str = "none",
        target_accuracy: float | None = None,
        calibration_size: float = 0.2,
        random_state: int | None = 0,
    ) -> None:
        self.tree = tree
        self.estimator = estimator
        self.routing = routing
        self.flat_estimator = flat_estimator
        self.blend_weight = blend_weight
        self.decode = decode
        self.min_confidence = min_confidence
        self.calibration = calibration
        self.target_accuracy = target_accuracy
        self.calibration_size = calibration_size
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> HierarchicalClassifier:
        """Fit one classifier per decision node (and the flat model when the routing needs it).

        With calibration or a target, the node models are fitted on the rows outside the calibration
        share and the temperatures (then the climb threshold) on the calibration rows.
        """
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        policy = _named(get_policy, self.routing)
        calibration = _named(get_calibration, self.calibration)
        if self.target_accuracy is not None:
            _named(check_target, self.target_accuracy)
            if self.decode is not None or self.min_confidence is not None:
                raise ValueError(TARGET_ALONE)
        if not 0 < self.calibration_size < 1:
            raise ValueError(f"calibration_size is a share of the rows in (0, 1), got {self.calibration_size}")
        if len(np.unique(y)) < 2:
            raise ValueError("HierarchicalClassifier needs at least 2 classes in y; got 1 class")
        self.tree_, self.classes_, leaf_of_class = _fitted_tree(self.tree, y)
        leaves = np.array([leaf_of_class[label] for label in y], dtype=object)
        template = self.estimator if self.estimator is not None else LogisticRegression(max_iter=1000)
        fitting, held = np.arange(len(X)), np.arange(0)
        if self.calibration != "none" or self.target_accuracy is not None:
            fitting, held = _calibration_split(leaves, self.calibration_size, self.random_state)
        self.n_calibration_ = len(held)
        self.estimators_ = {n: self._fit_node(template, n, X[fitting], leaves[fitting]) for n in self.tree_.model_nodes}
        self.flat_estimator_ = None
        if policy.uses_flat and len(self.tree_.model_nodes) > 1:
            flat = self.flat_estimator if self.flat_estimator is not None else template
            self.flat_estimator_ = clone(flat).fit(X[fitting], leaves[fitting].astype(str))
        self.temperatures_ = self._fit_temperatures(calibration, X[held], leaves[held])
        target = self.target_accuracy is not None
        self.climb_threshold_ = self._climb_threshold(calibration, X[held], leaves[held], len(X)) if target else None
        return self

    def _fit_node(self, template: Any, node: str, X: np.ndarray, leaves: np.ndarray) -> Any:
        """``clone(template)`` fitted to tell ``node``'s children apart on the rows below it (constant on one child)."""
        children = self.tree_.children(node)
        towards = np.array([self.tree_.child_towards(node, leaf) for leaf in leaves], dtype=object)
        rows = np.flatnonzero(towards != None)  # noqa: E711 - element-wise on an object array
        labels = towards[rows].astype(str)
        if len(np.unique(labels)) < 2:
            return ConstantClassifier.for_labels(children, np.array([children.index(c) for c in labels], dtype=int))
        return clone(template).fit(X[rows], labels)

    def _fit_temperatures(self, calibration: Calibration, X: np.ndarray, leaves: np.ndarray) -> dict[str, float]:
        """Each node's temperature on its calibration rows (pool, then calibrate); the flat model's as ``"flat"``."""
        raw = self._raw(X) if len(X) else ClipScores({n: np.zeros((0, 1)) for n in self.estimators_})
        nodes, flat = fitted_temperatures(self.tree_, raw, list(leaves), calibration, self._constant_nodes())
        return {n: t.value for n, t in nodes.items()} | (
            {"flat": flat.value} if self.flat_estimator_ is not None else {}
        )

    def _climb_threshold(self, calibration: Calibration, X: np.ndarray, leaves: np.ndarray, n_rows: int) -> float:
        """The split-conformal climb threshold for ``target_accuracy`` on the calibration rows.

        Each row is calibrated by temperatures fitted on the other calibration rows
        (:func:`~hiergenre.cascade.conformal.cross_fitted_decision`), as a new row is by temperatures
        that never saw it; each climb starts at the routed class.
        """
        scores = np.zeros(0)
        if len(X):
            policy = _named(get_policy, self.routing)
            decision = cross_fitted_decision(
                self.tree_, self._raw(X), list(leaves), policy, calibration, self.blend_weight, self._constant_nodes()
            )
            scores = climb_scores(self.tree_, decision.leaves, list(leaves), starts=decision.genres)
        try:
            return conformal_threshold(scores, self.target_accuracy)
        except HierGenreError as exc:
            raise ValueError(f"{exc} (calibration_size={self.calibration_size} of {n_rows} rows)") from None

    def _constant_nodes(self) -> list[str]:
        """Nodes whose model saw one child only: their probabilities are never calibrated."""
        return [node for node, model in self.estimators_.items() if isinstance(model, ConstantClassifier)]

    def _raw(self, X: np.ndarray) -> ClipScores:
        """Every fitted node's (and the flat model's) raw probabilities of validated rows."""
        nodes = {node: _columns(model, X, self.tree_.children(node)) for node, model in self.estimators_.items()}
        flat = None if self.flat_estimator_ is None else _columns(self.flat_estimator_, X, self.tree_.leaves)
        return ClipScores(nodes, flat)

    def _routed(self, X: np.ndarray) -> Decision:
        """The routing policy's decision on validated rows, from node (and flat) probabilities through each
        one's fitted temperature: the cascade's calibration path."""
        temperatures = getattr(self, "temperatures_", {})
        calibrators = {node: Temperature(temperatures.get(node, 1.0)) for node in self.estimators_}
        scores = self._raw(X).calibrated(calibrators, Temperature(temperatures.get("flat", 1.0)))
        policy = _named(get_policy, self.routing)
        return decide(self.tree_, scores.nodes, policy, flat=scores.flat, flat_weight=self.blend_weight)

    def _decision(self, X: Any) -> tuple[Decision, np.ndarray]:
        check_is_fitted(self)
        decision = self._routed(validate_data(self, X, reset=False))
        order = [self.tree_.leaves.index(leaf) for leaf in self._leaf_names()]
        return decision, decision.leaves[:, order]

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n_samples, n_classes)``, columns in ``classes_`` order (see the class notes)."""
        return self._decision(X)[1]

    def predict(self, X: Any) -> np.ndarray:
        """The class the routing policy reaches for each row."""
        decision, _ = self._decision(X)
        class_of_leaf = dict(zip(self._leaf_names(), self.classes_, strict=True))
        return np.array([class_of_leaf[genre] for genre in decision.genres], dtype=self.classes_.dtype)

    def predict_node(self, X: Any) -> np.ndarray:
        """The node each row's evidence supports: a class, or a group of the tree where decoding stops.

        With ``target_accuracy`` it is the climb with ``climb_threshold_``; otherwise decoding follows
        ``decode`` (``"hf1"``) or ``min_confidence`` (see :mod:`hiergenre.cascade.decoding`), and with
        neither it is :meth:`predict`. A class keeps its label, a group is its name.
        """
        decoder = self._decoder()
        decision, _ = self._decision(X)
        class_of_leaf = dict(zip(self._leaf_names(), self.classes_, strict=True))
        nodes = decoder.choose(self.tree_, decision.leaves, decision.genres)
        return np.array([class_of_leaf.get(node, node) for node in nodes], dtype=object)

    def _decoder(self) -> Decoder:
        """The climb of a fitted target, else the decoder ``decode`` / ``min_confidence`` name."""
        threshold = getattr(self, "climb_threshold_", None)
        if threshold is None:
            return _named(lambda name: get_decoder(name, self.min_confidence), self.decode)
        if self.decode is not None or self.min_confidence is not None:
            raise ValueError(TARGET_ALONE)
        return ClimbDecoder(threshold)

    def _leaf_names(self) -> list[str]:
        """The tree leaf of each class, in ``classes_`` order."""
        return _leaf_names(self.classes_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


def _named(lookup: Callable[[Any], Any], value: Any) -> Any:
    """``lookup(value)`` with its one-line :class:`HierGenreError` raised as the ValueError scikit-learn expects."""
    try:
        return lookup(value)
    except HierGenreError as exc:
        raise ValueError(str(exc)) from None


def _calibration_split(leaves: np.ndarray, size: float, random_state: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(fitting, calibration)``: a share ``size`` of the rows, stratified by class, held out.

    A class with a single row cannot be split and stays on the fitting side.
    """
    from sklearn.model_selection import train_test_split

    names = leaves.astype(str)
    classes, counts = np.unique(names, return_counts=True)
    single = np.isin(names, classes[counts == 1])
    alone, shared = np.flatnonzero(single), np.flatnonzero(~single)
    if not len(shared):
        return alone, shared
    try:
        fitting, held = train_test_split(shared, test_size=size, random_state=random_state, stratify=names[shared])
    except ValueError as exc:
        raise ValueError(f"cannot hold out calibration_size={size} of {len(shared)} rows by class: {exc}") from None
    return np.sort(np.concatenate([alone, fitting])), np.sort(held)


def _leaf_names(classes: np.ndarray) -> list[str]:
    """Each class's name as a tree leaf: itself when it is a valid name, else ``c<index>``."""
    names = [str(c) for c in classes]
    if all(valid_name(n) for n in names) and len(set(names)) == len(names):
        return names
    return [f"c{i}" for i in range(len(classes))]


def _fitted_tree(tree: Any, y: np.ndarray) -> tuple[GenreTree, np.ndarray, dict[Any, str]]:
    """The hierarchy, ``classes_`` and the leaf of each class label."""
    if tree is None:
        classes = np.unique(y)
        names = _leaf_names(classes)
        genre_tree = GenreTree.flat(names, "flat")
    else:
        genre_tree = _as_tree(tree)
        classes = np.array(sorted(genre_tree.leaves))
        unknown = sorted({str(label) for label in y} - set(genre_tree.leaves))
        if unknown:
            raise ValueError(f"labels not among the tree's leaves: {', '.join(unknown[:10])}")
        names = _leaf_names(classes)
    by_label = dict(zip(classes.tolist(), names, strict=True))
    leaf_of_class = {label: by_label[label if tree is None else str(label)] for label in np.unique(y).tolist()}
    return genre_tree, classes, leaf_of_class


def _as_tree(tree: Any) -> GenreTree:
    """A GenreTree from a GenreTree, a YAML path, or a tree file's ``tree:`` value."""
    try:
        if isinstance(tree, GenreTree):
            return tree
        if isinstance(tree, str | Path):
            return GenreTree.from_file(tree)
        if isinstance(tree, Mapping | list):
            return GenreTree.from_spec(tree, "tree")
    except HierGenreError as exc:
        raise ValueError(str(exc)) from None
    raise ValueError(f"tree must be a GenreTree, a YAML path or a mapping, got {type(tree).__name__}")


def _columns(estimator: Any, X: np.ndarray, columns: list[str]) -> np.ndarray:
    """``estimator.predict_proba(X)`` with one column per name in ``columns`` (0 for classes it never saw).

    Without ``predict_proba`` the predicted class gets probability 1 (a hard decision; see
    :func:`~hiergenre.cascade.classifiers.class_probabilities`).
    """
    known = class_names(estimator)
    proba = class_probabilities(estimator, X)
    out = np.zeros((len(X), len(columns)))
    for j, name in enumerate(columns):
        if name in known:
            out[:, j] = proba[:, known.index(name)]
    return out
