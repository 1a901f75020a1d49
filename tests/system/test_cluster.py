"""The Dask backend (``--cluster``): the same models and predictions as local processes, clear errors,
and a worker killed mid-run that loses nothing. Runs on LocalClusters of two worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.extraction import extract_many
from hiergenre.models.nodes import load_node
from hiergenre.parallel.backends import LocalBackend
from hiergenre.parallel.choose import open_backend, parse_cluster
from hiergenre.presets import get_preset
from hiergenre.training.jobs import run_node_jobs
from hiergenre.training.tree import plan_tree
from tests.commands import ROOT, model_dir
from tests.unit.training.test_training import PRESET, TREE, RecordingReporter, data

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes, shared by the tests of this module."""
    with open_backend("local:2") as backend:
        yield backend


def test_cluster_addresses_are_checked_before_any_work(cli, tmp_path, monkeypatch):
    assert parse_cluster(None) is None and parse_cluster("") is None
    assert parse_cluster("local:3") == ("local", 3)
    assert parse_cluster("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "local:x", "10.0.0.5:8786", "tcp://"):
        with pytest.raises(InvalidValue, match="--cluster"):
            parse_cluster(bad)
    refused = cli("train-all", "--cluster", "local:0", workdir=tmp_path / "ws", check=False)
    assert refused.returncode == 2 and "--cluster local:N" in refused.stderr and not refused.stdout
    monkeypatch.setenv("HIERGENRE_CLUSTER", "somewhere")
    from_env = cli("evaluate", workdir=tmp_path / "ws", check=False)
    assert from_env.returncode == 2 and "'somewhere'" in from_env.stderr
    assert not (tmp_path / "ws").exists()  # refused before the workspace was touched


def test_nothing_imports_dask_without_a_cluster():
    script = (
        "import sys, hiergenre.api, hiergenre.cli, hiergenre.training.run\n"
        "import hiergenre.evaluation.evaluate, hiergenre.prediction.predictor\n"
        "from hiergenre.parallel.choose import open_backend\n"
        "open_backend(None, 2).close()\n"
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_node_models_on_dask_are_the_local_ones_and_report_every_epoch(cluster, tmp_path):
    clips, frames = data()
    kwargs = dict(epochs=2, seed=0, data_fingerprint="d", split_key="s")
    local = plan_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path / "local", **kwargs)
    run_node_jobs(local, backend=LocalBackend(1))
    remote = plan_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path / "dask", **kwargs)
    reporter = RecordingReporter()
    results = run_node_jobs(remote, backend=cluster, reporter=reporter)
    assert [r.node for r in results] == ["root", "heavy", "soft"]  # the jobs' order, whichever finished first
    for node in ("root", "heavy", "soft"):
        one, two = (load_node(tmp_path / run, node) for run in ("local", "dask"))
        for a, b in zip(one.network.get_weights(), two.network.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        assert one.temperature == two.temperature
        kinds = [kind for kind, label, _ in reporter.events if label == f"tree/{node}"]
        assert kinds == ["start", "epoch", "epoch", "finish"]  # progress came back through the scheduler


def test_features_on_dask_match_and_failures_keep_the_callers_spelling(cluster, tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tiny_corpus)
    paths = [f"blues/blues.0000{i}.au" for i in range(3)] + ["jazz/jazz.00000.au", "no/such.au"]
    config = get_preset("improved").features
    here, here_failed = extract_many(paths, config, jobs=1)
    there, there_failed = extract_many(paths, config, backend=cluster)
    assert sorted(here) == sorted(there) == paths[:4]  # relative paths worked on the workers
    for path in paths[:4]:
        np.testing.assert_array_equal(here[path], there[path])
    assert list(there_failed) == ["no/such.au"] and there_failed == here_failed
    assert cluster.batch_size(5) == 1 and cluster.batch_size(1000) == 32


def test_a_path_no_worker_sees_is_named(cluster, tmp_path):
    cluster.check_visible({"workspace": tmp_path}, writable=["workspace"])  # fine
    with pytest.raises(HierGenreError, match=r"cannot see the data set .*missing.*every worker sees"):
        cluster.check_visible({"data set": tmp_path / "missing"})


def test_train_all_on_a_cluster_gives_the_local_models_and_predictions(tiny_corpus, tmp_path):
    """The workspace plumbing on a cluster, with statistics node models (seconds); that a CNN trained
    on Dask is the local one is checked above, weight for weight."""
    import hiergenre

    workdirs, backends = {"local": tmp_path / "local", "dask": tmp_path / "dask"}, {}
    for where, workdir in workdirs.items():
        hiergenre.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir, draw=False)
        cluster = "local:2" if where == "dask" else None
        report = hiergenre.train_all(
            workdir=workdir, data=tiny_corpus, node_model="stats", split="34/33/33", jobs=1, cluster=cluster
        )
        backends[where] = report.backend
    assert backends["dask"] == "Dask cluster local:2 (2 workers)" and "Dask" not in backends["local"]
    local, workdir = workdirs["local"], workdirs["dask"]
    for tree in ("default", "flat", "baseline3"):
        ours, theirs = model_dir(workdir, tree), model_dir(local, tree)
        assert ours.name == theirs.name  # the same training keys: the local run's models could be reused
        with np.load(theirs / "validation.npz") as a, np.load(ours / "validation.npz") as b:  # calibration scores
            assert sorted(a.files) == sorted(b.files) and len(a["ids"]) > 0 and list(a["ids"]) == list(b["ids"])
            for key in (k for k in a.files if k.startswith("node:")):
                np.testing.assert_allclose(a[key], b[key], atol=1e-6)
    files = sorted(str(p) for p in tiny_corpus.rglob("*.au"))
    here = hiergenre.predict(files, workdir=local, routing="product")
    there = hiergenre.predict(files, workdir=workdir, routing="product", cluster="local:2")
    assert [p.file for p in there] == files
    for a, b in zip(here, there, strict=True):
        assert a.genre == b.genre
        np.testing.assert_allclose(
            [a.route.distribution[g] for g in a.route.distribution],
            [b.route.distribution[g] for g in a.route.distribution],
            atol=1e-6,
        )
    here = hiergenre.evaluate(workdir=local, trees=["default"])
    there = hiergenre.evaluate(workdir=workdir, trees=["default"], cluster="local:2")
    assert here.scores["default"].accuracy == there.scores["default"].accuracy


