"""The Python API: what the CLI commands do, callable from Python.

Each function checks its arguments once, here, and hands the work to a stage module
(:mod:`~hiergenre.training.run`, :mod:`~hiergenre.evaluation.evaluate`, :mod:`~hiergenre.prediction.predictor`,
:mod:`~hiergenre.training.discovery`, :mod:`~hiergenre.workspace.layout`).

>>> import hiergenre
>>> tree = hiergenre.build_tree("hierarchies/default.yaml", workdir="ws")   # doctest: +SKIP
>>> report = hiergenre.train_all(workdir="ws", epochs=30)                  # doctest: +SKIP
>>> [p.genre for p in hiergenre.predict(["song.au"], workdir="ws")]         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from hiergenre.cascade.calibration import get_calibration
from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.decoding import get_decoder
from hiergenre.cascade.hierarchy import GenreTree, check_not_reserved
from hiergenre.cascade.routing import get_policy
from hiergenre.config import DEFAULT_PRESET, get_preset, with_calibration, with_node_model
from hiergenre.data.datasets import Dataset, check_split
from hiergenre.data.taxonomy import FmaTree
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.evaluation.evaluate import EvaluationReport, evaluate_workspace
from hiergenre.parallel.backends import usable_cores
from hiergenre.parallel.choose import open_backend, parse_cluster
from hiergenre.prediction.predictor import Prediction, Predictor
from hiergenre.progress import Reporter
from hiergenre.training.discovery import LearnedTree
from hiergenre.training.run import TrainingReport, resolve_dataset, train_workspace
from hiergenre.workspace.layout import Workspace

__all__ = ["build_tree", "learn_tree", "train_all", "evaluate", "load_cascade", "load_predictor", "predict", "info"]


def _at_least_one(value: int, option: str) -> int:
    if value < 1:
        raise InvalidValue(f"{option} must be at least 1, got {value}")
    return value


def build_tree(tree_file: str | Path, *, workdir: str | Path | None = None, draw: bool = True) -> GenreTree:
    """Validate a YAML tree, store it as the workspace's tree, and draw it to ``tree.png``."""
    tree = GenreTree.from_file(tree_file)
    check_not_reserved(tree)
    workspace = Workspace(workdir)
    workspace.save_built_tree(tree)
    if draw:
        from hiergenre.viz.render import draw_tree

        draw_tree(tree, workspace.tree_png)
    return tree


def fma_tree_file(
    output: str | Path,
    genres_csv: str | Path,
    *,
    workdir: str | Path | None = None,
    min_tracks: int = 0,
    under: str | None = None,
    force: bool = False,
) -> FmaTree:
    """FMA's genre hierarchy (``genres.csv``) as an editable YAML tree in ``output``, then built.

    Genres with fewer than ``min_tracks`` tracks (FMA's ``#tracks``) are folded into their parent;
    ``under`` keeps one top-level genre's subtree. ``output`` is not overwritten unless ``force``.
    """
    from hiergenre.data.taxonomy import fma_tree, fma_yaml, read_fma_genres

    output = _writable(output, force)
    if min_tracks < 0:
        raise InvalidValue(f"--min-tracks must be 0 or more, got {min_tracks}")
    made = fma_tree(read_fma_genres(genres_csv), name=output.stem, min_tracks=min_tracks, under=under)
    _write_and_build(output, fma_yaml(made, Path(genres_csv).name, min_tracks, under), workdir)
    return made


