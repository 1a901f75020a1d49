"""What one trained tree is: its :class:`Manifest` (``models/<tree>/manifest.json``).

The manifest records the tree, the recipe, the data and split the models were trained on, the
feature front-end that turns audio into the models' inputs, and the version folder holding the
models (:mod:`hiergenre.workspace.folders`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hiergenre import __version__
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.data.datasets import Split
from hiergenre.errors import HierGenreError

#: Version of ``manifest.json``; 2 came with node kinds and LiteRT files (hiergenre 0.2), 3 with
#: versioned model folders (0.3), 4 with the front-end record (0.5: a tree's inputs may come from
#: another front-end than LMFCC, which an older hiergenre would not know to refuse).
#: Versions 2 and 3 still load: their front-end is the LMFCC of their nodes' feature settings.
MANIFEST_VERSION = 4
READABLE_MANIFEST_VERSIONS = (2, 3, 4)


@dataclass
class Manifest:
    """What one trained tree is: its tree, models, recipe, data, split and front-end (``manifest.json``)."""

    tree_name: str
    role: str
    tree: Any
    nodes: list[str]
    preset: str
    node_model: str
    epochs_cap: int
    seed: int
    dataset: dict[str, Any]
    split: dict[str, Any]
    skipped_files: dict[str, str] = field(default_factory=dict)
    trained_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    hiergenre_version: str = __version__
    format_version: int = MANIFEST_VERSION
    #: Folder of the node models under the tree's folder ('' for a version 2 manifest: the tree's folder).
    models: str = ""
    #: The front-end the models' inputs come from: ``{"kind": "lmfcc", "params": {...}}``
    #: (:mod:`hiergenre.features.frontend`); None in manifests older than version 4.
    front_end: dict[str, Any] | None = None

    @property
    def genre_tree(self) -> GenreTree:
        """The tree the models were trained for."""
        return GenreTree.from_spec(self.tree, self.tree_name)

    @property
    def test_split(self) -> Split:
        """The split the models were trained on (its test part was never seen)."""
        return Split.from_dict(self.split)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Manifest:
        """Read a manifest's JSON, refusing other format versions with what to run."""
        if not isinstance(data, dict) or data.get("format_version") not in READABLE_MANIFEST_VERSIONS:
            found = data.get("hiergenre_version", "an unknown version") if isinstance(data, dict) else "?"
            raise HierGenreError(
                f"{where} was trained by an incompatible hiergenre ({found}); run 'hiergenre train-all' again"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise HierGenreError(f"{where}: damaged manifest ({exc}); run 'hiergenre train-all' again") from None
