"""``train-all``: every model of a workspace, from data to manifests.

The built tree's nodes, the flat model over the same genres and the report's 3-class baseline
(when the data has its genres) are trained on the same split of the same features, so the
benchmarks and ``evaluate`` compare like with like. Steps: resolve the data set (or write the
embedded synthetic corpus), extract LMFCC (cached), split, plan one job per node model of every
tree (:func:`~hiergenre.training.tree.plan_tree`), run them in parallel worker processes
(:func:`~hiergenre.training.jobs.run_node_jobs`), then write each tree's LMFCC matrices into its model
folder and publish it with its :class:`~hiergenre.workspace.manifest.Manifest`. Every path inside a
tree's folder comes from :mod:`hiergenre.workspace.folders`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from hiergenre.cascade.hierarchy import (
    BASELINE3_GENRES,
    REFERENCE_TREES,
    GenreTree,
    is_reference_tree,
    reference_tree,
    same_decisions,
)
from hiergenre.config import Preset, stable_hash
from hiergenre.data.datasets import Dataset, Split, load_dataset, parse_split
from hiergenre.data.fma import load_labelled
from hiergenre.data.synthetic.corpus import write_corpus
from hiergenre.errors import HierGenreError
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.features.registry import front_end_for
from hiergenre.parallel.backends import Backend, LocalBackend
from hiergenre.progress import PhaseTimer, Reporter
from hiergenre.training.jobs import run_node_jobs
from hiergenre.training.tree import NodeResult, model_version, plan_tree, remove_leftovers
from hiergenre.workspace.folders import VersionFolder
from hiergenre.workspace.layout import Workspace
from hiergenre.workspace.manifest import Manifest, data_record, describe_data, same_data
from hiergenre.workspace.validation import write_tree_validation

SYNTHETIC_CLIPS_PER_GENRE = 10


@dataclass
class TrainingReport:
    """What train-all did: the data, the split, each model's numbers, and what was skipped."""

    dataset: str
    synthetic: bool
    split: str
    results: list[NodeResult]
    skipped_files: dict[str, str]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Seconds per phase, summed over worker processes: ``features`` (decoding and LMFCC), the
    #: training phases of every node (``import``, ``setup``, ``draw``, ``steps``, ``validation``,
    #: ``statistics``), ``export``
    #: (Keras and LiteRT files), ``score`` (the summary's accuracies) and ``write`` (manifests).
    timings: dict[str, float] = field(default_factory=dict)
    #: Processes that trained node models (``--jobs``, at most one per model).
    workers: int = 1
    #: Where the jobs ran (:meth:`hiergenre.parallel.backends.Backend.describe`).
    backend: str = ""

    @property
    def device(self) -> str:
        """Where the networks of this run trained (``CPU``, ``GPU (...)``), or empty when none trained."""
        return next((r.device for r in self.results if r.device), "")


def resolve_dataset(
    data: str | None,
    workspace: Workspace,
    *,
    seed: int = 0,
    metadata: str | None = None,
    replace_data: bool = True,
) -> Dataset:
    """The user's data set (with ``metadata``: FMA's layout), or the embedded synthetic corpus
    (written on first use) when None: then, unless ``replace_data``, refused before it is written
    when the models train-all would replace were trained on real data (:func:`check_same_data`)."""
    if data is not None:
        options = ("--data", str(Path(data).resolve()))
        if metadata is not None:
            options += ("--metadata", str(Path(metadata).resolve()))
        return replace(load_labelled(data, metadata), data_options=options)
    if metadata is not None:
        raise HierGenreError("--metadata describes the audio of --data: give both")
    if not replace_data:
        corpus = Dataset(workspace.corpus_dir, (), synthetic=True)
        check_same_data(workspace, corpus, [workspace.built_tree().name, *REFERENCE_TREES], replace_data=False)
    root = write_corpus(workspace.corpus_dir, clips_per_genre=SYNTHETIC_CLIPS_PER_GENRE, seed=seed)
    found = load_dataset(root)
    return Dataset(found.root, found.clips, synthetic=True)


