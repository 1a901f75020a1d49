"""Scoring predictions: flat metrics, per-node and per-level cascade metrics, hierarchical scores.

The metrics work on true genres and :class:`~hiergenre.cascade.routing.Route` objects, so they run
without TensorFlow and are tested with any classifier; :mod:`hiergenre.evaluation.evaluate` is the loop
that routes a workspace's held-out clips through each trained model and scores them here.

- hierarchical precision/recall/F1 (Kiritchenko et al.): each label is extended with its ancestors
  (the root excluded); hP = sum|pred ∩ true| / sum|pred|, hR = sum|pred ∩ true| / sum|true|;
- mistake severity: the number of tree edges between the predicted and the true genre
  (0 = right, 2 = a sibling, 4 = a cousin in a two-level tree).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route


@dataclass
class ModelScores:
    """All the numbers of one model on one set of clips."""

    model: str
    labels: list[str]
    accuracy: float
    balanced_accuracy: float
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    hierarchical: dict[str, float]
    severity: dict[str, Any]
    per_level: dict[str, float]
    per_node: dict[str, dict[str, float]] = field(default_factory=dict)
    n_clips: int = 0
    #: Scored clips that trained or validated this model (``evaluate --data`` on its training data).
    seen_clips: int = 0
    #: Accuracy on the other clips, when some were seen (None when none or all were).
    unseen_accuracy: float | None = None
    #: Correct rate against specificity as decoding stops earlier, on the reference tree
    #: (:mod:`hiergenre.evaluation.operating`); empty when the model's genres are not the reference tree's.
    operating: dict[str, Any] = field(default_factory=dict)
    #: Clips labelled with a group (partial labels): how many, and the share whose genre lies below it.
    partial: dict[str, Any] = field(default_factory=dict)
    #: Calibration measures before and after each node's temperature (:mod:`hiergenre.evaluation.reliability`).
    calibration: dict[str, Any] = field(default_factory=dict)
    #: ``--target-accuracy``: the threshold chosen on validation clips and its test accuracy and leaf share.
    target: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dict(self.__dict__)


def ancestors(tree: GenreTree, genre: str) -> set[str]:
    """The genre and its groups, the root excluded (the label set of hierarchical metrics)."""
    return set(tree.path_to(genre)[1:])


def tree_distance(tree: GenreTree, a: str, b: str) -> int:
    """Edges between two nodes through their lowest common ancestor."""
    path_a, path_b = tree.path_to(a), tree.path_to(b)
    common = 0
    for x, y in zip(path_a, path_b, strict=False):
        if x != y:
            break
        common += 1
    return (len(path_a) - common) + (len(path_b) - common)


def hierarchical_scores(tree: GenreTree, true: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """Hierarchical precision, recall and F1 over ancestor-augmented label sets."""
    overlap = predicted = actual = 0
    for t, p in zip(true, pred, strict=True):
        true_set, pred_set = ancestors(tree, t), ancestors(tree, p)
        overlap += len(true_set & pred_set)
        predicted += len(pred_set)
        actual += len(true_set)
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def severity(tree: GenreTree, true: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Distribution of tree distances between predicted and true genres."""
    distances = [tree_distance(tree, t, p) for t, p in zip(true, pred, strict=True)]
    mistakes = [d for d in distances if d]
    return {
        "histogram": {str(k): v for k, v in sorted(Counter(distances).items())},
        "mean_distance": float(np.mean(distances)) if distances else 0.0,
        "mean_distance_of_mistakes": float(np.mean(mistakes)) if mistakes else 0.0,
    }


def level_accuracy(tree: GenreTree, true: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """Accuracy at each depth: is the predicted ancestor at that depth the true one?

    A genre shallower than the depth counts as its own ancestor there.
    """
    depth = max(tree.depth(leaf) for leaf in tree.leaves)
    out = {}
    for level in range(1, depth + 1):

        def at(genre: str, level: int = level) -> str:
            path = tree.path_to(genre)
            return path[min(level, len(path) - 1)]

        out[str(level)] = float(np.mean([at(t) == at(p) for t, p in zip(true, pred, strict=True)])) if true else 0.0
    return out


def node_accuracy(tree: GenreTree, true: Sequence[str], routes: Sequence[Route]) -> dict[str, dict[str, float]]:
    """Per decision node: among clips that reached it and belong below it, how often it chose right."""
    tally: dict[str, list[bool]] = {n: [] for n in tree.model_nodes}
    for genre, route in zip(true, routes, strict=True):
        for step in route.steps:
            if step.node not in tally:
                continue
            right = tree.child_towards(step.node, genre)
            if right is None:
                break  # an earlier step already left the true branch
            tally[step.node].append(step.choice == right)
    return {n: {"accuracy": float(np.mean(v)) if v else float("nan"), "support": len(v)} for n, v in tally.items()}


def score(
    model: str,
    true: Sequence[str],
    pred: Sequence[str],
    reference: GenreTree,
    routes: Sequence[Route] | None = None,
    model_tree: GenreTree | None = None,
) -> ModelScores:
    """Every metric of one model; ``routes`` and ``model_tree`` add the per-node numbers."""
    from sklearn.metrics import balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support

    labels = [g for g in reference.leaves if g in set(true) | set(pred)]
    precision, recall, f1, support = precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
    per_class = {
        g: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for g, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    in_reference = all(g in reference.graph for g in set(true) | set(pred))
    return ModelScores(
        model=model,
        labels=labels,
        accuracy=float(np.mean([t == p for t, p in zip(true, pred, strict=True)])) if true else 0.0,
        balanced_accuracy=float(balanced_accuracy_score(true, pred)) if true else 0.0,
        per_class=per_class,
        confusion=confusion_matrix(true, pred, labels=labels).tolist(),
        hierarchical=hierarchical_scores(reference, true, pred) if in_reference else {},
        severity=severity(reference, true, pred) if in_reference else {},
        per_level=level_accuracy(reference, true, pred) if in_reference else {},
        per_node=node_accuracy(model_tree, true, routes) if routes is not None and model_tree else {},
        n_clips=len(true),
    )


def confusion_text(scores: ModelScores) -> str:
    """Confusion matrix as aligned text: rows are true genres, columns predictions."""
    width = max(6, *(len(g) for g in scores.labels))
    head = " " * width + " " + " ".join(g[:6].rjust(6) for g in scores.labels)
    rows = [
        g.rjust(width) + " " + " ".join(str(v).rjust(6) for v in row)
        for g, row in zip(scores.labels, scores.confusion, strict=True)
    ]
    return "\n".join([head, *rows])
