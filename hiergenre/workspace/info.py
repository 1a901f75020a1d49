"""``hiergenre info``: what a workspace holds, read from its files without loading any model.

Everything comes from ``tree.yaml``, the manifests and the nodes' JSON records (each trained tree
opened without its models), so it is fast and never needs TensorFlow.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from hiergenre import __version__
from hiergenre.errors import HierGenreError
from hiergenre.workspace.bundled import bundled_info
from hiergenre.workspace.layout import Workspace


def folder_bytes(folder: Path) -> int:
    """Bytes of the files below ``folder``, through symbolic links (0 when it does not exist)."""
    total = 0
    for parent, _, files in os.walk(folder, followlinks=True):
        total += sum((Path(parent) / name).stat().st_size for name in files)
    return total


def workspace_info(workspace: Workspace) -> dict[str, Any]:
    """The built tree, each trained tree (recipe, node kinds, data, split, when, by which version), sizes,
    and the bundled model's card (``bundled_model``: what answers predict where nothing is trained)."""
    names = workspace.trained_trees()
    bundled = bundled_info(answers_predict=not names)
    if not workspace.root.is_dir() and bundled is None:
        raise HierGenreError(f"no workspace at {workspace.root}: run 'hiergenre build-tree' first")
    built = workspace.built_tree() if workspace.tree_file.exists() else None
    trained = {}
    for name in names:
        opened = workspace.open(name, runtime=None)  # records only: no model is loaded
        manifest = opened.manifest
        kinds = Counter(meta.get("kind", "cnn") for meta in opened.node_records.values())
        trained[name] = {
            "genres": len(manifest.genre_tree.leaves),
            "node_models": len(manifest.nodes),
            "node_kinds": dict(kinds),
            "preset": manifest.preset,
            "node_model": manifest.node_model,
            "epochs_cap": manifest.epochs_cap,
            "seed": manifest.seed,
            "dataset": manifest.dataset.get("root"),
            "synthetic": bool(manifest.dataset.get("synthetic")),
            "clips": manifest.dataset.get("clips"),
            "split": manifest.split.get("description"),
            #: The split's validation part: what --target-accuracy's guarantee is set on.
            "calibration_clips": len(manifest.test_split.valid),
            "trained_at": manifest.trained_at,
            "hiergenre_version": manifest.hiergenre_version,
            "front_end": opened.front_end.kind,
            "bytes": folder_bytes(opened.folder.path),
            "is_built_tree": built is not None and name == built.name,
        }
    return {
        "workspace": str(workspace.root),
        "exists": workspace.root.is_dir(),
        "hiergenre_version": __version__,
        "built_tree": None
        if built is None
        else {"name": built.name, "genres": built.leaves, "node_models": len(built.model_nodes)},
        "trained_trees": trained,
        "bundled_model": bundled,
        "bytes": {
            "models": folder_bytes(workspace.models_dir),
            "feature_cache": folder_bytes(workspace.cache_dir),
            "total": folder_bytes(workspace.root),
        },
    }
