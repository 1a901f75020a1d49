"""Deriving a genre tree from data instead of from intuition.

A cascade only helps when its first decision is easy: the groups must be what the audio says,
not what a musicologist would say (the report's groups put disco apart from pop and country, which
it is confused with). So the groups are found from the confusions of a classifier:

1. the statistics of every training clip's frames (LMFCC or musicnn) are classified (never the
   validation part, which calibrates the models, nor the test part)
   by logistic regression with stratified cross-validation, so each clip gets out-of-fold
   probabilities over all genres;
2. genre ``a``'s affinity with genre ``b`` is the mean probability of ``b`` given to clips of
   ``a``, symmetrised;
3. average-linkage agglomerative clustering on ``1 − affinity`` cuts the genres into groups;
   a group of one genre hangs directly under the root.

The statistics classifier is a cheap stand-in for the flat CNN (at this data size both learn
timbre statistics and confuse the same genres), which keeps ``build-tree --learn`` a matter of
seconds on CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hiergenre.cascade.hierarchy import GenreTree, unreserved_name
from hiergenre.config import FeatureSettings
from hiergenre.data.datasets import Dataset, parse_split
from hiergenre.errors import HierGenreError
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.models.statistics import frame_statistics
from hiergenre.storage import atomic_file


@dataclass(frozen=True)
class LearnedTree:
    """A derived tree and the evidence behind it."""

    tree: GenreTree
    genres: list[str]
    affinity: np.ndarray
    out_of_fold_accuracy: float
    clips: int


def genre_affinity(
    features: Sequence[np.ndarray], labels: Sequence[str], *, seed: int = 0, folds: int = 5
) -> tuple[list[str], np.ndarray, float]:
    """Symmetric genre-by-genre affinity from out-of-fold probabilities, and the OOF accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    genres = sorted(set(labels))
    counts = [list(labels).count(g) for g in genres]
    if len(genres) < 3:
        raise HierGenreError(f"learning a tree needs at least 3 genres, the data has {len(genres)}")
    folds = min(folds, min(counts))
    if folds < 2:
        raise HierGenreError("learning a tree needs at least 2 training clips of every genre")
    x = np.stack([frame_statistics(f) for f in features])
    y = np.array([genres.index(g) for g in labels])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(model, x, y, cv=cv, method="predict_proba")
    confusion = np.stack([proba[y == i].mean(axis=0) for i in range(len(genres))])
    affinity = (confusion + confusion.T) / 2
    return genres, affinity, float(np.mean(proba.argmax(axis=1) == y))


def tree_from_affinity(genres: Sequence[str], affinity: np.ndarray, groups: int, name: str) -> GenreTree:
    """Cut the genres into ``groups`` clusters by average linkage on ``1 − affinity``."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if not 2 <= groups < len(genres):
        raise HierGenreError(f"--groups must be between 2 and {len(genres) - 1} for {len(genres)} genres, got {groups}")
    distance = 1.0 - np.asarray(affinity, dtype=np.float64)
    np.fill_diagonal(distance, 0.0)
    distance = np.clip((distance + distance.T) / 2, 0.0, None)
    labels = fcluster(linkage(squareform(distance), method="average"), t=groups, criterion="maxclust")
    clusters: dict[int, list[str]] = {}
    for genre, label in zip(genres, labels, strict=True):
        clusters.setdefault(int(label), []).append(genre)
    ordered = sorted(clusters.values(), key=lambda members: (-len(members), members))
    spec: dict[str, list[str]] = {}
    singles = []
    for members in ordered:
        if len(members) == 1:
            singles.append(members[0])
        else:
            spec["_".join(members)] = members
    if singles:
        return GenreTree.from_spec([*({k: v} for k, v in spec.items()), *singles], name)
    return GenreTree.from_spec(spec, name)


def learn_tree(
    features: Sequence[np.ndarray], labels: Sequence[str], *, groups: int = 3, seed: int = 0, name: str = "learned"
) -> LearnedTree:
    """Derive a tree of ``groups`` top-level groups from clips' matrices of frames and genres."""
    genres, affinity, accuracy = genre_affinity(features, labels, seed=seed)
    tree = tree_from_affinity(genres, affinity, groups, name)
    return LearnedTree(tree, genres, affinity, accuracy, len(labels))


def learned_yaml(learned: LearnedTree, source: str, front_end: str = "lmfcc") -> str:
    """The tree as YAML, headed by comments saying how it was derived and how close the groups are."""
    lines = [
        f"# Learned by 'hiergenre build-tree --learn' from {source}.",
        f"# Out-of-fold confusions of a {front_end}-statistics classifier on {learned.clips} training clips "
        f"(accuracy {100 * learned.out_of_fold_accuracy:.0f}%); average-linkage clustering.",
        "# Edit freely, then run 'hiergenre build-tree' on this file.",
        "# Closest genre pairs (mean affinity, higher = more confused):",
    ]
    pairs = [
        (learned.affinity[i, j], a, b)
        for i, a in enumerate(learned.genres)
        for j, b in enumerate(learned.genres)
        if i < j
    ]
    lines += [f"#   {a} ~ {b}: {value:.3f}" for value, a, b in sorted(pairs, reverse=True)[:8]]
    return "\n".join(lines) + "\n" + learned.tree.to_yaml()


def learn_tree_from_data(
    dataset: Dataset,
    output: Path,
    *,
    features: FeatureSettings,
    cache_dir: Path,
    split: str,
    groups: int,
    seed: int,
    jobs: int,
    on_extracted: Callable[[], None] | None = None,
) -> LearnedTree:
    """Learn a tree from the training part of ``split``, write it to ``output``.

    Never from its validation part: those clips calibrate the models trained for the tree, and the
    ``--target-accuracy`` guarantee needs them untouched by any choice, the tree's groups included.

    The tree is named after the file (``NAME-learned`` when the file is named like a reference
    tree); the YAML is headed by comments on how it was derived.
    """
    frames, failures = extract_many(
        [c.path for c in dataset.clips], features, cache=FeatureCache(cache_dir), jobs=jobs, on_done=on_extracted
    )
    dataset = dataset.without(failures)
    the_split = parse_split(split, dataset.clips, seed=seed)
    seen = [c for c in the_split.train if str(c.path) in frames]
    learned = learn_tree(
        [frames[str(c.path)] for c in seen],
        [c.genre for c in seen],
        groups=groups,
        seed=seed,
        name=unreserved_name(output.stem),
    )
    source = f"{'the SYNTHETIC corpus' if dataset.synthetic else dataset.root}, split {the_split.description}"
    with atomic_file(output) as out:
        out.write(learned_yaml(learned, source, features.kind))
    return learned
