"""What a new user tripped over (issue 17), each through the command line or the public API."""

from __future__ import annotations

import json
import os
import stat

import pytest

import hiergenre
from hiergenre.workspace.layout import Workspace
from tests.commands import ROOT, model_dir

SMALL_TREE = "name: small\ntree: {loud: [metal, disco], calm: [classical, jazz]}\n"


def test_rebuilding_a_tree_reuses_the_flat_model_and_keeps_other_trees(cli, trained_copy, tiny_corpus, tmp_path):
    """Defect 1: the flat model does not depend on the order of the built tree's genres."""
    shuffled = tmp_path / "shuffled.yaml"
    shuffled.write_text(
        "name: shuffled\ntree: {b: [rock, pop, reggae, hiphop, disco], a: [metal, jazz, country, classical, blues]}\n"
    )
    cli("build-tree", shuffled, workdir=trained_copy)
    out = cli("train-all", "--data", tiny_corpus, "--epochs", "2", workdir=trained_copy).stdout
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip().startswith(("flat", "shuffled"))}
    assert "reused" in rows["flat/root"] and "reused" not in rows["shuffled/root"]
    assert {"default", "shuffled", "flat", "baseline3"} <= set(Workspace(trained_copy).trained_trees())


def test_written_files_get_the_permissions_of_a_plain_open(cli, trained_copy, tiny_corpus, tmp_path):
    """Defect 2: not mkstemp's 0600 (umask 022 gives 0644)."""
    previous = os.umask(0o022)
    try:
        cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=trained_copy)
        out = tmp_path / "all.csv"
        cli("predict", tiny_corpus / "jazz", "-o", out, workdir=trained_copy)
        report = tmp_path / "report"
        cli("evaluate", "--report", report, workdir=trained_copy)
    finally:
        os.umask(previous)
    written = [trained_copy / "tree.png", trained_copy / "tree.yaml", out, report / "report.md"]
    written += list(report.glob("*.png"))
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_evaluate_on_the_training_folder_says_so_and_scores_unseen_clips_apart(cli, trained, tiny_corpus):
    """Defect 3."""
    out = json.loads(cli("evaluate", "--data", tiny_corpus, "--json", workdir=trained).stdout)
    default = out["models"]["default"]
    # 70/10/20 of three clips per genre: two of each genre trained or validated, one was held out
    assert default["n_clips"] == 30 and default["seen_clips"] == 20
    assert 0 <= default["unseen_accuracy"] <= 1
    assert any("20 of 30 clips were its training or validation data" in note for note in out["notes"])
    text = cli("evaluate", "--data", tiny_corpus, "default", workdir=trained).stdout
    assert "accuracy on the 10 unseen clips" in text
    assert "measured on tree 'default' (the built tree)" in text


def test_an_untrained_built_tree_is_named_with_what_to_run(cli, trained_copy, tmp_path):
    """Defect 4: build-tree says the active tree changed; predict and evaluate say what to run."""
    small = tmp_path / "small.yaml"
    small.write_text(SMALL_TREE)
    built = cli("build-tree", small, workdir=trained_copy).stdout
    assert "The built tree is now 'small' (was 'default')" in built and "Next: hiergenre train-all" in built
    refused = cli("predict", tmp_path / "x.au", workdir=trained_copy, check=False)
    assert refused.returncode == 1
    assert "run 'hiergenre train-all' to train it, or use a trained tree: --tree baseline3 | default | flat" in (
        refused.stderr
    )
    notes = json.loads(cli("evaluate", "--json", workdir=trained_copy).stdout)["notes"]
    assert any("the built tree 'small' is not trained" in n for n in notes)


@pytest.mark.parametrize(
    ("split", "message"),
    [("kfold:5:7", "fold 7 does not exist"), ("80/30/0", "must sum to 100"), ("70/30", "three percentages")],
)
def test_bad_splits_are_refused_before_any_audio_is_read(cli, tiny_corpus, tmp_path, split, message):
    """Defect 6 (and 5 in test_cli): exit 2, nothing extracted."""
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    refused = cli("train-all", "--data", tiny_corpus, "--split", split, workdir=workdir, check=False)
    assert refused.returncode == 2 and message in refused.stderr and refused.stdout == ""
    assert not (workdir / "cache").exists()


