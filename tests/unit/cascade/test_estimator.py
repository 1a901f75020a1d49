"""HierarchicalClassifier as a scikit-learn estimator.

``parametrize_with_checks`` runs scikit-learn's whole estimator check suite on the flat
configuration (``tree=None``). None of its checks is skipped by us; two are skipped by
scikit-learn itself here: ``check_array_api_input`` (SCIPY_ARRAY_API not set) and
``check_classifier_data_not_an_array`` (pandas not installed).
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from hiergenre.cascade.calibration import Temperature
from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.classifiers import ConstantClassifier
from hiergenre.cascade.estimator import HierarchicalClassifier
from hiergenre.cascade.hierarchy import GenreTree

SPEC = {"heavy": ["metal", "rock"], "soft": ["jazz", {"calm": ["classical", "ambient"]}]}
CENTERS = {"metal": (0, 0), "rock": (0, 2), "jazz": (6, 0), "classical": (6, 6), "ambient": (8, 6)}


def blobs(n=30, seed=0, spread=0.6):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(c, spread, (n, 2)) for c in CENTERS.values()])
    return x, np.repeat(list(CENTERS), n)


@parametrize_with_checks([HierarchicalClassifier()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("routing", ["greedy", "product", "blend"])
def test_fits_a_tree_and_predicts_held_out_rows(routing):
    x, y = blobs()
    model = HierarchicalClassifier(SPEC, routing=routing).fit(x, y)
    assert list(model.classes_) == sorted(CENTERS) and set(model.estimators_) == set(model.tree_.model_nodes)
    test_x, test_y = blobs(seed=1)
    assert model.score(test_x, test_y) > 0.9
    proba = model.predict_proba(test_x)
    assert proba.shape == (len(test_x), 5) and np.allclose(proba.sum(axis=1), 1)
    assert (model.flat_estimator_ is not None) == (routing == "blend")


def test_same_routes_as_the_cascade_on_the_same_node_classifiers():
    """One routing seam: the estimator and the window cascade agree on fitted node models."""
    x, y = blobs()
    model = HierarchicalClassifier(SPEC, routing="product").fit(x, y)
    cascade = Cascade(model.tree_, model.estimators_)  # the fitted classifiers as they are
    test_x, _ = blobs(seed=2)
    clips = [row[None, :] for row in test_x]  # one window per clip
    assert [r.genre for r in cascade.route_clips(clips, "product")] == list(model.predict(test_x))


class Tempered:
    """A fitted classifier with a temperature, as a hiergenre node model has one (``calibrate``)."""

    def __init__(self, classifier, temperature):
        self.classifier, self.calibration = classifier, Temperature(temperature)
        self.classes_ = classifier.classes_

    def predict_proba(self, x):
        return self.classifier.predict_proba(x)

    def calibrate(self, proba):
        return self.calibration.calibrate(proba)


def test_cascade_and_estimator_calibrate_alike_for_the_same_temperatures():
    """One calibration seam: node models carrying the estimator's temperatures give its probabilities."""
    x, y = blobs(spread=1.5)
    model = HierarchicalClassifier(SPEC, routing="blend", calibration="temperature").fit(x, y)
    temperatures = model.temperatures_
    assert max(abs(np.log(t)) for t in temperatures.values()) > 0.1  # calibration changes something here
    nodes = {node: Tempered(estimator, temperatures[node]) for node, estimator in model.estimators_.items()}
    flat = Tempered(model.flat_estimator_, temperatures["flat"])
    cascade = Cascade(model.tree_, nodes, flat=flat, flat_weight=model.blend_weight)
    test_x, _ = blobs(seed=2, spread=1.5)
    clips = [row[None, :] for row in test_x]

    def distributions(routes):
        return np.array([[r.distribution[c] for c in model.classes_] for r in routes])

    expected = model.predict_proba(test_x)
    assert distributions(cascade.route_clips(clips, "blend")) == pytest.approx(expected, abs=1e-12)
    assert np.abs(distributions(cascade.route_clips(clips, "blend", calibrated=False)) - expected).max() > 1e-3


