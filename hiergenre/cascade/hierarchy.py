"""Genre trees: parsed from YAML, validated, and queried by the cascade.

A tree file has a top-level ``tree:`` whose value is either a list of genres (a flat tree) or a
mapping from group names to lists. A list item is a genre name or a one-key mapping (a subgroup),
so trees nest as deep as needed::

    name: default
    tree:
      heavy: [metal, rock]
      other: [jazz, {beat: [disco, pop]}]

An optional ``labels:`` mapping says what ``hiergenre tag`` writes into a file for a node: a
genre writes its label or else its name, a group only its label (none: nothing is written when a
prediction stops there). The flat 10-class model and the 3-class baseline are just degenerate trees. Every internal node
with two or more children needs one classifier; a group with a single child is passed through
with probability 1. Nothing here imports TensorFlow, nor networkx: the tree is two dicts (children
in file order, parent), and :attr:`GenreTree.graph` builds a networkx graph only for the code that
draws or searches one (networkx takes longer to import than a whole prediction).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hiergenre.errors import HierGenreError

if TYPE_CHECKING:
    import networkx as nx

ROOT = "root"
#: The report's 3-class baseline: three genres it found easy to tell apart.
BASELINE3_GENRES = ("metal", "classical", "disco")
#: Names of the trees train-all adds to every workspace; a user's tree may not take them.
REFERENCE_TREES = ("flat", "baseline3")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


class GenreTree:
    """A rooted tree whose leaves are genres and whose inner nodes are groups.

    Children keep the order of the YAML file, which fixes the label order of every node model.
    """

    def __init__(self, children: dict[str, list[str]], name: str) -> None:
        #: Every node's children in file order (leaves have none); the root is :data:`ROOT`.
        self._children = children
        self._parent: dict[str, str | None] = {ROOT: None}
        for node, below in children.items():
            self._parent.update(dict.fromkeys(below, node))
        self.name = name
        self._graph: nx.DiGraph | None = None
        #: What tagging writes for a node (``labels:`` of the tree file); see :meth:`label`.
        self.labels: dict[str, str] = {}

    def __contains__(self, node: object) -> bool:
        """Whether ``node`` names a genre, a group or the root of this tree."""
        return node in self._children

    @property
    def graph(self) -> nx.DiGraph:
        """The tree as a networkx graph (edges parent to child; node attributes ``group`` and ``order``).

        Built on first use, for drawing and graph algorithms: networkx is imported only here.
        """
        if self._graph is None:
            import networkx as nx

            graph = nx.DiGraph()
            for node, below in self._children.items():
                graph.add_node(node, order=list(below), **({} if node == ROOT else {"group": bool(below)}))
            graph.add_edges_from((node, child) for node, below in self._children.items() for child in below)
            self._graph = graph
        return self._graph

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_spec(cls, spec: Any, name: str) -> GenreTree:
        """Build and validate a tree from the value of a ``tree:`` key."""
        _check_name(name, "tree name")
        children: dict[str, list[str]] = {ROOT: []}
        groups: set[str] = set()
        _add_children(children, groups, ROOT, spec, where="tree")
        tree = cls(children, name)
        tree._validate()
        return tree

    @classmethod
    def from_yaml_text(cls, text: str, default_name: str = "tree") -> GenreTree:
        """Parse YAML text; ``default_name`` is used when the file has no ``name:``."""
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or next(iter(str(exc).splitlines()), type(exc).__name__)
            raise HierGenreError(f"malformed YAML{where}: {problem}") from None
        if not isinstance(document, dict) or "tree" not in document:
            raise HierGenreError("a tree file needs a top-level 'tree:' key")
        unknown = set(document) - {"tree", "name", "description", "labels"}
        if unknown:
            raise HierGenreError(f"unknown top-level keys in tree file: {', '.join(map(str, sorted(unknown)))}")
        name = document.get("name", default_name)
        if not isinstance(name, str):
            raise HierGenreError(f"'name:' must be a string, got {name!r}")
        return cls.from_spec(document["tree"], name).with_labels(document.get("labels") or {})

    def with_labels(self, labels: Any) -> GenreTree:
        """This tree with the tag values of ``labels`` (node name -> text), checked; returns itself."""
        if not isinstance(labels, dict):
            raise HierGenreError("'labels:' must map genre or group names to the text a tag gets")
        for node, text in labels.items():
            if node not in self or node == ROOT:
                raise HierGenreError(f"'labels:' names {node!r}, which is no genre or group of tree {self.name!r}")
            if not isinstance(text, str) or not text.strip():
                raise HierGenreError(f"'labels:' gives {node!r} {text!r}: a label is a non-empty text")
        self.labels = {str(node): text.strip() for node, text in labels.items()}
        return self

    @classmethod
    def from_file(cls, path: str | Path) -> GenreTree:
        """Read a tree from a YAML file; its stem is the default name."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise HierGenreError(f"tree file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise HierGenreError(f"cannot read tree file {path}: {exc}") from None
        return cls.from_yaml_text(text, default_name=path.stem)

    @classmethod
    def flat(cls, genres: Iterable[str], name: str = "flat") -> GenreTree:
        """A one-level tree: the root classifies directly among ``genres``."""
        return cls.from_spec(list(genres), name)

    # ----------------------------------------------------------------- queries
    def children(self, node: str) -> list[str]:
        """Children of ``node`` in file order (the label order of its classifier)."""
        return list(self._children[node])

    def parent(self, node: str) -> str | None:
        """The parent of ``node``, or None for the root."""
        return self._parent[node]

    def is_leaf(self, node: str) -> bool:
        """True for genres."""
        return not self._children[node]

    @property
    def leaves(self) -> list[str]:
        """Genres, in depth-first file order."""
        return [n for n in self.preorder() if self.is_leaf(n)]

    @property
    def groups(self) -> list[str]:
        """Inner nodes (the root included), in depth-first order."""
        return [n for n in self.preorder() if not self.is_leaf(n)]

    @property
    def model_nodes(self) -> list[str]:
        """Inner nodes with two or more children: each needs one trained classifier."""
        return [n for n in self.groups if len(self.children(n)) >= 2]

    def preorder(self) -> list[str]:
        """All nodes, root first, children in file order."""
        order: list[str] = []
        stack = [ROOT]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(reversed(self.children(node)))
        return order

    def path_to(self, node: str) -> list[str]:
        """Nodes from the root down to ``node``, both included."""
        if node not in self:
            raise HierGenreError(f"{node!r} is not in tree {self.name!r}")
        path = [node]
        while (parent := self.parent(path[-1])) is not None:
            path.append(parent)
        return path[::-1]

    def depth(self, node: str) -> int:
        """Number of edges between the root and ``node``."""
        return len(self.path_to(node)) - 1

    def leaves_under(self, node: str) -> list[str]:
        """Genres in the subtree of ``node``, in file order."""
        if self.is_leaf(node):
            return [node]
        return [leaf for leaf in self.leaves if node in self.path_to(leaf)]

    def child_towards(self, node: str, label: str) -> str | None:
        """The child of ``node`` whose subtree holds ``label`` (a genre, or a group for a partial
        label), or None if none does (``label`` elsewhere, at or above ``node``, or not in the tree)."""
        if label not in self:
            return None
        path = self.path_to(label)
        if node in path and path[-1] != node:
            return path[path.index(node) + 1]
        return None

    def covers(self, node: str, label: str) -> bool:
        """Whether predicting ``node`` is right for a clip labelled ``label``: one lies on the other's path.

        For a genre label this is "the genre lies below the prediction"; for a partial label (a
        group) a prediction anywhere on the group's path, or below the group, is right at the
        depth the label knows.
        """
        if label not in self or node not in self:
            return False
        return node in self.path_to(label) or label in self.path_to(node)

    def label(self, node: str) -> str | None:
        """What a tag gets for ``node``: its label, else a genre its name, a group (or the root) None."""
        if node == ROOT:
            return None
        return self.labels.get(node) or (node if self.is_leaf(node) else None)

    # ----------------------------------------------------------------- conversion
    def to_spec(self, node: str = ROOT) -> Any:
        """The inverse of :meth:`from_spec` (flat trees become a plain list)."""
        items: list[Any] = []
        for child in self.children(node):
            items.append(child if self.is_leaf(child) else {child: self.to_spec(child)})
        if node == ROOT and items and all(isinstance(i, dict) for i in items):
            return {k: v for item in items for k, v in item.items()}
        return items

    def to_yaml(self) -> str:
        """YAML text that :meth:`from_yaml_text` reads back to an equal tree."""
        labels = {"labels": self.labels} if self.labels else {}
        return yaml.safe_dump({"name": self.name, "tree": self.to_spec(), **labels}, sort_keys=False)

    def __eq__(self, other: object) -> bool:
        same = isinstance(other, GenreTree) and self.name == other.name and self.to_spec() == other.to_spec()
        return same and self.labels == other.labels

    def __repr__(self) -> str:
        return f"GenreTree({self.name!r}, leaves={len(self.leaves)}, models={len(self.model_nodes)})"

    # ----------------------------------------------------------------- validation
    def _validate(self) -> None:
        leaves = self.leaves
        if len(leaves) < 2:
            raise HierGenreError(f"tree {self.name!r} needs at least two genres, found {len(leaves)}")
        if not self.model_nodes:
            raise HierGenreError(f"tree {self.name!r} has no node with two or more children")


