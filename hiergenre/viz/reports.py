"""Evaluation reports: Markdown tables and PNG plots of scores (used by evaluate and benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.evaluation.evaluate import EvaluationReport
from hiergenre.evaluation.metrics import ModelScores
from hiergenre.storage import atomic_file
from hiergenre.viz.calibration import (
    CALIBRATION_HEADER,
    DETAIL_HEADER,
    calibration_rows,
    detail_rows,
    reliability_png,
)
from hiergenre.viz.figures import save_figure, subplots
from hiergenre.viz.formatting import percent
from hiergenre.viz.tree import draw_tree

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_rows(scores: Mapping[str, ModelScores]) -> list[list[str]]:
    """One row per model: accuracy, balanced accuracy, hierarchical F1, mean mistake distance."""
    return [
        [
            name,
            s.n_clips,
            percent(s.accuracy),
            percent(s.balanced_accuracy),
            percent(s.hierarchical.get("f1", float("nan"))),
            f"{s.severity.get('mean_distance_of_mistakes', float('nan')):.2f}",
            f"{s.operating['area']:.3f}" if s.operating else "–",
            percent(s.operating["specificity_at"]["0.90"]) if s.operating else "–",
        ]
        for name, s in scores.items()
    ]


SUMMARY_HEADER = [
    "model",
    "clips",
    "accuracy",
    "balanced acc.",
    "hier. F1",
    "mean edges per mistake",
    "curve area",
    "specificity at 90% correct",
]


def per_class_section(s: ModelScores) -> str:
    """The report's Table 1: precision, recall, F1 and support per genre."""
    rows = [
        [g, percent(v["precision"]), percent(v["recall"]), percent(v["f1"]), v["support"]]
        for g, v in s.per_class.items()
    ]
    return markdown_table(["genre", "precision", "recall", "F1", "support"], rows)


def cascade_section(s: ModelScores) -> str:
    """Per-node decision accuracy, per-level accuracy and mistake severity of one model."""
    parts = []
    if s.per_node:
        rows = [[n, percent(v["accuracy"]), v["support"]] for n, v in s.per_node.items()]
        parts.append(markdown_table(["node", "decision accuracy", "clips that reached it"], rows))
    if s.per_level:
        rows = [[level, percent(acc)] for level, acc in s.per_level.items()]
        parts.append(markdown_table(["tree level (reference tree)", "accuracy"], rows))
    if s.severity:
        hist = ", ".join(f"{k} edges: {v}" for k, v in s.severity["histogram"].items())
        parts.append(f"Distance between predicted and true genre (reference tree): {hist}.")
    return "\n\n".join(parts)


def confusion_png(
    s: ModelScores, path: str | Path, title: str | None = None, reference: GenreTree | None = None
) -> Path:
    """:func:`confusion_figure` written to the PNG ``path``."""
    return save_figure(confusion_figure(s, title, reference), path)


def confusion_figure(s: ModelScores, title: str | None = None, reference: GenreTree | None = None) -> Figure:
    """Confusion matrix heat maps, counts and row-normalised (rows true, columns predicted).

    With ``reference``, lines separate its top-level groups (the labels follow its leaf order), so
    mistakes inside a group and across groups can be told apart at a glance.
    """
    matrix = np.asarray(s.confusion)
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    size = 2.0 + 0.62 * len(s.labels)
    fig, axes = subplots((2 * size + 1.5, size), 1, 2)
    panels = ((matrix, "clips", "{:.0f}"), (100 * normalised, "% of the true genre's clips", "{:.0f}"))
    for ax, (values, what, fmt) in zip(axes, panels, strict=True):
        ax.imshow(values, cmap="Blues", vmin=0)
        ax.set_xticks(range(len(s.labels)), s.labels, rotation=45, ha="right")
        ax.set_yticks(range(len(s.labels)), s.labels)
        for (i, j), v in np.ndenumerate(values):
            colour = "white" if v > values.max() / 2 else "black"
            ax.text(
                j, i, fmt.format(int(v) if fmt == "{:d}" else v), ha="center", va="center", color=colour, fontsize=8
            )
        for edge in group_edges(s.labels, reference):
            ax.axhline(edge, color="#cc4400", linewidth=1.5)
            ax.axvline(edge, color="#cc4400", linewidth=1.5)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(what, fontsize=10)
    groups = f"; lines: top-level groups of tree {reference.name!r}" if reference is not None else ""
    fig.suptitle(title or f"{s.model}: accuracy {percent(s.accuracy)}{groups}")
    return fig


def group_edges(labels: Sequence[str], reference: GenreTree | None) -> list[float]:
    """Positions between consecutive labels whose top-level groups in ``reference`` differ."""
    if reference is None or not all(g in reference.graph for g in labels):
        return []
    top = [reference.path_to(g)[1] for g in labels]
    return [i + 0.5 for i in range(len(top) - 1) if top[i] != top[i + 1]]


def operating_png(scores: Mapping[str, ModelScores], path: str | Path, reference: GenreTree) -> Path | None:
    """:func:`operating_figure` written to the PNG ``path``; None (nothing written) without operating curves."""
    figure = operating_figure(scores, reference)
    return None if figure is None else save_figure(figure, path)


