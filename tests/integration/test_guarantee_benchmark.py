"""benchmarks.guarantee without training: its split folders, its redraws and its theory (well under a second)."""

import numpy as np

from benchmarks.guarantee import halves_split, seeds_of
from benchmarks.guarantee_analysis import Run, redraw
from benchmarks.guarantee_store import load_store, save_store
from benchmarks.guarantee_summary import theory
from hiergenre.cascade.hierarchy import GenreTree
from tests.commands import ROOT


def test_seeds_accept_ranges_and_single_seeds():
    assert seeds_of(["0-2", "5"]) == [0, 1, 2, 5]


def test_halves_split_trains_on_three_calibrates_on_two_and_tests_the_other_half(tmp_path):
    for genre in ("blues", "rock"):
        (tmp_path / "data" / genre).mkdir(parents=True)
        for index in range(10):
            (tmp_path / "data" / genre / f"{genre}.{index:05d}.au").write_bytes(b"")
    folder = halves_split(str(tmp_path / "data"), 2, tmp_path / "split")
    parts = {name: (folder / f"{name}.txt").read_text().split() for name in ("train", "valid", "test")}
    assert parts["train"][:3] == ["blues.00005", "blues.00006", "blues.00007"]
    assert parts["valid"][:2] == ["blues.00008", "blues.00009"]
    assert parts["test"][:5] == [f"blues.{i:05d}" for i in range(5)]
    assert [len(p) for p in parts.values()] == [6, 4, 10]


def test_redraws_score_every_model_method_and_target_between_0_and_1():
    tree = GenreTree.from_file(ROOT / "hierarchies" / "default.yaml")
    rng = np.random.default_rng(0)
    genres = [tree.leaves[i % len(tree.leaves)] for i in range(30)]
    nodes = {node: rng.dirichlet(np.ones(len(tree.children(node))), 30) for node in tree.model_nodes}
    run = Run("r", genres, nodes, rng.dirichlet(np.ones(len(tree.leaves)), 30))
    results = redraw(tree, run, draws=2, calibration_clips=20, seed=0)
    assert len(results) == 3 * 4 * 3  # models x (conformal, today, conformal-same, conformal-raw) x targets
    for values in results.values():
        assert values.shape == (2, 2) and ((values >= 0) & (values <= 1)).all()


def test_theory_gives_the_conformal_mean_and_a_share_below_target():
    expected = theory(0.9, 20, 10)
    assert expected["mean"] == 19 / 21
    assert expected["band"] == [0.9, 0.9 + 1 / 21]
    assert 0 < expected["share_below"] < 0.5
    assert theory(0.95, 10, 10) == {}  # 0.95 needs 19 calibration clips


def test_stored_runs_come_back_as_saved_probabilities_within_float32(tmp_path):
    arrays = {
        "tree": np.array("name: default"),
        "seed0/genres": np.array(["rock", "jazz"]),
        "seed1/genres": np.array(["pop", "jazz"]),
        "seed0/flat": np.array([[0.25, 0.75], [1 / 3, 2 / 3]]),
        "seed1/flat": np.array([[0.5, 0.5], [0.1, 0.9]]),
    }
    save_store(tmp_path / "s.npz", arrays)
    back = load_store(tmp_path / "s.npz")
    assert set(back) == set(arrays)
    assert list(back["seed1/genres"]) == ["pop", "jazz"] and str(back["tree"]) == "name: default"
    np.testing.assert_allclose(back["seed0/flat"], arrays["seed0/flat"], rtol=1e-7)
