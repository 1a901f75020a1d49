"""``HierarchicalClassifier``: the cascade as a scikit-learn estimator over 2-D feature arrays.

In the spirit of hiclass's local classifier per parent node: ``fit`` clones ``estimator`` once per
decision node of the tree and trains it to tell that node's children apart on the rows whose class
lies below it; ``predict`` routes every row root to leaf with the same vectorised routing code
(:mod:`hiergenre.cascade.routing`) as the CNN cascade. It works in a ``Pipeline``, with ``clone`` and in
``GridSearchCV`` (for example over ``routing`` and ``blend_weight``).

>>> from sklearn.linear_model import LogisticRegression
>>> model = HierarchicalClassifier({"heavy": ["metal", "rock"], "soft": ["jazz", "blues"]},
...                                LogisticRegression(), routing="product")        # doctest: +SKIP
>>> model.fit(X, y).predict(X[:3])                                                 # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from hiergenre.cascade.calibration import HeldOut, Temperature, get_calibration
from hiergenre.cascade.cascade import ClipScores
from hiergenre.cascade.classifiers import ConstantClassifier, class_names, class_probabilities
from hiergenre.cascade.decoding import get_decoder
from hiergenre.cascade.hierarchy import GenreTree, valid_name
from hiergenre.cascade.routing import decide, get_policy
from hiergenre.cascade.thresholds import choose_min_confidence, tree_validation
from hiergenre.errors import HierGenreError


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
        ``"temperature"`` fits one temperature per node (and for the flat model) on out-of-fold
        probabilities (``cv``-fold cross-validation of the node's own rows), as the CNN nodes do.
    target_accuracy : float or None, default None
        :meth:`predict_node` stops at the smallest minimum confidence whose hierarchical accuracy
        on out-of-fold predictions of the training rows is at least this (``min_confidence_``).
    cv : int, default 3
        Folds of the out-of-fold predictions that ``calibration`` and ``target_accuracy`` use.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        With ``tree=None`` the sorted classes of ``y``; otherwise the tree's leaves, sorted.
    tree_ : GenreTree
        The fitted hierarchy (leaf names are the classes, or ``c0``, ``c1``... for classes that
        are not valid tree names, such as numbers).
    estimators_ : dict
        The fitted classifier of each decision node (a ``ConstantClassifier`` where the node saw one class).
    flat_estimator_ : classifier or None
        The fitted flat model (only when the routing uses one).
    temperatures_ : dict
        Each node's temperature (1.0 without calibration); the flat model's under ``"flat"``.
    min_confidence_ : float or None
        The threshold ``target_accuracy`` chose (None without one).

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
        cv: int = 3,
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
        self.cv = cv

    def fit(self, X: Any, y: Any) -> HierarchicalClassifier:
        """Fit one classifier per decision node (and the flat model when the routing needs it)."""
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        policy = _policy(self.routing)
        if len(np.unique(y)) < 2:
            raise ValueError("HierarchicalClassifier needs at least 2 classes in y; got 1 class")
        self.tree_, self.classes_, leaf_of_class = _fitted_tree(self.tree, y)
        leaves = np.array([leaf_of_class[label] for label in y], dtype=object)
        template = self.estimator if self.estimator is not None else LogisticRegression(max_iter=1000)
        honest = self.calibration != "none" or self.target_accuracy is not None
        calibration = _calibration(self.calibration)
        self.estimators_, self.temperatures_, held_out = {}, {}, {}
        for node in self.tree_.model_nodes:
            children = self.tree_.children(node)
            towards = np.array([self.tree_.child_towards(node, leaf) for leaf in leaves], dtype=object)
            rows = np.flatnonzero(towards != None)  # noqa: E711 - element-wise on an object array
            labels = towards[rows].astype(str)
            self.temperatures_[node] = 1.0
            if len(np.unique(labels)) < 2:
                indices = np.array([children.index(label) for label in labels], dtype=int)
                self.estimators_[node] = ConstantClassifier.for_labels(children, indices)
                continue
            self.estimators_[node] = clone(template).fit(X[rows], labels)
            if honest:
                held_out[node] = _out_of_fold(template, X[rows], labels, children, rows, self.cv)
                self.temperatures_[node] = calibration.fit(held_out[node].probabilities, held_out[node].labels)
        self.flat_estimator_, flat_held = None, None
        if policy.uses_flat and len(self.tree_.model_nodes) > 1:
            flat = self.flat_estimator if self.flat_estimator is not None else template
            self.flat_estimator_ = clone(flat).fit(X, leaves.astype(str))
            if honest:
                flat_held = _out_of_fold(flat, X, leaves.astype(str), self.tree_.leaves, np.arange(len(X)), self.cv)
                self.temperatures_["flat"] = calibration.fit(flat_held.probabilities, flat_held.labels)
        self.min_confidence_ = None
        if self.target_accuracy is not None:
            self.min_confidence_ = self._chosen_threshold(X, leaves, held_out, flat_held)
        return self

    def _chosen_threshold(
        self, X: np.ndarray, leaves: np.ndarray, held_out: dict[str, HeldOut], flat_held: HeldOut | None
    ) -> float:
        """The minimum confidence for ``target_accuracy`` on out-of-fold scores of the training rows.

        Rows are scored out of fold at the nodes above their class and by the fitted model
        elsewhere (:func:`~hiergenre.cascade.thresholds.tree_validation`); the flat model of ``blend`` out of fold.
        """
        genres = {str(i): str(leaf) for i, leaf in enumerate(leaves)}

        def deployed(node: str, ids: list[str]) -> np.ndarray:
            return _columns(self.estimators_[node], X[[int(i) for i in ids]], self.tree_.children(node))

        unlearned = [n for n, e in self.estimators_.items() if isinstance(e, ConstantClassifier)]
        ids, raw = tree_validation(self.tree_, genres, held_out, deployed, unlearned)
        flat = None
        if self.flat_estimator_ is not None:
            flat = _columns(self.flat_estimator_, X[[int(i) for i in ids]], self.tree_.leaves)
        scores = self._calibrated(ClipScores(raw.nodes, flat))
        decision = decide(
            self.tree_, scores.nodes, _policy(self.routing), flat=scores.flat, flat_weight=self.blend_weight
        )
        try:
            choice = choose_min_confidence(self.tree_, decision.leaves, [genres[i] for i in ids], self.target_accuracy)
        except HierGenreError as exc:
            raise ValueError(str(exc)) from None
        return choice.min_confidence

    def _calibrated(self, scores: ClipScores) -> ClipScores:
        """Raw node (and flat) probabilities through each one's fitted temperature: the cascade's calibration path."""
        temperatures = getattr(self, "temperatures_", {})
        calibrators = {node: Temperature(temperatures.get(node, 1.0)) for node in scores.nodes}
        return scores.calibrated(calibrators, Temperature(temperatures.get("flat", 1.0)))

    def _decision(self, X: Any) -> tuple[Any, np.ndarray]:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        nodes = {
            node: _columns(estimator, X, self.tree_.children(node)) for node, estimator in self.estimators_.items()
        }
        flat = None
        if self.flat_estimator_ is not None:
            flat = _columns(self.flat_estimator_, X, self.tree_.leaves)
        scores = self._calibrated(ClipScores(nodes, flat))
        decision = decide(
            self.tree_, scores.nodes, _policy(self.routing), flat=scores.flat, flat_weight=self.blend_weight
        )
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

        Decoding follows ``decode`` (``"hf1"``) or ``min_confidence`` (see :mod:`hiergenre.cascade.decoding`);
        with neither it is :meth:`predict`. A class keeps its label, a group is its name.
        """
        chosen = getattr(self, "min_confidence_", None)
        try:
            if chosen is not None and (self.decode is not None or self.min_confidence is not None):
                raise HierGenreError("target_accuracy chooses the minimum confidence: drop decode and min_confidence")
            decoder = get_decoder(self.decode, chosen if chosen is not None else self.min_confidence)
        except HierGenreError as exc:
            raise ValueError(str(exc)) from None
        decision, _ = self._decision(X)
        class_of_leaf = dict(zip(self._leaf_names(), self.classes_, strict=True))
        nodes = decoder.choose(self.tree_, decision.leaves, decision.genres)
        return np.array([class_of_leaf.get(node, node) for node in nodes], dtype=object)

    def _leaf_names(self) -> list[str]:
        """The tree leaf of each class, in ``classes_`` order."""
        return _leaf_names(self.classes_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


def _policy(routing: str) -> Any:
    try:
        return get_policy(routing)
    except HierGenreError as exc:
        raise ValueError(str(exc)) from None


def _calibration(name: str) -> Any:
    try:
        return get_calibration(name)
    except HierGenreError as exc:
        raise ValueError(str(exc)) from None


def _out_of_fold(
    template: Any, X: np.ndarray, labels: np.ndarray, columns: list[str], rows: np.ndarray, cv: int
) -> HeldOut:
    """Out-of-fold probabilities of ``clone(template)`` on ``X`` (columns in ``columns`` order), ids = ``rows``.

    The folds are stratified, at most ``cv`` and at most the rarest class's count (at least 2).
    """
    from sklearn.model_selection import StratifiedKFold

    folds = max(2, min(cv, int(np.unique(labels, return_counts=True)[1].min())))
    proba = np.zeros((len(X), len(columns)))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, labels):
        model = clone(template).fit(X[train], labels[train])
        proba[test] = _columns(model, X[test], columns)
    targets = np.array([columns.index(label) for label in labels], dtype=int)
    return HeldOut(proba, targets, "out-of-fold", tuple(str(r) for r in rows))


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
    return (
        genre_tree,
        classes,
        {label: by_label[label if tree is None else str(label)] for label in np.unique(y).tolist()},
    )


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
