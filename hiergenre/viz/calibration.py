"""Calibration as people read it: table rows for ``evaluate`` and its report, and reliability diagrams.

The numbers come from :mod:`hiergenre.evaluation.reliability` (``ModelScores.calibration``); nothing is
computed here but layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hiergenre.viz.figures import save_figure, subplots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hiergenre.evaluation.metrics import ModelScores

#: Columns of :func:`calibration_rows`.
CALIBRATION_HEADER = [
    "model",
    "ECE before",
    "ECE after [90% CI]",
    "ECE if calibrated",
    "Brier before → after",
    "log loss before → after",
]
#: Columns of :func:`detail_rows`.
DETAIL_HEADER = ["model", "where", "clips", "ECE before → after", "Brier before → after", "temperature"]


def _pair(before: dict[str, Any], after: dict[str, Any], key: str) -> str:
    return f"{before.get(key, float('nan')):.3f} → {after.get(key, float('nan')):.3f}"


def calibration_rows(scores: Mapping[str, ModelScores]) -> list[list[str]]:
    """One row per model: the calibration of the genre it predicts, before and after its temperatures."""
    rows = []
    for name, s in scores.items():
        before, after = s.calibration.get("before", {}).get("model"), s.calibration.get("after", {}).get("model")
        if not before or not after or not before.get("clips"):
            continue
        low, high = after["ece_interval"]
        rows.append(
            [
                name,
                f"{before['ece']:.3f}",
                f"{after['ece']:.3f} [{low:.3f}, {high:.3f}]",
                f"{after['ece_if_calibrated']:.3f}",
                _pair(before, after, "brier"),
                _pair(before, after, "log_loss"),
            ]
        )
    return rows


def detail_rows(scores: Mapping[str, ModelScores]) -> list[list[str]]:
    """Per model, each level of the reference tree and each decision node, before and after."""
    rows = []
    for name, s in scores.items():
        before, after = s.calibration.get("before", {}), s.calibration.get("after", {})
        temperatures = s.calibration.get("temperatures", {})
        for kind in ("levels", "nodes"):
            for where, b in before.get(kind, {}).items():
                a = after.get(kind, {}).get(where, {})
                if not b.get("clips"):
                    continue
                label = f"level {where}" if kind == "levels" else f"node {where}"
                temperature = f"{temperatures[where]:.2f}" if kind == "nodes" and where in temperatures else ""
                rows.append([name, label, str(b["clips"]), _pair(b, a, "ece"), _pair(b, a, "brier"), temperature])
    return rows


def reliability_png(scores: Mapping[str, ModelScores], path: str | Path) -> Path | None:
    """:func:`reliability_figure` written to the PNG ``path``; None (nothing written) when nothing was calibrated."""
    figure = reliability_figure(scores)
    return None if figure is None else save_figure(figure, path)


def reliability_figure(scores: Mapping[str, ModelScores]) -> Figure | None:
    """Accuracy against confidence in 15 bins, before and after calibration, one panel per model."""
    models = {
        n: s.calibration for n, s in scores.items() if s.calibration.get("after", {}).get("model", {}).get("clips")
    }
    if not models:
        return None
    fig, axes = subplots((3.2 * len(models), 3.4), 1, len(models), squeeze=False)
    for ax, (name, calibration) in zip(axes[0], models.items(), strict=True):
        ax.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":")
        for stage, color in (("before", "#d62728"), ("after", "#1f77b4")):
            metrics = calibration[stage]["model"]
            bins = metrics["reliability"]
            ax.plot(
                [b["confidence"] for b in bins],
                [b["accuracy"] for b in bins],
                marker="o",
                color=color,
                label=f"{stage} (ECE {metrics['ece']:.3f})",
            )
            for b in bins:
                ax.annotate(str(b["clips"]), (b["confidence"], b["accuracy"]), fontsize=6, color=color)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("confidence in its genre")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("share right")
    fig.suptitle("Reliability: clips per bin of confidence (numbers: clips in the bin)", fontsize=10)
    return fig
