"""Scoring predictions: flat metrics, per-node and per-level cascade metrics, hierarchical scores.

The metrics work on true genres and :class:`~hiergenre.routing.Route` objects, so they run
without TensorFlow and are tested with any classifier; :func:`evaluate_workspace` is the loop
that routes a workspace's held-out clips through each trained model and scores them.

Hierarchical scores are always measured against a *reference tree* (the built tree), also for
the flat model: this tells whether the flat model's mistakes stay inside the right group, which
is the question a cascade bets on.

- hierarchical precision/recall/F1 (Kiritchenko et al.): each label is extended with its ancestors
  (the root excluded); hP = sum|pred ∩ true| / sum|pred|, hR = sum|pred ∩ true| / sum|true|;
- mistake severity: the number of tree edges between the predicted and the true genre
  (0 = right, 2 = a sibling, 4 = a cousin in a two-level tree).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hiergenre.cascade import Cascade, ClipScores
from hiergenre.datasets import Clip, Split, load_dataset
from hiergenre.errors import HierGenreError
from hiergenre.features import FeatureCache, extract_many, prediction_windows
from hiergenre.hierarchy import GenreTree
from hiergenre.operating import operating_curve
from hiergenre.reliability import model_calibration
from hiergenre.routing import Route, RoutingPolicy, check_routing_applies, get_policy
from hiergenre.validation import target_on_test
from hiergenre.workspace import Manifest, Workspace


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
    #: (:mod:`hiergenre.operating`); empty when the model's genres are not the reference tree's.
    operating: dict[str, Any] = field(default_factory=dict)
    #: Calibration measures before and after each node's temperature (:mod:`hiergenre.reliability`).
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


@dataclass
class EvaluationReport:
    """Scores of every trained model of a workspace on the same kind of clips."""

    reference: GenreTree
    scores: dict[str, ModelScores]
    source: str
    skipped_files: dict[str, str]
    #: What the user should know about the scores (seen clips, trees not trained).
    notes: list[str] = field(default_factory=list)
    #: The routing policy of the cascades.
    routing: str = "greedy"
    #: How each scored model was trained: preset, node model, epoch cap, seed, data set, split, when, version.
    training: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "reference_tree_name": self.reference.name,
            "reference_tree": self.reference.to_spec(),
            "source": self.source,
            "notes": self.notes,
            "routing": self.routing,
            "training": self.training,
            "skipped_files": self.skipped_files,
            "models": {name: s.as_dict() for name, s in self.scores.items()},
        }


def evaluate_workspace(
    workspace: Workspace,
    *,
    data: str | None = None,
    trees: Sequence[str] | None = None,
    jobs: int = 1,
    routing: str | RoutingPolicy = "greedy",
    samples: bool = False,
    target_accuracy: float | None = None,
) -> EvaluationReport:
    """Score each trained tree on the test part of its split, or on all of ``data``.

    Hierarchical metrics use the built tree as reference for every model, so the flat model's
    mistakes are judged by the same groups as the cascade's. Predictions use the calibrated
    probabilities; calibration is measured before and after. ``samples`` keeps each clip's
    confidence and correctness in the calibration numbers (to pool runs of a benchmark).
    ``target_accuracy`` also scores, per model, the minimum confidence chosen on its validation
    clips for that hierarchical accuracy (:mod:`hiergenre.validation`).
    """
    reference = workspace.built_tree()
    trained = workspace.trained_trees()
    first = [n for n in (reference.name, "flat", "baseline3") if n in trained]
    names = list(trees) if trees else first + [n for n in trained if n not in first]
    if not names:
        raise HierGenreError(f"nothing trained in workspace {workspace.root}: run 'hiergenre train-all' first")
    notes = []
    if not trees and reference.name not in trained:
        notes.append(
            f"the built tree {reference.name!r} is not trained, so only {', '.join(names)} are scored: "
            "run 'hiergenre train-all' to train it"
        )
    policy = get_policy(routing)
    manifests = {name: workspace.manifest(name) for name in names}  # read once: load_cascade reads its own
    single = [n for n in names if len(manifests[n].genre_tree.model_nodes) == 1]
    if trees:
        for name in single:
            check_routing_applies(manifests[name].genre_tree, policy)
    elif single and policy.name != "greedy":
        notes.append(f"--routing {policy.name} combines a cascade's decisions: {', '.join(single)} have one node each")
    external = load_dataset(data) if data is not None else None
    results, skipped = {}, {}
    for name in names:
        cascade = workspace.load_cascade(name, routing=routing)
        genres = set(cascade.tree.leaves)
        pool = external.clips if external is not None else manifests[name].test_split.test
        clips = [c for c in pool if c.genre in genres]
        if not clips:
            raise HierGenreError(f"no test clip for tree {name!r} (its split has an empty test part; use --data)")
        readable, raw = score_clips(cascade, clips, workspace, jobs, skipped, routing)
        calibrated = cascade.calibrated(raw)
        routes = cascade.routes_of(calibrated, routing)
        true, pred = [c.genre for c in readable], [r.genre for r in routes]
        results[name] = score(name, true, pred, reference, routes, cascade.tree)
        if routes:
            before = (raw, cascade.routes_of(raw, routing))
            results[name].calibration = model_calibration(
                reference, cascade.tree, true, before, (calibrated, routes), temperatures(cascade), samples=samples
            )
        if genres == set(reference.leaves) and routes:
            leaves = np.array([[r.distribution.get(g, 0.0) for g in reference.leaves] for r in routes])
            results[name].operating = operating_curve(reference, leaves, true).as_dict()
            if target_accuracy is not None:
                try:
                    test = (leaves, true)
                    results[name].target = target_on_test(workspace, cascade, policy, reference, test, target_accuracy)
                except HierGenreError as exc:  # no validation clips: the other numbers still stand
                    notes.append(f"{name}: --target-accuracy: {exc}")
        if external is not None:
            notes += mark_seen_clips(results[name], readable, pred, manifests[name].test_split)
    source = str(data) if data is not None else "test part of each model's split"
    training = {name: training_context(manifests[name]) for name in results}
    return EvaluationReport(reference, results, source, skipped, notes, policy.name, training)


def training_context(manifest: Manifest) -> dict[str, Any]:
    """What a report records of how a model was trained."""
    synthetic = " (SYNTHETIC)" if manifest.dataset.get("synthetic") else ""
    return {
        "preset": manifest.preset,
        "node_model": manifest.node_model,
        "epochs_cap": manifest.epochs_cap,
        "seed": manifest.seed,
        "dataset": f"{manifest.dataset.get('root')}{synthetic}, {manifest.dataset.get('clips')} clips",
        "split": manifest.split.get("description"),
        "trained_at": manifest.trained_at.replace("T", " ")[:16],
        "hiergenre_version": manifest.hiergenre_version,
    }


def mark_seen_clips(scores: ModelScores, clips: Sequence[Clip], pred: Sequence[str], split: Split) -> list[str]:
    """Count the clips that trained or validated the model, score the others apart; a note when there are any."""
    seen_paths = {str(Path(c.path).resolve()) for c in (*split.train, *split.valid)}
    seen = [str(Path(c.path).resolve()) in seen_paths for c in clips]
    scores.seen_clips = sum(seen)
    if not scores.seen_clips:
        return []
    unseen = [c.genre == p for c, p, s in zip(clips, pred, seen, strict=True) if not s]
    scores.unseen_accuracy = float(np.mean(unseen)) if unseen else None
    text = f"{scores.model}: {scores.seen_clips} of {len(clips)} clips were its training or validation data"
    if unseen:
        return [f"{text}; accuracy on the {len(unseen)} unseen clips: {100 * scores.unseen_accuracy:.1f}%"]
    return [f"{text}: its accuracy here says nothing about new music"]


def score_clips(
    cascade: Cascade,
    clips: Sequence[Clip],
    workspace: Workspace,
    jobs: int,
    skipped: dict[str, str],
    routing: str | RoutingPolicy,
) -> tuple[list[Clip], ClipScores]:
    """The clips that could be read and their raw model scores; the others are added to ``skipped``."""
    config = next(iter(cascade.classifiers.values())).features
    frames, failures = extract_many([c.path for c in clips], config, cache=FeatureCache(workspace.cache_dir), jobs=jobs)
    skipped.update(failures)
    readable = [c for c in clips if str(c.path) in frames]
    stacks = [prediction_windows(frames[str(c.path)], config) for c in readable]
    empty = ClipScores({node: np.zeros((0, len(cascade.tree.children(node)))) for node in cascade.tree.model_nodes})
    return readable, cascade.scores(stacks, routing) if stacks else empty


def temperatures(cascade: Cascade) -> dict[str, float]:
    """Each model's temperature (1 for one without), the flat model's as ``flat``."""
    models = {**cascade.classifiers, **({"flat": cascade.flat} if cascade.flat is not None else {})}
    return {name: float(getattr(model, "temperature", 1.0)) for name, model in models.items()}
