"""Artist-ordered halves for :mod:`benchmarks.guarantee`: the deployed models on new artists.

No guarantee applies here (the test clips are by other artists than the calibration clips, so
they are not exchangeable): this shows what a user gets when that assumption fails. The models'
own temperatures are used (fitted by ``train-all`` on the 2 calibration clips a genre), as
prediction uses them; nothing is refitted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.guarantee_analysis import MODELS, TARGETS, Run, decisions, fixed_outcomes
from benchmarks.guarantee_store import read_run, run_names, store_tree


def test_arrays(workdir: Path, data: str, folder: Path, run: str, jobs: int) -> dict[str, np.ndarray]:
    """The test clips' raw scores by the deployed default tree and flat model (LiteRT, what ``predict``
    runs), the models' temperatures, and the library's own ``target_on_test`` numbers to check against."""
    from hiergenre.cascade.hierarchy import ROOT
    from hiergenre.cascade.routing import get_policy
    from hiergenre.data.datasets import id_split, load_dataset
    from hiergenre.evaluation.evaluate import score_clips, temperatures
    from hiergenre.parallel.backends import LocalBackend
    from hiergenre.workspace.layout import Workspace
    from hiergenre.workspace.validation import target_on_test

    workspace = Workspace(workdir)
    trained = workspace.open("default", runtime="litert", with_flat=True)
    tree, cascade = trained.tree, trained.cascade
    test_clips = id_split(load_dataset(data).clips, folder).test
    skipped: dict[str, str] = {}
    readable, raw = score_clips(trained, test_clips, workspace, LocalBackend(jobs), skipped, "blend")
    if skipped:
        raise SystemExit(f"unreadable test clips: {skipped}")
    temps = temperatures(cascade)
    test = Run(run, [c.genre for c in readable], dict(raw.nodes), raw.flat)
    calibrated = cascade.calibrated(raw)
    ours = decisions(tree, test, temps)
    gap = max(
        float(np.abs(ours["default"][0] - decide_leaves(tree, calibrated.nodes)).max()),
        float(np.abs(ours["flat"][0] - calibrated.flat).max()),
    )
    library: dict[str, Any] = {"max_calibration_gap": gap}
    flat_trained = workspace.open("flat", runtime="litert")
    for model, policy, opened in (
        ("default", "greedy", trained),
        ("default+blend", "blend", trained),
        ("flat", "greedy", flat_trained),
    ):
        leaves, routed = ours[model]
        for target in TARGETS:
            result = target_on_test(opened, get_policy(policy), tree, (leaves, test.genres, routed), target)
            library[f"{model}|{target}"] = [result["test_accuracy"], result["test_leaf_share"]]
    arrays = {
        f"{run}/test/ids": np.array([Path(c.path).name for c in readable]),
        f"{run}/test/genres": np.array(test.genres),
        f"{run}/test/flat": raw.flat,
        f"{run}/temperatures": np.array(json.dumps(temps)),
        f"{run}/library": np.array(json.dumps(library)),
    }
    arrays.update({f"{run}/test/node/{node}": p for node, p in raw.nodes.items()})
    assert ROOT in raw.nodes
    return arrays


def decide_leaves(tree: Any, nodes: dict[str, np.ndarray]) -> np.ndarray:
    """The greedy leaf distribution of calibrated node scores (the library's own, to compare with ours)."""
    from hiergenre.cascade.routing import decide

    return decide(tree, nodes, "greedy").leaves


def halves_results(store: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per (model, method, A): each run's test accuracy and leaf share, their mean and min; and the
    largest difference between ours and the library's ``target_on_test`` (conformal), which must be 0."""
    tree = store_tree(store)
    runs = run_names(store, "/test/genres")
    per_run: dict[str, list[tuple[float, float]]] = {}
    leaf_accuracy: dict[str, list[float]] = {model: [] for model in MODELS}
    largest_gap = 0.0
    for run in runs:
        calibration, test = read_run(store, f"{run}/cal"), read_run(store, f"{run}/test")
        temps = json.loads(str(store[f"{run}/temperatures"]))
        library = json.loads(str(store[f"{run}/library"]))
        largest_gap = max(largest_gap, library.pop("max_calibration_gap"))
        for (model, method, target), value in fixed_outcomes(tree, calibration, test, temps).items():
            per_run.setdefault(f"{model}|{method}|{target}", []).append(value)
            if method == "conformal":
                largest_gap = max(largest_gap, *np.abs(np.subtract(value, library[f"{model}|{target}"])))
        for model, (_, routed) in decisions(tree, test, temps).items():
            leaf_accuracy[model].append(float(np.mean([r == g for r, g in zip(routed, test.genres, strict=True)])))
    summary = {}
    for key, values in per_run.items():
        array = np.array(values)
        summary[key] = {
            "accuracy": array[:, 0].tolist(),
            "leaf_share": array[:, 1].tolist(),
            "mean_accuracy": float(array[:, 0].mean()),
            "min_accuracy": float(array[:, 0].min()),
            "mean_leaf_share": float(array[:, 1].mean()),
            "min_leaf_share": float(array[:, 1].min()),
        }
    return {
        "runs": runs,
        "test_clips": len(read_run(store, f"{runs[0]}/test").genres) if runs else 0,
        "calibration_clips": len(read_run(store, f"{runs[0]}/cal").genres) if runs else 0,
        "outcomes": summary,
        "leaf_accuracy": {m: {"per_run": v, "mean": float(np.mean(v))} for m, v in leaf_accuracy.items() if v},
        "largest_difference_from_library": largest_gap,
    }
