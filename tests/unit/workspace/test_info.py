"""``hiergenre info``'s data (:mod:`hiergenre.workspace.info`): read from records, never from models."""

from __future__ import annotations

import json

import pytest

from hiergenre.api_trees import build_tree
from hiergenre.errors import HierGenreError
from hiergenre.workspace.info import folder_bytes, workspace_info
from hiergenre.workspace.layout import Workspace
from tests.commands import ROOT


def test_info_describes_each_trained_tree_from_its_published_version(trained, monkeypatch):
    monkeypatch.setattr("hiergenre.workspace.trained.load_node", lambda *a, **k: pytest.fail("a model was loaded"))
    workspace = Workspace(trained)
    found = workspace_info(workspace)
    assert found["workspace"] == str(trained) and found["built_tree"]["name"] == "default"
    assert found["built_tree"]["node_models"] == 5 and len(found["built_tree"]["genres"]) == 10
    assert sorted(found["trained_trees"]) == ["baseline3", "default", "flat"]
    for name, tree in found["trained_trees"].items():
        manifest = json.loads((trained / "models" / name / "manifest.json").read_text())
        records = [
            json.loads((trained / "models" / name / manifest["models"] / f"{n}.json").read_text())
            for n in manifest["nodes"]
        ]
        assert tree["node_models"] == len(manifest["nodes"]) == sum(tree["node_kinds"].values())
        assert tree["node_kinds"] == {kind: sum(r["kind"] == kind for r in records) for kind in tree["node_kinds"]}
        assert tree["front_end"] == "lmfcc" and tree["is_built_tree"] == (name == "default")
        assert tree["bytes"] == folder_bytes(trained / "models" / name / manifest["models"]) > 0
        assert (tree["seed"], tree["epochs_cap"], tree["synthetic"], tree["clips"]) == (0, 2, False, 30)
        assert (tree["dataset"], tree["preset"], tree["trained_at"]) == (
            manifest["dataset"]["root"],
            manifest["preset"],
            manifest["trained_at"],
        )
    assert found["trained_trees"]["baseline3"]["genres"] == 3
    sizes = found["bytes"]
    assert 0 < sizes["models"] < sizes["total"] and sizes["feature_cache"] > 0
    assert sizes["models"] >= sum(t["bytes"] for t in found["trained_trees"].values())


def test_a_built_but_untrained_workspace_and_a_missing_one(tmp_path, monkeypatch):
    import hiergenre.workspace.info as info

    monkeypatch.setattr(info, "bundled_info", lambda answers_predict: None)  # a source tree without a bundled model
    with pytest.raises(HierGenreError, match=f"no workspace at {tmp_path / 'none'}: run 'hiergenre build-tree'"):
        workspace_info(Workspace(tmp_path / "none"))
    monkeypatch.undo()
    build_tree(ROOT / "hierarchies" / "flat.yaml", workdir=tmp_path / "ws", draw=False)
    found = workspace_info(Workspace(tmp_path / "ws"))
    assert found["built_tree"]["name"] == "flat" and found["trained_trees"] == {}
    assert found["bytes"]["models"] == 0 and found["bytes"]["total"] == (tmp_path / "ws" / "tree.yaml").stat().st_size


def test_folder_bytes_counts_files_below_links_too(tmp_path):
    assert folder_bytes(tmp_path / "absent") == 0
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "real" / "a").write_bytes(b"x" * 10)
    (tmp_path / "real" / "deep" / "b").write_bytes(b"y" * 5)
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "link").symlink_to(tmp_path / "real")
    assert folder_bytes(tmp_path / "real") == 15 and folder_bytes(tmp_path / "top") == 15
