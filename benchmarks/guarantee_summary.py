"""The numbers of :mod:`benchmarks.guarantee`'s report: every stored run redrawn, pooled and summarised.

Redraws are cached per run (``<work>/analysis-cache``, keyed by the run's scores and the draw
settings), so rebuilding the report after each stage only analyses the new runs.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired
from benchmarks.guarantee_analysis import MODELS, TARGETS, Run, cross_fitted, redraw
from benchmarks.guarantee_store import load_store, read_run, run_names, save_store, store_tree, train_seconds
from hiergenre.cascade.calibration_error import ece_summary, reliability_bins
from hiergenre.cascade.hierarchy import GenreTree

#: Achieved accuracies are multiples of 1/n_test: a margin for "below A".
BELOW = 1e-9
#: The target at which cascade and flat leaf shares are compared run by run.
PAIRED_TARGET = 0.9
#: Bumped when what a run's analysis holds changes (older caches are then ignored).
CACHE_VERSION = 3
#: ECE above a perfectly calibrated model's (same confidences, same clips) allowed by the issue.
ECE_MARGIN = 0.01


def run_seed(source: str, run: str) -> int:
    """A stable seed per run for its redraws."""
    return zlib.crc32(f"{source}/{run}".encode())


def run_key(run: Run) -> str:
    """A fingerprint of a run's scores: its cache is dropped when they change."""
    digest = zlib.crc32(run.flat.tobytes())
    for node in sorted(run.nodes):
        digest = zlib.crc32(run.nodes[node].tobytes(), digest)
    return f"{digest:08x}"


def analysed_run(
    tree: GenreTree, run: Run, source: str, draws: int, calibration_clips: int, cache: Path
) -> dict[str, np.ndarray]:
    """One run's redraws (``model|method|A`` -> ``(draws, 2)``) and cross-fitted ECE samples, cached."""
    path = cache / f"{source}--{run.name}--{run_key(run)}-d{draws}-c{calibration_clips}-v{CACHE_VERSION}.npz"
    stored = load_store(path)
    if stored:
        return stored
    seed = run_seed(source, run.name)
    arrays = {f"{m}|{k}|{a}": v for (m, k, a), v in redraw(tree, run, draws, calibration_clips, seed).items()}
    for key, entry in cross_fitted(tree, run, calibration_clips, seed).items():
        arrays.update({f"ece:{key}:{field}": values for field, values in entry.items()})
    cache.mkdir(parents=True, exist_ok=True)
    save_store(path, arrays)
    return arrays


def theory(target: float, calibration: int, test: int) -> dict[str, Any]:
    """What split conformal gives with continuous exchangeable scores: the band of the mean, and the
    whole distribution of a draw's achieved accuracy (beta-binomial: coverage Beta(k, n+1-k), k = ceil((n+1)A))."""
    from scipy.stats import betabinom

    k = math.ceil((calibration + 1) * target - 1e-9)
    if k > calibration:
        return {}
    dist = betabinom(test, k, calibration + 1 - k)
    values = np.arange(test + 1) / test
    pmf = dist.pmf(np.arange(test + 1))
    cdf = np.cumsum(pmf)
    return {
        "band": [target, min(1.0, target + 1 / (calibration + 1))],
        "mean": k / (calibration + 1),
        "std": float(dist.std() / test),
        "p5": float(values[np.searchsorted(cdf, 0.05)]),
        "share_below": float(pmf[values < target - BELOW].sum()),
    }


def describe(values: np.ndarray, per_run: np.ndarray, target: float) -> dict[str, Any]:
    """Mean, std, 5th and 50th percentile, share below ``target`` of pooled accuracies, and the standard
    error of the mean: over runs (draws of one run share its clips), or over draws for a single run
    (its draws are independent given its clips: the error of the mean for that population)."""
    runs = len(per_run)
    sem = per_run.std(ddof=1) / np.sqrt(runs) if runs > 1 else values.std(ddof=1) / np.sqrt(len(values))
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "sem": float(sem),
        "sem_over": "runs" if runs > 1 else "draws",
        "p5": float(np.percentile(values, 5)),
        "p50": float(np.percentile(values, 50)),
        "share_below": float((values < target - BELOW).mean()),
        "min_run_mean": float(per_run.min()),
    }