def test_a_worker_killed_mid_run_loses_nothing(cli, tiny_corpus, tmp_path):
    import psutil

    workdir = tmp_path / "ws"
    tree = tmp_path / "small.yaml"
    tree.write_text("name: small\ntree:\n  a: [blues, jazz, classical]\n  b: [metal, rock, disco]\n")
    cli("build-tree", tree, workdir=workdir)
    options = ["--data", str(tiny_corpus), "--epochs", "40", "--preset", "improved", "--no-baseline3"]
    command = [sys.executable, "-m", "hiergenre.cli", "train-all", *options, "--cluster", "local:2"]
    env = {**os.environ, "HIERGENRE_WORKDIR": str(workdir)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed, progress = None, []
    for line in process.stderr:  # off a terminal: one line per finished stage or model
        progress.append(line)
        if killed is None and line.startswith(("small/", "flat/")):  # one model is done, others are training
            workers = [
                p for p in psutil.Process(process.pid).children(recursive=True) if "spawn_main" in " ".join(p.cmdline())
            ]
            assert len(workers) == 2
            workers[0].send_signal(signal.SIGKILL)
            killed = workers[0].pid
    process.wait(timeout=300)
    assert killed is not None
    # Dask runs the lost job again (its nanny restarts the worker): the run finishes and publishes every model
    first_stdout = process.stdout.read()
    assert process.returncode == 0, first_stdout + "".join(progress)
    assert "Traceback" not in first_stdout + "".join(progress)
    assert len(json.loads((workdir / "models" / "small" / "manifest.json").read_text())["nodes"]) == 3
    again = cli("train-all", *options, "--cluster", "local:2", workdir=workdir)
    assert again.stdout.count("reused") == 4  # small/root, small/a, small/b and flat/root: nothing was lost
    for tree_name in ("small", "flat"):
        folder = model_dir(workdir, tree_name)
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left
        for node_file in folder.glob("*.json"):
            json.loads(node_file.read_text())  # every record is whole
    predicted = cli("predict", tiny_corpus / "rock", "--json", workdir=workdir)
    assert len(json.loads(predicted.stdout)) == 3


def test_unreachable_scheduler_is_one_line(cli, trained, tmp_path, monkeypatch):
    monkeypatch.setattr("hiergenre.parallel.dask_cluster.CONNECT_TIMEOUT", 2)  # the message, not the wait, is tested
    started = time.monotonic()
    result = cli("evaluate", "--cluster", "tcp://127.0.0.1:9", workdir=trained, check=False)
    assert result.returncode == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr and time.monotonic() - started < 60
    assert Path(trained / "models").is_dir()