def trees_to_train(
    tree: GenreTree, genres: Iterable[str], *, baseline3: bool = True, data_genres: Iterable[str] | None = None
) -> tuple[list[tuple[str, GenreTree]], list[str]]:
    """The built tree, the flat model over its leaves, and the 3-class baseline, without duplicates.

    ``genres`` are those the models train on (the data's, kept to the tree's labels); ``data_genres``
    all the data's, so that a skipped baseline blames the tree or the data, whichever lacks its genres.
    """
    genres = set(genres)
    if is_reference_tree(tree):  # the built tree is flat or baseline3 itself: its canonical genre order
        tree = reference_tree(tree.name, tree.leaves)
    candidates = [("tree", tree), ("flat", reference_tree("flat", tree.leaves))]
    notes = []
    if baseline3 and set(BASELINE3_GENRES) <= genres:
        candidates.append(("baseline3", reference_tree("baseline3", ())))
    elif baseline3:
        missing = [g for g in BASELINE3_GENRES if g not in genres]
        in_data = set(genres if data_genres is None else data_genres)
        data_lacks = [g for g in missing if g not in in_data]
        tree_lacks = [g for g in missing if g in in_data]  # the data has them, but only the tree's genres train
        why = [f"the data has no {', '.join(data_lacks)} clips"] if data_lacks else []
        why += [f"tree {tree.name!r} leaves out {', '.join(tree_lacks)}"] if tree_lacks else []
        notes.append(f"skipped the 3-class baseline, which needs {', '.join(BASELINE3_GENRES)} clips: {'; '.join(why)}")
    chosen: list[tuple[str, GenreTree]] = []
    for role, candidate in candidates:
        twin = next((t for _, t in chosen if same_decisions(t, candidate)), None)
        if twin is not None:
            notes.append(f"the {role} model is the same as tree {twin.name!r}: trained once")
            continue
        chosen.append((role, candidate))
    return chosen, notes


def preset_notes(preset: Preset) -> list[str]:
    """Warnings about a preset and node-model pairing that trains but measures the wrong thing."""
    if preset.train.node_model == "auto" and preset.train.patience is None:
        return [
            f"--node-model auto chooses on training clips the networks hold out for early stopping, which preset "
            f"{preset.name!r} does not do: every node keeps the CNN and statistics averaged"
        ]
    return []


def restrict_split(split: Split, tree: GenreTree) -> Split:
    """The split without the clips ``tree`` cannot learn from: those labelled with neither one of
    its genres nor one of its groups (a partial label, which trains the nodes above the group)."""
    keep = set(tree.leaves) | set(tree.groups[1:])  # the groups below the root
    parts = [tuple(c for c in split.part(p) if c.genre in keep) for p in ("train", "valid", "test")]
    return Split(*parts, description=split.description)


def train_workspace(
    workspace: Workspace,
    dataset: Dataset,
    preset: Preset,
    *,
    split: str,
    epochs: int,
    jobs: int = 1,
    seed: int,
    baseline3: bool = True,
    backend: Backend | None = None,
    reporter: Reporter | None = None,
    on_extracted: Callable[[], None] | None = None,
    on_dataset: Callable[[Dataset, int], None] | None = None,
    replace_data: bool = False,
) -> TrainingReport:
    """Train every model of the workspace on ``dataset`` (see the module docstring).

    ``epochs`` is the epoch count each network runs at most (already capped by the caller). The
    features are extracted and the node models trained on ``backend`` (default: ``jobs`` local
    processes), whose workers must see the workspace and the data. Models of the workspace trained
    on other real data are not replaced unless ``replace_data`` (:func:`check_same_data`).
    """
    started = time.perf_counter()
    backend = backend or LocalBackend(jobs)
    tree = workspace.built_tree()
    missing = sorted(set(tree.leaves) - set(dataset.genres))
    if missing:
        raise HierGenreError(
            f"genres of tree {tree.name!r} missing from the data set {dataset.root}: {', '.join(missing)}"
        )
    notes = [*preset_notes(preset), *dataset.notes]
    labels = set(tree.leaves) | set(tree.groups[1:])  # a group below the root is a partial label
    unused = sorted(set(dataset.genres) - labels)
    if unused:
        notes.append(f"ignored genres not in the tree: {', '.join(unused)}")
    partial = [c for c in dataset.clips if c.genre in labels - set(tree.leaves)]
    if partial:
        notes.append(
            f"{len(partial)} clips are labelled with a group (partial labels): they train only the nodes above it, "
            "not the flat model"
        )
    data_genres = dataset.genres
    dataset = dataset.keeping(labels)
    check_same_data(workspace, dataset, [tree.name, "flat", *(["baseline3"] if baseline3 else [])], replace_data)
    backend.check_visible({"workspace": workspace.root, "data set": Path(dataset.root)}, writable=["workspace"])
    if on_dataset:
        on_dataset(dataset, len(dataset.clips))
    timer = PhaseTimer()
    with timer.phase("features"):
        frames, failures = extract_many(
            [c.path for c in dataset.clips],
            preset.features,
            cache=FeatureCache(workspace.cache_dir),
            backend=backend,
            on_done=on_extracted,
        )
    dataset = dataset.without(failures)
    if not dataset.clips:
        raise HierGenreError("no clip of the data set could be read")
    the_split = parse_split(split, dataset.clips, seed=seed)
    plan, plan_notes = trees_to_train(tree, dataset.genres, baseline3=baseline3, data_genres=data_genres)
    notes += plan_notes
    split_record = the_split.to_dict(dataset)
    fingerprint, split_key = dataset.fingerprint(), stable_hash(split_record)
    jobs_of_tree = []
    out_dirs, calibration_parts = [], []
    for _, model_tree in plan:
        restricted = restrict_split(the_split, model_tree)
        calibration_parts.append(restricted.valid)
        version = model_version(model_tree, preset, fingerprint, split_key, epochs, seed)
        out_dir = workspace.tree_folder(model_tree.name).version(version).path
        out_dirs.append(out_dir)
        remove_leftovers(out_dir)
        jobs_of_tree.append(
            plan_tree(
                model_tree,
                (restricted.train, restricted.valid),
                frames,
                preset,
                out_dir,
                epochs=epochs,
                seed=seed,
                data_fingerprint=fingerprint,
                split_key=split_key,
            )
        )
    all_jobs = [job for tree_jobs in jobs_of_tree for job in tree_jobs]
    everything = run_node_jobs(all_jobs, backend=backend, reporter=reporter)
    for out_dir in out_dirs:  # what a worker killed while writing left (its job ran again elsewhere)
        remove_leftovers(out_dir)
    results: list[NodeResult] = []
    for (role, model_tree), tree_jobs, out_dir, calibration in zip(
        plan, jobs_of_tree, out_dirs, calibration_parts, strict=True
    ):
        tree_results, everything = everything[: len(tree_jobs)], everything[len(tree_jobs) :]
        results += tree_results
        for result in tree_results:
            timer.add(result.phase_seconds)
        notes += [
            f"{model_tree.name}/{r.node}: its training data held a single class, so it always answers that class"
            for r in tree_results
            if r.kind == "constant"
        ]
        with timer.phase("tree validation"):
            write_tree_validation(
                model_tree, VersionFolder(out_dir), calibration, frames, front_end_for(preset.features)
            )
        with timer.phase("write"):
            write_tree_records(
                workspace,
                out_dir,
                model_tree,
                role,
                preset,
                epochs,
                seed,
                dataset,
                split_record,
                failures,
            )
    return TrainingReport(
        dataset=str(dataset.root),
        synthetic=dataset.synthetic,
        split=the_split.description,
        results=results,
        skipped_files=failures,
        notes=notes,
        seconds=time.perf_counter() - started,
        timings=timer.seconds,
        workers=min(backend.workers, len(all_jobs)),
        backend=backend.describe(),
    )


