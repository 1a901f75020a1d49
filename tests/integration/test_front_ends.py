"""Every command on the musicnn front-end and on the paired one: train-all, predict, timelines, evaluate, info, learn.

The musicnn workspace trains in seconds (logistic regressions on the shipped network's
embeddings); the paired one trains one-epoch CNNs of the ``paper`` preset beside them.
"""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from hiergenre.workspace.layout import Workspace
from tests.commands import ROOT


def test_a_musicnn_workspace_records_its_front_end_and_logistic_regressions(trained_musicnn):
    space = Workspace(trained_musicnn)
    for name in ("default", "flat", "baseline3"):
        opened = space.open(name, runtime=None)
        assert opened.front_end.kind == "musicnn" and opened.manifest.node_model == "stats"
        assert {record["kind"] for record in opened.node_records.values()} <= {"stats", "constant"}
        assert all(record["features_kind"] == "musicnn" for record in opened.node_records.values())


def test_predict_evaluate_info_and_timeline_work_on_musicnn_features(cli, trained_musicnn, tiny_corpus, tmp_path):
    clip = tiny_corpus / "metal" / "metal.00001.au"
    predicted = cli("predict", clip, "--json", "--routing", "blend", "--top", "10", workdir=trained_musicnn)
    record = json.loads(predicted.stdout)[0]
    assert record["genre"] in Workspace(trained_musicnn).open("default", runtime=None).tree.leaves
    keras = json.loads(cli("predict", clip, "--json", "--runtime", "keras", workdir=trained_musicnn).stdout)[0]
    litert = json.loads(cli("predict", clip, "--json", workdir=trained_musicnn).stdout)[0]
    assert keras == litert  # statistics nodes: the same arrays whatever runs them
    assert "musicnn" in cli("info", workdir=trained_musicnn).stdout
    info = json.loads(cli("info", "--json", workdir=trained_musicnn).stdout)
    assert {tree["front_end"] for tree in info["trained_trees"].values()} == {"musicnn"}
    evaluated = json.loads(cli("evaluate", "--json", workdir=trained_musicnn).stdout)
    assert {"default", "flat", "baseline3"} <= set(evaluated["models"])
    # a 70-s file: segments of one musicnn window (10 patches, 29.9 s), the last one ending on the file's end
    rate = 22050
    t = np.arange(70 * rate) / rate
    long = tmp_path / "long.wav"
    sf.write(str(long), (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(t))).astype(np.float32), rate)
    timeline = json.loads(cli("predict", long, "--timeline", "--json", workdir=trained_musicnn).stdout)[0]["timeline"]
    assert [round(s["start"], 1) for s in timeline] == [0.0, 29.9, 40.1]
    assert round(timeline[-1]["end"], 1) == 70.0 and all(s["genre"] for s in timeline)


