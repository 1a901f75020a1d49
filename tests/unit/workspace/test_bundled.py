"""The bundled model: what ships, what its card says, and when a workspace reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hiergenre.config import MusicnnConfig
from hiergenre.errors import HierGenreError
from hiergenre.features.musicnn import model_path
from hiergenre.workspace.bundled import (
    BUNDLED_MODEL,
    bundled_card,
    bundled_info,
    bundled_model_present,
    export_bundle,
)
from hiergenre.workspace.info import workspace_info
from hiergenre.workspace.layout import Workspace
from hiergenre.workspace.validation import stored_validation

TREES = {"default", "flat", "baseline3"}


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def test_the_bundle_with_the_musicnn_model_it_needs_fits_in_5_mb_and_has_no_keras_files():
    assert bundled_model_present()
    size = folder_size(BUNDLED_MODEL) + folder_size(model_path(MusicnnConfig()).parent)
    assert size <= 5_000_000, f"bundled model and musicnn: {size / 1e6:.2f} MB"
    assert not list(BUNDLED_MODEL.rglob("*.keras"))
    assert set(Workspace(BUNDLED_MODEL).trained_trees()) == TREES


def test_the_card_agrees_with_the_manifests_it_describes():
    card = bundled_card()
    bundle = Workspace(BUNDLED_MODEL)
    manifest = bundle.manifest("default")
    split = manifest.test_split
    trained_on = {Path(c.path).stem for c in split.train}
    calibration = {Path(c.path).stem for c in split.valid}  # no model trains, early-stops or is chosen on them
    assert set(card["training_data"]["clip_ids"]) == trained_on and card["training_data"]["clips"] == len(trained_on)
    assert set(card["calibration_clips"]["clip_ids"]) == calibration and not trained_on & calibration
    scores = stored_validation(bundle.open("default", runtime=None))  # what --target-accuracy is set on
    assert sorted(Path(i).stem for i in scores[0]) == sorted(calibration) and len(calibration) >= 19  # up to 0.95
    assert card["front_end"] == manifest.front_end["kind"]
    for name in TREES:
        assert card["trees"][name]["genres"] == bundle.manifest(name).genre_tree.leaves
        assert 0 <= card["halves"]["trees"][name]["accuracy"] <= 1
    # the data folder of the machine that trained it is not recorded, only the data set's name
    assert not Path(manifest.dataset["root"]).is_absolute() and "ISC" in json.dumps(card["licences"])


def test_an_empty_workspace_serves_the_bundle_and_a_trained_one_serves_itself(tmp_path, trained):
    empty = Workspace(tmp_path / "empty").serving()
    assert empty.bundled and empty.root == tmp_path / "empty" and empty.cache_dir.is_relative_to(tmp_path)
    assert empty.default_tree_name() == "default" and set(empty.trained_trees()) == TREES
    own = Workspace(trained).serving()
    assert not own.bundled and own.models_dir == trained / "models"


def test_the_bundle_is_read_only_litert_only_and_names_what_it_lacks(tmp_path):
    bundle = Workspace(tmp_path / "ws").serving()
    with pytest.raises(HierGenreError, match="read-only"):
        bundle.save_built_tree(bundle.built_tree())
    with pytest.raises(HierGenreError, match="LiteRT models only"):
        bundle.open("flat", runtime="keras")
    with pytest.raises(HierGenreError, match="tree 'mine' is not in the bundled model .* train-all --data DIR"):
        bundle.manifest("mine")
    opened = bundle.open(None, runtime=None)
    assert opened.bundled and opened.name == "default"


def test_info_shows_the_card_where_the_bundle_answers_and_only_a_pointer_elsewhere(tmp_path, trained):
    missing = workspace_info(Workspace(tmp_path / "none"))
    assert missing["trained_trees"] == {} and missing["bundled_model"]["answers_predict"]
    assert missing["bundled_model"]["card"] == bundled_card()
    assert not workspace_info(Workspace(trained))["bundled_model"]["answers_predict"]
    assert bundled_info(answers_predict=True, root=tmp_path / "nothing") is None


def test_export_keeps_what_prediction_needs_and_renames_the_data_folder(trained, tmp_path):
    files = export_bundle(trained, tmp_path / "bundle", ["default", "flat"], data_root="corpus/genres")
    assert files and not [f for f in files if f.suffix == ".keras"]
    exported = Workspace(tmp_path / "elsewhere", models_from=tmp_path / "bundle")
    assert exported.trained_trees() == ["default", "flat"]
    manifest = exported.manifest("default")
    assert manifest.dataset["root"] == "corpus/genres" and manifest.dataset["options"] == ["--data", "corpus/genres"]
    original = Workspace(trained).manifest("default")
    assert manifest.models == original.models and manifest.split["train"] == original.split["train"]
    cascade = exported.open("default", runtime="litert").cascade
    assert sorted(cascade.tree.leaves) == sorted(original.genre_tree.leaves)
