import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.config import FeatureConfig, Preset, TrainConfig
from hiergenre.data.datasets import Clip
from hiergenre.models.nodes import CnnNode, EnsembleNode, StatsNode, load_node, save_node
from hiergenre.progress import SilentProgress
from hiergenre.training.jobs import run_node_jobs
from hiergenre.training.node import AUTO_CNN_WEIGHTS, choose_cnn_weight, fit_node
from hiergenre.training.node_data import (
    NodeData,
    balanced_weights,
    clip_log_loss,
    clip_probabilities,
    cross_fit_parts,
    held_out_parts,
    node_data,
    stacked_windows,
)
from hiergenre.training.tree import plan_tree
from tests.commands import train_tree

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, blues]}")
PRESET = Preset(
    "tiny",
    "test",
    features=FeatureConfig(window_frames=20),
    train=TrainConfig(epochs=2, windows="all", window_hop_frames=10),
)


def data():
    rng = np.random.default_rng(0)
    clips = [Clip(Path(f"/x/{g}{i}.au"), g) for g in ("metal", "rock", "jazz", "blues") for i in range(3)]
    frames = {str(c.path): rng.normal(size=(40, 13)).astype(np.float32) for c in clips}
    return clips, frames


def test_node_windows_are_labelled_by_the_child_towards_each_genre():
    clips, frames = data()
    x, y = stacked_windows(node_data(TREE, "root", clips, frames), PRESET, mode="all", hop=10)
    assert x.shape == (12 * 3, 20, 13)  # 3 windows (starts 0, 10, 20) per clip
    assert list(np.bincount(y)) == [18, 18]
    x, y = stacked_windows(node_data(TREE, "heavy", clips, frames), PRESET, mode="first", hop=10)
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
    expected = {f"{n}.{e}" for n in ("root", "heavy", "soft") for e in ("json", "keras", "tflite")}
    assert {p.name for p in tmp_path.iterdir()} == expected
    second = train_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path, **kwargs)
    assert all(r.reused for r in second)
    kwargs["seed"] = 1
    third = train_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path, **kwargs)
    assert not any(r.reused for r in third)


class RecordingReporter:
    """Collects the progress events a training run reports."""

    def __init__(self):
        self.events = []

    def start(self, label, epochs):
        self.events.append(("start", label, epochs))
        recorder = self

        class Progress(SilentProgress):
            def epoch(self, logs):
                recorder.events.append(("epoch", label, logs["loss"]))

            def finish(self):
                recorder.events.append(("finish", label, None))

        return Progress()


def test_parallel_workers_train_the_same_models_and_report_every_epoch(tmp_path):
    clips, frames = data()
    kwargs = dict(epochs=2, seed=0, data_fingerprint="d", split_key="s")
    train_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path / "one", **kwargs)
    jobs = plan_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path / "two", **kwargs)
    reporter = RecordingReporter()
    results = run_node_jobs(jobs, workers=2, reporter=reporter)
    assert [r.node for r in results] == ["root", "heavy", "soft"]  # the jobs' order, whichever finished first
    for node in ("root", "heavy", "soft"):
        one, two = (load_node(tmp_path / run, node) for run in ("one", "two"))
        for a, b in zip(one.network.get_weights(), two.network.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)  # one TensorFlow thread everywhere: the same sums
        kinds = [kind for kind, label, _ in reporter.events if label == f"tree/{node}"]
        assert kinds == ["start", "epoch", "epoch", "finish"]


def learnable_data():
    """Two genres told apart by loudness of the coefficients, 6 clips each of 60 frames."""
    rng = np.random.default_rng(1)
    clips = [Clip(Path(f"/x/{g}{i}.au"), g) for g in ("metal", "jazz") for i in range(6)]
    frames = {
        str(c.path): rng.normal(2.0 if c.genre == "metal" else -2.0, 1.0, size=(60, 13)).astype(np.float32)
        for c in clips
    }
    return clips, frames


def test_early_stopping_restores_the_best_clip_level_epoch():
    clips, frames = learnable_data()
    tree = GenreTree.flat(["metal", "jazz"], "flat")
    preset = dataclasses.replace(
        PRESET, train=TrainConfig(epochs=300, patience=3, windows="random", crops_per_clip=2, time_mask=4, mixup=0.2)
    )
    train, valid = clips[:4] + clips[6:10], clips[4:6] + clips[10:]
    model, ran = fit_node(tree, "root", train, valid, frames, preset, epochs=300, seed=0)
    history = model.metadata["history"]
    assert ran < 300 and len(history["val_loss"]) == ran
    best = min(history["val_loss"])
    stopping = held_out_parts(node_data(tree, "root", train, frames), 1, False, seed=0)[0][1]
    assert 0 < len(stopping) < len(train)  # it stops on clips held out of train, never on the validation clips
    proba = clip_probabilities(model, stopping, preset.features)
    assert clip_log_loss(proba, stopping.labels) == pytest.approx(best, rel=1e-3, abs=1e-4)
    calibration = node_data(tree, "root", valid, frames)
    assert model.held_out.ids == tuple(calibration.ids)  # its temperature is fitted on the validation clips
    np.testing.assert_allclose(model.held_out.probabilities, clip_probabilities(model, calibration, preset.features))


