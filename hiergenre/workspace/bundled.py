"""The model shipped in the package: what answers ``hiergenre predict`` before anything is trained.

``hiergenre/bundled_model/`` is a workspace folder, read-only, holding only what prediction needs::

    tree.yaml                the default tree
    models/<tree>/           default, flat and baseline3: manifest and one version folder each,
                             LiteRT node models only (no Keras files: they are not needed to predict)
    card.json                the model card: data, clips, front-end, measured accuracy, licences
    MODEL_CARD.md            the same card for people (written from card.json)

``scripts/build_bundled_model.py`` trains it on ``gtzan-mini`` from a fixed seed and calls
:func:`export_bundle`; :meth:`hiergenre.workspace.layout.Workspace.serving` reads from it when a
workspace has no trained tree of its own. This module is the one that knows this layout.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any

from hiergenre.errors import HierGenreError
from hiergenre.storage import read_json, write_json_atomic
from hiergenre.workspace.folders import MANIFEST_FILE, TreeFolder

#: Where the bundled model lies in the installed package.
BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "bundled_model"
CARD_FILE = "card.json"
CARD_PAGE = "MODEL_CARD.md"
#: Files of a trained tree's version folder the bundle leaves out: only training and the Keras runtime read them.
LEFT_OUT_SUFFIXES = (".keras",)


def bundled_model_present(root: Path = BUNDLED_MODEL) -> bool:
    """Whether a bundled model is installed (a source tree without one predicts as hiergenre 0.4 did)."""
    return (root / "tree.yaml").is_file() and (root / "models").is_dir()


@cache
def bundled_card(root: Path = BUNDLED_MODEL) -> dict[str, Any]:
    """The bundled model's card (``card.json``), or a one-line error when it is missing or damaged."""
    card = read_json(root / CARD_FILE, what="the bundled model's card")
    if not isinstance(card, dict):
        raise HierGenreError(f"the bundled model's card {root / CARD_FILE} is damaged: reinstall hiergenre")
    return card


def card_page(root: Path = BUNDLED_MODEL) -> Path:
    """The model card for people, installed beside the model."""
    return root / CARD_PAGE


def bundled_summary(root: Path = BUNDLED_MODEL) -> str:
    """The bundled model in one phrase: what it is and what it learnt from (for messages)."""
    try:
        card = bundled_card(root)
    except HierGenreError:
        return "the bundled model"
    training = card.get("training_data", {})
    clips = " ".join(str(part) for part in (training.get("clips", "?"), training.get("name")) if part)
    return f"the bundled model ({card.get('front_end', '?')} features, trained on {clips} clips)"


def export_bundle(workspace_root: Path, destination: Path, trees: list[str], data_root: str) -> list[Path]:
    """Copy the published versions of ``trees`` from a trained workspace into a bundle folder.

    Keeps the built tree, each tree's manifest and its published version folder without the files
    of :data:`LEFT_OUT_SUFFIXES`. The manifests' data folder (an absolute path on the machine that
    trained) becomes ``data_root``, a name that means something to a reader. ``destination`` is
    replaced whole. Returns the files written.
    """
    workspace_root, destination = Path(workspace_root), Path(destination)
    if destination.exists():
        shutil.rmtree(destination)
    (destination / "models").mkdir(parents=True)
    shutil.copy2(workspace_root / "tree.yaml", destination / "tree.yaml")
    for name in trees:
        source = TreeFolder(workspace_root / "models" / name)
        manifest = read_json(source.manifest_file, what=f"manifest of tree {name!r}")
        version = source.version(manifest["models"]).path
        target = destination / "models" / name / version.name
        target.mkdir(parents=True)
        for file in sorted(version.iterdir()):
            if file.is_file() and not file.name.endswith(LEFT_OUT_SUFFIXES):
                shutil.copy2(file, target / file.name)
        write_json_atomic(destination / "models" / name / MANIFEST_FILE, with_data_root(manifest, data_root))
    return sorted(p for p in destination.rglob("*") if p.is_file())


def with_data_root(manifest: dict[str, Any], data_root: str) -> dict[str, Any]:
    """The manifest with its data folder named ``data_root`` (in the data record, its options and the split)."""
    dataset = {**manifest["dataset"], "root": data_root, "options": ["--data", data_root]}
    return {**manifest, "dataset": dataset, "split": {**manifest["split"], "root": data_root}}


def bundled_info(*, answers_predict: bool, root: Path = BUNDLED_MODEL) -> dict[str, Any] | None:
    """What ``hiergenre info`` says of the bundled model: its card, where it lies, whether it answers here.

    None when no bundled model is installed.
    """
    if not bundled_model_present(root):
        return None
    return {
        "answers_predict": answers_predict,
        "folder": str(root),
        "card_page": str(card_page(root)),
        "card": bundled_card(root),
    }
