"""The PNGs of :mod:`benchmarks.guarantee`: achieved-accuracy distributions, share given a genre, reliability."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.guarantee_analysis import MODELS, TARGETS

COLOURS = {"conformal": "#1f77b4", "today": "#d62728"}
MODEL_COLOURS = {"flat": "#7f7f7f", "default": "#1f77b4", "default+blend": "#2ca02c"}


def accuracy_png(sources: dict[str, Any], path: Path, model: str = "default") -> Path:
    """Per source (rows) and A (columns), for one model: the share of draws at each achieved accuracy, the
    conformal climb vs today's rule, the target (black line), the band the mean should fall in (grey), each
    method's mean (dashed) and what split conformal gives with continuous exchangeable scores (black)."""
    from hiergenre.viz.figures import save_figure, subplots

    fig, axes = subplots((3.8 * len(TARGETS), 2.6 * len(sources)), len(sources), len(TARGETS), squeeze=False)
    for row, (name, source) in enumerate(sources.items()):
        test = source["test_clips"]
        # few test clips: one bar per achievable accuracy; many: 1-point bins
        width = 1 / test if test <= 50 else 0.01
        edges = np.arange(-width / 2, 1 + width, width) if test <= 50 else np.arange(0, 1 + width / 2, width)
        centres = (edges[:-1] + edges[1:]) / 2
        for col, target in enumerate(TARGETS):
            ax = axes[row][col]
            theory = source["theory"][str(target)]
            if theory:
                ax.axvspan(*theory["band"], color="#bbbbbb", alpha=0.5, linewidth=0, label="band of the mean")
            ax.axvline(target, color="black", linewidth=1, label="A")
            for offset, method in ((-0.22, "conformal"), (0.22, "today")):
                entry = source["outcomes"].get(f"{model}|{method}|{target}")
                if entry is None:
                    continue
                counts = np.array(entry["distribution"]["counts"])
                shares, _ = np.histogram(entry["distribution"]["values"], bins=edges, weights=counts / counts.sum())
                label = "conformal climb" if method == "conformal" else "today's rule"
                ax.bar(centres + offset * width, shares, width=0.44 * width, color=COLOURS[method], label=label)
                ax.axvline(entry["mean"], color=COLOURS[method], linestyle="--", linewidth=1)
            if theory:
                levels = np.arange(test + 1) / test
                binned, _ = np.histogram(levels, bins=edges, weights=theory_pmf(target, source, test))
                ax.plot(centres, binned, "k.", markersize=4, label="exact split conformal")
            seen = [v for m in ("conformal", "today") for v in _levels(source, model, m, target)]
            low = min([target - 0.1, *seen])
            ax.set_xlim(max(0.0, low - width), 1.0 + width)
            ax.set_title(f"{name}: {model}, A = {target:g}", fontsize=8)
            ax.grid(alpha=0.3)
            if col == 0:
                ax.set_ylabel("share of draws")
            ax.set_xlabel(f"achieved hierarchical accuracy ({test} test clips)", fontsize=8)
    axes[0][0].legend(fontsize=6, loc="upper left")
    return save_figure(fig, path)


def theory_pmf(target: float, source: dict[str, Any], test: int) -> np.ndarray:
    """Probability of each number of right test clips under exact split conformal (beta-binomial)."""
    from scipy.stats import betabinom

    calibration = source["calibration_clips"]
    k = math.ceil((calibration + 1) * target - 1e-9)
    return betabinom(test, k, calibration + 1 - k).pmf(np.arange(test + 1))


def _levels(source: dict[str, Any], model: str, method: str, target: float) -> list[float]:
    """Achieved accuracies seen in at least 0.5% of draws (to set the x range)."""
    entry = source["outcomes"].get(f"{model}|{method}|{target}")
    if entry is None:
        return []
    total = sum(entry["distribution"]["counts"])
    dist = entry["distribution"]
    return [v for v, c in zip(dist["values"], dist["counts"], strict=True) if c / total >= 0.005]


def leaf_share_png(sources: dict[str, Any], path: Path) -> Path:
    """Share of test clips given a genre (not a group) against A: every model, conformal (solid) and today's rule."""
    from hiergenre.viz.figures import save_figure, subplots

    fig, axes = subplots((4.2 * len(sources), 3.6), 1, len(sources), squeeze=False)
    for ax, (name, source) in zip(axes[0], sources.items(), strict=True):
        for model in MODELS:
            for method, style in (("conformal", "-"), ("today", ":")):
                shares = [source["outcomes"].get(f"{model}|{method}|{a}", {}).get("mean_leaf_share") for a in TARGETS]
                points = [(a, s) for a, s in zip(TARGETS, shares, strict=True) if s is not None]
                if points:
                    x, y = zip(*points, strict=True)
                    label = f"{model} ({'conformal' if method == 'conformal' else 'today'})"
                    ax.plot(x, y, style, marker="o", color=MODEL_COLOURS[model], label=label)
        ax.set_title(name, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("target accuracy A")
        ax.set_xticks(TARGETS)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("share of test clips given a genre")
    axes[0][0].legend(fontsize=7, loc="lower left")
    return save_figure(fig, path)


def reliability_png(sources: dict[str, Any], path: Path) -> Path:
    """Pooled reliability of the routed genre's probability per model: raw (red) and calibrated (blue)."""
    from hiergenre.viz.figures import save_figure, subplots

    fig, axes = subplots((3.2 * len(MODELS), 3.2 * len(sources)), len(sources), len(MODELS), squeeze=False)
    for row, (name, source) in enumerate(sources.items()):
        for col, model in enumerate(MODELS):
            ax = axes[row][col]
            ax.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle=":")
            for kind, colour in (("raw", "#d62728"), ("calibrated", "#1f77b4")):
                entry = source["ece"][model][kind]
                bins = entry["reliability"]
                sizes = [8 + 60 * b["clips"] / entry["clips"] for b in bins]
                x, y = [b["confidence"] for b in bins], [b["accuracy"] for b in bins]
                ax.plot(x, y, color=colour, linewidth=1, alpha=0.6 if kind == "raw" else 1)
                ax.scatter(x, y, s=sizes, color=colour, label=f"{kind} (ECE {entry['ece']:.3f})", zorder=3)
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.02)
            ax.set_title(f"{name}\n{model}", fontsize=8)
            ax.legend(fontsize=7, loc="upper left")
            ax.grid(alpha=0.3)
            if row == len(sources) - 1:
                ax.set_xlabel("confidence (routed genre's probability)")
            if col == 0:
                ax.set_ylabel("accuracy")
    return save_figure(fig, path)


def draw_plots(out: Path, sources: dict[str, Any]) -> list[str]:
    """Every plot of the report, written as small palette PNGs; returns their file names."""
    if not sources:
        return []
    paths = [
        accuracy_png(sources, out / "accuracy-default.png"),
        leaf_share_png(sources, out / "leaf-share.png"),
        reliability_png(sources, out / "reliability.png"),
    ]
    for path in paths:
        shrink(path)
    return [p.name for p in paths]


def shrink(path: Path) -> None:
    """Re-encode a PNG with a 64-colour palette: a third of the size, the same look for line plots."""
    from PIL import Image

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=64)
    palette.save(path, optimize=True)
