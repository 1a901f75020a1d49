"""The Python API: what the CLI commands do, callable from Python.

>>> import hiergenre
>>> tree = hiergenre.build_tree("hierarchies/default.yaml", workdir="ws")   # doctest: +SKIP
>>> report = hiergenre.train_all(workdir="ws", epochs=30)                  # doctest: +SKIP
>>> [p.genre for p in hiergenre.predict(["song.au"], workdir="ws")]         # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hiergenre import __version__
from hiergenre.cascade import ROUTING_POLICIES, Cascade, Route
from hiergenre.config import DEFAULT_PRESET, Preset, get_preset, stable_hash, with_node_model
from hiergenre.datasets import Dataset, Split, load_dataset, parse_split
from hiergenre.discovery import LearnedTree
from hiergenre.errors import HierGenreError
from hiergenre.features import (
    FeatureCache,
    LmfccMatrices,
    extract_many,
    prediction_windows,
)
from hiergenre.hierarchy import ROOT, GenreTree
from hiergenre.models import NodeModel, write_json_atomic
from hiergenre.prediction import Prediction, Predictor
from hiergenre.storage import atomic_file
from hiergenre.synthetic import write_corpus
from hiergenre.training import NodeResult, Reporter, train_tree
from hiergenre.workspace import MANIFEST_VERSION, Workspace

BASELINE3_GENRES = ("metal", "classical", "disco")
#: Per trained tree: the matrices the lean (LiteRT) prediction path computes LMFCC with.
FEATURE_MATRICES = "features.npz"
BACKENDS = ("litert", "keras")
SYNTHETIC_CLIPS_PER_GENRE = 10


def build_tree(tree_file: str | Path, *, workdir: str | Path | None = None, draw: bool = True) -> GenreTree:
    """Validate a YAML tree, store it as the workspace's tree, and draw it to ``tree.png``."""
    tree = GenreTree.from_file(tree_file)
    for reserved in ("flat", "baseline3"):
        if tree.name == reserved and tree != _reference_tree(reserved, tree.leaves):
            raise HierGenreError(f"tree name {reserved!r} is reserved for the {reserved} baseline; rename the tree")
    workspace = Workspace(workdir)
    workspace.save_built_tree(tree)
    if draw:
        from hiergenre.render import draw_tree

        draw_tree(tree, workspace.tree_png)
    return tree


def learn_tree(
    output: str | Path,
    *,
    workdir: str | Path | None = None,
    data: str | Path | None = None,
    split: str = "paper",
    groups: int = 3,
    seed: int = 0,
    jobs: int = 1,
    force: bool = False,
    on_extracted: Callable[[], None] | None = None,
) -> LearnedTree:
    """Derive a tree from the train and valid parts of a data set, write it as YAML and build it.

    The test part is never looked at, so a cascade of the learned tree can be scored honestly on
    it. ``output`` is not overwritten unless ``force``: it may be a tree the user edited.
    """
    from hiergenre.discovery import learn_tree as derive
    from hiergenre.discovery import learned_yaml

    output = Path(output)
    if output.exists() and not force:
        raise HierGenreError(f"{output} exists; choose another file or pass --force to overwrite it")
    name = output.stem if output.stem not in ("flat", "baseline3") else f"{output.stem}-learned"
    workspace = Workspace(workdir)
    dataset = resolve_dataset(data, workspace, seed=seed)
    frames, failures = extract_many(
        [c.path for c in dataset.clips],
        get_preset(DEFAULT_PRESET).features,
        cache=FeatureCache(workspace.cache_dir),
        jobs=jobs,
        on_done=on_extracted,
    )
    dataset = dataset.without(failures)
    the_split = parse_split(split, dataset.clips, seed=seed)
    seen = [c for c in (*the_split.train, *the_split.valid) if str(c.path) in frames]
    learned = derive([frames[str(c.path)] for c in seen], [c.genre for c in seen], groups=groups, seed=seed, name=name)
    source = f"{'the SYNTHETIC corpus' if dataset.synthetic else dataset.root}, split {the_split.description}"
    with atomic_file(output) as out:
        out.write(learned_yaml(learned, source))
    build_tree(output, workdir=workspace.root)
    return learned