def valid_name(name: Any) -> bool:
    """Whether ``name`` can name a genre or group: letters, digits, '_', '-', '.', '+', not starting with a sign."""
    return isinstance(name, str) and bool(_NAME_PATTERN.match(name)) and name != ROOT


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise HierGenreError(
            f"invalid {what} {name!r}: use letters, digits, '_', '-', '.' or '+', starting with a letter or digit"
        )
    return name


def _add_node(
    children: dict[str, list[str]], groups: set[str], parent: str, name: Any, *, group: bool, where: str
) -> str:
    name = _check_name(name, "group name" if group else "genre name")
    if name == ROOT:
        raise HierGenreError(f"{where}: {ROOT!r} is reserved for the tree's root")
    if name in children:
        kind_before = "group" if name in groups else "genre"
        kind_now = "group" if group else "genre"
        if kind_before == kind_now:
            raise HierGenreError(f"{where}: {kind_now} {name!r} is listed twice")
        raise HierGenreError(f"{where}: {name!r} is both a group and a genre")
    children[name] = []
    if group:
        groups.add(name)
    children[parent].append(name)
    return name


def _add_children(children: dict[str, list[str]], groups: set[str], parent: str, spec: Any, where: str) -> None:
    if isinstance(spec, dict):
        if not spec:
            raise HierGenreError(f"{where}: group {parent!r} is empty")
        for group, sub in spec.items():
            node = _add_node(children, groups, parent, group, group=True, where=where)
            _add_children(children, groups, node, sub, where=f"{where} > {group}")
        return
    if not isinstance(spec, list):
        raise HierGenreError(f"{where}: expected a list or mapping of genres, got {spec!r}")
    if not spec:
        raise HierGenreError(f"{where}: group {parent!r} is empty")
    for item in spec:
        if isinstance(item, dict):
            if len(item) != 1:
                raise HierGenreError(f"{where}: a subgroup must be a one-key mapping, got {item!r}")
            ((group, sub),) = item.items()
            node = _add_node(children, groups, parent, group, group=True, where=where)
            _add_children(children, groups, node, sub, where=f"{where} > {group}")
        else:
            _add_node(children, groups, parent, item, group=False, where=where)