def test_training_output_off_a_terminal(cli, trained_copy, tiny_corpus):
    """Defects 7, 8 and 9: a line per stage and model, an uncut table named like the bars."""
    out = cli("train-all", "--data", tiny_corpus, "--epochs", "2", "--seed", "1", workdir=trained_copy)
    lines = out.stderr.splitlines()
    assert lines[0].startswith("features: 30/30")
    trained = [line for line in lines if line.startswith(("default/", "flat/", "baseline3/"))]
    assert len(trained) == 7 and all("loss" in line and " in " in line for line in trained)
    header = next(line for line in out.stdout.splitlines() if "model" in line and "classes" in line)
    assert header.split() == ["model", "classes", "train", "valid", "epochs", "sec", "params"]
    rows = [line.split() for line in out.stdout.splitlines() if line.strip().startswith(("default/", "flat/"))]
    assert {row[0] for row in rows} == {f"default/{n}" for n in ("root", "acoustic", "roots", "rhythmic", "heavy")} | {
        "flat/root"
    }
    for row in rows:  # three cross-fitted members: epochs per member, held-out accuracy marked *
        assert len(row[4].split("+")) == 3 and all(int(e) <= 2 for e in row[4].split("+"))
        assert row[3].endswith("*") or row[3] == "–"  # –: a member of a tiny node had no validation clip
    assert {row[0] for row in rows if row[3].endswith("*")} >= {"default/root", "flat/root"}
    assert "valid*: cross-fitted" in " ".join(out.stdout.split())


def test_predict_output_is_quiet_and_routing_must_apply(cli, trained, tiny_corpus):
    """Defects 11 and 12."""
    many = cli("predict", tiny_corpus / "jazz", tiny_corpus / "rock", workdir=trained)
    assert many.stderr == "" and len(many.stdout.splitlines()) == 7  # the legend and six clips
    for tree in ("flat", "baseline3"):
        options = ["--tree", tree, "--routing", "blend"]
        refused = cli("predict", tiny_corpus / "jazz", *options, workdir=trained, check=False)
        assert refused.returncode == 2 and f"has no effect on tree {tree!r}" in refused.stderr
    legend = cli("predict", tiny_corpus / "blues", "--tree", "baseline3", workdir=trained).stdout.splitlines()[0]
    assert "It knows only classical, disco, metal: any other music is given one of these" in legend


def test_a_second_training_run_is_refused_and_publishing_keeps_readers_consistent(cli, trained_copy, tiny_corpus):
    """Defect 13: the training lock, and model folders that never change once published."""
    workspace = Workspace(trained_copy)
    with workspace.training_lock():
        refused = cli("train-all", "--data", tiny_corpus, workdir=trained_copy, check=False)
    assert refused.returncode == 1 and f"is being trained by train-all (pid {os.getpid()}" in refused.stderr
    first = model_dir(trained_copy, "default")
    before = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    cascade = hiergenre.load_cascade(workdir=trained_copy)  # a reader holding the published models
    for seed in (1, 2):
        cli("train-all", "--data", tiny_corpus, "--epochs", "1", "--seed", str(seed), workdir=trained_copy)
        if seed == 1:
            second = model_dir(trained_copy, "default")
            assert second != first and {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == before
    assert not first.exists() and second.exists()  # the previous version is kept for readers, older ones go
    assert cascade.tree.name == "default"


def test_help_reads_like_a_unix_tool(cli):
    text = cli("predict", "--help").stdout
    assert "Usage: hiergenre predict [OPTIONS] FILE..." in text
    assert "<list[" not in text and "<bool>" not in text and "{files}" not in text
    epochs = " ".join(cli("train-all", "--help").stdout.replace("│", " ").split())
    assert "[default: (the preset's: 1000 for" in epochs and "[default: (the preset's: cnn)]" in epochs
    top = cli("--help").stdout
    assert "Exit codes: 0 success" in top and "<bool>" not in top


def test_evaluate_takes_several_trees(cli, trained):
    for args in (["default", "flat"], ["--tree", "default", "flat"], ["--tree", "default,flat"]):
        out = json.loads(cli("evaluate", *args, "--json", workdir=trained).stdout)
        assert list(out["models"]) == ["default", "flat"]