def _reference_tree(name: str, leaves: Sequence[str]) -> GenreTree:
    if name == "flat":
        return GenreTree.flat(leaves, "flat")
    return GenreTree.flat([g for g in BASELINE3_GENRES], "baseline3")


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


def resolve_dataset(data: str | Path | None, workspace: Workspace, *, seed: int = 0) -> Dataset:
    """The user's data set, or the embedded synthetic corpus (written on first use) when None."""
    if data is not None:
        return load_dataset(data)
    root = write_corpus(workspace.corpus_dir, clips_per_genre=SYNTHETIC_CLIPS_PER_GENRE, seed=seed)
    found = load_dataset(root)
    return Dataset(found.root, found.clips, synthetic=True)


def trees_to_train(
    tree: GenreTree, genres: Iterable[str], *, baseline3: bool = True
) -> tuple[list[tuple[str, GenreTree]], list[str]]:
    """The built tree, the flat model over its leaves, and the 3-class baseline, without duplicates."""
    genres = set(genres)
    candidates = [("tree", tree), ("flat", GenreTree.flat(tree.leaves, "flat"))]
    notes = []
    if not baseline3:
        pass
    elif set(BASELINE3_GENRES) <= genres:
        candidates.append(("baseline3", _reference_tree("baseline3", [])))
    else:
        missing = sorted(set(BASELINE3_GENRES) - genres)
        notes.append(f"skipped the 3-class baseline: the data has no {', '.join(missing)}")
    chosen: list[tuple[str, GenreTree]] = []
    for role, candidate in candidates:
        twin = next((t for _, t in chosen if t.to_spec() == candidate.to_spec()), None)
        if twin is not None:
            notes.append(f"the {role} model is the same as tree {twin.name!r}: trained once")
            continue
        chosen.append((role, candidate))
    return chosen, notes


def preset_notes(preset: Preset) -> list[str]:
    """Warnings about a preset and node-model pairing that trains but measures the wrong thing."""
    if preset.train.node_model == "auto" and preset.train.cross_fitted:
        return [
            f"--node-model auto chooses on validation clips that the cross-fitted networks of preset "
            f"{preset.name!r} trained on, so the choice favours the CNN; use --preset improved for a fair choice"
        ]
    return []


