"""Reuse keys: a stored node model is reused exactly when what it was trained from is unchanged.

The key must follow the preset's settings and the seeds the node's members train from, and must
ignore how the preset is named or described (rewording one would otherwise retrain every model).
"""

from dataclasses import replace
from pathlib import Path

import pytest

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.config import Preset
from hiergenre.presets import PRESETS
from hiergenre.training.node_data import member_seed
from hiergenre.training.tree import model_version, node_seed, plan_tree, training_key

TREE = GenreTree.from_spec({"soft": ["jazz", "blues"], "loud": ["metal", "rock", "punk"]}, "t")
PRESET = PRESETS["improved-cv3"]
EPOCHS, SEED = 30, 0


def key(preset: Preset = PRESET, *, tree: GenreTree = TREE, node: str = "loud", epochs: int = EPOCHS, seed: int = SEED):
    return training_key(tree, node, preset, "data-hash", "split-hash", epochs, seed)


def version(preset: Preset = PRESET, *, epochs: int = EPOCHS, seed: int = SEED) -> str:
    return model_version(TREE, preset, "data-hash", "split-hash", epochs, seed)


def test_rewording_a_preset_reuses_every_model():
    reworded = replace(PRESET, name="renamed", description="the same recipe, described in other words")
    assert key(reworded) == key()
    assert version(reworded) == version()


@pytest.mark.parametrize(
    "changed",
    [
        replace(PRESET, features=replace(PRESET.features, n_mfcc=20)),
        replace(PRESET, model=replace(PRESET.model, filters=16)),
        replace(PRESET, model=replace(PRESET.model, dropout=0.4)),
        replace(PRESET, train=replace(PRESET.train, learning_rate=5e-4)),
        replace(PRESET, train=replace(PRESET.train, calibration="none")),
        replace(PRESET, train=replace(PRESET.train, cross_fit=False)),
    ],
    ids=["n_mfcc", "filters", "dropout", "learning_rate", "calibration", "cross_fit"],
)
def test_changing_a_setting_retrains(changed: Preset):
    assert key(changed) != key()
    assert version(changed) != version()


def test_the_seed_and_the_member_count_are_in_the_key():
    assert key(seed=1) != key()
    assert version(seed=1) != version()
    more_members = replace(PRESET, train=replace(PRESET.train, members=5))
    assert key(more_members) != key()


def test_the_epoch_cap_counts_but_not_an_unreached_preset_maximum():
    assert key(epochs=EPOCHS + 1) != key()
    longer = replace(PRESET, train=replace(PRESET.train, epochs=PRESET.train.epochs * 2))
    assert key(longer) == key()  # the run trains at most EPOCHS epochs either way


def test_a_node_that_moves_in_the_tree_trains_from_another_seed_and_so_retrains():
    # the same decision (metal | rock | punk) as the tree's second node, then as its first
    swapped = GenreTree.from_spec({"loud": ["metal", "rock", "punk"], "soft": ["jazz", "blues"]}, "t")
    assert node_seed(TREE, "loud", SEED) != node_seed(swapped, "loud", SEED)
    assert key(tree=swapped) != key()
    assert key(tree=swapped, node="root") != key(node="root")  # its children changed order


def test_member_seeds_start_at_the_node_seed_and_never_meet_the_next_nodes():
    first_nodes = {node_seed(TREE, node, SEED) for node in TREE.model_nodes}
    assert first_nodes == {0, 1, 2}
    members = [member_seed(n, m) for n in first_nodes for m in range(5)]
    assert len(set(members)) == len(members)
    assert member_seed(2, 0) == 2  # member 0 trains from the node seed itself


def test_planned_jobs_train_from_the_seeds_their_keys_hold(tmp_path: Path):
    jobs = plan_tree(
        TREE,
        ((), ()),
        {},
        PRESET,
        tmp_path,
        epochs=EPOCHS,
        seed=7,
        data_fingerprint="data-hash",
        split_key="split-hash",
    )
    assert [job.node for job in jobs] == TREE.model_nodes
    for job in jobs:
        assert job.seed == node_seed(TREE, job.node, 7) == 7 + TREE.model_nodes.index(job.node)
        assert job.key == training_key(TREE, job.node, PRESET, "data-hash", "split-hash", EPOCHS, 7)
