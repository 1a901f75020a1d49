"""Calibration, its measures, honest validation scores and --target-accuracy (no TensorFlow but the fixture)."""

import copy
import json

import numpy as np
import pytest

from hiergenre.cascade.calibration import (
    TEMPERATURE_BOUNDS,
    HeldOut,
    Temperature,
    TemperatureScaling,
    apply_temperature,
    get_calibration,
)
from hiergenre.cascade.calibration_error import (
    BiasCorrected,
    binned_ece,
    bootstrap_interval,
    calibrated_ece,
    calibration_metrics,
    ece_summary,
    expected_calibration_error,
)
from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.decoding import ConfidenceDecoder
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.thresholds import choose_min_confidence, confident_paths
from hiergenre.errors import InvalidValue
from hiergenre.evaluation.reliability import level_metrics, node_metrics
from hiergenre.workspace.validation import load_validation

TREE = GenreTree.from_yaml_text("tree: {a: [x, y], b: [z, w]}")  # leaves x, y, z, w


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_temperature_keeps_the_top_class_and_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2000, 4)) * 3
    true_p = softmax(logits / 3)  # the truth is three times softer than what the model says
    labels = np.array([rng.choice(4, p=p) for p in true_p])
    said = softmax(logits)
    temperature = TemperatureScaling().fit(said, labels)
    assert temperature == pytest.approx(3.0, rel=0.1)
    calibrated = apply_temperature(said, temperature)
    assert (calibrated.argmax(axis=1) == said.argmax(axis=1)).all()
    assert np.allclose(calibrated.sum(axis=1), 1) and np.allclose(apply_temperature(said, 1.0), said)
    before, after = calibration_metrics(said, labels), calibration_metrics(calibrated, labels)
    assert after["ece"] < before["ece"] / 3 and after["log_loss"] < before["log_loss"]
    assert after["brier"] < before["brier"] and after["accuracy"] == before["accuracy"]
    low, high = after["ece_interval"]
    assert 0 <= low <= high and after["clips"] == 2000


def test_the_prior_keeps_a_perfectly_separated_small_set_off_the_bound():
    said = np.array([[0.7, 0.3], [0.3, 0.7]] * 8)
    labels = np.array([0, 1] * 8)
    temperature = TemperatureScaling().fit(said, labels)
    assert TEMPERATURE_BOUNDS[0] * 1.5 < temperature < 1.0  # sharper, but not as sharp as the search allows
    assert get_calibration("none").fit(said, labels) == 1.0
    assert TemperatureScaling().fit(np.zeros((0, 2)), np.zeros(0, int)) == 1.0
    with pytest.raises(InvalidValue, match="unknown calibration"):
        get_calibration("platt")


def test_expected_calibration_error_by_hand():
    confidence = np.array([0.9, 0.9, 0.9, 0.9, 0.55, 0.55])
    correct = np.array([1, 1, 1, 0, 1, 0])
    # bin of 0.9: 4 clips, 75% right, gap 0.15; bin of 0.55: 2 clips, 50% right, gap 0.05
    assert expected_calibration_error(confidence, correct) == pytest.approx(4 / 6 * 0.15 + 2 / 6 * 0.05)
    assert expected_calibration_error(np.ones(5), np.ones(5)) == 0
    assert calibrated_ece(np.full(600, 0.7)) < calibrated_ece(np.full(20, 0.7))  # the noise floor shrinks
    sure = calibration_metrics(np.eye(3), np.arange(3))
    assert sure["brier"] == 0 and sure["ece"] == 0 and sure["log_loss"] == pytest.approx(0, abs=1e-6)
    chosen = calibration_metrics(np.array([[0.6, 0.4]]), np.array([1]), chosen=np.array([1]), samples=True)
    assert chosen["confidence"] == pytest.approx(0.4) and chosen["samples"] == [[0.4, 1]]


def test_held_out_files_round_trip(tmp_path):
    held = HeldOut(np.array([[0.2, 0.8]]), np.array([1]), "validation clips", ("clip.au",))
    held.save(tmp_path / "n.held-out.npz")
    back = HeldOut.load(tmp_path / "n.held-out.npz")
    assert back.ids == ("clip.au",) and np.allclose(back.probabilities, held.probabilities)
    joined = HeldOut.join([held, held], "out-of-fold")
    assert joined.ids == ("clip.au", "clip.au") and joined.probabilities.shape == (2, 2)


