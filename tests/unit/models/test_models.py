import json

import numpy as np
import pytest

from hiergenre.config import FeatureConfig, ModelConfig
from hiergenre.errors import HierGenreError
from hiergenre.features.windows import Normalizer
from hiergenre.models.network import build_cnn, import_keras
from hiergenre.models.nodes import NODE_KINDS, CnnNode, ConstantNode, EnsembleNode, StatsNode, load_node, save_node
from hiergenre.models.statistics import StatsClassifier
from hiergenre.presets import get_preset

keras = import_keras()  # a broken Keras fails these tests instead of skipping them
CLASSES = ["q", "l", "w"]


def cnn_node(net, normalizer, features, classes=CLASSES):
    return CnnNode(node="root", classes=classes, features=features, normalizer=normalizer, cnn=net)


def test_paper_cnn_matches_the_report():
    preset = get_preset("paper")
    net = build_cnn(10, preset.model, preset.features)
    convs = [layer for layer in net.layers if layer.__class__.__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [32, 32, 32]
    assert convs[0].kernel_size == (3, 13) and convs[0].strides == (3, 13)
    kinds = [layer.__class__.__name__ for layer in net.layers]
    pools = [i for i, k in enumerate(kinds) if k == "MaxPooling2D"]
    conv_at = [i for i, k in enumerate(kinds) if k == "Conv2D"]
    assert conv_at[0] < pools[0] < conv_at[1] < pools[1] < conv_at[2]
    assert kinds[-3:] == ["GlobalAveragePooling2D", "Dropout", "Dense"]
    assert net.get_layer("dropout").rate == 0.8
    assert net.input_shape == (None, 300, 13, 1) and net.output_shape == (None, 10)
    assert net.count_params() == 7818
    assert preset.train.epochs == 1000 and preset.train.patience is None and preset.train.windows == "first"


def test_paper_features():
    f = get_preset("paper").features
    assert (f.frame_length, f.hop_length, f.n_mels, f.n_mfcc, f.window_frames) == (2048, 1024, 40, 13, 300)
    assert 13.5 < f.window_seconds < 14.5


def test_unknown_preset_lists_choices():
    with pytest.raises(HierGenreError, match="choose one of: .*paper"):
        get_preset("huge")


def test_node_model_save_load_gives_same_probabilities(tmp_path):
    features = FeatureConfig(window_frames=30)
    net = build_cnn(3, ModelConfig(), features)
    windows = np.random.default_rng(0).normal(size=(4, 30, 13)).astype(np.float32)
    model = cnn_node(net, Normalizer.fit(windows), features, ["a", "b", "c"])
    before = model.predict_proba(windows)
    assert before.shape == (4, 3) and np.allclose(before.sum(1), 1)
    save_node(model, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root.json", "root.keras", "root.tflite"]
    loaded = load_node(tmp_path, "root")
    assert isinstance(loaded, CnnNode) and loaded.classes == ["a", "b", "c"] and loaded.features == features
    assert np.allclose(loaded.predict_proba(windows), before, atol=1e-6)


def test_incompatible_metadata_version_is_refused(tmp_path):
    features = FeatureConfig(window_frames=30)
    model = cnn_node(build_cnn(2, ModelConfig(), features), Normalizer(np.zeros(13), np.ones(13)), features, ["a", "b"])
    save_node(model, tmp_path)
    meta = json.loads((tmp_path / "root.json").read_text())
    meta["format_version"] = 999
    (tmp_path / "root.json").write_text(json.dumps(meta))
    with pytest.raises(HierGenreError, match="incompatible"):
        load_node(tmp_path, "root")
    meta["format_version"], meta["kind"] = 2, "oracle"
    (tmp_path / "root.json").write_text(json.dumps(meta))
    with pytest.raises(HierGenreError, match="unknown kind 'oracle'"):
        load_node(tmp_path, "root")


def separable_windows(n=40, frames=30):
    """Class 0 is quiet, class 1 loud, class 2 fluctuating: statistics tell them apart."""
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 0.1, size=(n, frames, 13))
    loud = rng.normal(3, 0.1, size=(n, frames, 13))
    wild = rng.normal(0, 3, size=(n, frames, 13))
    return np.concatenate([quiet, loud, wild]).astype(np.float32), np.repeat([0, 1, 2], n)


def test_stats_classifier_learns_and_round_trips_through_json():
    x, y = separable_windows()
    stats = StatsClassifier.fit(x, y, 3)
    proba = stats.predict_proba(x)
    assert np.allclose(proba.sum(axis=1), 1) and np.mean(proba.argmax(axis=1) == y) == 1.0
    again = StatsClassifier.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert np.allclose(again.predict_proba(x), proba)


def test_stats_classifier_binary_and_absent_class():
    x, y = separable_windows()
    keep = y < 2
    stats = StatsClassifier.fit(x[keep], y[keep], 3)  # class 2 has no data
    proba = stats.predict_proba(x[keep])
    assert proba.shape == (len(proba), 3) and np.all(proba[:, 2] < 1e-6)
    assert np.mean(proba.argmax(axis=1) == y[keep]) == 1.0


def test_stats_only_node_model_saves_without_a_network(tmp_path):
    x, y = separable_windows()
    features = FeatureConfig(window_frames=30)
    model = StatsNode(node="root", classes=CLASSES, features=features, stats=StatsClassifier.fit(x, y, 3))
    assert model.kind == "stats" and model.n_parameters == 3 * 26 + 3
    (tmp_path / "root.keras").write_bytes(b"stale network of an earlier run")
    save_node(model, tmp_path)
    assert not (tmp_path / "root.keras").exists()
    loaded = load_node(tmp_path, "root")
    assert loaded.kind == "stats" and np.allclose(loaded.predict_proba(x), model.predict_proba(x))


def test_constant_node_answers_the_one_class_it_saw_and_round_trips(tmp_path):
    model = ConstantNode.for_labels("root", CLASSES, np.array([1, 1]), features=FeatureConfig(window_frames=30))
    assert np.array_equal(model.predict_proba(np.zeros((2, 30, 13))), [[0, 1, 0]] * 2)
    assert "single class (l)" in model.metadata["note"] and model.n_parameters == 0
    save_node(model, tmp_path)
    loaded = load_node(tmp_path, "root", backend="litert")
    assert isinstance(loaded, ConstantNode) and loaded.probabilities == [0.0, 1.0, 0.0]
    assert ConstantNode.for_labels("root", CLASSES, np.array([], int)).probabilities == pytest.approx([1 / 3] * 3)


def test_every_node_kind_is_registered_once():
    assert {"cnn": CnnNode, "stats": StatsNode, "ensemble": EnsembleNode, "constant": ConstantNode} == NODE_KINDS


def test_ensemble_mixes_cnn_and_stats_by_weight(tmp_path):
    x, y = separable_windows(n=4)
    features = FeatureConfig(window_frames=30)
    net = build_cnn(3, ModelConfig(batch_norm=True, stat_pooling=True), features)
    stats = StatsClassifier.fit(x, y, 3)
    cnn = cnn_node(net, Normalizer.fit(x), features)
    statistics = StatsNode(node="root", classes=CLASSES, features=features, stats=stats)
    model = EnsembleNode(node="root", classes=CLASSES, features=features, cnn=cnn, stats=statistics, cnn_weight=0.25)
    cnn_only = cnn.predict_proba(x)
    assert model.kind == "ensemble" and model.label == "ensemble (0.2 cnn)"
    assert np.allclose(model.predict_proba(x), 0.25 * cnn_only + 0.75 * stats.predict_proba(x), atol=1e-6)
    save_node(model, tmp_path)
    loaded = load_node(tmp_path, "root")
    assert loaded.cnn_weight == 0.25 and np.allclose(loaded.predict_proba(x), model.predict_proba(x), atol=1e-6)


def test_variance_pooling_is_the_variance_over_time_of_the_last_conv():
    features = FeatureConfig(window_frames=32)
    net = build_cnn(2, ModelConfig(stat_pooling=True), features)
    probe = keras.Model(net.input, [net.get_layer("relu3").output, net.get_layer("time_variance").output])
    x = np.random.default_rng(0).normal(size=(2, 32, 13, 1)).astype(np.float32)
    conv, variance = (np.asarray(t, dtype=np.float64) for t in probe(x))
    assert np.allclose(variance, conv.var(axis=(1, 2)), atol=1e-4)
    assert net.count_params() < 50_000


def test_stride_one_first_conv_keeps_every_frame_position_and_the_parameter_count():
    stride1, blocks = get_preset("improved-cv3-s1"), get_preset("improved-cv3")
    net = build_cnn(10, stride1.model, stride1.features)
    conv1 = net.get_layer("conv1")
    assert conv1.kernel_size == (3, 13) and conv1.strides == (1, 13)
    assert conv1.output.shape[1] == stride1.features.window_frames - 2  # every 3-frame position, not every third
    assert net.get_layer("maxpool1").pool_size == (3, 1)
    assert net.count_params() == build_cnn(10, blocks.model, blocks.features).count_params()
    # A one-frame shift moves the stride-1 conv output by one step; block-wise striding cannot follow it.
    small = build_cnn(10, stride1.model, FeatureConfig(window_frames=40))
    probe = keras.Model(small.input, small.get_layer("conv1").output)
    x = np.random.default_rng(1).normal(size=(1, 40, 13, 1)).astype(np.float32)
    whole, shifted = (np.asarray(probe(v)) for v in (x, np.roll(x, -1, axis=1)))
    assert np.allclose(whole[:, 1:-1], shifted[:, :-2], atol=1e-5)


def test_litert_export_gives_the_keras_probabilities(tmp_path):
    x, y = separable_windows(n=3)
    features = FeatureConfig(window_frames=30)
    net = build_cnn(3, ModelConfig(batch_norm=True, stat_pooling=True), features)
    statistics = StatsNode(node="root", classes=CLASSES, features=features, stats=StatsClassifier.fit(x, y, 3))
    cnn = cnn_node(net, Normalizer.fit(x), features)
    model = EnsembleNode(node="root", classes=CLASSES, features=features, cnn=cnn, stats=statistics, cnn_weight=0.5)
    save_node(model, tmp_path)
    assert (tmp_path / "root.tflite").is_file()
    lite = load_node(tmp_path, "root", backend="litert")
    assert lite.network.__class__.__name__ == "LiteNetwork" and lite.n_parameters == model.n_parameters
    assert np.allclose(lite.predict_proba(x), model.predict_proba(x), atol=1e-5)
    assert np.allclose(lite.predict_proba(x[:2]), model.predict_proba(x[:2]), atol=1e-5)  # another batch size
    (tmp_path / "root.tflite").unlink()
    with pytest.raises(HierGenreError, match="no LiteRT model"):
        load_node(tmp_path, "root", backend="litert")
