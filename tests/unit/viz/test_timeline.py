"""A genre timeline as text lines and as a figure of stacked probabilities."""

from __future__ import annotations

import pytest

from hiergenre.errors import HierGenreError
from hiergenre.viz.timeline import clock, draw_timeline, timeline_figure, timeline_lines, top_groups
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
