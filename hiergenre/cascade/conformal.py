"""``--target-accuracy``: a split-conformal threshold for stopping early, with a stated guarantee.

Climbing (Goren, Galil & El-Yaniv, NeurIPS 2024, hierarchical selective classification): start at
the most probable genre and climb towards the root until a node's probability (the sum of its
genres') reaches ``theta``; predict that node. The prediction is hierarchically right when the
node contains the true genre. Node probabilities grow towards the root, so for each clip there is
one number, its *score*: the probability of the last node on the climb that does NOT contain the
true genre (0 when the most probable genre is the true one). The climb is right exactly when
``score < theta``.

Split conformal: with the scores of ``n`` calibration clips exchangeable with a new clip, taking
``theta`` just above the ``ceil((n + 1) A)``-th smallest score makes the new clip's climb right with
probability at least ``A`` (marginally: on average over calibration sets and new clips), and,
scores being continuous, at most ``A + 1 / (n + 1)``. That needs ``ceil((n + 1) A) <= n``: at least
:func:`minimum_calibration_clips` clips (9 for 0.9, 19 for 0.95). The calibration clips are the
split's validation part, which no model trains, early-stops or is chosen on.

The node temperatures are fitted on the same clips. Scored with those temperatures, a calibration
clip would be one the temperatures had seen while a new clip is not, and the climb fell short of
A by 0.2-0.5 points on average (``benchmarks/guarantee.py``, synthetic corpus, 100 calibration
clips). So each calibration clip is scored with temperatures fitted on the *other* calibration
clips (:func:`cross_fitted_decision`, 10 folds), as a new clip is scored with temperatures that
never saw it; the threshold is then set on those scores. The same runs met A with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from hiergenre.cascade.calibration import Calibration, Temperature
from hiergenre.cascade.cascade import ClipScores
from hiergenre.cascade.decoding import Decoder, node_probabilities
from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.cascade.routing import Decision, RoutingPolicy, decide
from hiergenre.errors import InvalidValue

#: Slack for ``(n + 1) * A`` computed in floating point (0.9 * 10 is 9.000000000000002).
_ROUNDING = 1e-9
#: Folds of the calibration clips for :func:`cross_fitted_decision` (fewer when there are fewer clips).
TEMPERATURE_FOLDS = 10


def cross_fitted_decision(
    tree: GenreTree,
    raw: ClipScores,
    genres: Sequence[str],
    policy: str | RoutingPolicy,
    calibration: Calibration,
    flat_weight: float = 0.5,
    uncalibrated: Sequence[str] = (),
) -> Decision:
    """The routing's decision on calibration clips, each calibrated by temperatures fitted on the others.

    ``raw`` holds the clips' raw node (and flat) probabilities, ``genres`` their true genres. The
    clips are dealt into :data:`TEMPERATURE_FOLDS` interleaved folds; each fold is calibrated with
    the temperatures ``calibration`` fits on the other folds, as the deployed temperatures (fitted
    on all of them) calibrate a new clip they never saw. Returns every clip's leaf distribution and
    routed genre in ``genres`` order. Nodes in ``uncalibrated`` (constant models) keep their raw
    probabilities, as at prediction.
    """
    n = len(genres)
    fold = np.arange(n) % max(1, min(TEMPERATURE_FOLDS, n))
    leaves, routed = np.zeros((n, len(tree.leaves))), [""] * n
    for k in np.unique(fold):
        rest, part = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        nodes, flat = fitted_temperatures(tree, raw.rows(rest), [genres[i] for i in rest], calibration, uncalibrated)
        scores = raw.rows(part).calibrated(nodes, flat)
        decision = decide(tree, scores.nodes, policy, flat=scores.flat, flat_weight=flat_weight)
        leaves[part] = decision.leaves
        for i, genre in zip(part, decision.genres, strict=True):
            routed[i] = genre
    return Decision(routed, leaves)


def fitted_temperatures(
    tree: GenreTree, raw: ClipScores, genres: Sequence[str], calibration: Calibration, uncalibrated: Sequence[str] = ()
) -> tuple[dict[str, Temperature], Temperature]:
    """Each node's temperature fitted on the clips below it (labels: the child towards the genre), and the
    flat model's on all of them: what training fits on the calibration clips, here on any subset."""
    nodes = {}
    for node, probabilities in raw.nodes.items():
        children = tree.children(node)
        below = [(i, children.index(c)) for i, g in enumerate(genres) if (c := tree.child_towards(node, g))]
        rows, labels = np.array([i for i, _ in below], dtype=int), np.array([c for _, c in below], dtype=int)
        fits = len(rows) and node not in uncalibrated
        nodes[node] = Temperature(calibration.fit(probabilities[rows], labels) if fits else 1.0)
    flat = Temperature(1.0)
    if raw.flat is not None and len(genres):
        flat = Temperature(calibration.fit(raw.flat, np.array([tree.leaves.index(g) for g in genres])))
    return nodes, flat


