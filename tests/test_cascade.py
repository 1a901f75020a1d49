import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from hiergenre.cascade import Cascade
from hiergenre.errors import HierGenreError
from hiergenre.hierarchy import ROOT, GenreTree

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, {calm: [classical]}]}")


class Fixed:
    """A classifier that always returns the same distribution."""

    def __init__(self, classes, probs):
        self.classes = classes
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
        classes = ["a", "b"]

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
    classifiers = {n: _with_classes(c) for n, c in classifiers.items()}
    cascade = Cascade(TREE, classifiers)
    for genre, center in centers.items():
        assert cascade.route(np.full((2, 1), center)).genre == genre


def _with_classes(classifier):
    classifier.classes = list(classifier.classes_)
    return classifier


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
        "import hiergenre.cascade, hiergenre.hierarchy, sys; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
