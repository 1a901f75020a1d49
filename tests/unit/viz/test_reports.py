"""Evaluation reports: Markdown tables, figures returned as Figures, PNGs and report.md written."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.evaluation.evaluate import EvaluationReport
from hiergenre.evaluation.metrics import ModelScores
from hiergenre.viz.calibration import calibration_rows, detail_rows, reliability_figure, reliability_png
from hiergenre.viz.formatting import percent
from hiergenre.viz.reports import (
    confusion_figure,
    group_edges,
    learning_curves_figure,
    markdown_table,
    operating_figure,
    operating_png,
    summary_rows,
    write_evaluation_report,
)
from tests.unit.viz.samples import TREE, png_size, scores

HISTORY = {"loss": [1.0, 0.7, 0.5], "val_loss": [1.1, 0.9], "accuracy": [0.3, 0.5, 0.6], "val_accuracy": [0.2, 0.4]}


def test_percent_and_markdown_tables():
    assert percent(0.8125) == "81.2%" and percent(0.5, 0) == "50%"
    assert percent(None) == percent(float("nan")) == "–"
    assert markdown_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"


def test_summary_rows_read_each_models_numbers():
    (row,) = summary_rows({"small": scores()})
    assert row == ["small", 35, "60.0%", "55.0%", "70.0%", "2.50", "0.810", "33.0%"]
    (bare,) = summary_rows({"small": scores(operating=False)})
    assert bare[-2:] == ["–", "–"]


def test_confusion_group_lines_fall_between_top_level_groups():
    tree = GenreTree.from_yaml_text("tree: {a: [x, y], b: [z], c: [u, v]}")
    assert group_edges(["x", "y", "z", "u", "v"], tree) == [1.5, 2.5]
    assert group_edges(["x", "u"], tree) == [0.5] and group_edges(["x", "y"], None) == []


def test_confusion_figure_shows_counts_and_shares_with_group_lines():
    figure = confusion_figure(scores(), reference=TREE)
    assert figure.canvas.manager is None
    counts, shares = figure.axes[:2]
    assert [t.get_text() for t in counts.get_xticklabels()] == TREE.leaves
    assert len(counts.texts) == len(TREE.leaves) ** 2
    assert counts.texts[0].get_text() == "7" and shares.texts[0].get_text() == "64"  # 7 of metal's 11 clips
    assert len(counts.lines) == 2 * len(group_edges(TREE.leaves, TREE))
    assert figure.get_suptitle().startswith("small: accuracy 60.0%; lines: top-level groups of tree 'small'")


def test_operating_and_learning_figures_draw_one_line_per_model_and_split():
    operating = operating_figure({"a": scores("a"), "b": scores("b")}, TREE)
    (ax,) = operating.axes
    assert [line.get_label() for line in ax.get_lines()][:2] == ["a (area 0.810)", "b (area 0.810)"]
    assert operating_figure({"a": scores(operating=False)}, TREE) is None
    curves = learning_curves_figure({"root": [HISTORY]})
    loss, accuracy = curves.axes
    assert [line.get_label() for line in loss.get_lines()] == ["root train", "root valid"]
    assert list(loss.get_lines()[1].get_xdata()) == [1, 2]  # validation ran two epochs
    assert accuracy.get_ylabel() == "accuracy"


def test_reliability_figure_has_a_column_per_calibrated_model():
    figure = reliability_figure({"a": scores("a"), "b": scores("b"), "raw": scores("raw", calibrated=False)})
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["a\nECE 0.050 → 0.050", "b\nECE 0.050 → 0.050", "", ""]  # curves above, clip counts below
    counts = figure.axes[2]
    assert [t.get_text() for t in counts.texts] == ["4"] * 8  # four bins, before and after
    assert reliability_figure({"raw": scores(calibrated=False)}) is None
    (row,) = calibration_rows({"a": scores("a")})
    assert row[:3] == ["a", "0.050", "0.050 [0.020, 0.090]"]
    assert detail_rows({"a": scores("a")}) == []  # no per-level or per-node measures in the sample


def crowded(name: str) -> ModelScores:
    """Scores whose every bin of confidence is full, before and after, with three-digit counts."""
    bins = [
        {"low": b / 15, "high": (b + 1) / 15, "confidence": (b + 0.5) / 15, "accuracy": 0.97, "clips": 100 + b}
        for b in range(15)
    ]
    model = {**scores(name).calibration["before"]["model"], "reliability": bins}
    return replace(scores(name), calibration={"before": {"model": model}, "after": {"model": {**model, "ece": 0.01}}})


def test_reliability_counts_never_overlap_and_the_legend_covers_no_panel():
    figure = reliability_figure({"a": crowded("a"), "b": crowded("b")})
    figure.tight_layout()  # as the PNG writer lays it out
    renderer = figure.canvas.get_renderer()
    panels = [ax.get_window_extent(renderer) for ax in figure.axes]
    for ax, panel in zip(figure.axes, panels, strict=True):
        labels = [text.get_window_extent(renderer) for text in ax.texts]
        assert all(panel.x0 <= box.x0 and box.x1 <= panel.x1 and box.y1 <= panel.y1 for box in labels), "outside"
        assert not any(a.overlaps(b) for a, b in combinations(labels, 2)), "count labels overlap"
    assert sum(len(ax.texts) for ax in figure.axes) == 2 * 2 * 15
    (legend,) = [ax.get_legend() for ax in figure.axes if ax.get_legend()]
    assert not any(legend.get_window_extent(renderer).overlaps(panel) for panel in panels)


def test_png_writers_write_at_report_resolution_or_nothing(tmp_path):
    path = reliability_png({"a": scores("a")}, tmp_path / "reliability.png")
    width, height = png_size(path)  # inches x dpi; matplotlib versions round the last pixel differently
    assert abs(width - (3.6 + 1.6) * 90) <= 1 and abs(height - 4.6 * 90) <= 1
    assert operating_png({"a": scores(operating=False)}, tmp_path / "none.png", TREE) is None
    assert not (tmp_path / "none.png").exists()


def test_the_report_links_every_plot_it_wrote(tmp_path):
    report = EvaluationReport(TREE, {"small": scores()}, "test clips", {"x.au": "x.au: unreadable"}, notes=["a note"])
    path = write_evaluation_report(report, tmp_path / "report")
    text = path.read_text(encoding="utf-8")
    pngs = sorted(p.name for p in path.parent.glob("*.png"))
    assert pngs == ["confusion-small.png", "operating-curves.png", "reliability.png", "tree.png"]
    assert all(f"]({name})" in text for name in pngs)
    assert "Note: a note" in text and "- x.au: unreadable" in text and "## Calibration" in text
