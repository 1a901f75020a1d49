"""The numpy half of :mod:`benchmarks.guarantee`: redraws of calibration and test clips, scored.

A *run* is one trained default tree and flat model with the raw probabilities of clips no model
trained, early-stopped or was chosen on. Each draw splits those clips into calibration and test
clips, fits every node's temperature on the calibration clips only (as ``train-all`` does on its
validation part), and sets two thresholds on them for each target accuracy A: the split-conformal
climb (:func:`hiergenre.cascade.conformal.conformal_guarantee`) and today's minimum-confidence
rule (:func:`hiergenre.cascade.thresholds.choose_min_confidence`); both are then scored on the test
clips. The library functions do every step; this module only feeds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hiergenre.cascade.calibration import TemperatureScaling, apply_temperature
from hiergenre.cascade.cascade import ClipScores
from hiergenre.cascade.conformal import (
    TEMPERATURE_FOLDS,
    climb,
    climb_scores,
    conformal_threshold,
    fitted_temperatures,
    minimum_calibration_clips,
)
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import decide
from hiergenre.cascade.thresholds import choose_min_confidence, confident_paths

#: The targets measured.
TARGETS = (0.8, 0.9, 0.95)
#: The models: flat (decoded over the default tree), the default tree greedy, and blended with flat.
MODELS = ("flat", "default", "default+blend")
#: How a threshold is set: the split-conformal climb, the rule it replaces, and a control: the climb on raw
#: probabilities (no temperature fitted on the calibration clips, so calibration and test clips stay exactly
#: exchangeable and the mean must be k/(n+1) up to sampling noise).
METHODS = ("conformal", "today", "conformal-same", "conformal-raw")
#: Flat weight of the blend routing (the library's default).
FLAT_WEIGHT = 0.5


@dataclass(frozen=True)
class Run:
    """Raw scores of one trained pair (default tree, flat model) on clips none of its models saw."""

    name: str
    #: Each clip's true genre.
    genres: list[str]
    #: Raw ``(n_clips, n_children)`` per decision node of the default tree.
    nodes: dict[str, np.ndarray]
    #: The flat model's raw ``(n_clips, n_leaves)``, columns in the default tree's ``leaves`` order.
    flat: np.ndarray

    def rows(self, keep: Sequence[int] | np.ndarray) -> Run:
        """The same run restricted to clips ``keep``."""
        keep = np.asarray(keep, dtype=int)
        nodes = {node: p[keep] for node, p in self.nodes.items()}
        return Run(self.name, [self.genres[i] for i in keep], nodes, self.flat[keep])


def fit_temperatures(tree: GenreTree, run: Run) -> dict[str, float]:
    """Each node's temperature fitted on the run's clips below it, and the flat model's (``"flat"``): the
    library's :func:`~hiergenre.cascade.conformal.fitted_temperatures`, what ``train-all`` fits."""
    nodes, flat = fitted_temperatures(tree, ClipScores(run.nodes, run.flat), run.genres, TemperatureScaling())
    return {node: t.value for node, t in nodes.items()} | {"flat": flat.value}


