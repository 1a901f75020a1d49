"""Figures drawn on their own Agg canvas and saved atomically, outside pyplot."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hiergenre.viz.figures import REPORT_DPI, new_figure, save_figure, subplots
from tests.unit.viz.samples import png_size


def test_a_new_figure_has_its_own_agg_canvas_and_no_pyplot_manager():
    figure = new_figure((4.0, 3.0))
    assert isinstance(figure, Figure) and isinstance(figure.canvas, FigureCanvasAgg)
    assert figure.canvas.manager is None  # pyplot never saw it: nothing to close, nothing shown
    assert tuple(figure.get_size_inches()) == (4.0, 3.0)


def test_subplots_give_the_panels_asked_for():
    figure, axes = subplots((6.0, 2.0), 1, 3, squeeze=False)
    assert axes.shape == (1, 3) and len(figure.axes) == 3
    _, single = subplots((2.0, 2.0))
    assert single.figure is not figure


def test_saving_writes_a_png_of_the_figure_size_and_leaves_no_temporary_file(tmp_path):
    figure, ax = subplots((4.0, 3.0))
    ax.plot([0, 1], [0, 1])
    path = save_figure(figure, tmp_path / "plots" / "line.png")
    assert path == tmp_path / "plots" / "line.png"
    assert png_size(path) == (4 * REPORT_DPI, 3 * REPORT_DPI)
    assert [p.name for p in path.parent.iterdir()] == ["line.png"]


def test_a_tight_box_crops_the_png_to_what_was_drawn(tmp_path):
    figure, ax = subplots((8.0, 8.0))
    ax.text(0.5, 0.5, "small")
    ax.axis("off")
    width, height = png_size(save_figure(figure, tmp_path / "crop.png", dpi=50, tight_box=True))
    assert width < 8 * 50 and height < 8 * 50