def labels_tree_file(
    output: str | Path, manifest: str | Path, *, workdir: str | Path | None = None, force: bool = False
) -> GenreTree:
    """The tree that a CSV manifest's path labels imply (``Electronic---House``, ``rock/punk``), written and built."""
    import csv

    from hiergenre.data.taxonomy import label_path, tree_from_label_paths

    output = _writable(output, force)
    try:
        with open(manifest, newline="", encoding="utf-8") as handle:
            labels = [row.get("genre") or "" for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HierGenreError(f"cannot read manifest {manifest}: {exc}") from None
    if not any(labels):
        raise HierGenreError(f"manifest {manifest} has no 'genre' labels")
    tree = tree_from_label_paths((label_path(label) for label in labels if label), output.stem)
    header = f"# derived from the path labels of {Path(manifest).name} ({len(labels)} clips)\n"
    _write_and_build(output, header + tree.to_yaml(), workdir)
    return tree


def _writable(output: str | Path, force: bool) -> Path:
    """``output`` as a Path, refused if it exists and ``force`` is not given (it may be a tree the user edited)."""
    output = Path(output)
    if output.exists() and not force:
        raise HierGenreError(f"{output} exists; choose another file or pass --force to overwrite it")
    return output


def _write_and_build(output: Path, text: str, workdir: str | Path | None) -> None:
    from hiergenre.storage import atomic_file

    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(output) as out:
        out.write(text)
    build_tree(output, workdir=workdir)


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
    from hiergenre.training.discovery import learn_tree_from_data

    output = _writable(output, force)
    check_split(split)
    jobs = _at_least_one(jobs, "--jobs")
    workspace = Workspace(workdir)
    dataset = resolve_dataset(_path(data), workspace, seed=seed)
    learned = learn_tree_from_data(
        dataset,
        output,
        features=get_preset(DEFAULT_PRESET).features,
        cache_dir=workspace.cache_dir,
        split=split,
        groups=groups,
        seed=seed,
        jobs=jobs,
        on_extracted=on_extracted,
    )
    build_tree(output, workdir=workspace.root)
    return learned


def train_all(
    *,
    workdir: str | Path | None = None,
    data: str | Path | None = None,
    split: str = "paper",
    preset: str = DEFAULT_PRESET,
    node_model: str | None = None,
    calibration: str | None = None,
    metadata: str | Path | None = None,
    epochs: int | None = None,
    jobs: int | None = None,
    cluster: str | None = None,
    seed: int = 0,
    reporter: Reporter | None = None,
    on_extracted: Callable[[], None] | None = None,
    on_dataset: Callable[[Dataset, int], None] | None = None,
    baseline3: bool = True,
) -> TrainingReport:
    """Train every model of the workspace: the built tree's nodes, the flat model, the 3-class baseline.

    ``baseline3=False`` skips the 3-class baseline (benchmarks that do not need it).
    ``epochs`` caps the preset's epoch count (for quick runs); ``node_model`` overrides the
    preset's classifier kind (cnn, stats, ensemble, auto), ``calibration`` its calibration
    (temperature, none: :mod:`hiergenre.cascade.calibration`). ``metadata`` is FMA's ``tracks.csv`` when
    ``data`` is an FMA audio folder (:mod:`hiergenre.data.fma`). Unreadable files are skipped and
    listed in the report. Node models whose inputs did not change since the last run are reused.
    ``jobs`` processes (default: one per usable core) extract features and train node models; the
    models are the same whatever their number. ``cluster`` runs those jobs on a Dask cluster
    instead (``local:N`` or a scheduler address, :mod:`hiergenre.parallel.backends`).
    """
    chosen = with_calibration(with_node_model(get_preset(preset), node_model), calibration)
    get_calibration(chosen.train.calibration)  # a clear error for an unknown name
    cap = chosen.train.epochs if epochs is None else min(_at_least_one(epochs, "--epochs"), chosen.train.epochs)
    jobs = usable_cores() if jobs is None else _at_least_one(jobs, "--jobs")
    check_split(split)
    parse_cluster(cluster)
    workspace = _workspace(workdir, cluster)
    workspace.built_tree()  # a clear error before any data is read
    with workspace.training_lock(), open_backend(cluster, jobs) as backend:
        return train_workspace(
            workspace,
            resolve_dataset(_path(data), workspace, seed=seed, metadata=_path(metadata)),
            chosen,
            split=split,
            epochs=cap,
            backend=backend,
            seed=seed,
            baseline3=baseline3,
            reporter=reporter,
            on_extracted=on_extracted,
            on_dataset=on_dataset,
        )


def evaluate(
    *,
    workdir: str | Path | None = None,
    data: str | Path | None = None,
    trees: Sequence[str] | None = None,
    jobs: int = 1,
    cluster: str | None = None,
    routing: str = "greedy",
    samples: bool = False,
    target_accuracy: float | None = None,
    metadata: str | Path | None = None,
) -> EvaluationReport:
    """Score each trained tree on the test part of its split, or on all of ``data``.

    Hierarchical metrics use the built tree as reference for every model. ``routing`` is the
    cascade's routing policy (see :mod:`hiergenre.cascade.routing`); single-node models are unaffected.
    Calibration is measured before and after; ``samples`` keeps every clip's confidence and
    correctness in it, so that a benchmark can pool runs. ``target_accuracy`` scores, per model,
    the minimum confidence chosen on its validation clips for that hierarchical accuracy.
    ``metadata``: FMA's ``tracks.csv`` when ``data`` is an FMA audio folder. Features are
    extracted by ``jobs`` local processes, or on the Dask cluster ``cluster``.
    """
    if metadata is not None and data is None:
        raise InvalidValue("--metadata describes the audio of --data: give both")
    jobs = _at_least_one(jobs, "--jobs")
    policy = get_policy(routing)
    parse_cluster(cluster)
    with open_backend(cluster, jobs) as backend:
        return evaluate_workspace(
            _workspace(workdir, cluster),
            data=_path(data),
            metadata=_path(metadata),
            trees=trees,
            backend=backend,
            routing=policy,
            samples=samples,
            target_accuracy=target_accuracy,
        )


def load_cascade(
    *, workdir: str | Path | None = None, tree: str | None = None, routing: str = "greedy", backend: str = "keras"
) -> Cascade:
    """The trained cascade of ``tree`` (default: the built tree) from the workspace.

    ``backend="keras"`` loads the Keras networks (imports TensorFlow); ``"litert"`` their LiteRT
    exports (numpy and ai-edge-litert only). For the ``blend`` routing policy the flat model over
    the same genres is loaded as well.
    """
    return Workspace(workdir).load_cascade(tree, routing=get_policy(routing), backend=backend)


def load_predictor(
    *,
    workdir: str | Path | None = None,
    tree: str | None = None,
    routing: str = "greedy",
    backend: str = "litert",
    decode: str | None = None,
    min_confidence: float | None = None,
    target_accuracy: float | None = None,
) -> Predictor:
    """Everything prediction needs, loaded once (see :meth:`hiergenre.prediction.predictor.Predictor.load`).

    ``min_confidence``, ``decode="hf1"`` or ``target_accuracy`` let predictions stop at an inner
    node of the tree (:mod:`hiergenre.cascade.decoding`, :mod:`hiergenre.workspace.validation`).
    """
    decoder = get_decoder(decode, min_confidence)
    return Predictor.load(
        Workspace(workdir),
        tree=tree,
        routing=routing,
        backend=backend,
        decoder=decoder,
        target_accuracy=target_accuracy,
    )


def predict(
    paths: Iterable[str | Path],
    *,
    workdir: str | Path | None = None,
    tree: str | None = None,
    routing: str = "greedy",
    backend: str = "litert",
    jobs: int = 1,
    cluster: str | None = None,
    predictor: Predictor | None = None,
    on_done: Callable[[], None] | None = None,
    timeline_hop: float | None = None,
) -> list[Prediction]:
    """Route each file root to leaf; a file that cannot be read gets an error, not an exception.

    Directories expand to the audio files below them. ``jobs`` threads decode and compute features
    in parallel (or batches of files go to the workers of the Dask cluster ``cluster``); results
    keep the input order. ``timeline_hop`` (seconds, 0 for one analysis window) adds each file's
    genre timeline over the whole file (:mod:`hiergenre.prediction.timeline`).
    """
    jobs = _at_least_one(jobs, "--jobs")
    parse_cluster(cluster)
    predictor = predictor or load_predictor(workdir=workdir, tree=tree, routing=routing, backend=backend)
    if timeline_hop is not None and timeline_hop < 0:
        raise InvalidValue(f"--hop must be positive, got {timeline_hop}")
    with open_backend(cluster, jobs) as workers:
        return predictor.predict(paths, backend=workers, on_done=on_done, timeline_hop=timeline_hop)


def info(*, workdir: str | Path | None = None) -> dict:
    """What the workspace holds (see :func:`hiergenre.workspace.info.workspace_info`)."""
    from hiergenre.workspace.info import workspace_info

    return workspace_info(Workspace(workdir))


def built_tree_or_none(workdir: str | Path | None = None) -> GenreTree | None:
    """The workspace's built tree, or None when none is built."""
    workspace = Workspace(workdir)
    return workspace.built_tree() if workspace.tree_file.exists() else None


def _path(value: str | Path | None) -> str | None:
    return None if value is None else str(value)


def _workspace(workdir: str | Path | None, cluster: str | None) -> Workspace:
    """The workspace; at an absolute path for a cluster, whose workers write into it from other folders."""
    workspace = Workspace(workdir)
    return Workspace(workspace.root.absolute()) if cluster else workspace
