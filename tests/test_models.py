import json

import numpy as np
import pytest

from hiergenre.config import FeatureConfig, ModelConfig, get_preset
from hiergenre.errors import HierGenreError
from hiergenre.features import Normalizer
from hiergenre.models import NodeModel, build_cnn

keras = pytest.importorskip("keras")


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
    with pytest.raises(HierGenreError, match="choose one of: paper"):
        get_preset("huge")


def test_node_model_save_load_gives_same_probabilities(tmp_path):
    features = FeatureConfig(window_frames=30)
    net = build_cnn(3, ModelConfig(), features)
    windows = np.random.default_rng(0).normal(size=(4, 30, 13)).astype(np.float32)
    model = NodeModel("root", ["a", "b", "c"], Normalizer.fit(windows), features, net, {"history": {}})
    before = model.predict_proba(windows)
    assert before.shape == (4, 3) and np.allclose(before.sum(1), 1)
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root.json", "root.keras"]
    loaded = NodeModel.load(tmp_path, "root")
    assert loaded.classes == ["a", "b", "c"] and loaded.features == features
    assert np.allclose(loaded.predict_proba(windows), before, atol=1e-6)


def test_incompatible_metadata_version_is_refused(tmp_path):
    features = FeatureConfig(window_frames=30)
    model = NodeModel(
        "root", ["a", "b"], Normalizer(np.zeros(13), np.ones(13)), features, build_cnn(2, ModelConfig(), features)
    )
    model.save(tmp_path)
    meta = json.loads((tmp_path / "root.json").read_text())
    meta["format_version"] = 999
    (tmp_path / "root.json").write_text(json.dumps(meta))
    with pytest.raises(HierGenreError, match="incompatible"):
        NodeModel.load(tmp_path, "root")
