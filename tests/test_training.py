import numpy as np

from hiergenre.config import FeatureConfig, Preset, TrainConfig
from hiergenre.datasets import Clip
from hiergenre.hierarchy import GenreTree
from hiergenre.training import balanced_weights, node_examples, train_tree

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, blues]}")
PRESET = Preset(
    "tiny",
    "test",
    features=FeatureConfig(window_frames=20),
    train=TrainConfig(epochs=2, windows="all", window_hop_frames=10),
)


def data():
    rng = np.random.default_rng(0)
    clips = [
        Clip(__import__("pathlib").Path(f"/x/{g}{i}.au"), g)
        for g in ("metal", "rock", "jazz", "blues")
        for i in range(3)
    ]
    frames = {str(c.path): rng.normal(size=(40, 13)).astype(np.float32) for c in clips}
    return clips, frames


def test_node_examples_label_by_child_towards_genre():
    clips, frames = data()
    x, y = node_examples(TREE, "root", clips, frames, PRESET, mode="all")
    assert x.shape == (12 * 3, 20, 13)  # 3 windows (starts 0, 10, 20) per clip
    assert list(np.bincount(y)) == [18, 18]
    x, y = node_examples(TREE, "heavy", clips, frames, PRESET, mode="first")
    assert x.shape[0] == 6 and list(np.bincount(y)) == [3, 3]


def test_balanced_weights():
    assert balanced_weights(np.array([0, 0, 0, 1]), 2) == {0: 4 / 6, 1: 2.0}
    assert balanced_weights(np.array([0, 1]), 2) == {0: 1.0, 1: 1.0}


def test_train_tree_saves_every_node_and_reuses_unchanged_models(tmp_path):
    clips, frames = data()
    kwargs = dict(epochs=2, seed=0, data_fingerprint="d", split_key="s")
    first = train_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path, **kwargs)
    assert [r.node for r in first] == ["root", "heavy", "soft"]
    assert not any(r.reused for r in first)
    expected = {f"{n}.{e}" for n in ("root", "heavy", "soft") for e in ("json", "keras")}
    assert {p.name for p in tmp_path.iterdir()} == expected
    second = train_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path, **kwargs)
    assert all(r.reused for r in second)
    kwargs["seed"] = 1
    third = train_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path, **kwargs)
    assert not any(r.reused for r in third)
