"""Training every decision node of one tree into a folder, reusing what did not change.

A node model is determined by its classes and their genres, the preset, the data, the split, the
epoch cap and the seed; their hash (:func:`training_key`) is stored with the model. A later run
with the same key loads the stored model instead of training it again, so a second
``train-all``, or one after an interruption, only does what is left.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from hiergenre.config import Preset, stable_hash
from hiergenre.datasets import Clip
from hiergenre.hierarchy import GenreTree
from hiergenre.node_data import clip_accuracy, node_data
from hiergenre.node_training import fit_node
from hiergenre.nodes import NodeModel, load_node, save_node
from hiergenre.progress import PhaseTimer, Reporter, SilentReporter
from hiergenre.storage import read_json


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


def training_key(
    tree: GenreTree, node: str, preset: Preset, data_fingerprint: str, split_key: str, epochs: int, seed: int
) -> str:
    """Everything that determines a node model: equal keys mean the stored model can be reused."""
    return stable_hash(
        {
            "classes": tree.children(node),
            "leaves": {c: tree.leaves_under(c) for c in tree.children(node)},
            "preset": asdict(preset),
            "data": data_fingerprint,
            "split": split_key,
            "epochs": epochs,
            "seed": seed,
        }
    )


def train_tree(
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
    reporter: Reporter | None = None,
) -> list[NodeResult]:
    """Train (or reuse, when unchanged) every decision node of ``tree`` into ``out_dir``.

    ``split_parts`` are the training and validation clips; ``frames`` maps each clip's path to
    its LMFCC matrix. Node ``i`` (preorder) trains with seed ``seed + i``.
    """
    reporter = reporter or SilentReporter()
    train, valid = split_parts
    remove_leftovers(out_dir)
    results = []
    for index, node in enumerate(tree.model_nodes):
        key = training_key(tree, node, preset, data_fingerprint, split_key, epochs, seed)
        started = time.perf_counter()
        model = reusable(out_dir, node, key)
        reused = model is not None
        timer = PhaseTimer()
        if model is None:
            reporter.start(f"{tree.name}/{node}", epochs * preset.train.members)
            try:
                model, ran = fit_node(
                    tree,
                    node,
                    train,
                    valid,
                    frames,
                    preset,
                    epochs=epochs,
                    seed=seed + index,
                    reporter=reporter,
                    timer=timer,
                )
            finally:
                reporter.finish()
            model.metadata.update(
                {
                    "training_key": key,
                    "epochs_run": ran,
                    "tree": tree.name,
                    "seconds": time.perf_counter() - started,
                    "phase_seconds": dict(timer.seconds),
                    "windows_trained": timer.counts.get("windows", 0),
                }
            )
            with timer.phase("export"):
                save_node(model, out_dir)
        with timer.phase("score"):
            result = node_result(tree, model, train, valid, frames, preset, reused)
        results.append(replace(result, phase_seconds=dict(timer.seconds) if not reused else {}))
    return results


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

    A cross-fitted network trained on the validation clips, so its validation accuracy is not shown.
    """
    seen_valid = preset.train.cross_fitted and model.network is not None
    return NodeResult(
        tree=tree.name,
        node=model.node,
        classes=model.classes,
        train_accuracy=clip_accuracy(model, node_data(tree, model.node, train, frames), preset.features),
        valid_accuracy=None
        if seen_valid
        else clip_accuracy(model, node_data(tree, model.node, valid, frames), preset.features),
        epochs=int(model.metadata.get("epochs_run", 0)),
        seconds=float(model.metadata.get("seconds", 0.0)),
        parameters=model.n_parameters,
        reused=reused,
        kind=model.label,
    )


def remove_leftovers(directory: Path) -> None:
    """Delete the hidden temporary files an interrupted run may have left (never complete files)."""
    if directory.is_dir():
        for path in directory.glob(".*"):
            if path.is_file():
                path.unlink(missing_ok=True)


def reusable(out_dir: Path, node: str, key: str) -> NodeModel | None:
    """The stored model of ``node`` if it was trained with ``key`` and is intact, else None."""
    meta_path = out_dir / f"{node}.json"
    if not meta_path.is_file():
        return None
    try:
        if read_json(meta_path, what="node metadata").get("training_key") != key:
            return None
        model = load_node(out_dir, node)
        if model.network is not None and not (out_dir / f"{node}.tflite").is_file():
            from hiergenre.runtime import export_litert

            export_litert(model.network, out_dir / f"{node}.tflite")  # lost or never written: recreate it
        return model
    except Exception:  # noqa: BLE001 - any damaged model is simply retrained
        return None