def test_front_end_choices_are_checked_before_any_work(cli, tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    cases = [
        (("--features", "vggish"), "unknown front-end 'vggish'; choose one of: lmfcc, musicnn, musicnn+lmfcc"),
        (("--features", "musicnn", "--node-model", "cnn"), "--node-model cnn does not work on musicnn features"),
        (("--features", "musicnn+lmfcc", "--node-model", "stats"), "use ensemble or auto"),
    ]
    for options, message in cases:
        refused = cli("train-all", "--data", tiny_corpus, *options, workdir=workdir, check=False)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
        assert not (workdir / "cache").exists()
    wrong = cli("build-tree", "default", "--features", "musicnn", workdir=workdir, check=False)
    assert wrong.returncode == 1 and "--features is only used with --learn" in wrong.stderr


def test_build_tree_learns_groups_from_musicnn_embeddings(cli, tiny_corpus, tmp_path):
    tree_file = tmp_path / "learned.yaml"
    cli("build-tree", tree_file, "--learn", "--data", tiny_corpus, "--features", "musicnn", workdir=tmp_path / "ws")
    assert "musicnn-statistics classifier" in tree_file.read_text()
    assert (tmp_path / "ws" / "tree.yaml").is_file()


def test_paired_nodes_mix_the_lmfcc_cnn_with_a_musicnn_classifier(cli, tiny_corpus, trained_musicnn, tmp_path):
    workdir = tmp_path / "ws"  # the flat tree: one node model (the default tree's nodes work alike)
    cli("build-tree", "flat", workdir=workdir)
    trained = cli(
        "train-all",
        "--data",
        tiny_corpus,
        "--features",
        "musicnn+lmfcc",
        "--preset",
        "paper",
        "--epochs",
        "1",
        "--no-baseline3",
        "--jobs",
        "2",
        workdir=workdir,
    )
    assert "ensemble (0.5 cnn)" in trained.stdout
    opened = Workspace(workdir).open("flat", runtime="litert")
    assert opened.front_end.kind == "musicnn+lmfcc"
    clip = tiny_corpus / "jazz" / "jazz.00002.au"
    windows = opened.front_end.file_windows(clip)
    assert windows.dtype.names == ("lmfcc", "musicnn") and windows["musicnn"].shape[1:] == (10, 200)
    node = opened.models["root"]
    mixed = node.predict_proba(windows)
    assert np.allclose(mixed, 0.5 * node.cnn.predict_proba(windows) + 0.5 * node.stats.predict_proba(windows))
    # the musicnn part sees the windows a musicnn node sees: the clip's one window of 10 patches
    musicnn = Workspace(trained_musicnn).open("default", runtime="litert").front_end.file_windows(clip)
    assert np.allclose(windows["musicnn"][0], musicnn[0], atol=1e-5)
    predicted = json.loads(cli("predict", clip, "--json", workdir=workdir).stdout)[0]
    keras = json.loads(cli("predict", clip, "--json", "--runtime", "keras", workdir=workdir).stdout)[0]
    assert predicted["genre"] == keras["genre"] and abs(predicted["p"] - keras["p"]) < 1e-4


def test_decoders_target_accuracy_and_reports_work_on_musicnn_features(cli, trained_musicnn, tiny_corpus, tmp_path):
    workdir = trained_musicnn
    clip = tiny_corpus / "country" / "country.00000.au"
    for options in (("--target-accuracy", "0.8"), ("--decode", "hf1"), ("--min-confidence", "0.99")):
        decoded = cli("predict", clip, *options, workdir=workdir)
        assert "country.00000.au: " in decoded.stdout
    guaranteed = cli("predict", clip, "--target-accuracy", "0.9", workdir=workdir)
    assert "at least 90% of new clips get a genre or group that contains their true genre" in guaranteed.stderr
    refused = cli("predict", clip, "--target-accuracy", "0.95", workdir=workdir, check=False)
    assert refused.returncode != 0 and "needs at least 19 calibration clips, found 10" in refused.stderr
    sets = json.loads(cli("predict", clip, "--target-accuracy", "0.8", "--sets", "--json", workdir=workdir).stdout)
    assert sets[0]["set"] and set(sets[0]["set"]) <= set(Workspace(workdir).open("default").tree.preorder())
    assert cli("predict", clip, "--sets", workdir=workdir, check=False).returncode == 2  # sets need a target
    cli("evaluate", "--target-accuracy", "0.8", "--report", tmp_path / "report", workdir=workdir)
    assert {"report.md", "reliability.png", "operating-curves.png"} <= {p.name for p in (tmp_path / "report").iterdir()}


def test_clip_vectors_feed_the_hierarchical_estimator(tiny_corpus, tmp_path):
    import hiergenre

    vectors, files, skipped = hiergenre.clip_vectors([tiny_corpus], features="musicnn", workdir=tmp_path / "ws")
    assert vectors.shape == (30, 400) and len(files) == 30 and skipped == {}
    genres = [path.split("/")[-2] for path in files]
    model = hiergenre.HierarchicalClassifier(str(ROOT / "hierarchies" / "default.yaml")).fit(vectors, genres)
    assert np.mean(model.predict(vectors) == np.array(genres)) > 0.9  # 400 values for 3 clips a genre: separable
    lmfcc, _, _ = hiergenre.clip_vectors([tiny_corpus / "jazz"], features="lmfcc", workdir=tmp_path / "ws")
    assert lmfcc.shape == (3, 26)


def test_every_front_end_has_settings_a_front_end_and_node_models():
    from hiergenre.config import FEATURE_SETTINGS
    from hiergenre.features.registry import FRONT_END_KINDS
    from hiergenre.presets import FRONT_ENDS, NODE_MODELS, NODE_MODELS_OF

    assert list(FRONT_ENDS) == list(FRONT_END_KINDS) == list(FEATURE_SETTINGS) == list(NODE_MODELS_OF)
    assert all(set(kinds) <= set(NODE_MODELS) for kinds in NODE_MODELS_OF.values())