def operating_figure(scores: Mapping[str, ModelScores], reference: GenreTree) -> Figure | None:
    """Hierarchical correct rate against specificity as the minimum confidence sweeps, one line per model."""
    curves = {name: s.operating for name, s in scores.items() if s.operating}
    if not curves:
        return None
    fig, ax = subplots((6.5, 4.5))
    for name, curve in curves.items():
        points = sorted(curve["points"], key=lambda p: p["specificity"])
        ax.plot(
            [p["specificity"] for p in points],
            [p["correct"] for p in points],
            marker=".",
            label=f"{name} (area {curve['area']:.3f})",
        )
    for level in (0.9, 0.95):
        ax.axhline(level, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_xlabel(f"specificity (1: a genre, 0: the root of tree {reference.name!r})")
    ax.set_ylabel("hierarchically correct (true genre below the prediction)")
    ax.set_xlim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Operating curves: stopping earlier as the minimum confidence rises")
    return fig


def learning_curves_png(histories: Mapping[str, Sequence[Mapping[str, Sequence[float]]]], path: str | Path) -> Path:
    """:func:`learning_curves_figure` written to the PNG ``path``."""
    return save_figure(learning_curves_figure(histories), path)


def learning_curves_figure(histories: Mapping[str, Sequence[Mapping[str, Sequence[float]]]]) -> Figure:
    """Loss and accuracy per epoch (train and validation), averaged over runs, one line per model.

    ``histories`` maps a model's label to its runs, each a Keras-style history (``loss``,
    ``val_loss``, ``accuracy``, ``val_accuracy``: one value per epoch).
    """
    fig, axes = subplots((11, 4), 1, 2)
    for label, runs in histories.items():
        for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
            for prefix, style in (("", "-"), ("val_", "--")):
                curves = [h[prefix + metric] for h in runs if h.get(prefix + metric)]
                if not curves:
                    continue
                length = min(len(c) for c in curves)
                mean = np.mean([c[:length] for c in curves], axis=0)
                ax.plot(np.arange(1, length + 1), mean, style, label=f"{label} {'valid' if prefix else 'train'}")
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    if axes[0].get_lines():
        axes[0].legend(fontsize=7)
    fig.suptitle("Learning curves (training windows; validation at clip level; mean over runs)")
    return fig


def write_evaluation_report(report: EvaluationReport, directory: str | Path) -> Path:
    """``report.md``: what was scored and how, the reference tree drawn, then per model its tables and confusions."""
    from hiergenre import __version__

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tree_png = draw_tree(report.reference, directory / "tree.png")
    lines = [
        "# hiergenre evaluation",
        "",
        f"Clips: {report.source}. Routing: {report.routing}. Hierarchical scores, group lines and levels use "
        f"the reference tree {report.reference.name!r} (the built tree). hiergenre {__version__}, "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC.",
        "",
        f"![reference tree {report.reference.name}]({tree_png.name})",
        "",
        markdown_table(SUMMARY_HEADER, summary_rows(report.scores)),
        "",
        *[f"Note: {note}" for note in report.notes],
        "",
        "## How each model was trained",
        "",
        markdown_table(
            ["model", "preset", "node model", "epochs cap", "seed", "data set", "split", "trained (UTC)", "hiergenre"],
            [[name, *context.values()] for name, context in report.training.items()],
        ),
        "",
    ]
    curves = operating_png(report.scores, directory / "operating-curves.png", report.reference)
    if curves is not None:
        lines += [
            "## Operating curves",
            "",
            "Each model's predictions stop at a group when the most probable child holds less than a minimum "
            "confidence P (swept from 0, a genre for every clip, to above 1, the root); a group is correct when "
            "the true genre lies below it. Specificity is log(genres / genres below) / log(genres).",
            "",
            f"![operating curves]({curves.name})",
            "",
        ]
    lines += calibration_section(report, directory)
    for name, s in report.scores.items():
        png = confusion_png(s, directory / f"confusion-{name}.png", reference=report.reference)
        lines += [
            f"## {name}",
            "",
            per_class_section(s),
            "",
            cascade_section(s),
            "",
            f"![confusion matrices of {name}]({png.name})",
            "",
        ]
    if report.skipped_files:
        lines += ["Skipped (unreadable):", *[f"- {r}" for r in report.skipped_files.values()], ""]
    path = directory / "report.md"
    with atomic_file(path) as out:
        out.write("\n".join(lines))
    return path


def calibration_section(report: EvaluationReport, directory: Path) -> list[str]:
    """The report's calibration tables and reliability diagram (empty when nothing was measured)."""
    rows = calibration_rows(report.scores)
    if not rows:
        return []
    png = reliability_png(report.scores, directory / "reliability.png")
    return [
        "## Calibration",
        "",
        "Does a probability of 0.8 come true 8 times in 10? Expected calibration error (ECE): 15 equal-width "
        "bins of the probability each model gives its own genre, |share right − mean probability| weighted by "
        "the bin's clips; bias-corrected bootstrap 90% interval over clips. ECE is biased upward on few clips: "
        "'ECE if calibrated' is what a perfectly calibrated model with the same probabilities shows on average. "
        "Brier score: squared error of the whole distribution (0 best, 2 worst). "
        "Before: the models' raw probabilities; after: through each node's temperature.",
        "",
        markdown_table(CALIBRATION_HEADER, rows),
        "",
        f"![reliability diagrams]({png.name})" if png else "",
        "",
        "Per level of the reference tree (the distribution summed up to that depth) and per decision node "
        "(its own choice among its children, on the clips that belong below it):",
        "",
        markdown_table(DETAIL_HEADER, detail_rows(report.scores)),
        "",
    ]
