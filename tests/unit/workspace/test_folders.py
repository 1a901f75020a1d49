"""A trained tree's folder: publishing keeps the new and the previous version, and manifests round trip."""

from __future__ import annotations

import json
import os

import pytest

from hiergenre.errors import HierGenreError
from hiergenre.workspace.folders import TreeFolder, tree_folder_of
from hiergenre.workspace.manifest import MANIFEST_VERSION, Manifest


def make_versions(folder: TreeFolder, *names: str) -> None:
    for age, name in enumerate(reversed(names)):  # the first name is the newest
        path = folder.version(name).path
        path.mkdir(parents=True)
        (path / "root.json").write_text("{}")
        os.utime(path, (1_000_000 + age * 100, 1_000_000 + age * 100))


def test_publishing_keeps_the_new_and_the_previous_version_only(tmp_path):
    folder = TreeFolder(tmp_path / "models" / "default")
    make_versions(folder, "v-a", "v-stale")  # a leftover of an interrupted run
    folder.publish({"models": "v-a"})
    assert sorted(p.name for p in folder.path.iterdir()) == ["manifest.json", "v-a"]
    make_versions(folder, "v-b")
    folder.publish({"models": "v-b"})
    assert sorted(p.name for p in folder.path.iterdir()) == ["manifest.json", "v-a", "v-b"]
    make_versions(folder, "v-c")
    folder.publish({"models": "v-c"})
    assert sorted(p.name for p in folder.path.iterdir()) == ["manifest.json", "v-b", "v-c"]
    assert json.loads(folder.manifest_file.read_text())["models"] == "v-c" and folder.is_published()


def test_a_damaged_previous_manifest_does_not_stop_a_publish(tmp_path):
    folder = TreeFolder(tmp_path / "default")
    make_versions(folder, "v-b", "v-a")
    folder.manifest_file.write_text("[not a manifest")
    folder.publish({"models": "v-b"})
    assert not folder.version("v-a").path.exists() and folder.version("v-b").path.is_dir()


def test_earlier_versions_are_newest_first_then_the_tree_folder(tmp_path):
    folder = TreeFolder(tmp_path / "default")
    make_versions(folder, "v-new", "v-mid", "v-old")
    current = folder.version("v-mid").path
    assert tree_folder_of(current) == folder
    assert folder.earlier_versions(current) == [folder.version("v-new").path, folder.version("v-old").path, folder.path]
    assert folder.earlier_versions(tmp_path / "scratch") == []  # a folder outside a workspace has no versions
    assert folder.version("").path == folder.path  # a hiergenre 0.2 manifest: models beside it


def manifest(**changes) -> Manifest:
    fields = dict(
        tree_name="default",
        role="tree",
        tree={"a": ["x", "y"], "b": ["z", "w"]},
        nodes=["root", "a", "b"],
        preset="paper",
        node_model="cnn",
        epochs_cap=2,
        seed=0,
        dataset={"root": "/data", "synthetic": True, "clips": 4},
        split={"description": "paper"},
        models="v-123",
        front_end={"kind": "lmfcc", "params": {"n_mfcc": 13}},
    )
    return Manifest(**{**fields, **changes})


def test_a_manifest_round_trips_with_its_front_end():
    written = manifest()
    read = Manifest.from_dict(json.loads(json.dumps(written.to_dict())), "here")
    assert read == written and read.front_end == {"kind": "lmfcc", "params": {"n_mfcc": 13}}
    assert read.format_version == MANIFEST_VERSION == 4 and read.genre_tree.leaves == ["x", "y", "z", "w"]


def test_older_manifests_load_without_a_front_end_and_foreign_ones_are_refused():
    old = {k: v for k, v in manifest().to_dict().items() if k != "front_end"}
    assert Manifest.from_dict({**old, "format_version": 3}, "here").front_end is None
    assert Manifest.from_dict({**old, "format_version": 3, "new_field": 1}, "here").models == "v-123"
    with pytest.raises(
        HierGenreError, match=r"incompatible hiergenre \(0\.1\.0\); train again with 'hiergenre train-all"
    ):
        Manifest.from_dict({**old, "format_version": 1, "hiergenre_version": "0.1.0"}, "here")
    damaged = {k: v for k, v in old.items() if k != "nodes"}
    with pytest.raises(HierGenreError, match="here: damaged manifest"):
        Manifest.from_dict(damaged, "here")
