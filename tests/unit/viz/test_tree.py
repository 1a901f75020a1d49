"""The genre tree drawn to a PNG: top-down for small trees, sideways for large ones."""

from __future__ import annotations

from matplotlib.figure import Figure

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.viz.tree import SIDEWAYS_FROM, TREE_DPI, _layout, draw_tree, tree_figure
from tests.unit.viz.samples import TREE, png_size

WIDE = GenreTree.from_yaml_text(
    "tree: {" + ", ".join(f"g{i}: [" + ", ".join(f"g{i}x{j}" for j in range(6)) + "]" for i in range(5)) + "}", "wide"
)


def test_draw_tree_writes_a_landscape_png_about_the_figure_size(tmp_path):
    path = draw_tree(TREE, tmp_path / "tree.png")
    width, height = png_size(path)
    inches = tree_figure(TREE).get_size_inches() * TREE_DPI  # before cropping to what was drawn
    assert 0.6 * inches[0] < width <= 1.1 * inches[0] and 0.6 * inches[1] < height <= 1.1 * inches[1]
    assert width > height
    assert [p.name for p in tmp_path.iterdir()] == ["tree.png"]


def test_a_large_tree_is_drawn_sideways_one_row_per_genre(tmp_path):
    assert len(WIDE.leaves) > SIDEWAYS_FROM
    width, height = png_size(draw_tree(WIDE, tmp_path / "wide.png"))
    assert height > width
    positions = _layout(WIDE, sideways=True)
    assert {positions[leaf][0] for leaf in WIDE.leaves} == {2.0}  # genres at depth 2, in a column
    assert len({positions[leaf][1] for leaf in WIDE.leaves}) == len(WIDE.leaves)


def test_the_figure_names_every_node_and_boxes_only_groups():
    figure = tree_figure(TREE)
    assert isinstance(figure, Figure) and figure.canvas.manager is None
    (ax,) = figure.axes
    texts = {t.get_text(): t for t in ax.texts}
    assert set(texts) == {"small", *TREE.leaves, *(n for n in TREE.groups if n != "root")}
    assert ax.get_title() == f"small: {len(TREE.leaves)} genres, {len(TREE.model_nodes)} node models"
    group_colour = texts["calm"].get_bbox_patch().get_facecolor()
    assert texts["jazz"].get_bbox_patch().get_facecolor() != group_colour
    assert len(ax.lines) == TREE.graph.number_of_edges()


def test_layout_centres_each_group_on_its_genres():
    positions = _layout(TREE)
    for group in ("heavy", "calm"):
        xs = [positions[leaf][0] for leaf in TREE.leaves_under(group)]
        assert positions[group][0] == sum(xs) / len(xs)
        assert positions[group][1] == -TREE.depth(group)
