import pytest

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route, Step
from hiergenre.evaluation.metrics import (
    confusion_text,
    hierarchical_scores,
    level_accuracy,
    node_accuracy,
    score,
    severity,
    tree_distance,
)

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, {calm: [classical, ambient]}]}")


def test_tree_distance():
    assert tree_distance(TREE, "metal", "metal") == 0
    assert tree_distance(TREE, "metal", "rock") == 2
    assert tree_distance(TREE, "metal", "jazz") == 4
    assert tree_distance(TREE, "jazz", "ambient") == 3
    assert tree_distance(TREE, "metal", "ambient") == 5


def test_hierarchical_scores_count_shared_ancestors():
    # metal->rock shares 'heavy' (1 of 2 labels each); jazz->jazz shares both
    s = hierarchical_scores(TREE, ["metal", "jazz"], ["rock", "jazz"])
    assert s["precision"] == pytest.approx(3 / 4) and s["recall"] == pytest.approx(3 / 4)
    deep = hierarchical_scores(TREE, ["ambient"], ["jazz"])  # true {soft, calm, ambient}, pred {soft, jazz}
    assert deep["precision"] == pytest.approx(1 / 2) and deep["recall"] == pytest.approx(1 / 3)


def test_severity_and_levels():
    true, pred = ["metal", "metal", "jazz", "classical"], ["metal", "rock", "metal", "ambient"]
    sev = severity(TREE, true, pred)
    assert sev["histogram"] == {"0": 1, "2": 2, "4": 1}
    assert sev["mean_distance_of_mistakes"] == pytest.approx(8 / 3)
    levels = level_accuracy(TREE, true, pred)
    assert levels == {"1": 0.75, "2": 0.5, "3": 0.25}  # classical/ambient share calm at level 2


def route(*steps):
    return Route(steps[-1][1], [Step(n, c, 0.9) for n, c in steps])


def test_node_accuracy_counts_only_clips_on_the_true_branch():
    true = ["metal", "jazz", "classical"]
    routes = [
        route(("root", "heavy"), ("heavy", "rock")),  # root right, heavy wrong
        route(("root", "heavy"), ("heavy", "metal")),  # root wrong: heavy not counted
        route(("root", "soft"), ("soft", "calm"), ("calm", "classical")),
    ]
    acc = node_accuracy(TREE, true, routes)
    assert acc["root"] == {"accuracy": pytest.approx(2 / 3), "support": 3}
    assert acc["heavy"] == {"accuracy": 0.0, "support": 1}
    assert acc["soft"]["support"] == 1 and acc["calm"]["accuracy"] == 1.0


def test_score_per_class_and_confusion():
    s = score("m", ["metal", "metal", "rock", "jazz"], ["metal", "rock", "rock", "jazz"], TREE)
    assert s.accuracy == 0.75
    assert s.balanced_accuracy == pytest.approx((0.5 + 1 + 1) / 3)
    assert s.per_class["metal"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert s.labels == ["metal", "rock", "jazz"]
    assert s.confusion == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert "metal" in confusion_text(s).splitlines()[1]
