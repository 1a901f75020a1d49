"""The workspace: where build-tree, train-all and predict leave things for each other.

Layout (default ``.hiergenre/`` under the current directory, or ``$HIERGENRE_WORKDIR``)::

    tree.yaml, tree.png          the built tree (build-tree)
    cache/features/<params>/     LMFCC matrices keyed by file content (features.FeatureCache)
    corpus/synthetic/            the embedded synthetic corpus, when no --data was given
    models/<tree>/manifest.json  one trained tree, published: names the folder of its models
    models/<tree>/v-<hash>/      <node>.json (+ .keras, .tflite) per decision node, and features.npz
    .train.lock                  held by the train-all that is running (refuses a second one)

A trained tree is described by its :class:`Manifest`; :class:`Workspace` reads and writes
manifests, checks their version, and loads what a manifest points at (node models, the LMFCC
matrices of the lean prediction path).

Publishing is atomic: train-all writes a tree's models into a new folder named by the hash of
their training keys, and only then replaces ``manifest.json`` (one rename) to point at it. A
``predict`` or ``evaluate`` running meanwhile reads one manifest and loads the folder it names,
which is never modified afterwards, so it sees the old models or the new ones, never a mix. The
folder of the previously published version is kept for such readers; older ones are removed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hiergenre import __version__
from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.hierarchy import ROOT, GenreTree, same_decisions
from hiergenre.cascade.routing import RoutingPolicy, get_policy
from hiergenre.data.datasets import Split
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.lmfcc import LmfccMatrices
from hiergenre.models.nodes import BACKENDS, load_node
from hiergenre.storage import atomic_file, read_json, write_json_atomic

DEFAULT_WORKDIR = ".hiergenre"
#: Version of ``manifest.json``; 2 came with node kinds and LiteRT files (hiergenre 0.2), 3 with
#: versioned model folders (0.3). Version 2 manifests still load: their models are beside them.
MANIFEST_VERSION = 3
READABLE_MANIFEST_VERSIONS = (2, 3)
#: The lock file a running train-all holds in the workspace.
TRAINING_LOCK = ".train.lock"
#: Per trained tree: the matrices the lean (LiteRT) prediction path computes LMFCC with.
FEATURE_MATRICES = "features.npz"


def default_workdir() -> Path:
    """``$HIERGENRE_WORKDIR`` if set, else ``.hiergenre`` in the current directory."""
    return Path(os.environ.get("HIERGENRE_WORKDIR") or DEFAULT_WORKDIR)


@dataclass
class Manifest:
    """What one trained tree is: its tree, models, recipe, data and split (``manifest.json``)."""

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

    def model_dir(self, manifest: Manifest) -> Path:
        """The folder holding the node models a manifest publishes."""
        return self.tree_dir(manifest.tree_name) / manifest.models

    def write_manifest(self, manifest: Manifest) -> None:
        """Publish a trained tree: one rename points readers at its models' folder (written before).

        Older model folders of the tree are removed, except the one published until now (a reader
        may be loading it).
        """
        tree_dir = self.tree_dir(manifest.tree_name)
        path = tree_dir / "manifest.json"
        previous = None
        if path.is_file():
            try:
                previous = json.loads(path.read_text(encoding="utf-8")).get("models")
            except (OSError, ValueError):
                previous = None
        write_json_atomic(path, manifest.to_dict())
        keep = {manifest.models, previous}
        for folder in tree_dir.glob("v-*"):
            if folder.is_dir() and folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def training_lock(self, command: str = "train-all") -> Iterator[None]:
        """Hold the workspace's training lock, or refuse at once naming the run that holds it.

        An OS file lock (``flock``): the operating system releases it when the process ends,
        however it ends, so a crashed run never leaves the workspace locked.
        """
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; runs are not guarded there
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / TRAINING_LOCK
        with open(path, "a+", encoding="utf-8") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "another process"
                raise HierGenreError(
                    f"workspace {self.root} is being trained by {holder}; wait for it to finish, "
                    "or train in another --workdir"
                ) from None
            lock.seek(0)
            lock.truncate()
            started = datetime.now(UTC).isoformat(timespec="seconds")
            lock.write(f"{command} (pid {os.getpid()}, started {started})")
            lock.flush()
            try:
                yield
            finally:
                lock.seek(0)
                lock.truncate()

    def manifest(self, name: str) -> Manifest:
        """The manifest of a trained tree, or an error listing the trained ones."""
        path = self.tree_dir(name) / "manifest.json"
        if not path.is_file():
            trained = self.trained_trees()
            hint = (
                "run 'hiergenre train-all' to train it"
                if self.is_built(name)
                else "build it with 'hiergenre build-tree'"
            )
            if trained:
                hint += f", or use a trained tree: --tree {' | '.join(trained)}"
            raise HierGenreError(f"tree {name!r} is not trained in workspace {self.root}: {hint}")
        return Manifest.from_dict(read_json(path, what=f"manifest of tree {name!r}"), f"tree {name!r} in {self.root}")

    def is_built(self, name: str) -> bool:
        """Whether ``name`` is the built tree's name."""
        return self.tree_file.exists() and self.built_tree().name == name

    def default_tree_name(self) -> str:
        """The built tree's name: what predict routes through unless told otherwise."""
        return self.built_tree().name

    def node_metadata(self, name: str) -> dict[str, dict[str, Any]]:
        """Each node's JSON record of a trained tree (kind, parameters, history, training time...)."""
        manifest = self.manifest(name)
        folder = self.model_dir(manifest)
        return {node: read_json(folder / f"{node}.json", what=f"metadata of node {node!r}") for node in manifest.nodes}

    def load_cascade(
        self, name: str | None = None, *, routing: str | RoutingPolicy = "greedy", backend: str = "keras"
    ) -> Cascade:
        """The trained cascade of tree ``name`` (default: the built tree).

        For a routing policy that mixes in the flat model (``blend``), the flat model over the same
        genres is loaded as well.
        """
        policy = get_policy(routing)
        if backend not in BACKENDS:
            raise InvalidValue(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
        manifest = self.manifest(name or self.default_tree_name())
        tree = manifest.genre_tree
        if name is None and not same_decisions(tree, self.built_tree()):
            raise HierGenreError(
                f"the models of tree {tree.name!r} in {self.root} were trained for another version of the tree than "
                "the one built now: run 'hiergenre train-all' again (or rebuild the tree they were trained for)"
            )
        models = {node: load_node(self.model_dir(manifest), node, backend) for node in tree.model_nodes}
        flat = None
        if policy.uses_flat and len(tree.model_nodes) > 1:
            flat_manifest = self.manifest("flat")
            if sorted(flat_manifest.genre_tree.leaves) != sorted(tree.leaves):
                raise HierGenreError(
                    f"routing {policy.name!r}: the trained flat model's genres differ from tree {tree.name!r}'s"
                )
            flat = load_node(self.model_dir(flat_manifest), ROOT, backend)
        return Cascade(tree, models, flat=flat)

    def feature_matrices(self, name: str) -> LmfccMatrices:
        """The LMFCC matrices stored with a trained tree (for the lean prediction path)."""
        return LmfccMatrices.load(self.model_dir(self.manifest(name)) / FEATURE_MATRICES)
