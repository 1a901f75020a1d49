"""``hiergenre train-all``: refusals before any work, reuse of unchanged models, its output, publishing.

Where what is tested does not depend on the kind of node model, the training uses ``--node-model
stats`` (seconds); the shared ``trained`` workspace holds the CNNs.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import soundfile as sf

import hiergenre
from hiergenre.workspace.layout import Workspace
from tests.commands import ROOT, model_dir

#: ``default/root`` at the start of a line, before a space or a colon.
LABEL = re.compile(r"^\s*([A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*)(?::|\s)")
MODELS = [f"default/{n}" for n in ("root", "acoustic", "roots", "rhythmic", "heavy")] + ["flat/root", "baseline3/root"]


def model_lines(text: str) -> dict[str, str]:
    """The lines of ``text`` that start with a model's ``tree/node`` label (table rows, progress lines), by label."""
    found = (LABEL.match(line) for line in text.splitlines())
    return {match.group(1): match.string for match in found if match}


@pytest.mark.parametrize(
    ("split", "message"),
    [("kfold:5:7", "fold 7 does not exist"), ("80/30/0", "must sum to 100"), ("70/30", "three percentages")],
)
def test_bad_splits_are_refused_before_any_audio_is_read(cli, tiny_corpus, tmp_path, split, message):
    """Exit 2, nothing extracted."""
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    refused = cli("train-all", "--data", tiny_corpus, "--split", split, workdir=workdir, check=False)
    assert refused.returncode == 2 and message in refused.stderr and refused.stdout == ""
    assert not (workdir / "cache").exists()


def test_errors_before_training(cli, tmp_path):
    workdir = tmp_path / "fresh"
    result = cli("train-all", workdir=workdir, check=False)
    assert result.returncode == 1 and "no tree built" in result.stderr and "Traceback" not in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("tree: {a: [x, y], b: [x, z]}\n")
    result = cli("build-tree", bad, workdir=workdir, check=False)
    assert result.returncode == 1 and "listed twice" in result.stderr
    assert not (workdir / "tree.yaml").exists()
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    for option, value in (("--jobs", "0"), ("--epochs", "0"), ("--epochs", "-3")):
        refused = cli("train-all", option, value, workdir=workdir, check=False)  # no --data: synthetic corpus
        assert refused.returncode == 2 and refused.stderr == f"error: {option} must be at least 1, got {value}\n"
        assert refused.stdout == "" and not (workdir / "corpus").exists()  # refused before any work or output


