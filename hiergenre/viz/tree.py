"""The genre tree drawn to a PNG: decision nodes boxed, genres plain (``build-tree``'s ``tree.png``, reports)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.viz.figures import save_figure, subplots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Trees with more genres than this are drawn left to right, one row per genre (a wide tree would not fit).
SIDEWAYS_FROM = 24
#: Resolution of tree drawings (names at 8-9 points stay readable).
TREE_DPI = 100


def tree_figure(tree: GenreTree) -> Figure:
    """The drawing of ``tree`` as a figure (see :func:`draw_tree`)."""
    sideways = len(tree.leaves) > SIDEWAYS_FROM
    positions = _layout(tree, sideways=sideways)
    depth = max(tree.depth(leaf) for leaf in tree.leaves)
    if sideways:
        size = (2.0 + 2.3 * depth, 1.0 + 0.24 * len(tree.leaves))
    else:
        size = (max(6.0, 1.1 * len(tree.leaves)), 1.2 + 1.1 * depth)
    figure, ax = subplots(size)
    for parent, child in tree.graph.edges:
        (x0, y0), (x1, y1) = positions[parent], positions[child]
        ax.plot([x0, x1], [y0, y1], color="#888888", linewidth=1, zorder=1)
    for node, (x, y) in positions.items():
        leaf = tree.is_leaf(node)
        box = dict(boxstyle="round", facecolor="#ffffff" if leaf else "#d8e6f5", edgecolor="#335577")
        ax.text(
            x,
            y,
            tree.name if node == ROOT else node,
            ha="left" if sideways and leaf else "center",
            va="center",
            fontsize=8 if sideways else 9,
            bbox=box,
            zorder=2,
            rotation=30 if leaf and 8 < len(tree.leaves) <= SIDEWAYS_FROM else 0,
        )
    ax.set_title(f"{tree.name}: {len(tree.leaves)} genres, {len(tree.model_nodes)} node models")
    if sideways:
        ax.set_xlim(-0.3, depth + 0.9)
    ax.axis("off")
    return figure


def draw_tree(tree: GenreTree, path: str | Path) -> Path:
    """Draw the tree to a PNG (decision nodes boxed, genres plain), written atomically.

    Up to :data:`SIDEWAYS_FROM` genres it grows top-down; larger trees (FMA's 163 genres) grow
    left to right with one row per genre, so that every name stays readable.
    """
    return save_figure(tree_figure(tree), path, dpi=TREE_DPI, tight_layout=False, tight_box=True)


def _layout(tree: GenreTree, *, sideways: bool = False) -> dict[str, tuple[float, float]]:
    """Leaves evenly spaced along one axis, each group centred on its leaves, depth along the other."""
    place = {leaf: float(i) for i, leaf in enumerate(tree.leaves)}
    positions = {}
    for node in tree.preorder():
        leaves = tree.leaves_under(node)
        along = sum(place[leaf] for leaf in leaves) / len(leaves)
        depth = float(tree.depth(node))
        positions[node] = (depth, -along) if sideways else (along, -depth)
    return positions
