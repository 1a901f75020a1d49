"""A genre timeline as text lines and as a figure of stacked probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pytest

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route, Step
from hiergenre.errors import HierGenreError
from hiergenre.prediction.outcome import Prediction
from hiergenre.prediction.timeline import Segment
from hiergenre.viz.timeline import clock, draw_timeline, segment_spans, timeline_figure, timeline_lines, top_groups
from tests.commands import ROOT
from tests.unit.viz.samples import TREE, png_size, timeline_prediction


def test_clock_and_lines():
    assert clock(0) == "0:00" and clock(74.6) == "1:15" and clock(600) == "10:00"
    prediction = timeline_prediction(2)
    first = prediction.timeline[0].route
    assert timeline_lines(prediction.timeline)[0] == f"0:00–0:14  {first.genre} (p={first.p:.2f})"
    assert timeline_lines(timeline_prediction(1, silent=True).timeline) == ["0:00–0:14  silent"]


def test_top_groups_follow_the_tree():
    assert top_groups(TREE) == [("heavy", ["metal", "rock"]), ("soft", ["jazz", "classical", "ambient"])]


def test_the_figure_stacks_every_genre_under_a_strip_of_chosen_genres():
    figure = timeline_figure(timeline_prediction(6), TREE)
    assert figure.canvas.manager is None
    strip, ax = figure.axes
    assert len(strip.patches) == 6  # one span per segment
    assert len(ax.collections) == len(TREE.leaves)  # one band per genre
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[-1] == "heavy: metal" and legend[0] == "soft: ambient"  # the first genre at the bottom
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["0:00", "0:15"]


def test_draw_timeline_writes_a_png_and_refuses_a_silent_file(tmp_path):
    width, height = png_size(draw_timeline(timeline_prediction(6), TREE, tmp_path / "t.png"))
    assert width > height > 300
    with pytest.raises(HierGenreError, match="song.au: no classified segment"):
        draw_timeline(timeline_prediction(3, silent=True), TREE, tmp_path / "silent.png")
    assert not (tmp_path / "silent.png").exists()


def lab(rgb: Sequence[float]) -> np.ndarray:
    """CIE L*a*b* of an sRGB colour (D65): distances in it follow what eyes tell apart."""
    linear = np.array([c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]])
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = to_xyz @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_every_genre_is_drawn_in_a_colour_of_its_own():
    tree = GenreTree.from_yaml_text((ROOT / "hierarchies" / "default.yaml").read_text(), "default")
    routes = [Route(g, [Step("root", g, 0.9)], {x: float(x == g) for x in tree.leaves}) for g in tree.leaves]
    segments = [Segment(14.0 * i, 14.0 * (i + 1), r) for i, r in enumerate(routes)]
    _, ax = timeline_figure(Prediction("song.au", route=segments[0].route, timeline=segments), tree).axes
    colours = [lab(band.get_facecolor()[0]) for band in ax.collections]
    assert len(colours) == 10
    closest = min(np.linalg.norm(a - b) for a, b in combinations(colours, 2))
    assert closest > 25  # ΔE*76: clearly different hues, not shades of one (shades of a group were ~15 apart)


def test_the_drawing_spans_the_whole_file_with_overlapping_segments_split_halfway():
    spread = {g: 0.2 for g in TREE.leaves}
    segments = [
        Segment(0.0, 14.0, Route("rock", [Step("root", "heavy", 0.5)], spread)),
        Segment(14.0, 28.0, None),  # silent
        Segment(20.0, 34.0, Route("jazz", [Step("root", "soft", 0.5)], spread)),  # the file's tail: ends at 0:34
    ]
    assert segment_spans(segments) == [(0.0, 14.0), (14.0, 24.0), (24.0, 34.0)]
    strip, ax = timeline_figure(Prediction("song.au", route=segments[0].route, timeline=segments), TREE).axes
    assert ax.get_xlim() == (0.0, 34.0)
    drawn = np.concatenate([band.get_paths()[0].vertices[:, 0] for band in ax.collections])
    assert drawn.min() == 0.0 and drawn.max() == 34.0
    spans = sorted(x_extent(patch) for patch in strip.patches)
    assert spans == [(0.0, 14.0), (14.0, 24.0), (24.0, 34.0)]  # the strip too: no second of the file left out
    assert [t.get_text() for t in strip.texts] == ["rock", "jazz"]  # runs of one genre are named


def x_extent(patch) -> tuple[float, float]:
    """A patch's first and last x in data coordinates (a Rectangle from matplotlib 3.9 on, a Polygon before)."""
    xs = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    return float(xs.min()), float(xs.max())
