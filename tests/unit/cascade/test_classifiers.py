"""Node classifiers in scikit-learn's terms: fitted estimators plug into the cascade as they are."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.classifiers import ConstantClassifier, class_probabilities, single_class_probabilities
from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.errors import HierGenreError

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, classical]}")
#: Each genre's windows ``(frames=3, n_mfcc=2)`` sit around its own level, shifted per coefficient.
LEVELS = {"metal": 0.0, "rock": 3.0, "jazz": 6.0, "classical": 9.0}


def windows_of(genre, n, rng):
    """``(n, 3, 2)`` LMFCC-like windows of one genre."""
    return LEVELS[genre] + np.array([0.0, 1.0]) + rng.normal(0, 0.3, (n, 3, 2))


def fitted_on_flat_windows(estimator, seed=0):
    """One clone of ``estimator`` per decision node, fitted on flattened windows, as scikit-learn fits it."""
    rng = np.random.default_rng(seed)
    genres = np.repeat(list(LEVELS), 15)
    windows = np.concatenate([windows_of(g, 1, rng) for g in genres])
    classifiers = {}
    for node in TREE.model_nodes:
        towards = np.array([TREE.child_towards(node, g) for g in genres], dtype=object)
        rows = towards != None  # noqa: E711 - element-wise on an object array
        model = estimator.__class__(**estimator.get_params())
        classifiers[node] = model.fit(windows[rows].reshape(rows.sum(), -1), towards[rows].astype(str))
    return classifiers


def test_a_logistic_regression_on_flattened_windows_routes_three_d_clips():
    cascade = Cascade(TREE, fitted_on_flat_windows(LogisticRegression()))
    rng = np.random.default_rng(1)
    clips = [windows_of(genre, 4, rng) for genre in LEVELS]  # each (4 windows, 3 frames, 2 coefficients)
    routes = cascade.route_clips(clips, "product")
    assert [r.genre for r in routes] == list(LEVELS)
    assert [s.node for s in routes[3].steps] == [ROOT, "soft"]


def test_a_classifier_without_probabilities_routes_on_its_window_decisions():
    cascade = Cascade(TREE, fitted_on_flat_windows(SVC(C=10)))
    rng = np.random.default_rng(2)
    clip = np.concatenate([windows_of("rock", 3, rng), windows_of("metal", 1, rng)])
    route = cascade.route(clip)
    assert route.genre == "rock"
    assert route.steps[1].probabilities == pytest.approx({"metal": 0.25, "rock": 0.75})  # share of windows


def test_windows_of_the_wrong_width_are_a_one_line_error():
    cascade = Cascade(TREE, fitted_on_flat_windows(LogisticRegression()))
    with pytest.raises(HierGenreError, match=r"model of node 'root' expects 6 features per window, got 8"):
        cascade.route(np.zeros((2, 4, 2)))


def test_class_probabilities_keep_a_node_models_windows_as_they_are():
    class WindowModel:  # a hiergenre node model: no n_features_in_, reads whole windows
        classes_ = np.array(["a", "b"])

        def predict_proba(self, windows):
            assert windows.ndim == 3
            return np.tile([0.25, 0.75], (len(windows), 1))

    proba = class_probabilities(WindowModel(), np.zeros((5, 3, 2)))
    assert proba.shape == (5, 2) and proba.dtype == np.float64


def test_constant_classifier_answers_the_one_class_it_saw_or_uniform():
    seen_b = ConstantClassifier.for_labels(["a", "b", "c"], np.array([1, 1, 1]))
    assert seen_b.predict_proba(np.zeros((2, 4, 5))).tolist() == [[0.0, 1.0, 0.0]] * 2
    assert seen_b.predict(np.zeros((3, 2))).tolist() == ["b"] * 3
    assert single_class_probabilities(4, np.array([], int)) == pytest.approx([0.25] * 4)
    with pytest.raises(HierGenreError, match="2 constant probabilities for 3 classes"):
        ConstantClassifier(["a", "b", "c"], [0.5, 0.5])


def test_a_hiergenre_node_model_offers_classes_under_scikit_learns_name():
    from hiergenre.models.nodes import ConstantNode

    node = ConstantNode.for_labels(ROOT, ["heavy", "soft"], np.array([1]), temperature=2.0)
    assert node.classes_.tolist() == ["heavy", "soft"]
    with pytest.raises(AttributeError):
        node.classes_ = np.array(["x", "y"])  # read-only: ``classes`` is what a node is built and saved with
    assert node.probabilities == single_class_probabilities(2, np.array([1])).tolist()
    cascade = Cascade(GenreTree.flat(["heavy", "soft"]), {ROOT: node})
    assert cascade.route(np.zeros((2, 4, 3))).genre == "soft"
