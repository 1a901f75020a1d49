import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.errors import HierGenreError

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, {calm: [classical]}]}")


class Fixed:
    """A classifier that always returns the same distribution."""

    def __init__(self, classes, probs):
        self.classes_ = np.array(classes)
        self.probs = np.asarray(probs, dtype=float)

    def predict_proba(self, windows):
        return np.tile(self.probs, (len(windows), 1))


def test_route_follows_most_probable_child_and_multiplies():
    cascade = Cascade(
        TREE,
        {
            ROOT: Fixed(["heavy", "soft"], [0.2, 0.8]),
            "heavy": Fixed(["metal", "rock"], [0.5, 0.5]),
            "soft": Fixed(["calm", "jazz"], [0.75, 0.25]),
        },
    )
    route = cascade.route(np.zeros((3, 4)))
    assert route.genre == "classical"
    assert [(s.node, s.choice) for s in route.steps] == [(ROOT, "soft"), ("soft", "calm"), ("calm", "classical")]
    assert route.steps[2].p == 1.0  # single-child group: pass-through
    assert route.p == pytest.approx(0.8 * 0.75)
    assert route.steps[0].probabilities == pytest.approx({"heavy": 0.2, "soft": 0.8})


def test_window_probabilities_are_averaged():
    class PerWindow:
        classes_ = np.array(["a", "b"])

        def predict_proba(self, windows):
            return np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])[: len(windows)]

    cascade = Cascade(GenreTree.flat(["a", "b"]), {ROOT: PerWindow()})
    route = cascade.route(np.zeros((3, 2)))
    assert route.genre == "b"
    assert route.p == pytest.approx((0.1 + 0.8 + 0.7) / 3)


def test_works_with_sklearn_classifiers_per_node():
    rng = np.random.default_rng(0)
    centers = {"metal": 0.0, "rock": 3.0, "jazz": 6.0, "classical": 9.0}
    x = np.concatenate([rng.normal(c, 0.3, (20, 1)) for c in centers.values()])
    genres = np.repeat(list(centers), 20)
    classifiers = {}
    for node in TREE.model_nodes:
        labels = np.array([TREE.child_towards(node, g) for g in genres], dtype=object)
        mask = labels != None  # noqa: E711
        classifiers[node] = LogisticRegression().fit(x[mask], labels[mask].astype(str))
    cascade = Cascade(TREE, classifiers)  # as fitted: the cascade reads scikit-learn's classes_
    for genre, center in centers.items():
        assert cascade.route(np.full((2, 1), center)).genre == genre


def test_missing_or_mismatched_models_are_reported():
    with pytest.raises(HierGenreError, match="no model for node"):
        Cascade(TREE, {ROOT: Fixed(["heavy", "soft"], [0.5, 0.5])})
    with pytest.raises(HierGenreError, match="predicts"):
        Cascade(GenreTree.flat(["a", "b"]), {ROOT: Fixed(["a", "c"], [0.5, 0.5])})


def test_empty_clip_is_an_error():
    cascade = Cascade(GenreTree.flat(["a", "b"]), {ROOT: Fixed(["a", "b"], [0.5, 0.5])})
    with pytest.raises(HierGenreError, match="no feature windows"):
        cascade.route(np.zeros((0, 3)))


def test_cascade_module_does_not_need_tensorflow():
    import subprocess
    import sys

    code = (
        "import hiergenre.cascade.cascade, hiergenre.cascade.hierarchy, sys; "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def unsure_root_cascade(flat=None):
    """The root slightly prefers 'heavy', where the model is torn; 'soft' is sure of 'jazz'."""
    return Cascade(
        TREE,
        {
            ROOT: Fixed(["heavy", "soft"], [0.55, 0.45]),
            "heavy": Fixed(["metal", "rock"], [0.5, 0.5]),
            "soft": Fixed(["jazz", "calm"], [0.95, 0.05]),
        },
        flat=flat,
    )


def test_product_routing_lets_a_sure_lower_node_overrule_an_unsure_root():
    cascade = unsure_root_cascade()
    windows = np.zeros((2, 4))
    assert cascade.route(windows, "greedy").genre in ("metal", "rock")
    route = cascade.route(windows, "product")
    assert route.genre == "jazz"
    assert route.distribution == pytest.approx(
        {"metal": 0.275, "rock": 0.275, "jazz": 0.45 * 0.95, "classical": 0.45 * 0.05}
    )
    assert sum(route.distribution.values()) == pytest.approx(1)
    assert [(s.node, s.choice) for s in route.steps] == [(ROOT, "soft"), ("soft", "jazz")]
    assert route.steps[0].p == pytest.approx(0.45)  # the step shows the root's own probability
    assert route.p == pytest.approx(0.45 * 0.95)


def test_blend_routing_averages_with_the_flat_model():
    flat = Fixed(["metal", "rock", "jazz", "classical"], [0.0, 0.9, 0.1, 0.0])
    route = unsure_root_cascade(flat).route(np.zeros((1, 4)), "blend")
    assert route.genre == "rock"  # 0.5 * 0.275 + 0.5 * 0.9 beats 0.5 * 0.4275 + 0.5 * 0.1
    assert route.distribution["rock"] == pytest.approx(0.5 * 0.275 + 0.5 * 0.9)
    assert route.p == pytest.approx(route.distribution["rock"])


def test_routing_errors_are_specific():
    cascade = unsure_root_cascade()
    with pytest.raises(HierGenreError, match="needs the flat model"):
        cascade.route(np.zeros((1, 4)), "blend")
    with pytest.raises(HierGenreError, match="unknown routing policy 'best'"):
        cascade.route(np.zeros((1, 4)), "best")
    with pytest.raises(HierGenreError, match="flat model predicts"):
        unsure_root_cascade(Fixed(["metal", "rock"], [0.5, 0.5]))
