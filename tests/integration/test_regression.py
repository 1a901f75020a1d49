"""Regression pins: features and routing compared with arrays stored in ``tests/data/regression.npz``.

The inputs are stored too (openl3-style): a synthetic clip's samples, and small 2-D data sets
for a fixed scikit-learn node classifier, so nothing here depends on TensorFlow training. A
change that moves these numbers on purpose re-pins them in the same commit, and says so:

    HIERGENRE_REPIN=1 python -m pytest tests/integration/test_regression.py

A re-pinning run checks nothing (it would compare the pins with themselves): it writes the file
and skips; the next plain run compares against it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from hiergenre.cascade.estimator import HierarchicalClassifier
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import ROUTING_POLICIES, routes
from hiergenre.config import FeatureConfig
from hiergenre.data.synthetic.corpus import synthesize_clip
from hiergenre.features.lmfcc import LmfccMatrices, lmfcc, lmfcc_numpy

PINS = Path(__file__).resolve().parents[1] / "data" / "regression.npz"
SPEC = {"heavy": ["metal", "rock"], "soft": ["jazz", {"calm": ["classical", "ambient"]}], "solo": ["pop"]}
TREE = GenreTree.from_spec(SPEC, "pinned")


def inputs() -> dict[str, np.ndarray]:
    """What the pinned outputs are computed from (written once, then read back from the file)."""
    rng = np.random.default_rng(2026)
    centers = rng.normal(0, 2.0, (len(TREE.leaves), 4))
    labels = np.repeat(np.arange(len(TREE.leaves)), 12)
    x = centers[labels] + rng.normal(0, 1.5, (len(labels), 4))
    test = centers[np.arange(len(TREE.leaves)).repeat(3)] + rng.normal(0, 1.5, (3 * len(TREE.leaves), 4))
    nodes = {f"node_{n}": rng.dirichlet(np.ones(len(TREE.children(n))) * 0.7, size=12) for n in TREE.model_nodes}
    return {
        **nodes,
        "flat": rng.dirichlet(np.ones(len(TREE.leaves)), size=12),
        "signal": synthesize_clip("jazz", 0, seconds=2.0, seed=0).astype(np.float32),
        "train_x": x,
        "train_y": np.array(TREE.leaves)[labels],
        "test_x": test,
    }


def outputs(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Everything pinned: LMFCC on both paths, the fitted node probabilities, and each policy's routes."""
    config = FeatureConfig()
    out = {
        "lmfcc": lmfcc(data["signal"], config),
        "lmfcc_numpy": lmfcc_numpy(data["signal"], config, LmfccMatrices.from_librosa(config)),
    }
    model = HierarchicalClassifier(SPEC, LogisticRegression(C=0.3, max_iter=2000), routing="blend")
    model.fit(data["train_x"], data["train_y"])
    for policy in ROUTING_POLICIES:
        model.set_params(routing=policy)
        out[f"{policy}_predict"] = model.predict(data["test_x"])
        out[f"{policy}_proba"] = model.predict_proba(data["test_x"])
    nodes = {node: data[f"node_{node}"] for node in TREE.model_nodes}
    for policy in ROUTING_POLICIES:
        routed = routes(TREE, nodes, policy, flat=data["flat"])
        out[f"routes_{policy}_genre"] = np.array([r.genre for r in routed])
        out[f"routes_{policy}_p"] = np.array([r.p for r in routed])
        out[f"routes_{policy}_steps"] = np.array([s.p for r in routed for s in r.steps])
    return out


def test_features_routing_and_node_classifiers_match_the_pins():
    if os.environ.get("HIERGENRE_REPIN"):
        data = inputs()
        np.savez_compressed(PINS, **{f"in_{k}": v for k, v in data.items()}, **outputs(data))
        pytest.skip(f"re-pinned {PINS.name}: nothing compared; run again without HIERGENRE_REPIN to check")
    stored = np.load(PINS, allow_pickle=False)
    data = {k[3:]: stored[k] for k in stored.files if k.startswith("in_")}
    now = outputs(data)
    np.testing.assert_allclose(now["lmfcc"], stored["lmfcc"], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(now["lmfcc_numpy"], stored["lmfcc_numpy"], rtol=1e-4, atol=1e-3)
    for policy in ROUTING_POLICIES:
        # routing alone, on stored node matrices: exact whatever the library versions
        assert list(now[f"routes_{policy}_genre"]) == list(stored[f"routes_{policy}_genre"]), policy
        np.testing.assert_allclose(now[f"routes_{policy}_p"], stored[f"routes_{policy}_p"], rtol=1e-12)
        np.testing.assert_allclose(now[f"routes_{policy}_steps"], stored[f"routes_{policy}_steps"], rtol=1e-12)
        # a fixed scikit-learn node classifier through the estimator: tolerant of solver rounding
        assert list(now[f"{policy}_predict"]) == list(stored[f"{policy}_predict"]), policy
        np.testing.assert_allclose(now[f"{policy}_proba"], stored[f"{policy}_proba"], rtol=1e-4, atol=1e-6)