def train_all(
    *,
    workdir: str | Path | None = None,
    data: str | Path | None = None,
    split: str = "paper",
    preset: str = DEFAULT_PRESET,
    node_model: str | None = None,
    epochs: int | None = None,
    jobs: int = 1,
    seed: int = 0,
    reporter: Reporter | None = None,
    on_extracted: Callable[[], None] | None = None,
    on_dataset: Callable[[Dataset, int], None] | None = None,
    baseline3: bool = True,
) -> TrainingReport:
    """Train every model of the workspace: the built tree's nodes, the flat model, the 3-class baseline.

    ``baseline3=False`` skips the 3-class baseline (benchmarks that do not need it).
    ``epochs`` caps the preset's epoch count (for quick runs); ``node_model`` overrides the
    preset's classifier kind (cnn, stats, ensemble, auto). Unreadable files are skipped and
    listed in the report. Node models whose inputs did not change since the last run are reused.
    """
    started = time.perf_counter()
    workspace = Workspace(workdir)
    tree = workspace.built_tree()
    chosen = with_node_model(get_preset(preset), node_model)
    dataset = resolve_dataset(data, workspace, seed=seed)
    missing = sorted(set(tree.leaves) - set(dataset.genres))
    if missing:
        raise HierGenreError(
            f"genres of tree {tree.name!r} missing from the data set {dataset.root}: {', '.join(missing)}"
        )
    notes = preset_notes(chosen)
    unused = sorted(set(dataset.genres) - set(tree.leaves))
    if unused:
        notes.append(f"ignored genres not in the tree: {', '.join(unused)}")
    dataset = Dataset(dataset.root, tuple(c for c in dataset.clips if c.genre in tree.leaves), dataset.synthetic)
    if on_dataset:
        on_dataset(dataset, len(dataset.clips))
    frames, failures = extract_many(
        [c.path for c in dataset.clips],
        chosen.features,
        cache=FeatureCache(workspace.cache_dir),
        jobs=jobs,
        on_done=on_extracted,
    )
    dataset = dataset.without(failures)
    if not dataset.clips:
        raise HierGenreError("no clip of the data set could be read")
    the_split = parse_split(split, dataset.clips, seed=seed)
    plan, plan_notes = trees_to_train(tree, dataset.genres, baseline3=baseline3)
    notes += plan_notes
    max_epochs = min(epochs, chosen.train.epochs) if epochs else chosen.train.epochs
    if max_epochs < 1:
        raise HierGenreError(f"--epochs must be at least 1, got {epochs}")
    split_record = the_split.to_dict(dataset)
    results: list[NodeResult] = []
    for role, model_tree in plan:
        restricted = _restrict_split(the_split, model_tree)
        out_dir = workspace.tree_dir(model_tree.name)
        tree_results = train_tree(
            model_tree,
            (restricted.train, restricted.valid),
            frames,
            chosen,
            out_dir,
            epochs=max_epochs,
            seed=seed,
            data_fingerprint=dataset.fingerprint(),
            split_key=stable_hash(split_record),
            reporter=reporter,
        )
        results += tree_results
        notes += [
            f"{model_tree.name}/{r.node}: its training data held a single class, so it always answers that class"
            for r in tree_results
            if r.kind == "constant"
        ]
        LmfccMatrices.from_librosa(chosen.features).save(out_dir / FEATURE_MATRICES)
        write_json_atomic(
            out_dir / "manifest.json",
            {
                "format_version": MANIFEST_VERSION,
                "hiergenre_version": __version__,
                "tree_name": model_tree.name,
                "role": role,
                "tree": model_tree.to_spec(),
                "nodes": model_tree.model_nodes,
                "preset": chosen.name,
                "node_model": chosen.train.node_model,
                "epochs_cap": max_epochs,
                "seed": seed,
                "dataset": {
                    "root": str(dataset.root),
                    "synthetic": dataset.synthetic,
                    "fingerprint": dataset.fingerprint(),
                    "clips": len(dataset.clips),
                },
                "split": split_record,
                "skipped_files": failures,
                "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
    return TrainingReport(
        dataset=str(dataset.root),
        synthetic=dataset.synthetic,
        split=the_split.description,
        results=results,
        skipped_files=failures,
        notes=notes,
        seconds=time.perf_counter() - started,
    )


@dataclass
class EvaluationReport:
    """Scores of every trained model of a workspace on the same kind of clips."""

    reference: GenreTree
    scores: dict[str, Any]
    source: str
    skipped_files: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "reference_tree": self.reference.to_spec(),
            "source": self.source,
            "skipped_files": self.skipped_files,
            "models": {name: s.as_dict() for name, s in self.scores.items()},
        }


def evaluate(
    *,
    workdir: str | Path | None = None,
    data: str | Path | None = None,
    trees: Sequence[str] | None = None,
    jobs: int = 1,
    routing: str = "greedy",
) -> EvaluationReport:
    """Score each trained tree on the test part of its split, or on all of ``data``.

    Hierarchical metrics use the built tree as reference for every model, so the flat model's
    mistakes are judged by the same groups as the cascade's. ``routing`` is the cascade's
    routing policy (see :mod:`hiergenre.cascade`); single-node models are unaffected by it.
    """
    from hiergenre.evaluation import score

    workspace = Workspace(workdir)
    reference = workspace.built_tree()
    trained = workspace.trained_trees()
    first = [n for n in (reference.name, "flat", "baseline3") if n in trained]
    names = list(trees) if trees else first + [n for n in trained if n not in first]
    if not names:
        raise HierGenreError(f"nothing trained in workspace {workspace.root}: run 'hiergenre train-all' first")
    external = load_dataset(data) if data is not None else None
    results, skipped = {}, {}
    for name in names:
        cascade = load_cascade(workdir=workspace.root, tree=name, routing=routing)
        leaves = set(cascade.tree.leaves)
        pool = external.clips if external is not None else Split.from_dict(workspace.manifest(name)["split"]).test
        clips = [c for c in pool if c.genre in leaves]
        if not clips:
            raise HierGenreError(f"no test clip for tree {name!r} (its split has an empty test part; use --data)")
        true, routes = _route_clips(cascade, clips, workspace, jobs, skipped, routing)
        results[name] = score(name, true, [r.genre for r in routes], reference, routes, cascade.tree)
    source = str(data) if data is not None else "test part of each model's split"
    return EvaluationReport(reference, results, source, skipped)


def _route_clips(
    cascade: Cascade, clips: Sequence, workspace: Workspace, jobs: int, skipped: dict[str, str], routing: str
) -> tuple[list[str], list[Route]]:
    config = next(iter(cascade.classifiers.values())).features
    frames, failures = extract_many([c.path for c in clips], config, cache=FeatureCache(workspace.cache_dir), jobs=jobs)
    skipped.update(failures)
    true, routes = [], []
    for clip in clips:
        if str(clip.path) in frames:
            stack = prediction_windows(frames[str(clip.path)], config)
            true.append(clip.genre)
            routes.append(cascade.route(stack, routing))
    return true, routes


def _restrict_split(split: Split, tree: GenreTree) -> Split:
    keep = set(tree.leaves)
    parts = [tuple(c for c in split.part(p) if c.genre in keep) for p in ("train", "valid", "test")]
    return Split(*parts, description=split.description)


def load_cascade(
    *, workdir: str | Path | None = None, tree: str | None = None, routing: str = "greedy", backend: str = "keras"
) -> Cascade:
    """The trained cascade of ``tree`` (default: the built tree) from the workspace.

    ``backend="keras"`` loads the Keras networks (imports TensorFlow); ``"litert"`` their LiteRT
    exports (numpy and ai-edge-litert only). For the ``blend`` routing policy the flat model over
    the same genres is loaded as well.
    """
    if routing not in ROUTING_POLICIES:
        raise HierGenreError(f"unknown routing policy {routing!r}; choose one of: {', '.join(ROUTING_POLICIES)}")
    if backend not in BACKENDS:
        raise HierGenreError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    workspace = Workspace(workdir)
    name = tree or workspace.default_tree_name()
    genre_tree = GenreTree.from_spec(workspace.manifest(name)["tree"], name)
    if tree is None and genre_tree.to_spec() != workspace.built_tree().to_spec():
        raise HierGenreError(
            f"the models of tree {name!r} in {workspace.root} were trained for another version of the tree than "
            "the one built now: run 'hiergenre train-all' again (or rebuild the tree they were trained for)"
        )
    directory = workspace.tree_dir(name)
    models = {node: NodeModel.load(directory, node, backend) for node in genre_tree.model_nodes}
    flat = None
    if routing == "blend" and len(genre_tree.model_nodes) > 1:
        flat_tree = GenreTree.from_spec(workspace.manifest("flat")["tree"], "flat")
        if sorted(flat_tree.leaves) != sorted(genre_tree.leaves):
            raise HierGenreError(f"routing 'blend': the trained flat model's genres differ from tree {name!r}'s")
        flat = NodeModel.load(workspace.tree_dir("flat"), ROOT, backend)
    return Cascade(genre_tree, models, flat=flat)


def load_predictor(
    *, workdir: str | Path | None = None, tree: str | None = None, routing: str = "greedy", backend: str = "litert"
) -> Predictor:
    """Everything prediction needs, loaded once: the cascade, its feature settings and feature path.

    The default ``litert`` backend computes LMFCC with numpy from the matrices stored at training,
    so neither TensorFlow, Keras nor librosa is imported; ``keras`` is the reference path.
    """
    cascade = load_cascade(workdir=workdir, tree=tree, routing=routing, backend=backend)
    config = next(iter(cascade.classifiers.values())).features
    matrices = None
    if backend == "litert":
        workspace = Workspace(workdir)
        matrices = LmfccMatrices.load(workspace.tree_dir(cascade.tree.name) / FEATURE_MATRICES)
    return Predictor(cascade, config, matrices, routing)


def predict(
    paths: Iterable[str | Path],
    *,
    workdir: str | Path | None = None,
    tree: str | None = None,
    routing: str = "greedy",
    backend: str = "litert",
    jobs: int = 1,
    predictor: Predictor | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[Prediction]:
    """Route each file root to leaf; a file that cannot be read gets an error, not an exception.

    Directories expand to the audio files below them. ``jobs`` threads decode and compute features
    in parallel; results keep the input order.
    """
    predictor = predictor or load_predictor(workdir=workdir, tree=tree, routing=routing, backend=backend)
    return predictor.predict(paths, jobs=jobs, on_done=on_done)
