"""``hiergenre evaluate`` on the shared trained workspace: JSON, the report, several trees, seen clips."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.commands import ROOT


def test_evaluate_json_and_report(cli, trained, tmp_path):
    out = json.loads(cli("evaluate", "--json", workdir=trained).stdout)
    models = out["models"]
    assert list(models) == ["default", "flat", "baseline3"]
    cascade = models["default"]
    assert cascade["n_clips"] == 10  # 70/10/20 of 3 clips per genre leaves 1 test clip per genre
    assert set(cascade["per_node"]) == {"root", "acoustic", "roots", "rhythmic", "heavy"}
    assert {"precision", "recall", "f1"} <= set(cascade["hierarchical"])
    assert sum(map(sum, cascade["confusion"])) == 10
    assert set(models["baseline3"]["labels"]) <= {"metal", "classical", "disco"}
    report = tmp_path / "report"
    cli("evaluate", "--report", report, workdir=trained)
    text = (report / "report.md").read_text()
    assert "## default" in text and "decision accuracy" in text
    assert "Routing: greedy" in text and "the reference tree 'default'" in text and "![reference tree" in text
    assert "| default | improved-cv3-s1 | cnn | 2 | 0 |" in text  # how each model was trained
    assert (report / "confusion-flat.png").read_bytes()[:4] == b"\x89PNG"
    assert (report / "tree.png").read_bytes()[:4] == b"\x89PNG"
    assert (report / "operating-curves.png").read_bytes()[:4] == b"\x89PNG" and "## Operating curves" in text
    curve = out["models"]["flat"]["operating"]  # flat, summed up the built tree
    assert curve["points"][0]["leaf_share"] == 1.0 and curve["points"][0]["specificity"] == 1.0  # P = 0: a genre each
    assert curve["points"][-1]["correct"] == 1.0 and out["models"]["baseline3"]["operating"] == {}
    assert out["training"]["flat"]["preset"] == "improved-cv3-s1" and out["routing"] == "greedy"


def test_evaluate_on_the_training_folder_says_so_and_scores_unseen_clips_apart(cli, trained, tiny_corpus):
    out = json.loads(cli("evaluate", "--data", tiny_corpus, "--json", workdir=trained).stdout)
    default = out["models"]["default"]
    # 70/10/20 of three clips per genre: two of each genre trained or validated, one was held out
    assert default["n_clips"] == 30 and default["seen_clips"] == 20
    # the unseen clips are the test part: scored apart, they score as evaluate scores the test part
    test_part = json.loads(cli("evaluate", "--json", "default", workdir=trained).stdout)["models"]["default"]
    assert test_part["n_clips"] == 10 and default["unseen_accuracy"] == pytest.approx(test_part["accuracy"])
    assert any("20 of 30 clips were its training or validation data" in note for note in out["notes"])
    text = cli("evaluate", "--data", tiny_corpus, "default", workdir=trained).stdout
    assert f"accuracy on the 10 unseen clips: {100 * test_part['accuracy']:.1f}%" in text
    assert "measured on tree 'default' (the built tree)" in text


def test_evaluate_takes_several_trees(cli, trained):
    for args in (["default", "flat"], ["--tree", "default", "flat"], ["--tree", "default,flat"]):
        out = json.loads(cli("evaluate", *args, "--json", workdir=trained).stdout)
        assert list(out["models"]) == ["default", "flat"]


def test_evaluate_finds_the_clips_of_a_relative_data_path_from_another_folder(cli, tiny_corpus, tmp_path, monkeypatch):
    """Trained with ``--data music`` (relative), evaluated from elsewhere; clips gone: one line naming them."""
    shutil.copytree(tiny_corpus, tmp_path / "music")
    workdir = tmp_path / "ws"
    monkeypatch.chdir(tmp_path)
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    cli("train-all", "--data", "music", "--node-model", "stats", "--no-baseline3", "--jobs", "1", workdir=workdir)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert (
        json.loads(cli("evaluate", "--json", "default", workdir=workdir).stdout)["models"]["default"]["n_clips"] == 10
    )
    (tmp_path / "music" / "jazz").rename(tmp_path / "jazz")
    partial = json.loads(cli("evaluate", "--json", "default", workdir=workdir).stdout)
    music = (tmp_path / "music").resolve()
    missing = re.escape(f"1 of the 10 test clips of tree 'default' not found in {music} (") + r"jazz\.\d{5}\): "
    assert partial["models"]["default"]["n_clips"] == 9 and any(
        re.match(missing + "scored on the other 9$", n) for n in partial["notes"]
    )
    (tmp_path / "music").rename(tmp_path / "moved")
    refused = cli("evaluate", "default", workdir=workdir, check=False)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"error: 10 of the 10 test clips of tree 'default' not found in {music} (")
    assert "the data moved or was deleted" in refused.stderr


def test_report_takes_a_folder_as_its_help_says(cli, trained, tmp_path):
    assert "--report DIR" in " ".join(cli("evaluate", "--help").stdout.replace("│", " ").split())
    refused = cli("evaluate", "--report", tmp_path / "rep.md", workdir=trained, check=False)
    assert refused.returncode == 2 and "--report takes a folder" in refused.stderr
    assert not (tmp_path / "rep.md").exists()
