from pathlib import Path

import pytest

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.errors import HierGenreError

HIERARCHIES = Path(__file__).resolve().parents[3] / "hierarchies"


def tree(text: str) -> GenreTree:
    return GenreTree.from_yaml_text(text)


def test_nested_tree_structure_and_order():
    t = tree("name: t\ntree: {heavy: [metal, rock], other: [jazz, {beat: [disco, pop]}]}")
    assert t.name == "t"
    assert t.children(ROOT) == ["heavy", "other"]
    assert t.leaves == ["metal", "rock", "jazz", "disco", "pop"]
    assert t.model_nodes == [ROOT, "heavy", "other", "beat"]
    assert t.path_to("pop") == [ROOT, "other", "beat", "pop"]
    assert t.depth("pop") == 3
    assert t.leaves_under("other") == ["jazz", "disco", "pop"]
    assert t.child_towards(ROOT, "disco") == "other"
    assert t.child_towards("heavy", "disco") is None


def test_flat_list_is_one_model():
    t = tree("tree: [a, b, c]")
    assert t.model_nodes == [ROOT]
    assert t.leaves == ["a", "b", "c"]
    assert t.name == "tree"


def test_single_child_group_needs_no_model():
    t = tree("tree: {solo: [jazz], pair: [rock, metal]}")
    assert "solo" not in t.model_nodes
    assert t.model_nodes == [ROOT, "pair"]


def test_yaml_round_trip_preserves_tree():
    t = tree("name: x\ntree: {heavy: [metal, rock], other: [jazz, {beat: [disco, pop]}]}")
    assert GenreTree.from_yaml_text(t.to_yaml()) == t
    flat = GenreTree.flat(["a", "b"])
    assert GenreTree.from_yaml_text(flat.to_yaml()) == flat


def test_reference_tree_names_are_reserved_for_those_trees():
    from hiergenre.cascade.hierarchy import check_not_reserved, reference_tree, unreserved_name

    check_not_reserved(GenreTree.flat(["metal", "classical", "disco"], "baseline3"))  # the baseline itself is fine
    check_not_reserved(reference_tree("flat", ["a", "b"]))
    with pytest.raises(HierGenreError, match="'baseline3' is reserved"):
        check_not_reserved(GenreTree.flat(["jazz", "rock"], "baseline3"))
    with pytest.raises(HierGenreError, match="'flat' is reserved"):
        check_not_reserved(tree("name: flat\ntree: {a: [x, y], b: [z, w]}"))
    assert unreserved_name("flat") == "flat-learned" and unreserved_name("mine") == "mine"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tree: [a, b, a]", "genre 'a' is listed twice"),
        ("tree: {g: [a, b], h: [c, {g: [d, e]}]}", "group 'g' is listed twice"),
        ("tree: {a: [a, b], c: [d, e]}", "'a' is both a group and a genre"),
        ("tree: {g: [], h: [a, b]}", "group 'g' is empty"),
        ("tree: [a]", "at least two genres"),
        ("tree: {root: [a, b]}", "reserved"),
        ("tree: [a, {x: [b], y: [c]}]", "one-key mapping"),
        ("tree: [a, 3]", "invalid genre name 3"),
        ("tree: [a, 'b c']", "invalid genre name"),
        ("genres: [a, b]", "top-level 'tree:'"),
        ("tree: [a, b]\nextra: 1", "unknown top-level keys"),
        ("tree: [a, b\n", "malformed YAML"),
        ("tree: 5", "expected a list or mapping"),
        ("- a\n- b", "top-level 'tree:'"),
    ],
)
def test_invalid_trees_give_specific_errors(text, message):
    with pytest.raises(HierGenreError, match=message):
        tree(text)


def test_missing_file(tmp_path):
    with pytest.raises(HierGenreError, match="tree file not found"):
        GenreTree.from_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("name", "leaves", "models"),
    [("default", 10, 5), ("flat", 10, 1), ("baseline3", 3, 1), ("blues-classical-jazz", 3, 1)],
)
def test_shipped_hierarchies(name, leaves, models):
    t = GenreTree.from_file(HIERARCHIES / f"{name}.yaml")
    assert t.name == name
    assert len(t.leaves) == leaves
    assert len(t.model_nodes) == models


def test_default_tree_covers_the_ten_gtzan_genres():
    from hiergenre.data.synthetic.corpus import GENRES

    assert sorted(GenreTree.from_file(HIERARCHIES / "default.yaml").leaves) == sorted(GENRES)


def test_flat_trees_make_the_same_decisions_in_any_genre_order():
    from hiergenre.cascade.hierarchy import is_reference_tree, reference_tree, same_decisions

    shuffled = GenreTree.flat(["metal", "disco", "classical"], "baseline3")
    assert is_reference_tree(shuffled) and same_decisions(shuffled, reference_tree("baseline3", ()))
    assert reference_tree("flat", ["rock", "blues"]).leaves == ["blues", "rock"]  # sorted: one flat model
    nested = GenreTree.from_yaml_text("tree: {a: [x, y], b: [z, w]}")
    assert not same_decisions(nested, GenreTree.flat(nested.leaves)) and same_decisions(nested, nested)
    assert not is_reference_tree(GenreTree.flat(["jazz", "rock", "pop"], "baseline3"))
