"""The workspace: where build-tree, train-all and predict leave things for each other.

Layout (default ``.hiergenre/`` under the current directory, or ``$HIERGENRE_WORKDIR``)::

    tree.yaml, tree.png          the built tree (build-tree)
    cache/features/<params>/     LMFCC matrices keyed by file content (features.FeatureCache)
    corpus/synthetic/            the embedded synthetic corpus, when no --data was given
    models/<tree>/               one trained tree: <node>.keras + <node>.json per decision node,
                                 and manifest.json, written last (its presence = tree complete)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hiergenre.errors import HierGenreError
from hiergenre.hierarchy import GenreTree
from hiergenre.models import read_json
from hiergenre.storage import atomic_file

DEFAULT_WORKDIR = ".hiergenre"
#: Version of ``manifest.json``; 2 came with node kinds and LiteRT files (hiergenre 0.2).
MANIFEST_VERSION = 2


def default_workdir() -> Path:
    """``$HIERGENRE_WORKDIR`` if set, else ``.hiergenre`` in the current directory."""
    return Path(os.environ.get("HIERGENRE_WORKDIR") or DEFAULT_WORKDIR)


class Workspace:
    """Paths and records of one workspace directory."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_workdir()
        if self.root.exists() and not self.root.is_dir():
            raise HierGenreError(f"workspace {self.root} exists and is not a directory")

    tree_file = property(lambda self: self.root / "tree.yaml")
    tree_png = property(lambda self: self.root / "tree.png")
    cache_dir = property(lambda self: self.root / "cache" / "features")
    corpus_dir = property(lambda self: self.root / "corpus" / "synthetic")
    models_dir = property(lambda self: self.root / "models")

    def save_built_tree(self, tree: GenreTree) -> Path:
        """Store the tree that train-all and predict use by default."""
        with atomic_file(self.tree_file) as out:
            out.write(tree.to_yaml())
        return self.tree_file

    def built_tree(self) -> GenreTree:
        """The tree stored by build-tree, or a clear error telling how to build one."""
        if not self.tree_file.exists():
            raise HierGenreError(
                f"no tree built in {self.root}: run 'hiergenre build-tree hierarchies/default.yaml' first"
            )
        return GenreTree.from_file(self.tree_file)

    def tree_dir(self, name: str) -> Path:
        """Folder of one trained tree's models."""
        return self.models_dir / name

    def trained_trees(self) -> list[str]:
        """Names of trees whose training completed."""
        if not self.models_dir.is_dir():
            return []
        return sorted(p.name for p in self.models_dir.iterdir() if (p / "manifest.json").is_file())

    def manifest(self, name: str) -> dict[str, Any]:
        """The manifest of a trained tree, or an error listing the trained ones."""
        path = self.tree_dir(name) / "manifest.json"
        if not path.is_file():
            trained = self.trained_trees()
            hint = f"trained trees: {', '.join(trained)}" if trained else "run 'hiergenre train-all' first"
            raise HierGenreError(f"tree {name!r} is not trained in workspace {self.root} ({hint})")
        manifest = read_json(path, what=f"manifest of tree {name!r}")
        if not isinstance(manifest, dict) or manifest.get("format_version") != MANIFEST_VERSION:
            found = manifest.get("hiergenre_version", "an unknown version") if isinstance(manifest, dict) else "?"
            raise HierGenreError(
                f"tree {name!r} in {self.root} was trained by an incompatible hiergenre ({found}); "
                "run 'hiergenre train-all' again"
            )
        return manifest

    def default_tree_name(self) -> str:
        """The built tree's name: what predict routes through unless told otherwise."""
        return self.built_tree().name
