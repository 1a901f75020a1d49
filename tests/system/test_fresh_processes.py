"""The command line as a user types it: each command in a fresh process, and what a process imports."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.commands import hiergenre


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
    # loky took each worker's TensorFlow import for a memory leak: it replaced the worker and warned
    assert "Warning" not in train.stderr and "worker stopped" not in train.stderr, train.stderr
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