def climb_paths(
    tree: GenreTree, leaves: np.ndarray, starts: Sequence[str] | None = None
) -> tuple[list[list[int]], list[str], np.ndarray]:
    """Each clip's climb, its genre first, as node columns; the node names; node probabilities.

    ``leaves`` is ``(n_clips, n_leaves)`` in ``tree.leaves`` order; ``starts`` the genre each climb
    starts from (the routing's choice; by default the most probable genre). Returns the paths
    (column indices into ``nodes``, from the genre up to the root), ``nodes`` and ``(n_clips, n_nodes)``.
    """
    nodes, probabilities = node_probabilities(tree, leaves)
    column = {node: j for j, node in enumerate(nodes)}
    if starts is None:
        starts = [tree.leaves[s] for s in np.asarray(leaves).argmax(axis=1)]
    upward = {leaf: [column[n] for n in reversed(tree.path_to(leaf))] for leaf in tree.leaves}
    return [upward[s] for s in starts], nodes, probabilities


def climb(tree: GenreTree, leaves: np.ndarray, theta: float, starts: Sequence[str] | None = None) -> list[str]:
    """Where each clip's climb stops: the first node, from its genre up, whose probability reaches ``theta``."""
    paths, nodes, probabilities = climb_paths(tree, leaves, starts)
    return [nodes[next((j for j in path if probabilities[i, j] >= theta), path[-1])] for i, path in enumerate(paths)]


def climb_scores(
    tree: GenreTree, leaves: np.ndarray, true: Sequence[str], starts: Sequence[str] | None = None
) -> np.ndarray:
    """Each clip's score ``(n_clips,)``: the climb is hierarchically right exactly when ``score < theta``."""
    paths, nodes, probabilities = climb_paths(tree, leaves, starts)
    scores = np.zeros(len(paths))
    for i, path in enumerate(paths):
        below = [j for j in path if not tree.covers(nodes[j], true[i])]
        scores[i] = probabilities[i, below[-1]] if below else 0.0
    return scores


def set_scores(tree: GenreTree, leaves: np.ndarray, true: Sequence[str]) -> np.ndarray:
    """Each clip's score for prediction sets ``(n_clips,)``: one minus its true genre's probability.

    The set of genres whose ``1 - p`` is below ``theta`` contains the true genre exactly when the
    score is below ``theta``: :func:`conformal_threshold` on these scores sets ``theta`` (the
    "least ambiguous" sets of Sadinle, Lei & Wasserman, 2019).
    """
    column = {leaf: j for j, leaf in enumerate(tree.leaves)}
    return 1.0 - np.asarray(leaves)[np.arange(len(true)), [column[g] for g in true]]


def genre_sets(tree: GenreTree, leaves: np.ndarray, theta: float) -> list[list[str]]:
    """Each clip's prediction set, written with as few nodes as the tree allows.

    The genres whose ``1 - p`` is below ``theta`` (at least the most probable one, which can only
    add coverage); a group whose genres are all in the set is named instead of them (den Hengst et
    al., 2025: sets of a few nodes), so a set reads "jazz, roots" rather than five genres.
    """
    leaves = np.asarray(leaves)
    chosen = (1.0 - leaves) < theta
    chosen[np.arange(len(leaves)), leaves.argmax(axis=1)] = True
    return [compact_nodes(tree, {g for g, keep in zip(tree.leaves, row, strict=True) if keep}) for row in chosen]


def compact_nodes(tree: GenreTree, genres: set[str], node: str = ROOT) -> list[str]:
    """The fewest nodes below ``node`` whose genres are exactly ``genres`` (preorder)."""
    under = set(tree.leaves_under(node))
    if under <= genres:
        return [node]
    if not under & genres:
        return []
    return [n for child in tree.children(node) for n in compact_nodes(tree, genres, child)]