def test_tree_from_yaml_path_and_clone_and_params(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("tree: {heavy: [metal, rock], soft: [jazz, {calm: [classical, ambient]}]}\n")
    x, y = blobs()
    model = HierarchicalClassifier(str(path), LogisticRegression(C=0.5), blend_weight=0.3)
    assert clone(model).get_params()["blend_weight"] == 0.3
    assert model.set_params(estimator__C=2.0).estimator.C == 2.0
    tree = GenreTree.from_spec(SPEC, "t")
    assert list(HierarchicalClassifier(tree).fit(x, y).predict(x[:1])) == ["metal"]


def test_a_node_that_sees_one_class_gets_a_constant_classifier():
    x, y = blobs()
    keep = y != "ambient"  # 'calm' only ever sees classical
    model = HierarchicalClassifier(SPEC).fit(x[keep], y[keep])
    calm = model.estimators_["calm"]
    assert isinstance(calm, ConstantClassifier) and calm.probabilities.tolist() == [1.0, 0.0]
    assert "ambient" not in set(model.predict(x))


def test_in_a_pipeline_and_a_grid_search_over_routing_and_blend_weight():
    x, y = blobs(n=20, spread=1.5)
    pipeline = make_pipeline(StandardScaler(), HierarchicalClassifier(SPEC))
    grid = {"hierarchicalclassifier__routing": ["greedy", "blend"], "hierarchicalclassifier__blend_weight": [0.2, 0.8]}
    search = GridSearchCV(pipeline, grid, cv=3).fit(x, y)
    assert search.best_params_["hierarchicalclassifier__routing"] in ("greedy", "blend")
    assert search.score(*blobs(n=10, seed=3, spread=1.5)) > 0.6


def test_bad_trees_and_labels_are_value_errors():
    x, y = blobs(n=5)
    with pytest.raises(ValueError, match="labels not among the tree's leaves"):
        HierarchicalClassifier({"a": ["metal", "rock"], "b": ["jazz", "x"]}).fit(x, y)
    with pytest.raises(ValueError, match="listed twice"):
        HierarchicalClassifier({"a": ["metal", "metal"]}).fit(x, y)
    with pytest.raises(ValueError, match="unknown routing policy"):
        HierarchicalClassifier(routing="best").fit(x, y)


def test_a_classifier_without_probabilities_routes_on_its_decisions():
    from sklearn.svm import SVC

    x, y = blobs(spread=1.5)
    svm = SVC(C=10).fit(x, y)
    model = HierarchicalClassifier(estimator=SVC(C=10)).fit(x, y)  # flat: exactly the SVM
    test_x, _ = blobs(seed=4, spread=1.5)
    assert list(model.predict(test_x)) == list(svm.predict(test_x))
    assert set(np.unique(model.predict_proba(test_x))) <= {0.0, 1.0}


OVERLAPPING = {"warm": ["a", "b", "c"], "cold": ["d", "e", "f"]}  # genres overlap inside a group, groups apart


def overlapping_blobs(n, seed):
    from sklearn.datasets import make_blobs

    centres = [(0, 0), (1.5, 0), (0.75, 1.3), (5, 0), (6.5, 0), (5.75, 1.3)]
    x, k = make_blobs(n, centers=centres, cluster_std=1.0, random_state=seed)
    return x, np.array(list("abcdef"))[k]


def test_target_accuracy_holds_on_fresh_rows_on_average_over_calibration_draws():
    """Split conformal: over draws of the data and of the calibration rows, the climb reaches the target."""
    target, seeds = 0.9, 20
    fresh_x, fresh_y = overlapping_blobs(1000, seed=1000)
    under = {"warm": set("abc"), "cold": set("def"), "root": set("abcdef")}
    achieved, leaf_accuracy = [], []
    for seed in range(seeds):
        x, y = overlapping_blobs(600, seed)
        model = HierarchicalClassifier(
            OVERLAPPING, routing="product", calibration="temperature", target_accuracy=target, random_state=seed
        ).fit(x, y)
        assert model.n_calibration_ == 120 and model.climb_threshold_ is not None
        nodes = model.predict_node(fresh_x)
        achieved.append(
            np.mean([node == t or t in under.get(node, ()) for node, t in zip(nodes, fresh_y, strict=True)])
        )
        leaf_accuracy.append(np.mean(model.predict(fresh_x) == fresh_y))
    mean, se = np.mean(achieved), np.std(achieved, ddof=1) / np.sqrt(seeds)
    assert np.mean(leaf_accuracy) < target - 0.1  # the genres alone miss the target: the climb does the work
    assert target - 3 * se <= mean <= target + 1 / 121 + 3 * se  # at least A, at most A + 1/(n+1): not just the root


def test_too_few_calibration_rows_and_bad_shares_are_refused_in_one_line():
    x, y = overlapping_blobs(40, seed=0)  # 20% of 40 rows: 8 calibration rows, 9 needed for 0.9
    with pytest.raises(ValueError, match=r"needs at least 9 calibration clips, found 8 \(calibration_size=0.2 of 40"):
        HierarchicalClassifier(OVERLAPPING, target_accuracy=0.9).fit(x, y)
    assert (
        HierarchicalClassifier(OVERLAPPING, target_accuracy=0.9, calibration_size=0.25).fit(x, y).n_calibration_ == 10
    )
    for share in (0, 1, 1.5):
        with pytest.raises(ValueError, match="calibration_size is a share of the rows in"):
            HierarchicalClassifier(OVERLAPPING, calibration="temperature", calibration_size=share).fit(x, y)
    with pytest.raises(ValueError, match="sets the climb threshold"):
        HierarchicalClassifier(OVERLAPPING, target_accuracy=0.9, min_confidence=0.5).fit(x, y)


class CountingRows(LogisticRegression):
    """A logistic regression that remembers how many rows it was fitted on."""

    def fit(self, X, y, sample_weight=None):
        self.rows_ = len(X)
        return super().fit(X, y, sample_weight)


def test_calibration_rows_are_stratified_and_kept_out_of_fitting():
    x, y = blobs(n=10)
    x, y = x[y != "ambient"], y[y != "ambient"]
    x, y = np.vstack([x, [[8, 6]]]), np.append(y, "ambient")  # a class with a single row
    model = HierarchicalClassifier(SPEC, CountingRows(), calibration="temperature", random_state=3).fit(x, y)
    assert model.n_calibration_ == 8  # 2 of each 10-row class; the single ambient row cannot be split
    assert model.estimators_["root"].rows_ == 41 - 8 and model.estimators_["calm"].rows_ == 8 + 1
    assert HierarchicalClassifier(SPEC, CountingRows()).fit(x, y).estimators_["root"].rows_ == 41  # no calibration
    other = HierarchicalClassifier(SPEC, CountingRows(), calibration="temperature", random_state=4).fit(x, y)
    assert other.temperatures_ != model.temperatures_  # random_state draws other calibration rows
