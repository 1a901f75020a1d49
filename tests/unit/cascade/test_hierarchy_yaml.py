"""Tree files, property-based: generated valid trees parse to what was written, broken ones raise its one error.

A generated tree is a random shape (genres and groups nested up to a few levels, a root of two or
more children) with unique random valid names, written as a user would: lists of genres and
one-key subgroups, or a mapping where every child is a group. A broken tree is such a tree with one
known fault put in, so each fault's message can be checked, not just that something was raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.errors import HierGenreError

#: Names a genre or group may have: letters, digits, '_', '-', '.', '+', starting with a letter or digit.
NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,7}", fullmatch=True).filter(lambda name: name != ROOT)
#: A node's shape: None for a genre, a list of child shapes for a group (never empty).
SHAPES = st.recursive(st.none(), lambda children: st.lists(children, min_size=1, max_size=4), max_leaves=10)
#: What a broken tree's one fault is, and the message that must name it.
FAULTS = {
    "duplicate": r"is listed twice|is both a group and a genre",
    "reserved": r"'root' is reserved for the tree's root",
    "bad name": r"invalid (genre|group) name",
    "not a string": r"invalid (genre|group) name",
    "empty group": r"group '[^']+' is empty",
}
BAD_NAMES = ["-pop", "a b", "", "jazz/rock", "été", "_x"]
NOT_STRINGS = [7, 1.5, True, None]


@dataclass
class Written:
    """A generated tree: its name, the value of its ``tree:`` key, and what parsing it must give."""

    name: str
    spec: Any
    leaves: list[str] = field(default_factory=list)
    children: dict[str, list[str]] = field(default_factory=dict)

    def yaml(self) -> str:
        return yaml.safe_dump({"name": self.name, "tree": self.spec}, sort_keys=False)


def count_nodes(shapes: list[Any]) -> int:
    """Genres and groups below a root whose children have ``shapes``."""
    return sum(1 if shape is None else 1 + count_nodes(shape) for shape in shapes)


def write(draw: st.DrawFn, shapes: list[Any], names: list[str], fault: tuple[str, int] | None = None) -> Written:
    """The tree of ``shapes``, its nodes named ``names`` depth-first; ``fault`` (kind, node index) breaks one node."""
    written = Written(draw(NAMES), None)
    order = iter(range(len(names)))

    def name_of(index: int) -> Any:
        kind = fault[0] if fault and fault[1] == index else None
        if kind == "duplicate":
            return names[draw(st.sampled_from([i for i in range(len(names)) if i != index]))]
        if kind == "reserved":
            return ROOT
        if kind == "bad name":
            return draw(st.sampled_from(BAD_NAMES))
        if kind == "not a string":
            return draw(st.sampled_from(NOT_STRINGS))  # a group's too: YAML keys need not be strings
        return names[index]

    def grow(parent: str, shapes: list[Any]) -> Any:
        items, written.children[parent] = [], []
        for shape in shapes:
            index = next(order)
            name = name_of(index)
            written.children[parent].append(name)
            if shape is None:
                written.leaves.append(name)
                items.append(name)
            elif fault == ("empty group", index):
                items.append({name: []})
            else:
                items.append({name: grow(name, shape)})
        keys = [next(iter(item)) for item in items if isinstance(item, dict)]
        if len(keys) == len(set(keys)) == len(items) and draw(st.booleans()):  # a mapping of groups
            return {key: value for item in items for key, value in item.items()}
        return items

    written.spec = grow(ROOT, shapes)
    return written


@st.composite
def valid_trees(draw: st.DrawFn) -> Written:
    shapes = draw(st.lists(SHAPES, min_size=2, max_size=4))
    names = draw(st.lists(NAMES, min_size=count_nodes(shapes), max_size=count_nodes(shapes), unique=True))
    return write(draw, shapes, names)


@st.composite
def broken_trees(draw: st.DrawFn) -> tuple[Written, str]:
    shapes = draw(st.lists(SHAPES, min_size=2, max_size=4))
    count = count_nodes(shapes)
    names = draw(st.lists(NAMES, min_size=count, max_size=count, unique=True))
    kind = draw(st.sampled_from(sorted(FAULTS)))
    groups = [i for i, is_group in enumerate(group_flags(shapes)) if is_group]
    if kind == "empty group" and not groups:
        kind = "bad name"
    index = draw(st.sampled_from(groups if kind == "empty group" else range(count)))
    return write(draw, shapes, names, (kind, index)), kind


def group_flags(shapes: list[Any]) -> list[bool]:
    """For every node below the root, depth-first: whether it is a group."""
    flags: list[bool] = []
    for shape in shapes:
        flags.append(shape is not None)
        if shape is not None:
            flags += group_flags(shape)
    return flags


@settings(max_examples=100, deadline=None)
@given(written=valid_trees())
def test_a_valid_tree_parses_to_the_genres_and_groups_written(written):
    tree = GenreTree.from_yaml_text(written.yaml())
    assert tree.name == written.name and tree.leaves == written.leaves
    assert tree.groups == list(written.children)  # the root first, then each group in file order
    for group, children in written.children.items():
        assert tree.children(group) == children
    assert tree.model_nodes == [g for g, children in written.children.items() if len(children) >= 2]
    assert GenreTree.from_yaml_text(tree.to_yaml()) == tree


@settings(max_examples=100, deadline=None)
@given(broken=broken_trees())
def test_a_tree_with_one_fault_raises_the_projects_error_naming_it(broken):
    written, kind = broken
    with pytest.raises(HierGenreError, match=FAULTS[kind]) as raised:
        GenreTree.from_yaml_text(written.yaml())
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tree: [jazz]", "needs at least two genres"),
        ("tree: {only: [jazz]}", "needs at least two genres"),
        ("tree: [x, {a: [y], b: [z]}]", "a subgroup must be a one-key mapping"),
        ("tree: jazz", "expected a list or mapping of genres"),
        ("genres: [a, b]", "needs a top-level 'tree:' key"),
        ("name: x\ntree: [a, b]\nextra: 1", "unknown top-level keys in tree file: extra"),
        ("name: [x]\ntree: [a, b]", "'name:' must be a string"),
        ("tree: [a, b", "malformed YAML"),
    ],
)
def test_whole_file_faults_are_named(text, message):
    with pytest.raises(HierGenreError, match=message):
        GenreTree.from_yaml_text(text)


names = st.text(alphabet="abcxyz-_.0123456789 :", min_size=0, max_size=6)
yaml_values = st.recursive(
    st.one_of(names, st.integers(), st.none(), st.booleans()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(names, children, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_parses_or_raises_the_projects_one_line_error(text):
    try:
        tree = GenreTree.from_yaml_text(text)
    except HierGenreError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(tree.leaves) >= 2 and tree.model_nodes


@settings(max_examples=100, deadline=None)
@given(spec=yaml_values, name=names)
def test_any_structure_parses_or_raises_the_projects_one_line_error(spec, name):
    text = yaml.safe_dump({"name": name, "tree": spec})
    try:
        tree = GenreTree.from_yaml_text(text)
    except HierGenreError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(set(tree.leaves)) == len(tree.leaves) >= 2
        assert GenreTree.from_yaml_text(tree.to_yaml()) == tree