def minimum_calibration_clips(target: float) -> int:
    """The fewest calibration clips for which a split-conformal threshold reaches ``target``: ``ceil(A / (1 - A))``."""
    check_target(target)
    n = 1
    while math.ceil((n + 1) * target - _ROUNDING) > n:
        n += 1
    return n


def conformal_threshold(scores: np.ndarray, target: float) -> float:
    """The threshold whose climb is hierarchically right with probability >= ``target`` on clips like these.

    Just above the ``ceil((n + 1) * target)``-th smallest calibration score; refused, with the
    number needed, when there are too few clips for that.
    """
    check_target(target)
    scores = np.sort(np.asarray(scores, dtype=float))
    rank = math.ceil((len(scores) + 1) * target - _ROUNDING)
    if rank > len(scores):
        raise InvalidValue(
            f"a target accuracy of {target} needs at least {minimum_calibration_clips(target)} calibration clips, "
            f"found {len(scores)}"
        )
    return float(np.nextafter(scores[rank - 1], np.inf))


def check_target(target: float) -> None:
    """Refuse a target outside (0, 1) with one line."""
    if not 0 < target < 1:
        raise InvalidValue(f"a target accuracy is between 0 and 1 (exclusive), got {target}")


@dataclass(frozen=True)
class ClimbDecoder(Decoder):
    """Climb from the routing's genre towards the root until a node's probability reaches ``threshold``.

    With the threshold :func:`conformal_threshold` sets on calibration clips, the node named is
    hierarchically right (it contains the true genre) for at least the target share of new clips
    like them.
    """

    threshold: float
    name: ClassVar[str] = "climb"
    help: ClassVar[str] = "climb from the genre towards the root until a node is probable enough"

    def choose(self, tree: GenreTree, leaves: np.ndarray, genres: Sequence[str]) -> list[str]:
        """Each clip's first node on the climb from its routed genre that reaches the threshold."""
        return climb(tree, leaves, self.threshold, genres)


@dataclass(frozen=True)
class Guarantee:
    """What ``--target-accuracy`` set up: the climb's threshold and what it promises."""

    target: float
    #: Node probability a climb must reach (:class:`ClimbDecoder`).
    threshold: float
    #: Calibration clips the threshold was set on.
    clips: int
    #: On those clips: the climb's hierarchical accuracy and the share that stopped at a genre.
    calibration_accuracy: float
    calibration_leaf_share: float
    #: The threshold of prediction sets (``--sets``): genres with ``1 - p`` below it.
    set_threshold: float | None = None

    @property
    def ceiling(self) -> float:
        """The most the achieved accuracy exceeds the target by, on average: ``A + 1 / (n + 1)``."""
        return min(1.0, self.target + 1 / (self.clips + 1))

    def statement(self) -> str:
        """The guarantee in words, with its assumption."""
        what = "a set of genres and groups" if self.set_threshold is not None else "a genre or group"
        return (
            f"at least {100 * self.target:g}% of new clips get {what} that contains their true genre "
            f"(on average; for clips like the {self.clips} calibration clips, which no model trained on)"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form, with the ceiling."""
        return {**asdict(self), "ceiling": self.ceiling}


def conformal_guarantee(
    tree: GenreTree,
    leaves: np.ndarray,
    true: Sequence[str],
    routed: Sequence[str],
    target: float,
    *,
    sets: bool = False,
) -> Guarantee:
    """The climbing threshold for ``target`` set on calibration clips, and how it does on them.

    ``leaves`` are the calibration clips' calibrated distributions ``(n_clips, n_leaves)`` in
    ``tree.leaves`` order, ``true`` their genres, ``routed`` the genres the routing chose (where
    each climb starts, as at prediction). With ``sets``, also the threshold of prediction sets
    (:func:`genre_sets`), set on the same clips for the same target.
    """
    threshold = conformal_threshold(climb_scores(tree, leaves, true, routed), target)
    stops = climb(tree, leaves, threshold, routed)
    return Guarantee(
        target=target,
        threshold=threshold,
        clips=len(true),
        calibration_accuracy=float(np.mean([tree.covers(n, g) for n, g in zip(stops, true, strict=True)])),
        calibration_leaf_share=float(np.mean([tree.is_leaf(n) for n in stops])),
        set_threshold=conformal_threshold(set_scores(tree, leaves, true), target) if sets else None,
    )
