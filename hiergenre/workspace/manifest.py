"""What one trained tree is: its :class:`Manifest` (``models/<tree>/manifest.json``).

The manifest records the tree, the recipe, the data and split the models were trained on, the
feature front-end that turns audio into the models' inputs, and the version folder holding the
models (:mod:`hiergenre.workspace.folders`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hiergenre import __version__
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.data.datasets import Dataset, Split
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

    @property
    def synthetic(self) -> bool:
        """Whether the models were trained on the embedded synthetic corpus (generated clips, not music)."""
        return bool(self.dataset.get("synthetic"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Manifest:
        """Read a manifest's JSON, refusing other format versions with what to run."""
        if not isinstance(data, dict) or data.get("format_version") not in READABLE_MANIFEST_VERSIONS:
            found = data.get("hiergenre_version", "an unknown version") if isinstance(data, dict) else "?"
            again = retrain_command(data.get("dataset") if isinstance(data, dict) else None)
            raise HierGenreError(
                f"{where} was trained by an incompatible hiergenre ({found}); train again with {again}"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            again = retrain_command(data.get("dataset"))
            raise HierGenreError(f"{where}: damaged manifest ({exc}); train again with {again}") from None


def data_record(dataset: Dataset) -> dict[str, Any]:
    """What a manifest records of the data its models were trained on: the folder (absolute), the
    train-all options that find it again from any folder, whether it is the synthetic corpus, its
    fingerprint and clip count."""
    return {
        "root": str(Path(dataset.root).resolve()),
        "options": list(dataset.data_options),
        "synthetic": dataset.synthetic,
        "fingerprint": dataset.fingerprint(),
        "clips": len(dataset.clips),
    }


def data_options(record: dict[str, Any] | None) -> list[str]:
    """The train-all options that repeat a manifest's data: ``--data /abs/path`` (and ``--metadata``),
    none for the synthetic corpus (train-all without ``--data`` trains on it)."""
    if not isinstance(record, dict) or record.get("synthetic"):
        return []
    if record.get("options"):
        return [str(o) for o in record["options"]]
    return ["--data", str(Path(record["root"]).resolve())] if record.get("root") else ["--data", "DIR"]


def retrain_command(record: dict[str, Any] | None) -> str:
    """``'hiergenre train-all --data /abs/path'``: the command that trains on the data of ``record``
    (None: data not known), for the end of a hint."""
    command = " ".join(["hiergenre train-all", *data_options(record)]) if record else "hiergenre train-all --data DIR"
    return f"'{command}'" + (" (no --data: the synthetic corpus, as before)" if data_is_synthetic(record) else "")


def data_is_synthetic(record: dict[str, Any] | None) -> bool:
    """Whether ``record`` (a manifest's data record) is the embedded synthetic corpus."""
    return isinstance(record, dict) and bool(record.get("synthetic"))


def describe_data(record: dict[str, Any]) -> str:
    """The data of a record in words: its folder, or the synthetic corpus."""
    return "the embedded SYNTHETIC corpus" if data_is_synthetic(record) else str(record.get("root"))


def same_data(record: dict[str, Any], dataset: Dataset) -> bool:
    """Whether ``dataset`` is the data of ``record``: both the synthetic corpus, or the same folder
    (grown or shrunk in place), or the same files elsewhere (the same fingerprint: moved)."""
    if data_is_synthetic(record) or dataset.synthetic:
        return data_is_synthetic(record) == dataset.synthetic
    same_folder = Path(str(record.get("root"))).resolve() == Path(dataset.root).resolve()
    return same_folder or record.get("fingerprint") == dataset.fingerprint()
