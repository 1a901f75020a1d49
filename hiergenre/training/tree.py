"""Training every decision node of one tree into a folder, reusing what did not change.

A node model is determined by its classes and their genres, the preset's settings (not its name
or description), the data, the split, the epoch cap and the seeds its members train from; their
hash (:func:`training_key`) is stored with the model. A later run with the same key loads the
stored model instead of training it again, so a second ``train-all``, or one after an
interruption, only does what is left.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.config import Preset, stable_hash
from hiergenre.data.datasets import Clip
from hiergenre.models.network import pin_training_threads
from hiergenre.models.nodes import NODE_SUFFIXES, NodeModel, load_node, node_file, save_node
from hiergenre.progress import PhaseTimer, Reporter, SilentReporter
from hiergenre.storage import atomic_path, read_json
from hiergenre.training.node import fit_node
from hiergenre.training.node_data import clip_accuracy, member_seed, node_data
from hiergenre.workspace.folders import tree_folder_of


@dataclass(frozen=True)
class NodeResult:
    """One row of the training summary."""

    tree: str
    node: str
    classes: list[str]
    train_accuracy: float | None
    valid_accuracy: float | None
    epochs: int
    seconds: float
    parameters: int
    reused: bool = False
    kind: str = "cnn"
    #: Wall seconds of each phase of this run (training phases, ``export``, ``score``); empty when reused.
    phase_seconds: dict[str, float] = field(default_factory=dict)
    #: Epochs each member of the network ran (they early-stop separately); empty without a network.
    member_epochs: list[int] = field(default_factory=list)
    #: Cross-fitted networks: the members' mean clip accuracy on the validation clips each did not train on.
    held_out_accuracy: float | None = None
    #: Where the network trained (``CPU`` or ``GPU (...)``); empty when reused or without a network.
    device: str = ""

    @property
    def label(self) -> str:
        """``tree/node``, as in the progress bars and the summary table."""
        return f"{self.tree}/{self.node}"


#: How node models are trained and calibrated, in the reuse key: a model trained under another
#: protocol is retrained, never reused. ``valid-calibrates`` (hiergenre 0.5): the split's
#: validation part is never trained, early-stopped or chosen on; it calibrates.
TRAINING_PROTOCOL = "valid-calibrates"


def training_key(
    tree: GenreTree, node: str, preset: Preset, data_fingerprint: str, split_key: str, epochs: int, seed: int
) -> str:
    """Everything that determines a node model: equal keys mean the stored model can be reused.

    ``seed`` is the run's seed; the key holds the seeds the node's members really train from
    (:func:`node_seed`, then :func:`~hiergenre.training.node_data.member_seed`), so moving a node to
    another place in the tree, or adding members, retrains it. The preset enters by its settings
    only (:func:`recipe`): renaming or rewording a preset reuses every model.
    """
    first = node_seed(tree, node, seed)
    return stable_hash(
        {
            "classes": tree.children(node),
            "leaves": {c: tree.leaves_under(c) for c in tree.children(node)},
            "recipe": recipe(preset, epochs),
            "data": data_fingerprint,
            "split": split_key,
            "member_seeds": [member_seed(first, member) for member in range(preset.train.members)],
            "protocol": TRAINING_PROTOCOL,
        }
    )


def recipe(preset: Preset, epochs: int) -> dict[str, Any]:
    """What of ``preset`` shapes a trained model: its feature, model and training settings, the
    training's epoch count being the cap ``epochs`` this run uses (the smaller of ``--epochs`` and
    the preset's own); its name and description are left out, they train nothing."""
    return {
        "features": asdict(preset.features),
        "model": asdict(preset.model),
        "train": asdict(replace(preset.train, epochs=epochs)),
    }


def node_seed(tree: GenreTree, node: str, seed: int) -> int:
    """The seed ``node`` trains from in a run with ``seed``: ``seed + i`` for the tree's ``i``-th decision node."""
    return seed + tree.model_nodes.index(node)


def model_version(
    tree: GenreTree, preset: Preset, data_fingerprint: str, split_key: str, epochs: int, seed: int
) -> str:
    """``v-<hash>``: the name of the folder of a tree's models, from all its nodes' training keys."""
    keys = [training_key(tree, n, preset, data_fingerprint, split_key, epochs, seed) for n in tree.model_nodes]
    return f"v-{stable_hash(keys)[:12]}"


@dataclass(frozen=True)
class NodeJob:
    """Everything one node model needs to be trained (or reused), picklable for a worker process."""

    tree: GenreTree
    node: str
    train: tuple[Clip, ...]
    valid: tuple[Clip, ...]
    #: LMFCC matrix of each clip of ``train`` and ``valid``, by path.
    frames: dict[str, np.ndarray]
    preset: Preset
    out_dir: Path
    epochs: int
    seed: int
    key: str

    @property
    def label(self) -> str:
        """``tree/node``, as progress bars show it."""
        return f"{self.tree.name}/{self.node}"

    @property
    def size(self) -> int:
        """Training clips under the node: a proxy of the training time, to start the longest jobs first."""
        return len(self.train)


