"""``hiergenre info``: what a workspace holds, in text and JSON."""

from __future__ import annotations

import json

import hiergenre


def test_info_says_what_the_workspace_holds(cli, trained, tmp_path):
    info = json.loads(cli("info", "--json", workdir=trained).stdout)
    assert info["built_tree"]["name"] == "default" and info["built_tree"]["node_models"] == 5
    default = info["trained_trees"]["default"]
    assert default["node_kinds"] == {"cnn": 5} and default["preset"] == "improved-cv3-s1"
    assert not default["synthetic"] and default["clips"] == 30 and default["is_built_tree"]  # given as --data
    assert default["calibration_clips"] == 10  # the split's valid part: one clip a genre
    assert default["hiergenre_version"] == hiergenre.__version__ and default["bytes"] > 0
    assert set(info["trained_trees"]) == {"default", "flat", "baseline3"}
    assert info["bytes"]["total"] >= info["bytes"]["models"] > 0
    text = cli("info", workdir=trained).stdout
    assert "built tree 'default': 10 genres, 5 node model(s)" in text and "default *" in text
    assert "10 calibration clips (--target-accuracy up to 0.90)" in " ".join(text.split())
    empty = cli("info", workdir=tmp_path / "none")
    assert f"no workspace at {tmp_path / 'none'}" in empty.stdout and "BUNDLED MODEL answers predict" in empty.stdout
    assert "the bundled model answers only where nothing is trained" in text
