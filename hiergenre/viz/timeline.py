"""How a genre timeline looks: text lines, and a PNG of genre probability over time, grouped as the tree."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import HierGenreError
from hiergenre.viz.figures import colour_map, save_figure, subplots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hiergenre.prediction.predictor import Prediction
    from hiergenre.prediction.timeline import Segment

#: A colour map per top-level group (genres of one group share its hue), cycled for more groups.
GROUP_COLOURS = ("Blues", "Oranges", "Greens", "Purples", "Reds", "Greys", "YlOrBr", "PuRd")
#: Resolution of timeline plots.
TIMELINE_DPI = 100


def clock(seconds: float) -> str:
    """``m:ss``."""
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def timeline_lines(segments: Sequence[Segment]) -> list[str]:
    """``0:00–0:14  blues (p=0.54)`` per segment (``silent`` where there was nothing to classify)."""
    lines = []
    for segment in segments:
        label = f"{segment.route.genre} (p={segment.route.p:.2f})" if segment.route else "silent"
        lines.append(f"{clock(segment.start)}–{clock(segment.end)}  {label}")
    return lines


def top_groups(tree: GenreTree) -> list[tuple[str, list[str]]]:
    """The root's children with their genres, in the tree's leaf order (a genre alone is its own group)."""
    return [(child, tree.leaves_under(child)) for child in tree.children(tree.path_to(tree.leaves[0])[0])]


def draw_timeline(prediction: Prediction, tree: GenreTree, path: str | Path) -> Path:
    """:func:`timeline_figure` written to the PNG ``path`` (cropped to what was drawn)."""
    return save_figure(timeline_figure(prediction, tree), path, dpi=TIMELINE_DPI, tight_box=True)


def timeline_figure(prediction: Prediction, tree: GenreTree) -> Figure:
    """Stacked genre probabilities over time, genres coloured by top-level group, chosen genre on top.

    Each segment's probabilities are its route's distribution (each genre's whole-path
    probability), so the bands of one group add up to the group's probability.
    """
    import numpy as np

    segments = [s for s in prediction.timeline or [] if s.route is not None]
    if not segments:
        raise HierGenreError(f"{prediction.file}: no classified segment to draw (the whole file is silent)")
    centres = np.array([(s.start + s.end) / 2 for s in segments])
    colours, order = {}, []
    for index, (_, genres) in enumerate(top_groups(tree)):
        cmap = colour_map(GROUP_COLOURS[index % len(GROUP_COLOURS)])
        for rank, genre in enumerate(genres):
            colours[genre] = cmap(0.45 + 0.45 * rank / max(1, len(genres) - 1))
            order.append(genre)
    bands = np.array([[s.route.distribution.get(g, 0.0) for s in segments] for g in order])
    width = min(16.0, max(8.0, len(segments) * 0.35))
    fig, (strip, ax) = subplots((width, 5.2), 2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 8]})
    ax.stackplot(centres, bands, colors=[colours[g] for g in order], labels=order, step=None)
    ax.set_ylim(0, 1)
    ax.set_xlim(segments[0].start, segments[-1].end)
    ax.set_ylabel("genre probability (whole path)")
    ax.set_xlabel("time (m:ss)")
    length = segments[-1].end - segments[0].start
    step = next((s for s in (15, 30, 60, 120, 300, 600) if length / s <= 12), 1800)
    ticks = np.arange(0, segments[-1].end + 1e-9, step)
    ax.set_xticks(ticks)
    ax.set_xticklabels([clock(t) for t in ticks])
    for segment in segments:
        strip.axvspan(segment.start, segment.end, color=colours.get(segment.route.genre, "#999999"))
    strip.set_yticks([])
    strip.set_ylabel("chosen", rotation=0, ha="right", va="center")
    handles, labels = ax.get_legend_handles_labels()
    group_of = {g: group for group, genres in top_groups(tree) for g in genres}
    labels = [f"{group_of[g]}: {g}" if group_of[g] != g else g for g in labels]
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    strip.set_title(f"{Path(prediction.file).name}: genre over time (tree {tree.name!r})")
    return fig