def test_levels_and_nodes_are_scored_on_their_own_clips():
    leaves = np.array([[0.5, 0.3, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]])
    levels = level_metrics(TREE, ["y", "w"], leaves)
    assert levels["1"]["accuracy"] == 1.0 and levels["1"]["confidence"] == pytest.approx(0.8)
    assert levels["2"]["accuracy"] == 0.5
    from hiergenre.cascade.cascade import ClipScores

    scores = ClipScores({"root": np.array([[0.8, 0.2], [0.2, 0.8]]), "a": np.array([[0.4, 0.6], [0.5, 0.5]])})
    nodes = node_metrics(TREE, ["y", "w"], scores)
    assert nodes["a"]["clips"] == 1 and nodes["a"]["accuracy"] == 1.0  # only the clip below a
    assert nodes["root"]["clips"] == 2 and "b" not in nodes


def test_cascade_calibrates_clip_probabilities_after_averaging():
    class Fixed:
        def __init__(self, classes, row, temperature):
            self.classes_, self.row, self.temperature = np.array(classes), np.array(row), temperature

        def predict_proba(self, windows):
            return np.tile(self.row, (len(windows), 1))

        def calibrate(self, proba):
            return apply_temperature(proba, self.temperature)

    flat = GenreTree.flat(["x", "y"], "flat")
    cascade = Cascade(flat, {"root": Fixed(["x", "y"], [0.6, 0.4], 0.5)})
    raw = cascade.route_clips([np.zeros((3, 2))], calibrated=False)[0]
    sharp = cascade.route_clips([np.zeros((3, 2))])[0]
    assert raw.genre == sharp.genre == "x"
    assert raw.distribution["x"] == pytest.approx(0.6) and sharp.distribution["x"] == pytest.approx(0.36 / 0.52)


def test_clip_scores_go_through_each_nodes_own_calibrator():
    from hiergenre.cascade.cascade import ClipScores

    proba = np.array([[0.6, 0.4], [0.2, 0.8]])
    scores = ClipScores({"a": proba, "b": proba}, flat=proba)
    calibrated = scores.calibrated({"a": Temperature(0.5), "b": object()}, Temperature(2.0))
    assert calibrated.nodes["a"] == pytest.approx(apply_temperature(proba, 0.5))
    assert calibrated.nodes["a"][0, 0] == pytest.approx(0.36 / 0.52)
    assert calibrated.nodes["b"] is proba  # no calibrate method: raw
    assert calibrated.flat == pytest.approx(apply_temperature(proba, 2.0))
    assert ClipScores({"a": np.zeros((0, 2))}).calibrated({"a": Temperature(0.5)}).nodes["a"].shape == (0, 2)


def test_target_accuracy_picks_the_smallest_threshold_that_reaches_it():
    rng = np.random.default_rng(1)
    leaves = rng.dirichlet(np.ones(4) * 0.7, size=200)
    genres = [TREE.leaves[int(rng.choice(4, p=p))] for p in leaves]
    correct, _, probabilities = confident_paths(TREE, leaves, genres)
    for p in (0.0, 0.3, 0.55, 0.9):  # the vectorised walk is the decoder's
        depth = (probabilities >= p).sum(axis=1)
        nodes = ConfidenceDecoder(p).choose(TREE, leaves, genres)
        assert correct[np.arange(200), depth].tolist() == [
            g in TREE.leaves_under(n) for n, g in zip(nodes, genres, strict=True)
        ]
    choice = choose_min_confidence(TREE, leaves, genres, 0.8)
    assert choice.reached and choice.accuracy >= 0.8
    if choice.min_confidence > 0:
        lower = choose_min_confidence(TREE, leaves, genres, choice.accuracy + 1e-9)
        assert lower.min_confidence >= choice.min_confidence
        just_below = ConfidenceDecoder(round(choice.min_confidence - 0.01, 2)).choose(TREE, leaves, genres)
        assert np.mean([g in TREE.leaves_under(n) for n, g in zip(just_below, genres, strict=True)]) < 0.8
    with pytest.raises(InvalidValue):
        choose_min_confidence(TREE, leaves, genres, 1.5)


