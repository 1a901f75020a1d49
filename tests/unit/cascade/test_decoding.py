"""Decoding a distribution over a tree into nodes that may stop above the genres (no TensorFlow)."""

import numpy as np
import pytest

from hiergenre.cascade.decoding import (
    ConfidenceDecoder,
    ExpectedHF1Decoder,
    get_decoder,
    hf1_matrix,
    node_probabilities,
)
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import InvalidValue
from hiergenre.evaluation.metrics import hierarchical_scores

TREE = GenreTree.from_yaml_text("tree: {a: [x, y], b: [z, w]}")  # leaves x, y, z, w


def test_node_probabilities_sum_genres_up_the_tree():
    nodes, p = node_probabilities(TREE, np.array([[0.3, 0.3, 0.2, 0.2]]))
    assert dict(zip(nodes, p[0], strict=True)) == pytest.approx(
        {"root": 1, "a": 0.6, "x": 0.3, "y": 0.3, "b": 0.4, "z": 0.2, "w": 0.2}
    )


def test_confidence_decoder_stops_where_the_best_child_is_not_confident():
    leaves = np.array([[0.3, 0.3, 0.2, 0.2], [0.9, 0.05, 0.05, 0.0]])
    assert ConfidenceDecoder(0.5).choose(TREE, leaves, ["x", "x"]) == ["a", "x"]
    assert ConfidenceDecoder(0.0).choose(TREE, leaves, ["x", "x"]) == ["x", "x"]
    assert ConfidenceDecoder(0.95).choose(TREE, leaves, ["x", "x"]) == ["root", "a"]  # a holds 0.95, x 0.9
    assert ConfidenceDecoder(0.96).choose(TREE, leaves, ["x", "x"]) == ["root", "root"]
    decoded = ConfidenceDecoder(0.5).decode(TREE, leaves, ["x", "x"])[0]
    assert (decoded.node, decoded.p, decoded.depth, decoded.leaf) == ("a", pytest.approx(0.6), 1, False)
    with pytest.raises(InvalidValue):
        ConfidenceDecoder(1.5)


def test_hf1_decoder_maximises_the_expected_hierarchical_f1():
    wide = GenreTree.from_yaml_text("tree: {a: [x, y, u, v], b: [z]}")
    nodes = wide.preorder()
    matrix = hf1_matrix(wide, nodes)
    for i, leaf in enumerate(wide.leaves):  # the matrix is the metric evaluate reports, clip by clip
        for j, node in enumerate(nodes[1:], start=1):
            assert matrix[i, j] == pytest.approx(hierarchical_scores(wide, [leaf], [node])["f1"])
    assert (matrix[:, 0] == 0).all()  # the root scores nothing
    spread = np.array([[0.25, 0.25, 0.25, 0.25, 0.0]])  # sure of group a, not of its genre
    assert ExpectedHF1Decoder().choose(wide, spread, ["x"]) == ["a"]
    sure = np.array([[0.7, 0.1, 0.1, 0.1, 0.0]])
    assert ExpectedHF1Decoder().choose(wide, sure, ["x"]) == ["x"]
    rng = np.random.default_rng(0)
    for _ in range(50):  # brute force: no node has a higher expected hF1 than the chosen one
        row = rng.dirichlet(np.ones(5))[None]
        chosen = ExpectedHF1Decoder().choose(wide, row, ["x"])[0]
        expected = row @ matrix
        assert expected[0, nodes.index(chosen)] == pytest.approx(expected.max())


def test_get_decoder_names_and_refusals():
    assert get_decoder().name == "leaf" and get_decoder("hf1").name == "hf1"
    assert get_decoder(min_confidence=0.8) == ConfidenceDecoder(0.8)
    with pytest.raises(InvalidValue, match="unknown decoder"):
        get_decoder("best")
    with pytest.raises(InvalidValue, match="choose one"):
        get_decoder("hf1", 0.5)


def test_estimator_predict_node_stops_at_groups_and_cli_reports_depth(cli, trained, tiny_corpus, tmp_path):
    from hiergenre import HierarchicalClassifier

    rng = np.random.default_rng(0)
    centres = {"x": (0, 0), "y": (0.4, 0), "z": (5, 5), "w": (9, 9)}  # x and y overlap: a is sure, x/y not
    X = np.vstack([rng.normal(c, 0.5, size=(30, 2)) for c in centres.values()])
    y = np.repeat(list(centres), 30)
    model = HierarchicalClassifier({"a": ["x", "y"], "b": ["z", "w"]}, min_confidence=0.9).fit(X, y)
    nodes = model.predict_node(X)
    assert set(nodes[:60]) <= {"a", "x", "y"} and "a" in set(nodes[:60])  # the overlapping pair stops at a
    assert set(nodes[60:]) <= {"z", "w"} and (nodes[60:] == y[60:]).mean() > 0.9  # separable: genres
    assert (model.set_params(min_confidence=None).predict_node(X) == model.predict(X)).all()
    out = __import__("json").loads(
        cli("predict", tiny_corpus / "jazz", "--min-confidence", "0.99", "--json", workdir=trained).stdout
    )
    assert all(p["decoded"] == {"node": "root", "p": pytest.approx(1.0), "depth": 0, "leaf": False} for p in out)
    text = cli("predict", tiny_corpus / "jazz" / "jazz.00000.au", "--min-confidence", "0.99", workdir=trained).stdout
    assert "no answer (root): no group or genre reached p 0.99" in text and " p 1.00" not in text
    table = tmp_path / "decoded.csv"
    cli("predict", tiny_corpus / "jazz", "--decode", "hf1", "-o", table, workdir=trained)
    header, *rows = table.read_text().splitlines()
    assert header.endswith("node,node_p,depth,leaf") and len(rows) == 3
    refused = cli("predict", tiny_corpus / "jazz", "--min-confidence", "2", workdir=trained, check=False)
    assert refused.returncode == 2 and "between 0 and 1" in refused.stderr


def test_operating_curve_runs_from_leaf_accuracy_to_the_root():
    from hiergenre.evaluation.operating import operating_curve, specificity

    assert specificity(TREE, "x") == 1.0 and specificity(TREE, "root") == 0.0
    assert specificity(TREE, "a") == pytest.approx(0.5)  # 2 of 4 genres below: log 2 / log 4
    leaves = np.array([[0.45, 0.35, 0.1, 0.1], [0.1, 0.1, 0.6, 0.2], [0.5, 0.1, 0.2, 0.2]])
    curve = operating_curve(TREE, leaves, ["y", "z", "w"])
    first, last = curve.points[0], curve.points[-1]
    assert (first.correct, first.specificity, first.leaf_share) == (pytest.approx(1 / 3), 1.0, 1.0)  # leaf accuracy
    assert (last.correct, last.specificity, last.leaf_share) == (1.0, 0.0, 0.0)  # the root: always right
    assert curve.specificity_at["0.90"] is not None and 0 <= curve.area <= 1
    perfect = operating_curve(TREE, np.eye(4)[[1, 2, 3]], ["y", "z", "w"])
    assert perfect.area == pytest.approx(1.0) and perfect.specificity_at["0.95"] == 1.0
    assert curve.area < perfect.area
