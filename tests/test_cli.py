"""End to end through the installed command, as a user types it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands import ROOT, hiergenre


@pytest.fixture(scope="module")
def trained(tiny_corpus, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cli") / "ws"
    built = hiergenre("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    train = hiergenre("train-all", "--data", tiny_corpus, "--epochs", "2", "--jobs", "2", workdir=workdir)
    return workdir, built, train


def test_build_tree_prints_writes_and_draws(trained):
    workdir, built, _ = trained
    assert "5 node model(s)" in built.stdout and "roots" in built.stdout
    assert (workdir / "tree.yaml").is_file()
    assert (workdir / "tree.png").read_bytes()[:4] == b"\x89PNG"


def test_train_all_trains_tree_flat_and_baseline(trained):
    workdir, _, train = trained
    for name, nodes in (("default", 5), ("flat", 1), ("baseline3", 1)):
        manifest = json.loads((workdir / "models" / name / "manifest.json").read_text())
        assert len(manifest["nodes"]) == nodes
        assert all((workdir / "models" / name / f"{n}.keras").is_file() for n in manifest["nodes"])
    assert "default/roots" in train.stdout and "baseline3" in train.stdout
    assert "Traceback" not in train.stderr


def test_predict_prints_route_and_json(trained, tiny_corpus):
    workdir, _, _ = trained
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    text = hiergenre("predict", clip, workdir=workdir).stdout
    assert "default →" in text
    out = json.loads(hiergenre("predict", clip, tiny_corpus / "rock", "--json", workdir=workdir).stdout)
    assert len(out) == 4
    first = out[0]
    assert first["file"].endswith("jazz.00000.au")
    assert first["path"][0]["node"] == "root" and first["path"][-1]["choice"] == first["genre"]
    assert all(0 <= step["p"] <= 1 for step in first["path"])
    flat = json.loads(hiergenre("predict", clip, "--tree", "flat", "--json", workdir=workdir).stdout)
    assert len(flat[0]["path"]) == 1


def test_second_train_all_reuses_models(trained, tiny_corpus):
    workdir, _, _ = trained
    again = hiergenre("train-all", "--data", tiny_corpus, "--epochs", "2", workdir=workdir)
    assert again.stdout.count("reused") == 7


def test_predict_errors_are_one_line_and_non_zero(trained, tmp_path):
    workdir, _, _ = trained
    missing = hiergenre("predict", tmp_path / "nope.au", workdir=workdir, check=False)
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    unknown = hiergenre("predict", tmp_path / "nope.au", "--tree", "other", workdir=workdir, check=False)
    assert unknown.returncode == 1 and "not trained" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_errors_before_training(tmp_path):
    workdir = tmp_path / "fresh"
    result = hiergenre("train-all", workdir=workdir, check=False)
    assert result.returncode == 1 and "no tree built" in result.stderr and "Traceback" not in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("tree: {a: [x, y], b: [x, z]}\n")
    result = hiergenre("build-tree", bad, workdir=workdir, check=False)
    assert result.returncode == 1 and "listed twice" in result.stderr
    assert not (workdir / "tree.yaml").exists()


def test_missing_genres_are_named(tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    tree = tmp_path / "t.yaml"
    tree.write_text("tree: [jazz, polka, zydeco]\n")
    hiergenre("build-tree", tree, workdir=workdir)
    result = hiergenre("train-all", "--data", tiny_corpus, "--epochs", "1", workdir=workdir, check=False)
    assert result.returncode == 1 and "polka, zydeco" in result.stderr


def test_evaluate_json_and_report(trained, tmp_path):
    workdir, _, _ = trained
    out = json.loads(hiergenre("evaluate", "--json", workdir=workdir).stdout)
    models = out["models"]
    assert list(models) == ["default", "flat", "baseline3"]
    cascade = models["default"]
    assert cascade["n_clips"] == 10  # 70/10/20 of 3 clips per genre leaves 1 test clip per genre
    assert set(cascade["per_node"]) == {"root", "acoustic", "roots", "rhythmic", "heavy"}
    assert {"precision", "recall", "f1"} <= set(cascade["hierarchical"])
    assert sum(map(sum, cascade["confusion"])) == 10
    assert set(models["baseline3"]["labels"]) <= {"metal", "classical", "disco"}
    report = tmp_path / "report"
    hiergenre("evaluate", "--report", report, workdir=workdir)
    text = (report / "report.md").read_text()
    assert "## default" in text and "decision accuracy" in text
    assert (report / "confusion-flat.png").read_bytes()[:4] == b"\x89PNG"


def test_routing_policies_through_predict_and_evaluate(trained, tiny_corpus):
    workdir, _, _ = trained
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    for policy in ("product", "blend"):
        out = json.loads(hiergenre("predict", clip, "--routing", policy, "--json", workdir=workdir).stdout)[0]
        assert out["path"][0]["node"] == "root" and out["path"][-1]["choice"] == out["genre"]
        product = 1.0
        for step in out["path"]:
            product *= step["p"]
        assert out["p"] == pytest.approx(product)
    scores = json.loads(hiergenre("evaluate", "--routing", "blend", "--json", workdir=workdir).stdout)["models"]
    assert scores["default"]["n_clips"] == 10
    bad = hiergenre("predict", clip, "--routing", "best", workdir=workdir, check=False)
    assert bad.returncode == 1 and "unknown routing policy 'best'" in bad.stderr


def test_build_tree_learn_writes_editable_yaml_and_builds_it(tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    target = tmp_path / "mine.yaml"
    result = hiergenre(
        "build-tree", target, "--learn", "--data", tiny_corpus, "--split", "80/20/0", "--groups", "3", workdir=workdir
    )
    assert "wrote" in result.stdout
    text = target.read_text()
    assert text.startswith("# Learned by") and "name: mine" in text
    built = (workdir / "tree.yaml").read_text()
    assert "name: mine" in built and sorted(built.split()) != []
    again = hiergenre("build-tree", target, "--learn", "--data", tiny_corpus, workdir=workdir, check=False)
    assert again.returncode == 1 and "--force" in again.stderr
    assert target.read_text() == text  # the user's file is untouched
    hiergenre(
        "build-tree",
        target,
        "--learn",
        "--data",
        tiny_corpus,
        "--split",
        "80/20/0",
        "--groups",
        "2",
        "--force",
        workdir=workdir,
    )
    assert target.read_text() != text


def test_train_all_with_statistics_node_models(tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    hiergenre("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    hiergenre("train-all", "--data", tiny_corpus, "--node-model", "stats", workdir=workdir)
    assert not list((workdir / "models").rglob("*.keras"))
    out = json.loads(hiergenre("predict", tiny_corpus / "rock", "--json", workdir=workdir).stdout)
    assert len(out) == 3 and all(p["genre"] for p in out)


def test_litert_and_keras_backends_agree(trained, tiny_corpus):
    workdir, _, _ = trained
    assert {p.suffix for p in (workdir / "models" / "default").iterdir()} >= {".keras", ".tflite", ".json", ".npz"}
    lean = json.loads(hiergenre("predict", tiny_corpus, "--json", workdir=workdir).stdout)
    reference = json.loads(hiergenre("predict", tiny_corpus, "--json", "--backend", "keras", workdir=workdir).stdout)
    assert len(lean) == len(reference) == 30
    for a, b in zip(lean, reference, strict=True):
        assert a["file"] == b["file"] and a["genre"] == b["genre"]
        assert a["p"] == pytest.approx(b["p"], abs=1e-4)
        assert [s["choice"] for s in a["path"]] == [s["choice"] for s in b["path"]]


def test_prediction_path_imports_neither_tensorflow_nor_librosa(trained, tiny_corpus):
    workdir, _, _ = trained
    script = (
        "import json, sys\n"
        "from hiergenre.cli import app\n"
        "try:\n"
        f"    app(['predict', {str(tiny_corpus / 'jazz')!r}, '--routing', 'blend', '--workdir', {str(workdir)!r}])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras', 'librosa') if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.count("jazz.0000") == 3  # it did classify
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_batch_predict_survives_bad_files_and_writes_csv_and_json(trained, tiny_corpus, tmp_path):
    workdir, _, _ = trained
    batch = tmp_path / "batch"
    batch.mkdir()
    for genre in ("rock", "pop"):
        (batch / f"{genre}.au").write_bytes((tiny_corpus / genre / f"{genre}.00001.au").read_bytes())
    (batch / "broken.wav").write_bytes(b"RIFF....garbage")
    (batch / "empty.au").write_bytes(b"")
    out_csv = tmp_path / "out" / "genres.csv"
    result = hiergenre("predict", batch, tmp_path / "missing.au", "--output", out_csv, "--jobs", "2", workdir=workdir)
    assert "broken.wav" in result.stderr and "empty.au" in result.stderr and "missing.au" in result.stderr
    assert "Traceback" not in result.stderr and "wrote 5 predictions (2 classified)" in result.stderr
    import csv

    rows = list(csv.DictReader(out_csv.open()))
    assert [Path(r["file"]).name for r in rows] == ["broken.wav", "empty.au", "pop.au", "rock.au", "missing.au"]
    good = [r for r in rows if r["genre"]]
    assert len(good) == 2 and all(r["path"].endswith(r["genre"]) and not r["error"] for r in good)
    assert all(r["error"] for r in rows if not r["genre"])
    out_json = tmp_path / "genres.json"
    hiergenre("predict", batch, "-o", out_json, workdir=workdir)
    assert [bool(p["genre"]) for p in json.loads(out_json.read_text())] == [False, False, True, True]
    bad = hiergenre("predict", batch, "-o", tmp_path / "genres.txt", workdir=workdir, check=False)
    assert bad.returncode == 1 and "use a .csv or .json" in bad.stderr
    nothing = hiergenre("predict", batch / "broken.wav", workdir=workdir, check=False)
    assert nothing.returncode == 1 and "broken.wav" in nothing.stderr
