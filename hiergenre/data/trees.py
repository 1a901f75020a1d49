"""The genre trees shipped with hiergenre, and turning a ``build-tree`` argument into a tree.

The YAML trees live inside the package (``hiergenre/hierarchies/*.yaml``), so an installed
hiergenre can build ``default`` or ``flat`` from any folder; the repository's ``hierarchies``
is a link to the same files, so ``build-tree hierarchies/default.yaml`` works there as well.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import HierGenreError

__all__ = ["shipped_tree_names", "resolve_tree_file", "load_tree"]

#: Suffix of a shipped tree's file; its stem is the name ``build-tree`` accepts.
TREE_SUFFIX = ".yaml"


def _shipped_folder() -> Path:
    """The folder of the shipped YAML trees (package data, a real folder in both editable and wheel installs)."""
    return Path(str(resources.files("hiergenre") / "hierarchies"))


def shipped_tree_names() -> list[str]:
    """Names of the shipped trees, sorted: ``baseline3``, ``blues-classical-jazz``, ``default``, ``flat``."""
    return sorted(path.stem for path in _shipped_folder().glob(f"*{TREE_SUFFIX}"))


def resolve_tree_file(name_or_path: str | Path) -> Path:
    """The YAML file that a ``build-tree`` argument means.

    A file that exists wins, so a local ``default.yaml`` or ``hierarchies/default.yaml`` is read as
    given; otherwise a shipped tree's name (``default``, or ``default.yaml``) picks the shipped file.
    Anything else is a one-line :class:`~hiergenre.errors.HierGenreError` that lists the shipped names.
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    name = path.name.removesuffix(TREE_SUFFIX) if path.parent == Path(".") else None
    if name in shipped_tree_names():
        return _shipped_folder() / f"{name}{TREE_SUFFIX}"
    raise HierGenreError(
        f"tree file not found: {name_or_path} (not a file, nor a shipped tree: {', '.join(shipped_tree_names())})"
    )


def load_tree(name_or_path: str | Path) -> GenreTree:
    """The tree of a YAML file or of a shipped tree's name (see :func:`resolve_tree_file`)."""
    return GenreTree.from_file(resolve_tree_file(name_or_path))
