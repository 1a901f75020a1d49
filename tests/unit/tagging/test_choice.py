"""What a prediction writes into a tag: labels from the tree file, groups only when labelled, parents on demand."""

from __future__ import annotations

import pytest

from hiergenre.cascade.decoding import Decoded
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route, Step
from hiergenre.errors import HierGenreError
from hiergenre.prediction.outcome import Prediction
from hiergenre.tagging.choice import labelled, planned_change, tag_values

TREE = GenreTree.from_yaml_text(
    "name: t\ntree:\n  heavy: [metal, rock]\n  other: [jazz, {beat: [disco, hiphop]}]\n"
    "labels: {heavy: Rock, hiphop: Hip-Hop, beat: Dance}\n"
)


def predicted(genre: str, stop: str | None = None, p: float = 0.9) -> Prediction:
    route = Route(genre, [Step("root", TREE.path_to(genre)[1], p)])
    decoded = Decoded(stop, p, TREE.depth(stop), TREE.is_leaf(stop)) if stop else None
    return Prediction("song.mp3", route, decoded=decoded)


def test_a_genre_writes_its_label_or_name_and_parents_come_nearest_first_without_repeats():
    assert tag_values(predicted("hiphop"), TREE) == (["Hip-Hop"], "")
    assert tag_values(predicted("jazz"), TREE) == (["jazz"], "")
    assert tag_values(predicted("hiphop"), TREE, with_parents=True) == (["Hip-Hop", "Dance"], "")
    assert tag_values(predicted("rock"), TREE, with_parents=True) == (["rock", "Rock"], "")
    assert tag_values(predicted("jazz"), TREE, with_parents=True) == (["jazz"], "")  # 'other' has no label


def test_a_prediction_stopping_at_an_unlabelled_group_or_the_root_writes_nothing():
    assert tag_values(predicted("metal", stop="heavy"), TREE) == (["Rock"], "")
    values, why = tag_values(predicted("jazz", stop="other"), TREE)
    assert values == [] and "group 'other' has no label" in why
    values, why = tag_values(predicted("jazz", stop="root"), TREE)
    assert values == [] and "root" in why


def test_the_plan_says_write_same_or_nothing_and_keeps_the_old_values_when_nothing_is_written():
    assert planned_change("a.mp3", [], predicted("hiphop"), TREE, False).status == "write"
    same = planned_change("a.mp3", ["Hip-Hop"], predicted("hiphop"), TREE, False)
    assert same.status == "same" and same.after == ["Hip-Hop"]
    nothing = planned_change("a.mp3", ["Old"], predicted("jazz", stop="other"), TREE, False)
    assert nothing.status == "nothing" and nothing.after == ["Old"] and nothing.node == "other"
    failed = planned_change("a.mp3", [], Prediction("a.mp3", error="a.mp3: unreadable"), TREE, False)
    assert failed.status == "error" and failed.reason == "a.mp3: unreadable"


def test_labels_carry_over_to_a_trained_tree_and_bad_labels_are_refused():
    flat = GenreTree.flat(["metal", "rock", "hiphop"])
    assert labelled(flat, TREE.labels).labels == {"hiphop": "Hip-Hop"}
    assert GenreTree.from_yaml_text(TREE.to_yaml()) == TREE
    with pytest.raises(HierGenreError, match="names 'polka', which is no genre or group"):
        GenreTree.from_yaml_text("tree: [a, b]\nlabels: {polka: Polka}\n")
    with pytest.raises(HierGenreError, match="a label is a non-empty text"):
        GenreTree.from_yaml_text("tree: [a, b]\nlabels: {a: ''}\n")