def write_tree_records(
    workspace: Workspace,
    out_dir: Path,
    model_tree: GenreTree,
    role: str,
    preset: Preset,
    epochs: int,
    seed: int,
    dataset: Dataset,
    split_record: dict,
    failures: dict[str, str],
) -> None:
    """The front-end's files (LMFCC matrices of the lean path) into ``out_dir``, then the manifest that publishes it."""
    front_end = front_end_for(preset.features)
    front_end.save(VersionFolder(out_dir).feature_matrices)
    workspace.publish(
        Manifest(
            tree_name=model_tree.name,
            role=role,
            tree=model_tree.to_spec(),
            nodes=model_tree.model_nodes,
            preset=preset.name,
            node_model=preset.train.node_model,
            epochs_cap=epochs,
            seed=seed,
            dataset=data_record(dataset),
            split=split_record,
            skipped_files=failures,
            models=out_dir.name,
            front_end=front_end.record,
        )
    )


def check_same_data(workspace: Workspace, dataset: Dataset, names: Iterable[str], replace_data: bool) -> None:
    """Refuse, before anything is replaced, to train over models of ``names`` trained on other real data.

    Models trained on the synthetic corpus are replaced without asking (the demo's models give way
    to real ones); the same data moved elsewhere (same fingerprint) or grown in place (same
    folder) is the same data. ``replace_data`` replaces models trained on other data all the same.
    """
    if replace_data:
        return
    others: dict[str, list[str]] = {}
    for name in (n for n in names if n in workspace.trained_trees()):
        try:
            old = workspace.manifest(name).dataset
        except HierGenreError:  # an unreadable manifest: its models are retrained anyway
            continue
        if not old.get("synthetic") and not same_data(old, dataset):
            others.setdefault(describe_data(old), []).append(name)
    if others:
        old_data, trees = next(iter(others.items()))
        raise HierGenreError(
            f"the models {', '.join(trees)} in {workspace.root} were trained on {old_data}, and this run's data is "
            f"{describe_data(data_record(dataset))}: train on their data with 'hiergenre train-all "
            f"{' '.join(workspace.data_options(trees[0]))}', replace them with --replace-data, or use another --workdir"
        )
