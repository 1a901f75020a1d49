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
    from matplotlib.axes import Axes
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


#: How each stage is drawn in a reliability diagram: its colour and its name in the legend.
STAGES = (("before", "#d62728", "before calibration"), ("after", "#1f77b4", "after (node temperatures)"))


def reliability_figure(scores: Mapping[str, ModelScores]) -> Figure | None:
    """Accuracy against confidence in 15 bins, before and after calibration, one column per model.

    Above, each bin's share right at its mean confidence; below, the clips in each bin as bars
    (before on the bin's left half, after on its right half) with their counts, so no number sits
    on a curve. The ECEs are in each column's title and the one legend is outside the panels.
    """
    models = {
        n: s.calibration for n, s in scores.items() if s.calibration.get("after", {}).get("model", {}).get("clips")
    }
    if not models:
        return None
    fig, axes = subplots(
        (3.6 * len(models) + 1.6, 4.6),
        2,
        len(models),
        squeeze=False,
        sharex=True,
        gridspec_kw={"height_ratios": [3, 1.4]},
    )
    for column, (name, calibration) in enumerate(models.items()):
        curve, counts = axes[0][column], axes[1][column]
        curve.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":", label="perfectly calibrated")
        most = 1
        for stage, color, label in STAGES:
            bins = calibration[stage]["model"]["reliability"]
            curve.plot(
                [b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", color=color, label=label
            )
            most = max([most, *(b["clips"] for b in bins)])
            draw_counts(counts, bins, color, right_half=stage == "after")
        ece = {stage: calibration[stage]["model"]["ece"] for stage, _, _ in STAGES}
        curve.set_title(f"{name}\nECE {ece['before']:.3f} → {ece['after']:.3f}", fontsize=9)
        curve.set_xlim(0, 1)
        curve.set_ylim(-0.02, 1.02)
        curve.grid(alpha=0.3)
        counts.set_ylim(0, most * 1.6)  # headroom for the counts above the bars
        counts.set_xlabel("confidence in its genre")
        counts.grid(alpha=0.3, axis="x")
    axes[0][0].set_ylabel("share right")
    axes[1][0].set_ylabel("clips")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1.0), frameon=False)
    fig.suptitle("Reliability: share right per bin of confidence (below: clips per bin)", fontsize=10)
    return fig


def draw_counts(ax: Axes, bins: list[dict[str, Any]], color: str, *, right_half: bool) -> None:
    """Each bin's clips as a bar on one half of the bin, its count written upright above it."""
    from hiergenre.cascade.calibration_error import ECE_BINS

    for b in bins:
        low = b.get("low", b["confidence"] - 0.5 / ECE_BINS)
        high = b.get("high", low + 1 / ECE_BINS)
        half = (high - low) / 2
        left = low + half if right_half else low
        ax.bar(left, b["clips"], width=half, align="edge", color=color, alpha=0.8, linewidth=0)
        ax.annotate(
            str(b["clips"]),
            (left + half / 2, b["clips"]),
            xytext=(0, 1),
            textcoords="offset points",
            ha="center",
            va="bottom",
            rotation=90,
            fontsize=5.5,
            color=color,
        )