def test_estimator_calibrates_on_held_out_rows_and_reaches_its_target_on_new_rows():
    from hiergenre import HierarchicalClassifier

    rng = np.random.default_rng(0)
    centres = {"x": (0, 0), "y": (0.8, 0), "z": (4, 4), "w": (5, 4.5)}
    X = np.vstack([rng.normal(c, 0.6, size=(150, 2)) for c in centres.values()])
    y = np.repeat(list(centres), 150)
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    tree = {"a": ["x", "y"], "b": ["z", "w"]}
    model = HierarchicalClassifier(tree, routing="product", calibration="temperature", target_accuracy=0.9)
    model.fit(X[:400], y[:400])
    assert model.n_calibration_ == 80 and set(model.temperatures_) == {"root", "a", "b"}
    assert model.temperatures_ != {"root": 1, "a": 1, "b": 1}
    raw = copy.copy(model)  # the same fitted node models, uncalibrated
    raw.temperatures_ = dict.fromkeys(model.temperatures_, 1.0)
    assert (model.predict(X[400:]) == raw.predict(X[400:])).all()  # product on two levels: the same genres here
    nodes = model.predict_node(X[400:])
    under = GenreTree.from_spec(tree, "t").leaves_under
    right = np.mean([t in under(n) for n, t in zip(nodes, y[400:], strict=True)])
    assert right >= 0.85 and 0 < model.climb_threshold_ < 1 and {"a", "b"} & set(nodes)
    with pytest.raises(ValueError, match="sets the climb threshold"):
        model.set_params(min_confidence=0.5).predict_node(X[:3])


def test_trained_nodes_carry_temperatures_held_out_clips_and_tree_validation(trained, tiny_corpus, cli, tmp_path):
    from tests.commands import model_dir

    folder = model_dir(trained, "default")
    meta = json.loads((folder / "root.json").read_text())
    assert meta["calibration"]["method"] == "temperature" and meta["temperature"] == meta["calibration"]["temperature"]
    assert not (folder / "root.held-out.npz").exists() and (folder / "validation.npz").is_file()
    ids, _, scores = load_validation(folder / "validation.npz")  # the validation clips, scored by the deployed models
    assert len(ids) == meta["calibration"]["clips"] == len(scores.nodes["root"]) == 10
    assert meta["calibration"]["source"] == "calibration clips"
    out = json.loads(cli("evaluate", "--json", "--target-accuracy", "0.8", workdir=trained).stdout)
    calibration = out["models"]["default"]["calibration"]
    assert set(calibration) == {"temperatures", "before", "after"} and set(calibration["after"]["levels"]) == {
        "1",
        "2",
        "3",
    }
    assert (
        calibration["before"]["model"]["accuracy"] == calibration["after"]["model"]["accuracy"]
    )  # greedy: same genres
    target = out["models"]["flat"]["target"]
    assert target["target"] == 0.8 and 0 <= target["test_leaf_share"] <= 1 and target["clips"] == 10
    text = cli("evaluate", "--target-accuracy", "0.8", "--report", tmp_path / "r", workdir=trained).stdout
    assert "Calibration of the probability" in text and "Stopping early for 80%" in text
    assert (
        "## Calibration" in (tmp_path / "r" / "report.md").read_text()
        and (tmp_path / "r" / "reliability.png").is_file()
    )
    predicted = cli("predict", tiny_corpus / "jazz", "--target-accuracy", "0.8", "--json", workdir=trained)
    assert "10 calibration clips" in predicted.stderr and all("decoded" in p for p in json.loads(predicted.stdout))
    refused = cli(
        "predict", tiny_corpus / "jazz", "--target-accuracy", "0.8", "--decode", "hf1", workdir=trained, check=False
    )
    assert refused.returncode == 2 and "drop --min-confidence/--decode" in refused.stderr