def plan_tree(
    tree: GenreTree,
    split_parts: tuple[Sequence[Clip], Sequence[Clip]],
    frames: Mapping[str, np.ndarray],
    preset: Preset,
    out_dir: Path,
    *,
    epochs: int,
    seed: int,
    data_fingerprint: str,
    split_key: str,
) -> list[NodeJob]:
    """One job per decision node of ``tree`` (preorder); node ``i`` trains with seed ``seed + i``.

    ``split_parts`` are the training and validation clips; ``frames`` maps each clip's path to
    its LMFCC matrix. Each job carries only the clips under its node.
    """
    jobs = []
    for node in tree.model_nodes:
        under = set(tree.leaves_under(node))
        train, valid = (tuple(c for c in part if c.genre in under) for part in split_parts)
        jobs.append(
            NodeJob(
                tree=tree,
                node=node,
                train=train,
                valid=valid,
                frames={str(c.path): frames[str(c.path)] for c in train + valid if str(c.path) in frames},
                preset=preset,
                out_dir=out_dir,
                epochs=epochs,
                seed=node_seed(tree, node, seed),
                key=training_key(tree, node, preset, data_fingerprint, split_key, epochs, seed),
            )
        )
    return jobs


def run_node_job(job: NodeJob, reporter: Reporter | None = None) -> NodeResult:
    """Reuse the node's stored model when its key matches, else train and save it; then score it.

    This is where a worker (a local process, a Dask worker, or the caller's process) starts on a
    node, so TensorFlow's threads are pinned here, before loading a stored network could start it.
    """
    if job.preset.train.node_model != "stats":  # statistics-only nodes never touch TensorFlow
        pin_training_threads()
    started = time.perf_counter()
    model = reusable(job.out_dir, job.node, job.key)
    reused = model is not None
    timer = PhaseTimer()
    if model is None:
        progress = (reporter or SilentReporter()).start(job.label, job.epochs * job.preset.train.members)
        try:
            model, ran = fit_node(
                job.tree,
                job.node,
                job.train,
                job.valid,
                job.frames,
                job.preset,
                epochs=job.epochs,
                seed=job.seed,
                progress=progress,
                timer=timer,
            )
        finally:
            progress.finish()
        device = ""
        if model.network is not None:
            from hiergenre.models.network import training_device

            device = training_device()
        model.metadata.update(
            {
                "device": device,
                "training_key": job.key,
                "epochs_run": ran,
                "tree": job.tree.name,
                "seconds": time.perf_counter() - started,
                "phase_seconds": dict(timer.seconds),
                "windows_trained": timer.counts.get("windows", 0),
            }
        )
        with timer.phase("export"):
            save_node(model, job.out_dir)
    with timer.phase("score"):
        result = node_result(job.tree, model, job.train, job.valid, job.frames, job.preset, reused)
    if reused:
        return result
    return replace(result, phase_seconds=dict(timer.seconds), device=model.metadata.get("device", ""))


def node_result(
    tree: GenreTree,
    model: NodeModel,
    train: Sequence[Clip],
    valid: Sequence[Clip],
    frames: Mapping[str, np.ndarray],
    preset: Preset,
    reused: bool,
) -> NodeResult:
    """The summary row of a trained node: clip-level accuracy on its training and validation clips.

    No model trains or early-stops on the validation clips (they calibrate it), so their accuracy
    is honest for every preset; a cross-fitted network also reports its members' mean accuracy on
    the training clips each held out.
    """
    cross_fitted = preset.train.cross_fitted and model.network is not None
    history = model.metadata.get("history", {})
    held_out = history.get("member_valid_accuracy")
    return NodeResult(
        tree=tree.name,
        node=model.node,
        classes=model.classes,
        train_accuracy=clip_accuracy(model, node_data(tree, model.node, train, frames), preset.features),
        valid_accuracy=clip_accuracy(model, node_data(tree, model.node, valid, frames), preset.features),
        epochs=int(model.metadata.get("epochs_run", 0)),
        seconds=float(model.metadata.get("seconds", 0.0)),
        parameters=model.n_parameters,
        reused=reused,
        kind=model.label,
        member_epochs=list(history.get("member_epochs", [])),
        held_out_accuracy=float(np.mean(held_out)) if cross_fitted and held_out else None,
    )


def remove_leftovers(directory: Path) -> None:
    """Delete the hidden temporary files an interrupted run may have left (never complete files)."""
    if directory.is_dir():
        for path in directory.glob(".*"):
            if path.is_file():
                path.unlink(missing_ok=True)


def reusable(out_dir: Path, node: str, key: str) -> NodeModel | None:
    """The stored model of ``node`` if it was trained with ``key`` and is intact, else None.

    A version folder of a workspace also looks in the tree's other versions
    (:meth:`~hiergenre.workspace.folders.TreeFolder.earlier_versions`): a node whose key did not
    change is linked into the new folder instead of being trained again.
    """
    if not _key_matches(out_dir, node, key):
        earlier = tree_folder_of(out_dir).earlier_versions(out_dir)
        source = next((d for d in earlier if _key_matches(d, node, key)), None)
        if source is None:
            return None
        _adopt(source, out_dir, node)
    try:
        model = load_node(out_dir, node)
        lite = node_file(out_dir, node, ".tflite")
        if model.network is not None and not lite.is_file():
            from hiergenre.models.litert import export_litert

            export_litert(model.network, lite)  # lost or never written: recreate it
        return model
    except Exception:  # noqa: BLE001 - any damaged model is simply retrained
        return None


def _key_matches(folder: Path, node: str, key: str) -> bool:
    try:
        return read_json(node_file(folder, node), what="node metadata").get("training_key") == key
    except Exception:  # noqa: BLE001 - absent or damaged: not reusable
        return False


def _adopt(source: Path, out_dir: Path, node: str) -> None:
    """Hard-link (or copy) a node's files into ``out_dir``, its JSON last (the JSON marks it complete)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for suffix in NODE_SUFFIXES:
        origin = node_file(source, node, suffix)
        if origin.is_file():
            with atomic_path(out_dir / origin.name) as tmp:
                tmp.unlink()
                try:
                    os.link(origin, tmp)
                except OSError:  # another file system, or no hard links
                    shutil.copy2(origin, tmp)