def decisions(
    tree: GenreTree, run: Run, temperatures: dict[str, float] | None
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per model: the leaf distribution over ``tree.leaves`` and the routed genre of each clip.

    ``temperatures`` None keeps the raw probabilities.
    """
    temps = temperatures or {}
    nodes = {n: apply_temperature(p, temps.get(n, 1.0)) for n, p in run.nodes.items()}
    flat = apply_temperature(run.flat, temps.get("flat", 1.0))
    greedy = decide(tree, nodes, "greedy")
    blend = decide(tree, nodes, "blend", flat=flat, flat_weight=FLAT_WEIGHT)
    flat_genres = [tree.leaves[i] for i in flat.argmax(axis=1)]
    return {
        "flat": (flat, flat_genres),
        "default": (greedy.leaves, greedy.genres),
        "default+blend": (blend.leaves, blend.genres),
    }


def hierarchical(tree: GenreTree, stops: Sequence[str], true: Sequence[str]) -> tuple[float, float]:
    """Share of stops that contain the true genre, and share of stops at a genre."""
    right = np.mean([tree.covers(n, g) for n, g in zip(stops, true, strict=True)])
    return float(right), float(np.mean([tree.is_leaf(n) for n in stops]))


def outcomes(
    tree: GenreTree,
    calibration: tuple[np.ndarray, list[str], list[str]],
    test: tuple[np.ndarray, list[str], list[str]],
    targets: Sequence[float] = TARGETS,
    *,
    today: bool = True,
) -> dict[tuple[str, float], tuple[float, float]]:
    """(method, A) -> (achieved hierarchical accuracy, leaf share) on the test clips.

    ``calibration`` and ``test`` are (leaf distributions, true genres, routed genres). The
    conformal threshold is :func:`conformal_guarantee`'s (scores once, a threshold per target);
    today's rule is :func:`choose_min_confidence` then the confidence decoder's stop, as the old
    ``target_on_test`` did (skipped when ``today`` is False). A target needing more calibration clips
    than there are is left out.
    """
    cal_leaves, cal_true, cal_routed = calibration
    test_leaves, test_true, test_routed = test
    scores = climb_scores(tree, cal_leaves, cal_true, cal_routed)
    correct, leaf, probabilities = confident_paths(tree, test_leaves, test_true)
    rows = np.arange(len(test_true))
    out = {}
    for target in targets:
        if len(cal_true) < minimum_calibration_clips(target):
            continue
        threshold = conformal_threshold(scores, target)
        out[("conformal", target)] = hierarchical(tree, climb(tree, test_leaves, threshold, test_routed), test_true)
        if not today:
            continue
        choice = choose_min_confidence(tree, cal_leaves, cal_true, target)
        depth = (probabilities >= choice.min_confidence).sum(axis=1)
        out[("today", target)] = (float(correct[rows, depth].mean()), float(leaf[rows, depth].mean()))
    return out


def redraw(
    tree: GenreTree, run: Run, draws: int, calibration_clips: int, seed: int, targets: Sequence[float] = TARGETS
) -> dict[tuple[str, str, float], np.ndarray]:
    """(model, method, A) -> ``(draws, 2)`` achieved accuracy and leaf share over random calibration/test splits.

    Every draw refits the temperatures on its calibration clips only (the deployed temperatures that
    calibrate the test clips). ``conformal`` is what the library does: each calibration clip scored
    with temperatures fitted on the other calibration clips (:func:`cross_fitted_calibration`);
    ``conformal-same`` scores them with the deployed temperatures, which saw them; ``conformal-raw``
    keeps every temperature at 1 (exactly exchangeable); ``today`` is 0.4's rule on the deployed scores.
    """
    rng = np.random.default_rng(seed)
    n = len(run.genres)
    results: dict[tuple[str, str, float], list[tuple[float, float]]] = {}
    for _ in range(draws):
        order = rng.permutation(n)
        cal, test = run.rows(order[:calibration_clips]), run.rows(order[calibration_clips:])
        temperatures = fit_temperatures(tree, cal)
        deployed = decisions(tree, cal, temperatures)
        views = (
            ("", cross_fitted_calibration(tree, cal), temperatures, False),
            ("-same", deployed, temperatures, True),
            ("-raw", decisions(tree, cal, None), None, False),
        )
        for kind, cal_models, temps, today in views:
            test_models = decisions(tree, test, temps)
            for model in MODELS:
                cal_view = (cal_models[model][0], cal.genres, cal_models[model][1])
                test_view = (test_models[model][0], test.genres, test_models[model][1])
                found = outcomes(tree, cal_view, test_view, targets, today=today)
                for (method, target), value in found.items():
                    name = method if method == "today" else method + kind
                    results.setdefault((model, name, target), []).append(value)
    return {key: np.array(values) for key, values in results.items()}


def cross_fitted_calibration(tree: GenreTree, cal: Run) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per model, the calibration clips' leaf distributions and routed genres, each fold of
    :data:`~hiergenre.cascade.conformal.TEMPERATURE_FOLDS` calibrated by temperatures fitted on the
    others with the library's :func:`~hiergenre.cascade.conformal.fitted_temperatures`, as
    :func:`~hiergenre.cascade.conformal.cross_fitted_decision` does (one fit a fold serves all three models)."""
    n = len(cal.genres)
    fold = np.arange(n) % max(1, min(TEMPERATURE_FOLDS, n))
    out = {model: (np.zeros((n, len(tree.leaves))), [""] * n) for model in MODELS}
    for k in np.unique(fold):
        rest, part = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        temperatures = fit_temperatures(tree, cal.rows(rest))
        for model, (leaves, routed) in decisions(tree, cal.rows(part), temperatures).items():
            out[model][0][part] = leaves
            for i, genre in zip(part, routed, strict=True):
                out[model][1][i] = genre
    return out


def cross_fitted(tree: GenreTree, run: Run, calibration_clips: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Clips scored by temperatures fitted on ``calibration_clips`` other clips: per model and calibration
    (``raw``/``calibrated``), the routed genre's probability (``confidence``) and whether it is right.

    When the rest divides the clips evenly (30 clips, 20 calibrating: 3 folds of 10) the folds rotate so
    that each clip is scored once; otherwise one random split scores the clips left over.
    """
    order = np.random.default_rng(seed).permutation(len(run.genres))
    size = len(order) - calibration_clips
    parts = np.array_split(order, len(order) // size) if len(order) % size == 0 else [order[calibration_clips:]]
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for part in parts:
        others = np.setdiff1d(order, part)
        temperatures = fit_temperatures(tree, run.rows(others))
        test = run.rows(part)
        for kind, temps in (("raw", None), ("calibrated", temperatures)):
            for model, (leaves, routed) in decisions(tree, test, temps).items():
                chosen = np.array([tree.leaves.index(g) for g in routed])
                confidence = leaves[np.arange(len(chosen)), chosen]
                correct = np.array([r == g for r, g in zip(routed, test.genres, strict=True)], dtype=float)
                entry = out.setdefault(f"{model}|{kind}", {"confidence": [], "correct": []})
                entry["confidence"].append(confidence)
                entry["correct"].append(correct)
    return {key: {k: np.concatenate(v) for k, v in entry.items()} for key, entry in out.items()}


def fixed_outcomes(
    tree: GenreTree, calibration: Run, test: Run, temperatures: dict[str, float], targets: Sequence[float] = TARGETS
) -> dict[tuple[str, str, float], tuple[float, float]]:
    """(model, method, A) -> (accuracy, leaf share) on ``test`` with the trained models' own temperatures."""
    cal_models, test_models = decisions(tree, calibration, temperatures), decisions(tree, test, temperatures)
    out = {}
    for model in MODELS:
        cal_view = (cal_models[model][0], calibration.genres, cal_models[model][1])
        test_view = (test_models[model][0], test.genres, test_models[model][1])
        for (method, target), value in outcomes(tree, cal_view, test_view, targets).items():
            out[(model, method, target)] = value
    return out
