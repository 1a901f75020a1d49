"""Operating curves: how often a prediction is right against how specific it is, as decoding stops earlier.

A prediction that stops at a group is *hierarchically correct* when the true genre lies below it.
Its *specificity* is ``log(n_genres / n_genres_below) / log(n_genres)``: 1 at a genre, 0 at the
root. Sweeping the minimum confidence P of :class:`~hiergenre.cascade.decoding.ConfidenceDecoder` from 0
(always a genre, reached by the most probable child at each level of the summed distribution,
which need not be the genre the model's own routing picks) to above 1 (always the root: correct,
and useless) traces the curve of correct rate against mean specificity; its area, and the specificity reached at a
correct rate of 90% or 95%, compare models across the whole range (Valmadre, NeurIPS 2022).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from hiergenre.cascade.decoding import ConfidenceDecoder
from hiergenre.cascade.hierarchy import GenreTree

#: The minimum confidences swept (0 gives the leaf decision, the last one the root).
THRESHOLDS = tuple(np.round(np.linspace(0.0, 1.0, 21), 2)) + (1.01,)


def specificity(tree: GenreTree, node: str) -> float:
    """1 at a genre, 0 at the root, log-scaled in the number of genres below in between."""
    total = len(tree.leaves)
    if total < 2:
        return 1.0
    return float(np.log(total / len(tree.leaves_under(node))) / np.log(total))


def hierarchically_correct(tree: GenreTree, node: str, genre: str) -> bool:
    """Whether the true ``genre`` lies below (or is) the predicted ``node``; for a partial label
    (a group), whether the prediction lies on its path (:meth:`~hiergenre.cascade.hierarchy.GenreTree.covers`)."""
    return tree.covers(node, genre)


@dataclass(frozen=True)
class OperatingPoint:
    """One threshold's outcome over a set of clips."""

    min_confidence: float
    correct: float
    specificity: float
    leaf_share: float


@dataclass(frozen=True)
class OperatingCurve:
    """The points of a sweep, their area, and the specificity where the correct rate reaches 90% and 95%."""

    points: list[OperatingPoint]
    area: float
    specificity_at: dict[str, float | None]
    leaf_share_at: dict[str, float | None]

    def as_dict(self) -> dict:
        """JSON-friendly form."""
        return {**asdict(self), "points": [asdict(p) for p in self.points]}


def operating_curve(
    tree: GenreTree, leaves: np.ndarray, genres: Sequence[str], thresholds: Sequence[float] = THRESHOLDS
) -> OperatingCurve:
    """The curve of clips with distributions ``leaves`` ``(n_clips, n_leaves)`` and true ``genres``.

    The area is taken under correct rate against specificity (trapezoids, from specificity 0 to
    the leaf end), so a model that is right more often at every specificity has the larger area.
    """
    points = []
    for threshold in thresholds:
        nodes = ConfidenceDecoder(min(float(threshold), 1.0)).choose(tree, leaves, genres)
        if threshold > 1.0:
            nodes = [tree.preorder()[0]] * len(genres)
        points.append(
            OperatingPoint(
                float(threshold),
                float(np.mean([hierarchically_correct(tree, n, g) for n, g in zip(nodes, genres, strict=True)])),
                float(np.mean([specificity(tree, n) for n in nodes])),
                float(np.mean([tree.is_leaf(n) for n in nodes])),
            )
        )
    ordered = sorted(points, key=lambda p: (p.specificity, -p.correct))
    x = np.array([p.specificity for p in ordered])
    y = np.array([p.correct for p in ordered])
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    at, share = {}, {}
    for level in (0.9, 0.95):
        reaching = [p for p in points if p.correct >= level]
        best = max(reaching, key=lambda p: p.specificity, default=None)
        at[f"{level:.2f}"] = best.specificity if best else None
        share[f"{level:.2f}"] = best.leaf_share if best else None
    return OperatingCurve(points, area, at, share)
