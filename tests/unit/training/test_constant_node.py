"""A node whose training clips all belong to one child gets a constant model, not a network."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.config import FeatureConfig, Preset, TrainConfig
from hiergenre.data.datasets import Clip
from hiergenre.models.nodes import ConstantNode, load_node
from tests.commands import train_tree


def test_single_class_node_gets_a_constant_model(tmp_path):
    tree = GenreTree.from_yaml_text("tree: {soft: [jazz, blues], heavy: [metal, rock]}")
    rng = np.random.default_rng(0)
    clips = [Clip(Path(f"/x/{g}{i}.au"), g) for g in ("jazz", "metal", "rock") for i in range(3)]
    frames = {str(c.path): rng.normal(size=(40, 13)).astype(np.float32) for c in clips}
    preset = Preset("t", "t", features=FeatureConfig(window_frames=20), train=TrainConfig(epochs=1))
    results = train_tree(
        tree, (clips, []), frames, preset, tmp_path, epochs=1, seed=0, data_fingerprint="d", split_key="s"
    )
    soft = next(r for r in results if r.node == "soft")
    assert soft.kind == "constant" and soft.parameters == 0
    model = load_node(tmp_path, "soft", backend="litert")
    assert isinstance(model, ConstantNode)
    assert np.allclose(model.predict_proba(np.zeros((2, 20, 13))), [[1.0, 0.0]] * 2)  # jazz: the only class seen
    assert "single class (jazz)" in model.metadata["note"]
