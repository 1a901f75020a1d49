"""Routing policies on node probability matrices, vectorised over clips."""

import numpy as np
import pytest

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.cascade.routing import ROUTING_POLICIES, decide, get_policy, leaf_probabilities, policy_help, routes
from hiergenre.errors import HierGenreError

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, {calm: [classical]}]}")


def random_nodes(n, seed=0):
    rng = np.random.default_rng(seed)
    return {node: rng.dirichlet(np.ones(len(TREE.children(node))), size=n) for node in TREE.model_nodes}


def test_leaf_probabilities_are_path_products_and_sum_to_one():
    nodes = random_nodes(50)
    leaves = leaf_probabilities(TREE, nodes)
    assert leaves.shape == (50, 4) and np.allclose(leaves.sum(axis=1), 1)
    jazz = TREE.leaves.index("jazz")
    assert np.allclose(leaves[:, jazz], nodes[ROOT][:, 1] * nodes["soft"][:, 0])
    classical = TREE.leaves.index("classical")  # the pass-through group 'calm' multiplies by 1
    assert np.allclose(leaves[:, classical], nodes[ROOT][:, 1] * nodes["soft"][:, 1])


@pytest.mark.parametrize("policy", ["greedy", "product", "blend"])
def test_a_batch_routes_like_each_clip_alone(policy):
    nodes = random_nodes(30, seed=1)
    flat = np.random.default_rng(2).dirichlet(np.ones(4), size=30)
    together = routes(TREE, nodes, policy, flat=flat)
    for i, route in enumerate(together):
        alone = routes(TREE, {n: p[i : i + 1] for n, p in nodes.items()}, policy, flat=flat[i : i + 1])[0]
        assert route == alone
        assert route.steps[-1].choice == route.genre and route.steps[0].node == ROOT


def test_greedy_follows_the_best_child_and_product_the_best_path():
    nodes = {ROOT: np.array([[0.55, 0.45]]), "heavy": np.array([[0.5, 0.5]]), "soft": np.array([[0.95, 0.05]])}
    assert decide(TREE, nodes, "greedy").genres == ["metal"]  # a tie at 'heavy' goes to the first child
    assert decide(TREE, nodes, "product").genres == ["jazz"]
    steps = routes(TREE, nodes, "greedy")[0].steps
    assert [(s.node, s.choice, s.p) for s in steps] == [(ROOT, "heavy", 0.55), ("heavy", "metal", 0.5)]


def test_policies_are_a_registry_with_help():
    assert list(ROUTING_POLICIES) == ["greedy", "product", "blend"]
    assert get_policy(ROUTING_POLICIES["blend"]) is ROUTING_POLICIES["blend"]
    assert all(f"'{name}'" in policy_help() for name in ROUTING_POLICIES)
    with pytest.raises(HierGenreError, match="unknown routing policy 'best'; choose one of: greedy, product, blend"):
        get_policy("best")


def test_shape_errors_name_the_node():
    nodes = random_nodes(3)
    with pytest.raises(HierGenreError, match="no probabilities for node"):
        decide(TREE, {ROOT: nodes[ROOT]})
    with pytest.raises(HierGenreError, match="model of node 'soft' returned probabilities of shape"):
        decide(TREE, {**nodes, "soft": np.ones((3, 5))})
    with pytest.raises(HierGenreError, match="disagree on the number of clips"):
        decide(TREE, {**nodes, "soft": nodes["soft"][:2]})