def simulated_clips(clips: int, seed: int, shortfall: float) -> tuple[np.ndarray, np.ndarray]:
    """Confidences uniform in 0.3–1, each clip right with probability its confidence minus ``shortfall``:
    every bin's accuracy lies ``shortfall`` below its confidence, so the true ECE is ``shortfall``."""
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.3, 1, clips)
    return confidence, (rng.random(clips) < confidence - shortfall).astype(float)


def simulated_ece(clips: int, shortfall: float, runs: int = 50) -> list[BiasCorrected]:
    return [
        bootstrap_interval(binned_ece, simulated_clips(clips, seed, shortfall), seed=seed, floor=0.0)
        for seed in range(runs)
    ]


@pytest.mark.parametrize("clips", [100, 300, 1000])
def test_the_bias_corrected_interval_covers_a_known_miscalibration(clips):
    runs = simulated_ece(clips, 0.1)
    coverage = np.mean([r.low <= 0.1 <= r.high for r in runs])
    assert coverage >= 0.7  # nominal 90%; the percentile interval covers about 10% of runs on 100 clips
    assert all(0 <= r.low <= r.debiased <= r.high for r in runs)
    plug_in_error = np.mean([abs(r.estimate - 0.1) for r in runs])
    assert np.mean([abs(r.debiased - 0.1) for r in runs]) < plug_in_error + 0.005  # costs little where bias is small


@pytest.mark.parametrize("clips", [100, 300, 1000])
def test_debiasing_pulls_a_perfectly_calibrated_models_ece_towards_zero(clips):
    runs = simulated_ece(clips, 0.0)
    assert np.mean([r.debiased for r in runs]) < 0.7 * np.mean([r.estimate for r in runs])
    assert all(r.low <= r.estimate for r in runs)  # the percentile interval's lower end lies above it
    # The bootstrap sees only part of the bias near 0 (|gap| is not smooth there): the interval reaches the
    # truth in about a third of the runs, not 90%, but the percentile interval never does.
    assert np.mean([r.low == 0 for r in runs]) >= 0.2


def test_an_ece_a_calibrated_model_could_show_gets_an_interval_from_zero():
    calibrated = [ece_summary(*simulated_clips(300, seed, 0.0)) for seed in range(20)]
    assert np.mean([s["ece_interval"][0] == 0 for s in calibrated]) >= 0.8  # the truth, 0, inside (nominal 90%)
    off = [ece_summary(*simulated_clips(300, seed, 0.1)) for seed in range(20)]
    assert np.mean([s["consistent_with_calibrated"] for s in off]) <= 0.3  # 0.1 off is told apart most of the time
    assert np.mean([s["ece_interval"][0] <= 0.1 <= s["ece_interval"][1] for s in off]) >= 0.7


def test_ece_summary_keys_and_edge_cases():
    rng = np.random.default_rng(3)
    confidence, correct = rng.uniform(0.3, 1, (4, 60)), rng.random((4, 60)) < 0.7
    one_by_one = [expected_calibration_error(c, k) for c, k in zip(confidence, correct, strict=True)]
    assert binned_ece(confidence, correct) == pytest.approx(one_by_one)
    assert binned_ece(confidence.T, correct.T, axis=0) == pytest.approx(one_by_one)
    summary = ece_summary(confidence[0], correct[0])
    assert set(summary) == {
        "clips",
        "ece",
        "ece_debiased",
        "ece_interval",
        "ece_if_calibrated",
        "consistent_with_calibrated",
    }
    assert summary["ece"] == pytest.approx(one_by_one[0]) and summary["clips"] == 60
    low, high = summary["ece_interval"]
    assert 0 <= low <= summary["ece_debiased"] <= high and summary["ece_debiased"] < summary["ece"]
    single = ece_summary(np.array([0.8]), np.array([1.0]))
    assert single["ece"] == single["ece_debiased"] == pytest.approx(0.2)  # one clip resamples to itself
    assert single["ece_interval"] == [0.0, single["ece"]]  # one clip is consistent with a calibrated model
    empty = ece_summary(np.zeros(0), np.zeros(0))
    assert empty["clips"] == 0 and np.isnan([empty["ece"], empty["ece_debiased"], *empty["ece_interval"]]).all()
    with pytest.raises(InvalidValue, match="confidences for"):
        ece_summary(np.array([0.5, 0.6]), np.array([1.0, 0.0, 1.0]))
