"""One trained tree, opened: everything readers need from ONE published version, loaded at once.

``train-all`` may publish new versions of a tree while a ``predict`` or ``evaluate`` runs, and
only the version published before the newest one survives a publish
(:mod:`hiergenre.workspace.folders`). So a :class:`TrainedTree` is read from one manifest read and
the one version folder it names, and loads then everything its readers take from that folder: the
node models (for a runtime), the front-end (with the LMFCC matrices of the lean path) and the raw
validation scores. Its models, features and thresholds therefore always come from one version,
whatever is published afterwards. Open one with :meth:`hiergenre.workspace.layout.Workspace.open`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.frontend import LmfccFrontEnd
from hiergenre.features.registry import AnyFrontEnd, load_front_end
from hiergenre.models.nodes import BACKENDS, NodeModel, load_node, node_file
from hiergenre.storage import read_json
from hiergenre.workspace.folders import VersionFolder
from hiergenre.workspace.manifest import Manifest

#: What runs the node models: ``litert`` (the exported LiteRT files, LMFCC in numpy: no TensorFlow
#: or librosa) or ``keras`` (the Keras networks, LMFCC by librosa: the reference).
RUNTIMES = BACKENDS
#: The runtime prediction and :func:`hiergenre.load_cascade` use unless told otherwise.
DEFAULT_RUNTIME = "litert"


def check_runtime(runtime: str | None) -> str | None:
    """``runtime`` if it is one of :data:`RUNTIMES` (or None: no models), else a one-line error."""
    if runtime is not None and runtime not in RUNTIMES:
        raise InvalidValue(f"unknown runtime {runtime!r}; choose one of: {', '.join(RUNTIMES)}")
    return runtime


@dataclass(frozen=True)
class TrainedTree:
    """A trained tree as one published version holds it, loaded when opened.

    ``runtime`` None opens the records only (manifest, node JSON, front-end settings): what
    ``hiergenre info`` shows, without loading a model. ``flat`` is the flat model over the same
    genres, opened alongside for the ``blend`` routing.
    """

    manifest: Manifest
    #: The version folder everything was read from (it may be gone by now: nothing is read from it later).
    folder: VersionFolder
    #: Each decision node's JSON record (kind, parameters, history, training time...).
    node_records: dict[str, dict[str, Any]]
    front_end: AnyFrontEnd
    runtime: str | None = None
    #: The node models by decision node (empty when ``runtime`` is None).
    models: dict[str, NodeModel] = field(default_factory=dict)
    #: The bytes of ``validation.npz`` (:mod:`hiergenre.workspace.validation` reads them); None if absent.
    validation: bytes | None = None
    flat: TrainedTree | None = None
    #: Whether it is the bundled model's (:mod:`hiergenre.workspace.bundled`), read because the workspace had none.
    bundled: bool = False

    @classmethod
    def read(cls, manifest: Manifest, folder: VersionFolder, runtime: str | None) -> TrainedTree:
        """Everything of the version ``folder`` that ``manifest`` publishes, models for ``runtime``."""
        records = {
            node: read_json(node_file(folder.path, node), what=f"metadata of node {node!r}") for node in manifest.nodes
        }
        record = manifest.front_end or first_node_front_end(manifest, records)
        front_end = load_front_end(record, folder.feature_matrices, lean=runtime == "litert")
        tree = manifest.genre_tree
        models = {node: load_node(folder.path, node, runtime) for node in tree.model_nodes} if runtime else {}
        path = folder.validation_file
        validation = path.read_bytes() if path.is_file() else None
        return cls(manifest, folder, records, front_end, runtime, models, validation)

    @property
    def name(self) -> str:
        """The tree's name (``default``, ``flat``...)."""
        return self.manifest.tree_name

    @cached_property
    def tree(self) -> GenreTree:
        """The tree the models were trained for."""
        return self.manifest.genre_tree

    @cached_property
    def cascade(self) -> Cascade:
        """The node models as a cascade (with the flat model, when it was opened alongside)."""
        if self.runtime is None:
            raise HierGenreError(f"tree {self.name!r} was opened without its models: open it with a runtime")
        flat = self.flat.models[ROOT] if self.flat is not None else None
        return Cascade(self.tree, self.models, flat=flat)


def first_node_front_end(manifest: Manifest, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The front-end of a manifest older than version 4: LMFCC with the first node's feature settings."""
    settings = next((r.get("features") for r in records.values() if r.get("features")), None)
    if settings is None:
        raise HierGenreError(f"tree {manifest.tree_name!r} records no feature settings: retrain with train-all")
    return {"kind": LmfccFrontEnd.kind, "params": settings}
