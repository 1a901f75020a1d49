"""Aggregating :mod:`benchmarks.flat_vs_hier` runs: means, paired differences, pooled scores, curves."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.common import paired, provenance
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.data.datasets import Dataset
from hiergenre.evaluation.metrics import score

if TYPE_CHECKING:
    from benchmarks.flat_vs_hier_options import Options


def trained_entry(run: dict, name: str) -> dict:
    """The run's entry holding the training costs of model ``name`` (a routing variant's cascade)."""
    return run["models"][run["models"][name].get("routing_of", name)]


def learning_curves(runs: list[dict], name: str) -> dict[str, list[float]]:
    """The root network's curves of model ``name``, averaged over runs (to the shortest), 4 significant digits."""
    histories = [r["models"][name].get("root_history") or {} for r in runs]
    out = {}
    for key in histories[0]:
        curves = [h[key] for h in histories if h.get(key)]
        if curves:
            length = min(len(c) for c in curves)
            out[key] = [float(f"{v:.4g}") for v in np.mean([c[:length] for c in curves], axis=0)]
    return out


def aggregate(options: Options, runs: list[dict], extraction: dict, dataset: Dataset, seconds: float) -> dict:
    """Mean ± std over runs, paired differences against flat, pooled scores, learning curves."""
    names = list(runs[0]["models"])
    reference = GenreTree.from_file(options.tree)
    summary = {}
    for name in names:
        accs = [r["models"][name]["scores"]["accuracy"] for r in runs]
        bals = [r["models"][name]["scores"]["balanced_accuracy"] for r in runs]
        timing = [r["models"][name].get("predict_seconds_per_clip") for r in runs]
        summary[name] = {
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "balanced_mean": float(np.mean(bals)),
            "balanced_std": float(np.std(bals)),
            "per_run": accs,
            "train_seconds_mean": float(np.mean([trained_entry(r, name)["train_seconds"] for r in runs])),
            "parameters": trained_entry(runs[0], name)["parameters"],
            "n_models": trained_entry(runs[0], name)["n_models"],
            "predict_seconds_per_clip": float(np.mean([t for t in timing if t is not None])) if any(timing) else None,
            "paired_vs_flat": paired_accuracy(runs, name, "flat"),
        }
        pooled_true, pooled_pred = pooled_predictions(runs, name)
        summary[name]["pooled"] = score(name, pooled_true, pooled_pred, reference)
    curves = {name: learning_curves(runs, name) for name in names if "root_history" in runs[0]["models"][name]}
    for r in runs:  # stored once, as the mean over runs, in the report
        for entry in r["models"].values():
            entry.pop("root_history", None)
    cascade = reference.name if reference.name in names else "flat"
    return {
        "options": asdict(options),
        "provenance": provenance(),
        "dataset": str(dataset.root),
        "clips": len(dataset.clips),
        "synthetic": options.data == "synthetic",
        "wall_seconds": seconds,
        "extraction": extraction,
        "summary": summary,
        "cascade": cascade,
        "paired_difference": paired_accuracy(runs, cascade, "flat"),
        "learning_curves": {n: c for n, c in curves.items() if c},
        "node_accuracy": {
            n: pooled_node_accuracy(runs, n)
            for n in names
            if len(runs[0]["models"][n]["scores"].get("per_node", {})) > 1
        },
        "group_accuracy": group_accuracy(runs, reference),
    }


def paired_accuracy(runs: list[dict], name: str, against: str) -> dict:
    """Per-run accuracy differences ``name − against`` (see :func:`benchmarks.common.paired`)."""
    return paired(
        [r["models"][name]["scores"]["accuracy"] for r in runs],
        [r["models"][against]["scores"]["accuracy"] for r in runs],
    )


def pooled_predictions(runs: list[dict], name: str) -> tuple[list[str], list[str]]:
    """True and predicted genres of every test clip of every run, rebuilt from the confusion matrices."""
    true, predicted = [], []
    for r in runs:
        s = r["models"][name]["scores"]
        for i, row in enumerate(s["confusion"]):
            for j, n in enumerate(row):
                true += [s["labels"][i]] * n
                predicted += [s["labels"][j]] * n
    return true, predicted


def group_accuracy(runs: list[dict], reference: GenreTree) -> dict[str, float]:
    """How often each model's genre falls in the right top-level group of the reference tree.

    For the flat model this is the root accuracy a cascade would need just to tie with it.
    """
    top = {leaf: reference.path_to(leaf)[1] for leaf in reference.leaves}
    out = {}
    for name in runs[0]["models"]:
        true, predicted = pooled_predictions(runs, name)
        pairs = [(t, p) for t, p in zip(true, predicted, strict=True) if t in top and p in top]
        if pairs:
            out[name] = float(np.mean([top[t] == top[p] for t, p in pairs]))
    return out


def pooled_node_accuracy(runs: list[dict], cascade: str) -> dict[str, dict[str, float]]:
    """Decision accuracy per node, weighted by the clips that reached it, over all runs."""
    totals: dict[str, list[float]] = {}
    for r in runs:
        for node, v in r["models"][cascade]["scores"]["per_node"].items():
            hits, n = totals.setdefault(node, [0.0, 0])
            if v["support"]:
                totals[node] = [hits + v["accuracy"] * v["support"], n + v["support"]]
    return {node: {"accuracy": h / n if n else float("nan"), "support": n} for node, (h, n) in totals.items()}