def reference_tree(name: str, genres: Iterable[str]) -> GenreTree:
    """The ``flat`` tree over ``genres``, or the ``baseline3`` tree (which ignores them).

    The flat tree's genres are sorted: its model (and training key) must not depend on the order
    in which the built tree happens to list them, or rebuilding a tree would retrain it.
    """
    if name == "flat":
        return GenreTree.flat(sorted(genres), "flat")
    if name == "baseline3":
        return GenreTree.flat(BASELINE3_GENRES, "baseline3")
    raise HierGenreError(f"unknown reference tree {name!r}; choose one of: {', '.join(REFERENCE_TREES)}")


def check_not_reserved(tree: GenreTree) -> None:
    """Refuse a user's tree named like a reference tree unless it is that very tree."""
    if tree.name in REFERENCE_TREES and not is_reference_tree(tree):
        raise HierGenreError(f"tree name {tree.name!r} is reserved for the {tree.name} baseline; rename the tree")


def is_reference_tree(tree: GenreTree) -> bool:
    """Whether ``tree`` is the reference tree of its name, its genres in any order."""
    return tree.name in REFERENCE_TREES and same_decisions(tree, reference_tree(tree.name, tree.leaves))


def same_decisions(a: GenreTree, b: GenreTree) -> bool:
    """Whether two trees make the same decisions (flat trees: the same genres in any order)."""
    if a.to_spec() == b.to_spec():
        return True
    return a.to_spec() == a.leaves and b.to_spec() == b.leaves and sorted(a.leaves) == sorted(b.leaves)


def unreserved_name(name: str) -> str:
    """``name``, or ``name-learned`` when it is a reference tree's name (for trees derived from data)."""
    return f"{name}-learned" if name in REFERENCE_TREES else name
