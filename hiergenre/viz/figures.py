"""Making a figure and writing it to a PNG, without pyplot and without touching matplotlib's backend.

Every drawing of hiergenre starts here. A :class:`~matplotlib.figure.Figure` gets its own Agg
canvas (:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`), so drawing never calls
``matplotlib.use`` nor imports :mod:`matplotlib.pyplot`: a notebook or application that imports
hiergenre keeps its backend, its open figures and its interactive state. A figure made here is
not registered with pyplot, so it needs no closing: it is freed like any other object.

matplotlib is imported only when a figure is made, so importing a view module stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hiergenre.storage import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Resolution of the evaluation plots (reports and benchmarks) unless a caller asks for another.
REPORT_DPI = 90


def new_figure(figsize: tuple[float, float]) -> Figure:
    """An empty figure of ``figsize`` inches (width, height) drawn by its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)  # attaches itself as figure.canvas
    return figure


def subplots(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **options: Any) -> tuple[Figure, Any]:
    """A new figure and its axes, as :meth:`matplotlib.figure.Figure.subplots` returns them.

    The axes are one :class:`~matplotlib.axes.Axes` for a single panel, else an array of them
    (always a 2-D array with ``squeeze=False``).
    """
    figure = new_figure(figsize)
    return figure, figure.subplots(nrows, ncols, **options)


def save_figure(
    figure: Figure, path: str | Path, *, dpi: int = REPORT_DPI, tight_layout: bool = True, tight_box: bool = False
) -> Path:
    """Write ``figure`` to the PNG ``path`` atomically (a reader never sees half a file).

    ``tight_layout`` packs the panels first (the evaluation plots); ``tight_box`` crops the PNG to
    what was drawn (drawings whose labels stick out of the axes, such as trees and timelines).
    """
    path = Path(path)
    if tight_layout:
        figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi, **({"bbox_inches": "tight"} if tight_box else {}))
    return path


def colour_map(name: str) -> Any:
    """matplotlib's registered colour map ``name`` (a callable from [0, 1] to RGBA)."""
    import matplotlib

    return matplotlib.colormaps[name]