def summarise_source(store: dict[str, np.ndarray], source: str, draws: int, calibration: int, cache: Path) -> dict:
    """Everything the report says about one stored stage (a data set and front-end)."""
    tree = store_tree(store)
    names = run_names(store)
    analysed = [analysed_run(tree, read_run(store, name), source, draws, calibration, cache) for name in names]
    clips = len(read_run(store, names[0]).genres)
    test = clips - calibration
    outcomes: dict[str, Any] = {}
    for key in analysed[0]:
        if key.startswith("ece:"):
            continue
        model, method, target = key.split("|")
        stacked = np.stack([a[key] for a in analysed])  # (runs, draws, 2)
        entry = describe(stacked[..., 0].ravel(), stacked[..., 0].mean(axis=1), float(target))
        entry["mean_leaf_share"] = float(stacked[..., 1].mean())
        entry["per_run_leaf_share"] = stacked[..., 1].mean(axis=1).round(4).tolist()
        values, counts = np.unique(stacked[..., 0].round(4), return_counts=True)
        entry["distribution"] = {"values": values.tolist(), "counts": counts.tolist()}
        outcomes[key] = entry
    leaf_share = {}
    flat_key = f"flat|conformal|{PAIRED_TARGET}"
    for cascade in ("default", "default+blend"):
        key = f"{cascade}|conformal|{PAIRED_TARGET}"
        if key in outcomes and len(names) > 1:
            leaf_share[cascade] = paired(outcomes[key]["per_run_leaf_share"], outcomes[flat_key]["per_run_leaf_share"])
    return {
        "runs": len(names),
        "clips_per_run": clips,
        "calibration_clips": calibration,
        "test_clips": test,
        "draws": draws,
        "train_seconds": train_seconds(store),
        "outcomes": outcomes,
        "theory": {str(a): theory(a, calibration, test) for a in TARGETS},
        "leaf_share_paired": leaf_share,
        "leaf_accuracy": leaf_accuracies(analysed),
        "ece": ece_table(analysed),
    }


def leaf_accuracies(analysed: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Per model: each run's leaf accuracy (routed genre right, temperatures cross-fitted), mean and std."""
    out = {}
    for model in MODELS:
        per_run = np.array([a[f"ece:{model}|calibrated:correct"].mean() for a in analysed])
        out[model] = {"per_run": per_run.round(4).tolist(), "mean": float(per_run.mean()), "std": float(per_run.std())}
    return out


def ece_table(analysed: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Per model and calibration (raw, calibrated): :func:`ece_summary` of all runs' scored clips pooled,
    the reliability bins, and whether ECE − floor ≤ :data:`ECE_MARGIN`."""
    out: dict[str, Any] = {}
    for model in MODELS:
        for kind in ("raw", "calibrated"):
            confidence = np.concatenate([a[f"ece:{model}|{kind}:confidence"] for a in analysed])
            correct = np.concatenate([a[f"ece:{model}|{kind}:correct"] for a in analysed])
            summary = ece_summary(confidence, correct)
            summary["excess"] = summary["ece"] - summary["ece_if_calibrated"]
            summary["target_met"] = bool(summary["excess"] <= ECE_MARGIN)
            summary["reliability"] = reliability_bins(confidence, correct)
            summary["mean_confidence"] = float(confidence.mean())
            summary["accuracy"] = float(correct.mean())
            out.setdefault(model, {})[kind] = summary
    return out


def verdicts(source: dict[str, Any]) -> list[dict[str, Any]]:
    """Per model and A: is the conformal climb's mean achieved accuracy at least A (and within the band)?"""
    rows = []
    for model in MODELS:
        for target in TARGETS:
            entry = source["outcomes"].get(f"{model}|conformal|{target}")
            band = source["theory"][str(target)].get("band")
            if entry is None or band is None:
                continue
            control = source["outcomes"].get(f"{model}|conformal-raw|{target}", {})
            rows.append(
                {
                    "model": model,
                    "target": target,
                    "mean": entry["mean"],
                    "sem": entry["sem"],
                    "at_least_target": entry["mean"] >= target,
                    "standard_errors_below": max(0.0, (target - entry["mean"]) / entry["sem"]) if entry["sem"] else 0.0,
                    "within_band": band[0] <= entry["mean"] <= band[1],
                    "control_mean": control.get("mean"),
                }
            )
    return rows
