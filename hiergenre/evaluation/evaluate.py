"""Evaluating a workspace: each trained model routes held-out clips, and the numbers are computed.

Hierarchical scores are always measured against a *reference tree* (the built tree), also for
the flat model: this tells whether the flat model's mistakes stay inside the right group, which
is the question a cascade bets on. The metrics themselves are in :mod:`hiergenre.evaluation.metrics`;
calibration in :mod:`hiergenre.evaluation.reliability`, operating curves in :mod:`hiergenre.evaluation.operating`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hiergenre.cascade.cascade import Cascade, ClipScores
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import RoutingPolicy, check_routing_applies, get_policy
from hiergenre.data.datasets import Clip, Split
from hiergenre.data.fma import load_labelled
from hiergenre.errors import HierGenreError
from hiergenre.evaluation.metrics import ModelScores, score
from hiergenre.evaluation.operating import operating_curve
from hiergenre.evaluation.reliability import model_calibration
from hiergenre.features.extraction import FeatureCache
from hiergenre.parallel.backends import Backend, LocalBackend
from hiergenre.workspace.bundled import bundled_summary
from hiergenre.workspace.layout import Workspace
from hiergenre.workspace.manifest import Manifest
from hiergenre.workspace.trained import TrainedTree
from hiergenre.workspace.validation import target_on_test

#: Evaluation runs the reference models: the Keras networks on librosa's LMFCC.
EVALUATION_RUNTIME = "keras"


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
    #: The scored models trained on the embedded synthetic corpus (generated clips, not music).
    synthetic: list[str] = field(default_factory=list)

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
    backend: Backend | None = None,
    routing: str | RoutingPolicy = "greedy",
    samples: bool = False,
    target_accuracy: float | None = None,
    metadata: str | None = None,
) -> EvaluationReport:
    """Score each trained tree on the test part of its split, or on all of ``data``.

    Hierarchical metrics use the built tree as reference for every model, so the flat model's
    mistakes are judged by the same groups as the cascade's. Predictions use the calibrated
    probabilities; calibration is measured before and after. ``samples`` keeps each clip's
    confidence and correctness in the calibration numbers (to pool runs of a benchmark).
    ``target_accuracy`` also scores, per model, the minimum confidence chosen on its validation
    clips for that hierarchical accuracy (:mod:`hiergenre.workspace.validation`). Features are extracted on
    ``backend`` (default: ``jobs`` local processes).
    """
    backend = backend or LocalBackend(jobs)
    reference = workspace.built_tree()
    trained = workspace.trained_trees()
    first = [n for n in (reference.name, "flat", "baseline3") if n in trained]
    names = list(trees) if trees else first + [n for n in trained if n not in first]
    if not names:
        raise HierGenreError(f"nothing trained in workspace {workspace.root}: run 'hiergenre train-all' first")
    notes = []
    if workspace.bundled:
        if data is None:
            raise HierGenreError(
                f"{workspace.root} holds no trained tree, and the held-out clips of the bundled model (GTZAN) are "
                "not shipped: score it on labelled music of yours with --data DIR"
            )
        notes.append(f"no trained tree in {workspace.root}: scored {bundled_summary()}")
    if not trees and reference.name not in trained:
        notes.append(
            f"the built tree {reference.name!r} is not trained, so only {', '.join(names)} are scored: "
            f"train it with {workspace.retrain_command()}"
        )
    policy = get_policy(routing)
    manifests = {name: workspace.manifest(name) for name in names}  # to check the routing before loading models
    single = [n for n in names if len(manifests[n].genre_tree.model_nodes) == 1]
    if trees:
        for name in single:
            check_routing_applies(manifests[name].genre_tree, policy)
    elif single and policy.name != "greedy":
        notes.append(f"--routing {policy.name} combines a cascade's decisions: {', '.join(single)} have one node each")
    external = load_labelled(data, metadata) if data is not None else None
    visible = {"workspace": workspace.root} | ({"data set": Path(external.root)} if external else {})
    backend.check_visible(visible, writable=["workspace"])
    results, skipped = {}, {}
    scored: dict[str, Manifest] = {}  # the manifest of the version each model was scored with
    for name in names:
        runtime = "litert" if workspace.bundled else EVALUATION_RUNTIME  # the bundle has no Keras files
        trained = workspace.open(name, runtime=runtime, with_flat=policy.uses_flat)
        scored[name] = trained.manifest
        split = trained.manifest.test_split
        if external is not None:
            pool = external.clips
        else:
            pool, missing = present_test_clips(name, trained.manifest, workspace)
            notes += missing
        how = HowToScore(policy, backend, samples, target_accuracy, split if external else None)
        results[name], extra = score_model(name, trained, pool, reference, workspace, how, skipped)
        notes += extra
    source = str(data) if data is not None else "test part of each model's split"
    training = {name: training_context(scored[name]) for name in results}
    synthetic = [name for name in results if scored[name].synthetic]
    return EvaluationReport(reference, results, source, skipped, notes, policy.name, training, synthetic)


@dataclass(frozen=True)
class HowToScore:
    """The settings of one evaluation (see :func:`evaluate_workspace`)."""

    policy: RoutingPolicy
    backend: Backend
    samples: bool
    target_accuracy: float | None
    #: The model's split when scoring other data: its training clips among them are counted apart.
    seen_split: Split | None


def score_model(
    name: str,
    trained: TrainedTree,
    pool: Sequence[Clip],
    reference: GenreTree,
    workspace: Workspace,
    how: HowToScore,
    skipped: dict[str, str],
) -> tuple[ModelScores, list[str]]:
    """Every number of one model on the clips of ``pool`` it can be scored on, and notes.

    Clips labelled with a genre of the model get every metric. When the model's genres are the
    reference tree's, clips labelled with one of its groups (partial labels) are scored at their
    depth (right when the genre predicted lies below the group) and join the operating curve.
    """
    cascade = trained.cascade
    genres = set(cascade.tree.leaves)
    whole = genres == set(reference.leaves)
    groups = set(reference.groups[1:]) if whole else set()
    if not any(c.genre in genres for c in pool):
        raise HierGenreError(f"no test clip for tree {name!r} (its split has an empty test part; use --data)")
    policy = how.policy
    scorable = [c for c in pool if c.genre in genres | groups]
    readable, raw = score_clips(trained, scorable, workspace, how.backend, skipped, policy)
    if not readable:
        unread = ", ".join(f"{Path(c.path).name} ({skipped.get(str(c.path), 'unreadable')})" for c in scorable[:2])
        raise HierGenreError(f"none of the {len(scorable)} clips for tree {name!r} could be read: {unread}")
    calibrated = cascade.calibrated(raw)
    routes = cascade.routes_of(calibrated, policy)
    labels = [c.genre for c in readable]
    full = [i for i, label in enumerate(labels) if label in genres]
    true, full_routes = [labels[i] for i in full], [routes[i] for i in full]
    scores = score(name, true, [r.genre for r in full_routes], reference, full_routes, cascade.tree)
    notes = []
    partial = [i for i, label in enumerate(labels) if label not in genres]
    if partial:
        right = np.mean([reference.covers(routes[i].genre, labels[i]) for i in partial])
        scores.partial = {"clips": len(partial), "right_at_depth": float(right)}
    if full:
        before = (raw.rows(full), cascade.routes_of(raw.rows(full), policy))
        after = (calibrated.rows(full), full_routes)
        scores.calibration = model_calibration(
            reference, cascade.tree, true, before, after, temperatures(cascade), samples=how.samples
        )
    if whole and routes:
        leaves = np.array([[r.distribution.get(g, 0.0) for g in reference.leaves] for r in routes])
        scores.operating = operating_curve(reference, leaves, labels).as_dict()
        if how.target_accuracy is not None:
            try:
                test = (leaves, labels, [r.genre for r in routes])
                scores.target = target_on_test(trained, policy, reference, test, how.target_accuracy)
            except HierGenreError as exc:  # no validation clips: the other numbers still stand
                notes.append(f"{name}: --target-accuracy: {exc}")
    if how.seen_split is not None:
        notes += mark_seen_clips(scores, [readable[i] for i in full], [r.genre for r in full_routes], how.seen_split)
    return scores, notes


def present_test_clips(name: str, manifest: Manifest, workspace: Workspace) -> tuple[tuple[Clip, ...], list[str]]:
    """The test clips of a model's split that are where its manifest says, and a note naming the missing ones.

    Manifests record the data's folder absolute; hiergenre before 0.5 recorded it as given to
    train-all, relative to where that ran, which is most often the workspace's parent folder. When
    no test clip is left: a one-line error saying which are missing and how many.
    """
    clips = manifest.test_split.test
    root = Path(str(manifest.split.get("root", "")))
    if not root.is_absolute() and not all(c.path.is_file() for c in clips):
        beside = workspace.root.absolute().parent
        moved = tuple(replace(c, path=beside / c.path) for c in clips)
        if sum(c.path.is_file() for c in moved) > sum(c.path.is_file() for c in clips):
            clips, root = moved, beside / root
    missing = [c for c in clips if not c.path.is_file()]
    if not missing:
        return clips, []
    shown = ", ".join(c.clip_id for c in missing[:3]) + (", ..." if len(missing) > 3 else "")
    what = f"{len(missing)} of the {len(clips)} test clips of tree {name!r} not found in {root.absolute()} ({shown})"
    if len(missing) == len(clips):
        raise HierGenreError(
            f"{what}: the data moved or was deleted; put it back, or score a whole data set with --data DIR"
        )
    return tuple(c for c in clips if c.path.is_file()), [f"{what}: scored on the other {len(clips) - len(missing)}"]


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
    trained: TrainedTree,
    clips: Sequence[Clip],
    workspace: Workspace,
    backend: Backend,
    skipped: dict[str, str],
    routing: str | RoutingPolicy,
) -> tuple[list[Clip], ClipScores]:
    """The clips that could be read and their raw model scores; the others are added to ``skipped``.

    The inputs come from the tree's front-end, its features cached in the workspace.
    """
    cascade, front_end = trained.cascade, trained.front_end
    cache = FeatureCache(workspace.cache_dir)
    frames, failures = front_end.extract([c.path for c in clips], cache=cache, backend=backend)
    skipped.update(failures)
    readable = [c for c in clips if str(c.path) in frames]
    stacks = [front_end.clip_windows(frames[str(c.path)]) for c in readable]
    empty = ClipScores({node: np.zeros((0, len(cascade.tree.children(node)))) for node in cascade.tree.model_nodes})
    return readable, cascade.scores(stacks, routing) if stacks else empty


def temperatures(cascade: Cascade) -> dict[str, float]:
    """Each model's temperature (1 for one without), the flat model's as ``flat``."""
    models = {**cascade.classifiers, **({"flat": cascade.flat} if cascade.flat is not None else {})}
    return {name: float(getattr(model, "temperature", 1.0)) for name, model in models.items()}
