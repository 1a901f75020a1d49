"""The command line: one end-to-end run in fresh processes, the rest in this process on the shared workspace."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hiergenre.cascade.hierarchy import GenreTree
from tests.commands import ROOT, hiergenre


def test_end_to_end_in_fresh_processes(tiny_corpus, tmp_path):
    """build-tree -> train-all -> predict as a user types them, each in its own process."""
    workdir = tmp_path / "ws"
    tree = tmp_path / "small.yaml"
    tree.write_text("tree: {loud: [metal, disco], calm: [classical, jazz]}\n")
    built = hiergenre("build-tree", tree, workdir=workdir)
    assert "3 node model(s)" in built.stdout and "calm" in built.stdout
    assert (workdir / "tree.yaml").is_file() and (workdir / "tree.png").read_bytes()[:4] == b"\x89PNG"
    options = ["--data", tiny_corpus, "--epochs", "1", "--jobs", "2", "--preset", "improved"]
    train = hiergenre("train-all", *options, workdir=workdir)
    assert "small/calm" in train.stdout and "baseline3" in train.stdout and "Traceback" not in train.stderr
    for name, nodes in (("small", 3), ("flat", 1), ("baseline3", 1)):
        manifest = json.loads((workdir / "models" / name / "manifest.json").read_text())
        assert len(manifest["nodes"]) == nodes
        models = workdir / "models" / name / manifest["models"]
        assert all((models / f"{n}.keras").is_file() for n in manifest["nodes"])
    text = hiergenre("predict", tiny_corpus / "jazz" / "jazz.00000.au", workdir=workdir).stdout
    assert "jazz.00000.au: " in text and "root →" in text and "tree 'small'" in text
    missing = hiergenre("predict", tmp_path / "nope.au", "--tree", "other", workdir=workdir, check=False)
    assert missing.returncode == 1 and "not trained" in missing.stderr and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_predict_prints_route_and_json(cli, trained, tiny_corpus):
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    text = cli("predict", clip, workdir=trained).stdout
    legend, line = text.splitlines()
    assert legend.startswith("tree 'default' (10 genres), greedy routing; p: probability of the whole path")
    genre, p = line.split(": ")[1].split("  ")[0].split(" (p=")
    steps = [float(step.split("(")[1].rstrip(")")) for step in line.split(" → ")[1:]]
    assert line.split("  ")[1].startswith("root → ") and float(p.rstrip(")")) == pytest.approx(np.prod(steps), abs=0.01)
    out = json.loads(cli("predict", clip, tiny_corpus / "rock", "--json", workdir=trained).stdout)
    assert len(out) == 4
    first = out[0]
    assert first["file"].endswith("jazz.00000.au")
    assert first["path"][0]["node"] == "root" and first["path"][-1]["choice"] == first["genre"]
    assert all(0 <= step["p"] <= 1 for step in first["path"])
    flat = json.loads(cli("predict", clip, "--tree", "flat", "--json", workdir=trained).stdout)
    assert len(flat[0]["path"]) == 1


def test_second_train_all_reuses_models(cli, trained_copy, tiny_corpus):
    again = cli("train-all", "--data", tiny_corpus, "--epochs", "2", workdir=trained_copy)
    assert again.stdout.count("reused") == 7


def test_predict_errors_are_one_line_and_non_zero(cli, trained, tmp_path):
    missing = cli("predict", tmp_path / "nope.au", workdir=trained, check=False)
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    unknown = cli("predict", tmp_path / "nope.au", "--tree", "other", workdir=trained, check=False)
    assert unknown.returncode == 1 and "not trained" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


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


def test_routing_policies_through_predict_and_evaluate(cli, trained, tiny_corpus):
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    for policy in ("product", "blend"):
        out = json.loads(cli("predict", clip, "--routing", policy, "--json", workdir=trained).stdout)[0]
        assert out["path"][0]["node"] == "root" and out["path"][-1]["choice"] == out["genre"]
        product = 1.0
        for step in out["path"]:
            product *= step["p"]
        assert out["p"] == pytest.approx(product)
    scores = json.loads(cli("evaluate", "--routing", "blend", "--json", workdir=trained).stdout)["models"]
    assert scores["default"]["n_clips"] == 10
    bad = cli("predict", clip, "--routing", "best", workdir=trained, check=False)
    assert bad.returncode == 2 and "unknown routing policy 'best'" in bad.stderr


def test_help_lists_what_the_registries_hold(cli):
    from hiergenre.cascade.routing import ROUTING_POLICIES
    from hiergenre.config import PRESETS

    text = " ".join(cli("train-all", "--help").stdout.split())
    assert all(f"'{name}'" in text for name in PRESETS) and "'auto'" in text
    routing = " ".join(cli("predict", "--help").stdout.split())
    assert all(f"'{name}'" in routing for name in ROUTING_POLICIES) and "--seed" not in routing
    assert "--seed" not in cli("evaluate", "--help").stdout


def test_build_tree_learn_writes_editable_yaml_and_builds_it(cli, tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    target = tmp_path / "mine.yaml"
    options = ["--data", tiny_corpus, "--split", "80/20/0"]
    result = cli("build-tree", target, "--learn", *options, "--groups", "3", workdir=workdir)
    assert "wrote" in result.stdout
    text = target.read_text()
    assert text.startswith("# Learned by") and "name: mine" in text
    learned = GenreTree.from_file(target)
    assert GenreTree.from_file(workdir / "tree.yaml") == learned  # the learned tree is the built one
    assert len(learned.children("root")) == 3 and sorted(learned.leaves) == sorted(
        p.name for p in tiny_corpus.iterdir()
    )
    again = cli("build-tree", target, "--learn", "--data", tiny_corpus, workdir=workdir, check=False)
    assert again.returncode == 1 and "--force" in again.stderr
    assert target.read_text() == text  # the user's file is untouched
    cli("build-tree", target, "--learn", *options, "--groups", "2", "--force", workdir=workdir)
    assert target.read_text() != text and len(GenreTree.from_file(target).children("root")) == 2


def test_train_all_with_statistics_node_models(cli, tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    cli("train-all", "--data", tiny_corpus, "--node-model", "stats", workdir=workdir)
    assert not list((workdir / "models").rglob("*.keras"))
    out = json.loads(cli("predict", tiny_corpus / "rock", "--json", workdir=workdir).stdout)
    assert len(out) == 3 and all(p["genre"] for p in out)


def test_litert_and_keras_backends_agree(cli, trained, tiny_corpus):
    models = (
        trained
        / "models"
        / "default"
        / json.loads((trained / "models" / "default" / "manifest.json").read_text())["models"]
    )
    assert {p.suffix for p in models.iterdir()} >= {".keras", ".tflite", ".json", ".npz"}
    lean = json.loads(cli("predict", tiny_corpus, "--json", workdir=trained).stdout)
    reference = json.loads(cli("predict", tiny_corpus, "--json", "--backend", "keras", workdir=trained).stdout)
    assert len(lean) == len(reference) == 30
    for a, b in zip(lean, reference, strict=True):
        assert a["file"] == b["file"] and a["genre"] == b["genre"]
        assert a["p"] == pytest.approx(b["p"], abs=1e-4)
        assert [s["choice"] for s in a["path"]] == [s["choice"] for s in b["path"]]


def test_prediction_path_imports_neither_tensorflow_nor_librosa_nor_dask(trained, tiny_corpus):
    script = (
        "import json, sys\n"
        "from hiergenre.cli.main import run\n"
        f"code = run(['predict', {str(tiny_corpus / 'jazz')!r}, '--routing', 'blend', '--workdir', {str(trained)!r}])\n"
        "assert code == 0, code\n"
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras', 'librosa', 'dask', 'distributed') "
        "if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.count("jazz.0000") == 3  # it did classify
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_batch_predict_survives_bad_files_and_writes_csv_and_json(cli, trained, tiny_corpus, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    for genre in ("rock", "pop"):
        (batch / f"{genre}.au").write_bytes((tiny_corpus / genre / f"{genre}.00001.au").read_bytes())
    (batch / "broken.wav").write_bytes(b"RIFF....garbage")
    (batch / "empty.au").write_bytes(b"")
    out_csv = tmp_path / "out" / "genres.csv"
    result = cli("predict", batch, tmp_path / "missing.au", "--output", out_csv, "--jobs", "2", workdir=trained)
    assert "broken.wav" in result.stderr and "empty.au" in result.stderr and "missing.au" in result.stderr
    assert "Traceback" not in result.stderr and "wrote 5 predictions (2 classified)" in result.stderr
    rows = list(csv.DictReader(out_csv.open()))
    assert [Path(r["file"]).name for r in rows] == ["broken.wav", "empty.au", "pop.au", "rock.au", "missing.au"]
    good = [r for r in rows if r["genre"]]
    assert len(good) == 2 and all(r["path"].endswith(r["genre"]) and not r["error"] for r in good)
    assert all(r["error"] for r in rows if not r["genre"])
    out_json = tmp_path / "genres.json"
    cli("predict", batch, "-o", out_json, workdir=trained)
    assert [bool(p["genre"]) for p in json.loads(out_json.read_text())] == [False, False, True, True]
    bad = cli("predict", batch, "-o", tmp_path / "genres.txt", workdir=trained, check=False)
    assert bad.returncode == 2 and "use a .csv or .json" in bad.stderr
    nothing = cli("predict", batch / "broken.wav", workdir=trained, check=False)
    assert nothing.returncode == 1 and "broken.wav" in nothing.stderr
