"""The folder of one trained tree, ``models/<tree>/``: the one module that knows what lies inside it.

::

    models/<tree>/manifest.json   the published version: names the folder below that readers load
    models/<tree>/v-<hash>/       one version: per decision node <node>.json (+ .keras, .tflite:
                                  :func:`hiergenre.models.nodes.node_file`), validation.npz (every
                                  node's scores of the calibration clips) and features.npz (LMFCC matrices)

Training writes a version folder completely, then :meth:`TreeFolder.publish` replaces the manifest
(one rename). A version folder is never modified once published; publishing removes every version
but the new one and the one published until then, so a reader that loaded version N keeps working
while N+1 is published, and must have loaded what it needs before N+2 is
(:class:`~hiergenre.workspace.trained.TrainedTree` loads everything when it is opened).
Manifests of hiergenre 0.2 (format 2) name no version folder: their models lie in the tree's folder.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hiergenre.storage import write_json_atomic

MANIFEST_FILE = "manifest.json"
#: A trained tree's validation scores (:mod:`hiergenre.workspace.validation`), beside its node models.
VALIDATION_FILE = "validation.npz"
#: The matrices the LMFCC front-end computes features with (:mod:`hiergenre.features.frontend`).
FEATURE_MATRICES = "features.npz"
VERSION_PREFIX = "v-"


@dataclass(frozen=True)
class VersionFolder:
    """One version of a trained tree's models (``v-<hash>``), never modified once published."""

    path: Path

    @property
    def name(self) -> str:
        """``v-<hash>`` (or the tree's name for a hiergenre 0.2 workspace)."""
        return self.path.name

    @property
    def validation_file(self) -> Path:
        """The tree's validation scores."""
        return self.path / VALIDATION_FILE

    @property
    def feature_matrices(self) -> Path:
        """The LMFCC matrices of the lean feature path."""
        return self.path / FEATURE_MATRICES


@dataclass(frozen=True)
class TreeFolder:
    """``models/<tree>/``: the published manifest and the version folders of one trained tree."""

    path: Path

    @property
    def manifest_file(self) -> Path:
        """The published manifest."""
        return self.path / MANIFEST_FILE

    def is_published(self) -> bool:
        """Whether a training of this tree completed (its manifest exists)."""
        return self.manifest_file.is_file()

    def version(self, models: str) -> VersionFolder:
        """The folder named ``models`` by a manifest or by training ('' for a format 2 manifest: the tree's folder)."""
        return VersionFolder(self.path / models)

    def earlier_versions(self, current: Path) -> list[Path]:
        """The tree's version folders other than ``current``, newest first, then the tree's own folder.

        Where a node model whose training key did not change may be reused from (the tree's own
        folder holds the models of a hiergenre 0.2 workspace). Empty when ``current`` is not a version.
        """
        if not current.name.startswith(VERSION_PREFIX):
            return []
        others = [d for d in self.path.glob(f"{VERSION_PREFIX}*") if d.is_dir() and d != current]
        return [*sorted(others, key=lambda d: d.stat().st_mtime, reverse=True), self.path]

    def publish(self, manifest: dict[str, Any]) -> None:
        """Point readers at the version ``manifest["models"]`` (written before) with one rename.

        Older version folders are removed, except the one published until now (a reader may be
        loading it).
        """
        previous = None
        if self.manifest_file.is_file():
            try:
                previous = json.loads(self.manifest_file.read_text(encoding="utf-8")).get("models")
            except (OSError, ValueError, AttributeError):
                previous = None
        write_json_atomic(self.manifest_file, manifest)
        keep = {manifest.get("models"), previous}
        for folder in self.path.glob(f"{VERSION_PREFIX}*"):
            if folder.is_dir() and folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def tree_folder_of(version: Path) -> TreeFolder:
    """The tree folder a version folder (a training job's output folder) lies in."""
    return TreeFolder(Path(version).parent)
