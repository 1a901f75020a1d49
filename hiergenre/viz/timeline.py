"""How a genre timeline looks: text lines, and a PNG of genre probability over time, grouped as the tree."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import HierGenreError
from hiergenre.viz.figures import colour_map, save_figure, subplots

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from hiergenre.prediction.predictor import Prediction
    from hiergenre.prediction.timeline import Segment

#: Colours of genres: a distinct hue each (tab10, then tab20 for up to 20 genres, then evenly spaced hues).
QUALITATIVE_MAPS = (("tab10", 10), ("tab20", 20))
#: Colour of segments without a genre (silent) in the strip of chosen genres.
SILENT_COLOUR = "#dddddd"
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


def genre_colours(genres: Sequence[str]) -> dict[str, tuple[float, float, float, float]]:
    """A colour per genre, each of a distinct hue, so that genres of one group do not differ only by shade."""
    count = len(genres)
    name = next((name for name, size in QUALITATIVE_MAPS if count <= size), None)
    if name is not None:
        cmap = colour_map(name)
        step = 1 if name == "tab10" or count > 10 else 2  # up to 10 in tab20: its strong colours only
        return {genre: cmap(index * step % cmap.N) for index, genre in enumerate(genres)}
    cmap = colour_map("hsv")
    return {genre: cmap(index / count) for index, genre in enumerate(genres)}


def segment_spans(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """The time each segment is drawn over: its own, with an overlap (a short hop, the file's tail) split halfway."""
    spans = []
    for index, segment in enumerate(segments):
        start, end = segment.start, segment.end
        if index > 0 and segments[index - 1].end > start:
            start = (start + segments[index - 1].end) / 2
        if index + 1 < len(segments) and segments[index + 1].start < end:
            end = (segments[index + 1].start + end) / 2
        spans.append((start, end))
    return spans


def timeline_figure(prediction: Prediction, tree: GenreTree) -> Figure:
    """Stacked genre probabilities over time above a strip of the chosen genres, drawn over the whole file.

    Each segment's probabilities are its route's distribution (each genre's whole-path
    probability), drawn flat over the segment's span, so the bands of one group add up to the
    group's probability; a dark line tops each top-level group. Every genre has its own hue.
    Silent segments are left blank (grey in the strip).
    """
    import numpy as np

    segments = list(prediction.timeline or [])
    if not any(s.route is not None for s in segments):
        raise HierGenreError(f"{prediction.file}: no classified segment to draw (the whole file is silent)")
    groups = top_groups(tree)
    order = [genre for _, genres in groups for genre in genres]
    colours = genre_colours(order)
    spans = segment_spans(segments)
    # each span drawn flat: its two edges share its values; a gap between spans falls to zero
    times, rows = [], []
    for (start, end), segment in zip(spans, segments, strict=True):
        values = [segment.route.distribution.get(g, 0.0) if segment.route else 0.0 for g in order]
        if times and start > times[-1]:
            times += [times[-1], start]
            rows += [[0.0] * len(order)] * 2
        times += [start, end]
        rows += [values, values]
    bands = np.array(rows).T
    end_time = spans[-1][1]
    width = min(16.0, max(8.0, len(segments) * 0.35))
    fig, (strip, ax) = subplots((width, 5.4), 2, 1, sharex=True, gridspec_kw={"height_ratios": [1.2, 8]})
    ax.stackplot(times, bands, colors=[colours[g] for g in order], labels=order, linewidth=0)
    tops = np.cumsum([bands[[order.index(g) for g in genres]].sum(axis=0) for _, genres in groups], axis=0)
    for top in tops[:-1]:
        ax.plot(times, top, color="#333333", linewidth=0.8)
    ax.set_ylim(0, 1)
    ax.set_xlim(0, end_time)
    ax.set_ylabel("genre probability (whole path)")
    ax.set_xlabel("time (m:ss)")
    step = next((s for s in (15, 30, 60, 120, 300, 600) if end_time / s <= 12), 1800)
    ticks = np.arange(0, end_time + 1e-9, step)
    ax.set_xticks(ticks)
    ax.set_xticklabels([clock(t) for t in ticks])
    draw_strip(strip, segments, spans, colours)
    handles, labels = ax.get_legend_handles_labels()
    group_of = {g: group for group, genres in groups for g in genres}
    labels = [f"{group_of[g]}: {g}" if group_of[g] != g else g for g in labels]
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    strip.set_title(f"{Path(prediction.file).name}: genre over time (tree {tree.name!r})")
    return fig


def draw_strip(strip: Axes, segments: Sequence[Segment], spans: Sequence[tuple[float, float]], colours: dict) -> None:
    """The chosen genre of each segment as a coloured span, named where the run of one genre is wide enough."""
    runs: list[list] = []  # [genre, start, end] of consecutive spans choosing one genre
    for (start, end), segment in zip(spans, segments, strict=True):
        genre = segment.route.genre if segment.route else None
        strip.axvspan(start, end, color=colours.get(genre, SILENT_COLOUR) if genre else SILENT_COLOUR, linewidth=0)
        if runs and runs[-1][0] == genre and runs[-1][2] >= start:
            runs[-1][2] = end
        else:
            runs.append([genre, start, end])
    total = spans[-1][1] - spans[0][0]
    for genre, start, end in runs:
        if genre and (end - start) / total >= 0.08:  # room for a name
            red, green, blue, _ = colours[genre]
            ink = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
            middle = (start + end) / 2
            strip.text(middle, 0.5, genre, ha="center", va="center", fontsize=7, color=ink, fontweight="bold")
    strip.set_yticks([])
    strip.set_ylabel("chosen", rotation=0, ha="right", va="center")
