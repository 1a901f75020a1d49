"""Calibration and operating curves of :mod:`benchmarks.flat_vs_hier` runs.

Each run's evaluation keeps, per model, the calibration numbers before and after the nodes'
temperatures and the operating curve (:func:`compact_scores` trims them to what pooling needs:
every clip's confidence and correctness at the model's genre and at the first tree level, the
other levels' and nodes' summary numbers). The report pools the clips of all runs for the
calibration error (with a bootstrap 90% interval over clips) and compares operating curves run
by run, against the flat model, at fixed specificities.
"""

from __future__ import annotations

from typing import Any

#: Numbers of one calibration entry kept per run (samples are kept where pooling needs them).
SUMMARY_KEYS = ("clips", "ece", "brier", "log_loss", "accuracy", "confidence")


def compact_scores(scores: dict[str, Any]) -> dict[str, Any]:
    """A model's score dictionary with its calibration trimmed for a benchmark's per-run record."""
    calibration = scores.get("calibration") or {}
    out = dict(scores)
    out["calibration"] = {"temperatures": calibration.get("temperatures", {})}
    for stage in ("before", "after"):
        if stage not in calibration:
            continue
        entry = calibration[stage]
        levels = entry.get("levels", {})
        out["calibration"][stage] = {
            "model": _summary(entry["model"], samples=True),
            "levels": {level: _summary(m, samples=level == "1") for level, m in levels.items()},
            "nodes": {node: _summary(m, samples=False) for node, m in entry.get("nodes", {}).items()},
        }
    return out


def _summary(metrics: dict[str, Any], *, samples: bool) -> dict[str, Any]:
    kept = {
        k: round(metrics[k], 5) if isinstance(metrics[k], float) else metrics[k] for k in SUMMARY_KEYS if k in metrics
    }
    if samples and "samples" in metrics:
        kept["samples"] = metrics["samples"]
    return kept
