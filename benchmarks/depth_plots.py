"""The PNGs of :mod:`benchmarks.depth_report`: mean operating curves and pooled reliability diagrams."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Specificities at which curves are compared run by run (correct rate interpolated on each curve).
GRID = tuple(np.round(np.linspace(0.0, 1.0, 11), 1))


def correct_at(points: list[dict], grid: Sequence[float] = GRID) -> np.ndarray:
    """The curve's correct rate at each specificity of ``grid`` (upper envelope, linear between points)."""
    best: dict[float, float] = {}
    for p in points:
        best[p["specificity"]] = max(best.get(p["specificity"], 0.0), p["correct"])
    x = np.array(sorted(best))
    return np.interp(grid, x, [best[v] for v in x])


def operating_mean_png(runs: list[dict], names: Sequence[str], path: Path, highlight: Sequence[str] = ()) -> Path:
    """Each named model's correct rate at the grid's specificities, mean over runs."""
    from hiergenre.viz.figures import save_figure, subplots

    fig, ax = subplots((6.5, 4.5))
    for name in names:
        curves = np.array([correct_at(r["models"][name]["scores"]["operating"]["points"]) for r in runs])
        ax.plot(GRID, curves.mean(axis=0), marker=".", label=name, linewidth=2.2 if name in highlight else 1)
    ax.axhline(0.9, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_xlabel("specificity (1: a genre for every clip, 0: the root)")
    ax.set_ylabel("hierarchically right (mean over runs)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Operating curves, mean of {len(runs)} runs")
    return save_figure(fig, path)


def reliability_pooled_png(runs: list[dict], names: Sequence[str], path: Path) -> Path:
    """Pooled reliability of each named model's genre probability, before and after calibration."""
    from hiergenre.cascade.calibration_error import reliability_bins
    from hiergenre.viz.figures import save_figure, subplots

    fig, axes = subplots((3.0 * len(names), 3.3), 1, len(names), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        ax.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":")
        for stage, color in (("before", "#d62728"), ("after", "#1f77b4")):
            rows = [s for r in runs for s in r["models"][name]["scores"]["calibration"][stage]["model"]["samples"]]
            samples = np.array(rows, dtype=float)
            bins = reliability_bins(samples[:, 0], samples[:, 1])
            ax.plot(
                [b["confidence"] for b in bins],
                [b["accuracy"] for b in bins],
                marker="o",
                color=color,
                markersize=3,
                label=stage,
            )
        ax.set_title(name, fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("confidence in its genre")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("share right")
    fig.suptitle(f"Reliability, all {len(runs)} runs' test clips pooled", fontsize=10)
    return save_figure(fig, path)
