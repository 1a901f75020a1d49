"""The Python API: what the CLI commands do, callable from Python.

Each function checks its arguments once, here, and hands the work to a stage module
(:mod:`~hiergenre.training.run`, :mod:`~hiergenre.evaluation.evaluate`, :mod:`~hiergenre.prediction.predictor`,
:mod:`~hiergenre.workspace.layout`). Building trees (:mod:`hiergenre.api_trees`) and prediction
(:mod:`hiergenre.api_predict`) have modules of their own; their functions are re-exported here.

>>> import hiergenre
>>> tree = hiergenre.build_tree("hierarchies/default.yaml", workdir="ws")   # doctest: +SKIP
>>> report = hiergenre.train_all(workdir="ws", epochs=30)                  # doctest: +SKIP
>>> [p.genre for p in hiergenre.predict(["song.au"], workdir="ws")]         # doctest: +SKIP
>>> hiergenre.load_predictor(workdir="ws").predict(y, sr).genre             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from hiergenre.api_predict import clip_vectors as clip_vectors
from hiergenre.api_predict import load_cascade as load_cascade  # the prediction functions, re-exported
from hiergenre.api_predict import load_predictor as load_predictor
from hiergenre.api_predict import predict as predict
from hiergenre.api_trees import at_least_one, optional_path
from hiergenre.api_trees import build_tree as build_tree  # the tree functions, re-exported
from hiergenre.api_trees import built_tree_or_none as built_tree_or_none
from hiergenre.api_trees import fma_tree_file as fma_tree_file
from hiergenre.api_trees import labels_tree_file as labels_tree_file
from hiergenre.api_trees import learn_tree as learn_tree
from hiergenre.cascade.calibration import get_calibration
from hiergenre.cascade.routing import get_policy
from hiergenre.data.datasets import Dataset, check_split
from hiergenre.errors import InvalidValue
from hiergenre.evaluation.evaluate import EvaluationReport, evaluate_workspace
from hiergenre.parallel.backends import usable_cores
from hiergenre.parallel.choose import open_backend, parse_cluster
from hiergenre.presets import training_recipe
from hiergenre.progress import Reporter
from hiergenre.training.run import TrainingReport, resolve_dataset, train_workspace
from hiergenre.workspace.layout import Workspace


def train_all(
    *,
    workdir: str | Path | None = None,
    data: str | Path | None = None,
    split: str = "paper",
    preset: str | None = None,
    features: str | None = None,
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
    replace_data: bool = False,
) -> TrainingReport:
    """Train every model of the workspace: the built tree's nodes, the flat model, the 3-class baseline.

    ``baseline3=False`` skips the 3-class baseline (benchmarks that do not need it). Models of the
    workspace trained on other real data are replaced only with ``replace_data`` (else: an error
    naming both data sets, before anything is replaced).
    ``features`` picks the front-end (lmfcc, musicnn, musicnn+lmfcc:
    :data:`~hiergenre.presets.FRONT_ENDS`); without it a plain run uses the default front-end
    (musicnn+lmfcc) and a run naming ``preset``, ``node_model`` or ``epochs`` the LMFCC CNN's
    (:func:`~hiergenre.presets.training_recipe`). ``epochs`` caps the preset's epoch count (for
    quick runs); ``node_model`` overrides the preset's classifier kind (cnn, stats, ensemble,
    auto), ``calibration`` its calibration
    (temperature, none: :mod:`hiergenre.cascade.calibration`). ``metadata`` is FMA's ``tracks.csv`` when
    ``data`` is an FMA audio folder (:mod:`hiergenre.data.fma`). Unreadable files are skipped and
    listed in the report. Node models whose inputs did not change since the last run are reused.
    ``jobs`` processes (default: one per usable core) extract features and train node models; the
    models are the same whatever their number. ``cluster`` runs those jobs on a Dask cluster
    instead (``local:N`` or a scheduler address, :mod:`hiergenre.parallel.backends`).
    """
    chosen = training_recipe(preset, features, node_model, calibration, epochs=epochs)
    get_calibration(chosen.train.calibration)  # a clear error for an unknown name
    cap = chosen.train.epochs if epochs is None else min(at_least_one(epochs, "--epochs"), chosen.train.epochs)
    jobs = usable_cores() if jobs is None else at_least_one(jobs, "--jobs")
    check_split(split)
    parse_cluster(cluster)
    workspace = _workspace(workdir, cluster)
    workspace.built_tree()  # a clear error before any data is read
    with workspace.training_lock(), open_backend(cluster, jobs) as backend:
        return train_workspace(
            workspace,
            resolve_dataset(
                optional_path(data), workspace, seed=seed, metadata=optional_path(metadata), replace_data=replace_data
            ),
            chosen,
            split=split,
            epochs=cap,
            backend=backend,
            seed=seed,
            baseline3=baseline3,
            reporter=reporter,
            on_extracted=on_extracted,
            on_dataset=on_dataset,
            replace_data=replace_data,
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
    A workspace with no trained tree scores the bundled model (on ``data``: its own calibration clips
    are not shipped). Calibration is measured before and after; ``samples`` keeps every clip's confidence and
    correctness in it, so that a benchmark can pool runs. ``target_accuracy`` scores, per model,
    the minimum confidence chosen on its validation clips for that hierarchical accuracy.
    ``metadata``: FMA's ``tracks.csv`` when ``data`` is an FMA audio folder. Features are
    extracted by ``jobs`` local processes, or on the Dask cluster ``cluster``.
    """
    if metadata is not None and data is None:
        raise InvalidValue("--metadata describes the audio of --data: give both")
    jobs = at_least_one(jobs, "--jobs")
    policy = get_policy(routing)
    parse_cluster(cluster)
    with open_backend(cluster, jobs) as backend:
        return evaluate_workspace(
            _workspace(workdir, cluster).serving(),
            data=optional_path(data),
            metadata=optional_path(metadata),
            trees=trees,
            backend=backend,
            routing=policy,
            samples=samples,
            target_accuracy=target_accuracy,
        )


def info(*, workdir: str | Path | None = None) -> dict:
    """What the workspace holds (see :func:`hiergenre.workspace.info.workspace_info`)."""
    from hiergenre.workspace.info import workspace_info

    return workspace_info(Workspace(workdir))


def _workspace(workdir: str | Path | None, cluster: str | None) -> Workspace:
    """The workspace; at an absolute path for a cluster, whose workers write into it from other folders."""
    workspace = Workspace(workdir)
    return Workspace(workspace.root.absolute()) if cluster else workspace