def test_missing_genres_are_named(cli, tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    tree = tmp_path / "t.yaml"
    tree.write_text("tree: [jazz, polka, zydeco]\n")
    cli("build-tree", tree, workdir=workdir)
    result = cli("train-all", "--data", tiny_corpus, "--epochs", "1", workdir=workdir, check=False)
    assert result.returncode == 1 and "polka, zydeco" in result.stderr


def test_a_second_run_reuses_every_model_and_tables_their_recorded_training(cli, trained_copy, tiny_corpus):
    """Off a terminal: the table is not cut, its models are named like the progress lines (``tree/node``)."""
    out = cli("train-all", "--data", tiny_corpus, "--epochs", "2", "--split", "34/33/33", workdir=trained_copy)
    assert out.stdout.count("reused") == 7
    assert out.stderr.splitlines()[0].startswith("features: 30/30")
    header = next(line for line in out.stdout.splitlines() if "model" in line and "classes" in line)
    assert header.split() == ["model", "classes", "train", "valid", "epochs", "sec", "params"]
    rows = {label: line.split() for label, line in model_lines(out.stdout).items()}
    assert list(rows) == MODELS
    for label, row in rows.items():  # three members: epochs per member; valid: accuracy on the calibration clips
        assert row[5] == "reused", label
        assert len(row[4].split("+")) == 3 and all(1 <= int(e) <= 2 for e in row[4].split("+")), label
        assert row[3].endswith("%"), label  # every node has calibration clips: one clip a genre
    assert "on the calibration clips, which no model trains or early-stops on" in " ".join(out.stdout.split())


def test_statistics_node_models_train_with_a_line_per_stage_and_model(cli, tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    out = cli("train-all", "--data", tiny_corpus, "--node-model", "stats", workdir=workdir)
    assert not list((workdir / "models").rglob("*.keras"))
    lines = out.stderr.splitlines()
    assert lines[0].startswith("features: 30/30") and lines[0].endswith(" s")
    progress = model_lines(out.stderr)
    assert sorted(progress) == sorted(MODELS) and all(line.endswith(" s") for line in progress.values())
    rows = model_lines(out.stdout)
    assert list(rows) == MODELS and all(row.split()[1] == "stats" for row in rows.values())  # a kind column
    predicted = json.loads(cli("predict", tiny_corpus / "rock", "--json", workdir=workdir).stdout)
    assert len(predicted) == 3 and all(p["genre"] for p in predicted)


def test_rebuilding_a_tree_reuses_the_flat_model_and_keeps_other_trees(cli, trained_copy, tiny_corpus, tmp_path):
    """The flat model does not depend on the order of the built tree's genres."""
    stats = ["--data", tiny_corpus, "--node-model", "stats"]
    cli("train-all", *stats, workdir=trained_copy)  # default, flat and baseline3 as statistics models
    shuffled = tmp_path / "shuffled.yaml"
    shuffled.write_text(
        "name: shuffled\ntree: {b: [rock, pop, reggae, hiphop, disco], a: [metal, jazz, country, classical, blues]}\n"
    )
    cli("build-tree", shuffled, workdir=trained_copy)
    rows = model_lines(cli("train-all", *stats, workdir=trained_copy).stdout)
    assert "reused" in rows["flat/root"] and "reused" not in rows["shuffled/root"]
    assert {"default", "shuffled", "flat", "baseline3"} <= set(Workspace(trained_copy).trained_trees())


def test_a_second_training_run_is_refused_and_publishing_keeps_readers_consistent(cli, trained_copy, tiny_corpus):
    """The training lock, and model folders that never change once published."""
    workspace = Workspace(trained_copy)
    with workspace.training_lock():
        refused = cli("train-all", "--data", tiny_corpus, workdir=trained_copy, check=False)
    assert refused.returncode == 1 and f"is being trained by train-all (pid {os.getpid()}" in refused.stderr
    first = model_dir(trained_copy, "default")
    before = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    cascade = hiergenre.load_cascade(workdir=trained_copy)  # a reader holding the published models
    for seed in (1, 2):
        cli("train-all", "--data", tiny_corpus, "--node-model", "stats", "--seed", str(seed), workdir=trained_copy)
        if seed == 1:
            second = model_dir(trained_copy, "default")
            assert second != first and {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == before
    assert model_dir(trained_copy, "default") not in (first, second)
    assert not first.exists() and second.exists()  # the previous version is kept for readers, older ones go
    assert cascade.tree.name == "default"


def test_bad_files_in_a_training_set_are_skipped_and_listed(cli, tiny_corpus, tmp_path):
    data = tmp_path / "data"
    for genre_dir in tiny_corpus.iterdir():
        (data / genre_dir.name).mkdir(parents=True)
        for clip in genre_dir.iterdir():
            (data / genre_dir.name / clip.name).write_bytes(clip.read_bytes())
    sf.write(str(data / "jazz" / "jazz.00090.wav"), np.zeros(22050 * 2), 22050)
    (data / "rock" / "rock.00091.au").write_bytes(b"\x2esnd" + b"\x00" * 10)
    workdir = tmp_path / "ws"
    tree = tmp_path / "t.yaml"
    tree.write_text("tree: [jazz, rock, metal]\n")
    cli("build-tree", tree, workdir=workdir)
    result = cli(
        "train-all", "--data", data, "--epochs", "1", "--preset", "improved", "--no-baseline3", workdir=workdir
    )
    assert "skipped 2 unreadable file(s)" in result.stdout
    assert "jazz.00090.wav: silent" in result.stdout and "rock.00091.au" in result.stdout
    manifest = json.loads((workdir / "models" / "t" / "manifest.json").read_text())
    assert len(manifest["skipped_files"]) == 2
    progress = model_lines(result.stderr)  # a CNN's line off a terminal: its epochs and last loss
    assert list(progress) == ["t/root"]  # a flat tree: the flat model is the same one, trained once
    assert ": 1/1 loss " in progress["t/root"] and progress["t/root"].endswith(" s")


def test_data_that_is_not_a_data_set_is_told_what_data_wants(cli, tiny_corpus, tmp_path):
    """An audio file, or the folder of one genre, names what --data takes (not a decoding error, not 'no audio')."""
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    wanted = "--data wants a folder holding one folder per genre of audio files"
    clip = tiny_corpus / "rock" / "rock.00000.au"
    refused = cli("train-all", "--data", clip, workdir=workdir, check=False)
    assert refused.returncode == 1 and refused.stderr.startswith(
        f"error: {clip} is an audio file, not a data set: {wanted}"
    )
    refused = cli("train-all", "--data", tiny_corpus / "rock", workdir=workdir, check=False)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert f"{tiny_corpus / 'rock'} holds 3 audio files itself, not one folder per genre" in refused.stderr
    assert f"give the folder above the genre folders (such as {tiny_corpus})" in refused.stderr


def test_a_skipped_baseline_names_what_lacks_its_genres(cli, tiny_corpus, tmp_path):
    """The data has metal and disco; the tree leaves them out, so the baseline is skipped for the tree."""
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "blues-classical-jazz.yaml", workdir=workdir)
    out = cli("train-all", "--data", tiny_corpus, "--node-model", "stats", "--jobs", "1", workdir=workdir).stdout
    text = " ".join(out.split())
    skipped = "skipped the 3-class baseline, which needs metal, classical, disco clips"
    assert f"{skipped}: tree 'blues-classical-jazz' leaves out metal, disco" in text
    assert "the data has no" not in text
