"""The workspace: where build-tree, train-all and predict leave things for each other.

Layout (default ``.hiergenre/`` under the current directory, or ``$HIERGENRE_WORKDIR``)::

    tree.yaml, tree.png          the built tree (build-tree)
    cache/features/<params>/     LMFCC matrices keyed by file content (features.FeatureCache)
    corpus/synthetic/            the embedded synthetic corpus, when no --data was given
    models/<tree>/               one trained tree: its manifest and model versions (workspace.folders)
    .train.lock                  held by the train-all that is running (refuses a second one)

A workspace with no trained tree reads its models from the model shipped in the package
(:mod:`hiergenre.workspace.bundled`, :meth:`Workspace.serving`): its tree and trained trees come
from there, read-only, while caches stay in the workspace.

:class:`Workspace` knows these paths, reads manifests (:mod:`hiergenre.workspace.manifest`),
publishes them, and opens trained trees (:class:`~hiergenre.workspace.trained.TrainedTree`): one
manifest read, one version folder, everything a reader needs loaded at once.

Publishing is atomic: train-all writes a tree's models into a new folder named by the hash of
their training keys, and only then replaces ``manifest.json`` (one rename) to point at it. A
``predict`` or ``evaluate`` running meanwhile opens one manifest and loads the folder it names,
which is never modified afterwards, so it sees the old models or the new ones, never a mix. The
folder of the previously published version is kept for such readers; older ones are removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hiergenre.cascade.hierarchy import REFERENCE_TREES, GenreTree, same_decisions
from hiergenre.errors import HierGenreError
from hiergenre.storage import atomic_file, read_json
from hiergenre.workspace.bundled import BUNDLED_MODEL, bundled_model_present
from hiergenre.workspace.folders import TreeFolder
from hiergenre.workspace.manifest import Manifest, data_options, retrain_command
from hiergenre.workspace.trained import DEFAULT_RUNTIME, TrainedTree, check_runtime

DEFAULT_WORKDIR = ".hiergenre"
#: The lock file a running train-all holds in the workspace.
TRAINING_LOCK = ".train.lock"


def default_workdir() -> Path:
    """``$HIERGENRE_WORKDIR`` if set, else ``.hiergenre`` in the current directory."""
    return Path(os.environ.get("HIERGENRE_WORKDIR") or DEFAULT_WORKDIR)


class Workspace:
    """Paths and records of one workspace directory."""

    def __init__(self, root: str | Path | None = None, *, models_from: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_workdir()
        if self.root.exists() and not self.root.is_dir():
            raise HierGenreError(f"workspace {self.root} exists and is not a directory")
        #: Where the built tree and the trained trees are read from: the workspace itself, or the bundled model.
        self.models_root = Path(models_from) if models_from is not None else self.root

    tree_file = property(lambda self: self.models_root / "tree.yaml")
    tree_png = property(lambda self: self.models_root / "tree.png")
    cache_dir = property(lambda self: self.root / "cache" / "features")
    corpus_dir = property(lambda self: self.root / "corpus" / "synthetic")
    models_dir = property(lambda self: self.models_root / "models")

    @property
    def bundled(self) -> bool:
        """Whether the models read are the bundled model's (see :meth:`serving`)."""
        return self.models_root != self.root

    def serving(self) -> Workspace:
        """The workspace that predicts: this one, or, when it has no trained tree, one reading the bundled model.

        A workspace's own trained trees always take precedence; the bundled model (the default tree,
        the flat model and the 3-class baseline, :mod:`hiergenre.workspace.bundled`) answers only
        where nothing was trained, so that ``hiergenre predict song.mp3`` works right after install.
        Caches are still written in this workspace; the bundled model is never written to.
        """
        if self.bundled or self.trained_trees() or not bundled_model_present():
            return self
        return Workspace(self.root, models_from=BUNDLED_MODEL)

    def save_built_tree(self, tree: GenreTree) -> Path:
        """Store the tree that train-all and predict use by default."""
        self._refuse_bundled()
        with atomic_file(self.tree_file) as out:
            out.write(tree.to_yaml())
        return self.tree_file

    def built_tree(self) -> GenreTree:
        """The tree stored by build-tree, or a clear error telling how to build one."""
        if not self.tree_file.exists():
            raise HierGenreError(
                f"no tree built in {self.root}: run 'hiergenre build-tree default' first (or a tree file of yours)"
            )
        return GenreTree.from_file(self.tree_file)

    def tree_folder(self, name: str) -> TreeFolder:
        """The folder of one trained tree (``models/<name>``: its manifest and model versions)."""
        return TreeFolder(self.models_dir / name)

    def trained_trees(self) -> list[str]:
        """Names of trees whose training completed."""
        if not self.models_dir.is_dir():
            return []
        return sorted(p.name for p in self.models_dir.iterdir() if TreeFolder(p).is_published())

    def publish(self, manifest: Manifest) -> None:
        """Publish a trained tree: one rename points readers at its models' folder (written before)."""
        self._refuse_bundled()
        self.tree_folder(manifest.tree_name).publish(manifest.to_dict())

    def _refuse_bundled(self) -> None:
        """The bundled model is read-only: writing goes to a workspace of one's own."""
        if self.bundled:
            raise HierGenreError("the bundled model is read-only: build and train a tree in a workspace of your own")

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
        path = self.tree_folder(name).manifest_file
        if not path.is_file() and self.bundled:
            raise HierGenreError(
                f"tree {name!r} is not in the bundled model (it has {', '.join(self.trained_trees())}), and "
                f"{self.root} holds no trained tree: build it with 'hiergenre build-tree', then train it with "
                "'hiergenre train-all --data DIR'"
            )
        if not path.is_file():
            trained = self.trained_trees()
            if name in REFERENCE_TREES:  # no build-tree needed: train-all trains it beside the built tree
                needs = " when the data has metal, classical and disco" if name == "baseline3" else ""
                hint = f"train-all trains it beside the built tree{needs}: {self.retrain_command()}"
            elif self.is_built(name):
                hint = f"train it with {self.retrain_command()}"
            else:
                hint = f"build it with 'hiergenre build-tree', then train it with {self.retrain_command()}"
            if trained:
                hint += f", or use a trained tree: --tree {' | '.join(trained)}"
            raise HierGenreError(f"tree {name!r} is not trained in workspace {self.root}: {hint}")
        return Manifest.from_dict(read_json(path, what=f"manifest of tree {name!r}"), f"tree {name!r} in {self.root}")

    def data_record(self) -> dict[str, Any] | None:
        """The data record of the workspace's most recently trained models (None when nothing is trained):
        the data its hints repeat, so that following one never trains on other data."""
        records = []
        for name in self.trained_trees():
            try:
                found = read_json(self.tree_folder(name).manifest_file, what=f"manifest of tree {name!r}")
            except HierGenreError:
                continue
            if isinstance(found, dict) and isinstance(found.get("dataset"), dict):
                records.append((str(found.get("trained_at", "")), found["dataset"]))
        return max(records, key=lambda pair: pair[0])[1] if records else None

    def retrain_command(self) -> str:
        """The quoted train-all command that trains on the data of the workspace's models (see :meth:`data_record`)."""
        return retrain_command(self.data_record())

    def data_options(self, name: str) -> list[str]:
        """The train-all options (``--data /abs/path``...) that repeat the data trained tree ``name`` was trained on."""
        return data_options(self.manifest(name).dataset)

    def is_built(self, name: str) -> bool:
        """Whether ``name`` is the built tree's name."""
        return self.tree_file.exists() and self.built_tree().name == name

    def default_tree_name(self) -> str:
        """The built tree's name: what predict routes through unless told otherwise."""
        return self.built_tree().name

    def node_metadata(self, name: str) -> dict[str, dict[str, Any]]:
        """Each node's JSON record of a trained tree (kind, parameters, history, training time...)."""
        return self.open(name, runtime=None).node_records

    def open(
        self, name: str | None = None, *, runtime: str | None = DEFAULT_RUNTIME, with_flat: bool = False
    ) -> TrainedTree:
        """Trained tree ``name`` (default: the built tree), its models loaded for ``runtime``.

        One manifest read, one version folder, everything loaded now (see
        :mod:`hiergenre.workspace.trained`); ``runtime`` None loads no model (records only).
        ``with_flat`` opens the flat model over the same genres alongside, for a cascade of two or
        more decision nodes (the ``blend`` routing mixes it in).
        """
        check_runtime(runtime)
        if self.bundled and runtime == "keras":
            raise HierGenreError("the bundled model ships LiteRT models only: use the litert runtime or your own")
        trained = self._read(name or self.default_tree_name(), runtime)
        tree = trained.tree
        if name is None and not same_decisions(tree, self.built_tree()):
            raise HierGenreError(
                f"the models of tree {tree.name!r} in {self.root} were trained for another version of the tree than "
                f"the one built now: train them again with {self.retrain_command()}, "
                "or rebuild the tree they were trained for"
            )
        if with_flat and runtime is not None and len(tree.model_nodes) > 1:
            flat = self._read("flat", runtime)
            if sorted(flat.tree.leaves) != sorted(tree.leaves):
                raise HierGenreError(f"the trained flat model's genres differ from tree {tree.name!r}'s")
            trained = replace(trained, flat=flat)
        return replace(trained, bundled=True) if self.bundled else trained

    def _read(self, name: str, runtime: str | None) -> TrainedTree:
        """The published version of ``name``; read again if two publishes removed it while it was being read."""
        attempts = 3
        while True:
            manifest = self.manifest(name)
            folder = self.tree_folder(name).version(manifest.models)
            try:
                return TrainedTree.read(manifest, folder, runtime)
            except HierGenreError:
                attempts -= 1
                if attempts == 0 or folder.path.is_dir():
                    raise