@pytest.mark.parametrize(
    ("kind", "chosen"), [("stats", None), ("ensemble", None), ("auto", 0.0), ("auto", 1.0)], ids=str
)
def test_node_model_kinds(kind, chosen, tmp_path, monkeypatch):
    """Each kind trains what it names; ``auto`` keeps what its choice (unit-tested below, stubbed here) picks."""
    clips, frames = learnable_data()
    tree = GenreTree.flat(["metal", "jazz"], "flat")
    preset = dataclasses.replace(PRESET, train=dataclasses.replace(PRESET.train, node_model=kind, patience=2))
    offered = []
    losses = {1.0: 0.7, 0.5: 0.6, 0.0: 0.5} if chosen == 0.0 else {1.0: 0.5, 0.5: 0.6, 0.0: 0.7}

    def choose(cnn, stats, labels):  # noqa: ANN001, ANN202 - stands in for choose_cnn_weight
        offered.append((cnn.shape, stats.shape, len(labels)))
        return chosen, losses

    monkeypatch.setattr("hiergenre.training.node.choose_cnn_weight", choose)
    results = train_tree(
        tree, (clips[::2], clips[1::2]), frames, preset, tmp_path, epochs=2, seed=0, data_fingerprint="d", split_key="s"
    )
    model = load_node(tmp_path, "root")
    expected = {"stats": StatsNode, "ensemble": EnsembleNode, "auto": {0.0: StatsNode, 1.0: CnnNode}.get(chosen)}[kind]
    assert type(model) is expected
    assert (tmp_path / "root.keras").exists() == (expected is not StatsNode)
    if kind == "auto":
        # both offered on the training clip (1 of 6: a fifth) the network held out to stop on, not on valid
        assert offered == [((1, 2), (1, 2), 1)]
        assert model.metadata["auto_held_out_loss"] == {str(w): v for w, v in losses.items()}
    else:
        assert offered == []
    if expected is EnsembleNode:
        assert model.cnn_weight == 0.5
    if kind == "stats":
        assert results[0].valid_accuracy == 1.0  # loudness statistics separate these clips perfectly


@pytest.mark.parametrize("cross_fit", [False, True])
def test_seed_ensemble_is_one_network_averaging_its_members(cross_fit, tmp_path):
    clips, frames = learnable_data()
    tree = GenreTree.flat(["metal", "jazz"], "flat")
    train = dataclasses.replace(PRESET.train, members=3, patience=2, epochs=50, cross_fit=cross_fit)
    preset = dataclasses.replace(PRESET, train=train)
    model, ran = fit_node(tree, "root", clips[::2], clips[1::2], frames, preset, epochs=50, seed=0)
    network = model.network
    members = [layer for layer in network.layers if layer.name.startswith("member") and layer.name[-1].isdigit()]
    assert [m.name for m in members] == ["member1", "member2", "member3"]
    assert len(model.metadata["history"]["loss"]) == ran  # epochs of all members together
    x = model.normalizer.transform(np.stack([frames[str(c.path)][:20] for c in clips]))[..., None]
    outputs = [np.asarray(m(x, training=False)) for m in members]
    assert not np.allclose(outputs[0], outputs[1])  # different seeds, different networks
    assert np.allclose(np.asarray(network(x, training=False)), np.mean(outputs, axis=0), atol=1e-6)
    save_node(model, tmp_path)
    lite = load_node(tmp_path, "root", backend="litert")
    windows = np.stack([frames[str(c.path)][:20] for c in clips])
    assert np.allclose(lite.predict_proba(windows), model.predict_proba(windows), atol=1e-5)


def test_cross_fit_parts_hold_out_every_training_clip_once_and_stay_stratified():
    labels = np.repeat([0, 1, 2], [7, 5, 3])
    clips = [np.full((4, 13), i, dtype=np.float32) for i in range(len(labels))]
    parts = cross_fit_parts(NodeData(clips, labels), 3, seed=3)
    assert len(parts) == 3
    held = sorted(int(c[0, 0]) for _, v in parts for c in v.clips)
    assert held == list(range(len(labels)))  # every clip is held out by exactly one member
    for member_train, member_held in parts:
        trained, held = ({int(c[0, 0]) for c in part.clips} for part in (member_train, member_held))
        assert not trained & held and trained | held == set(range(len(labels)))  # trains all the others
        assert set(member_held.labels) == {0, 1, 2}  # each class has >= 3 clips: in every fold
        counts = np.bincount(member_held.labels, minlength=3)
        assert all(abs(c - n / 3) < 1 for c, n in zip(counts, (7, 5, 3), strict=True))
    single = held_out_parts(NodeData(clips, labels), 3, False, seed=3)
    assert len(single) == 3 and single[0][1].ids == single[2][1].ids  # members share one early-stopping fold


def test_auto_chooses_the_weight_with_the_lowest_clip_log_loss():
    """A CNN that is sure and right beats statistics that hesitate; a wrong CNN loses to them."""
    labels = np.array([0, 1, 0, 1])
    hesitant = np.full((4, 2), 0.5)
    for right, best in ((True, 1.0), (False, 0.0)):
        sure = np.eye(2)[labels if right else 1 - labels] * 0.98 + 0.01
        weight, losses = choose_cnn_weight(sure, hesitant, labels)
        assert weight == best and set(losses) == set(AUTO_CNN_WEIGHTS)
        assert (losses[1.0] < losses[0.5] < losses[0.0]) == right


def test_auto_node_model_without_early_stopping_is_flagged():
    from hiergenre.presets import get_preset, with_node_model
    from hiergenre.training.run import preset_notes

    flagged = preset_notes(with_node_model(get_preset("paper"), "auto"))
    assert len(flagged) == 1 and "does not do" in flagged[0]
    assert preset_notes(with_node_model(get_preset("improved-cv3"), "auto")) == []  # members hold clips out
    assert preset_notes(get_preset("paper")) == []
