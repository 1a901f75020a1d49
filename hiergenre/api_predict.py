"""The Python API of prediction: a loaded :class:`~hiergenre.prediction.predictor.Predictor`, or files classified.

Part of :mod:`hiergenre.api` (which re-exports these functions). ``runtime`` says what runs the
node models: ``litert`` (the LiteRT exports, numpy features: no TensorFlow or librosa, the default)
or ``keras`` (the reference); ``jobs`` and ``cluster`` say where files are decoded in parallel.

>>> predictor = hiergenre.load_predictor(workdir="ws")                    # doctest: +SKIP
>>> predictor.predict(y, sr).genre, predictor.predict_proba(y, sr)        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from hiergenre.api_trees import at_least_one
from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.decoding import get_decoder
from hiergenre.cascade.routing import get_policy
from hiergenre.errors import InvalidValue
from hiergenre.parallel.choose import parse_cluster
from hiergenre.prediction.predictor import Prediction, Predictor, expand_inputs
from hiergenre.workspace.layout import Workspace
from hiergenre.workspace.trained import DEFAULT_RUNTIME

__all__ = ["clip_vectors", "load_cascade", "load_predictor", "predict"]


def load_cascade(
    *,
    workdir: str | Path | None = None,
    tree: str | None = None,
    routing: str = "greedy",
    runtime: str = DEFAULT_RUNTIME,
) -> Cascade:
    """The trained cascade of ``tree`` (default: the built tree) from the workspace.

    ``runtime="litert"`` loads the LiteRT exports (numpy and ai-edge-litert only); ``"keras"`` the
    Keras networks (imports TensorFlow). For the ``blend`` routing policy the flat model over the
    same genres is loaded as well. A workspace with no trained tree loads the bundled model
    (:meth:`~hiergenre.workspace.layout.Workspace.serving`).
    """
    policy = get_policy(routing)
    return Workspace(workdir).serving().open(tree, runtime=runtime, with_flat=policy.uses_flat).cascade


def load_predictor(
    *,
    workdir: str | Path | None = None,
    tree: str | None = None,
    routing: str = "greedy",
    runtime: str = DEFAULT_RUNTIME,
    decode: str | None = None,
    min_confidence: float | None = None,
    target_accuracy: float | None = None,
    sets: bool = False,
) -> Predictor:
    """A :class:`~hiergenre.prediction.predictor.Predictor` of ``tree`` (default: the built tree), loaded once.

    ``predictor.predict(y, sr)`` classifies a mono signal at any rate, ``predict_proba(y, sr)`` gives
    its distribution over ``predictor.classes_``, ``predict_files(paths)`` classifies files.
    ``min_confidence``, ``decode="hf1"`` or ``target_accuracy`` let predictions stop at an inner
    node of the tree (:mod:`hiergenre.cascade.decoding`, :mod:`hiergenre.cascade.conformal`); ``sets``
    (with a target) gives each prediction a set of a few genres and groups (``prediction.genre_set``).
    A workspace with no trained tree loads the bundled model (``predictor.trained.bundled``), so
    ``load_predictor()`` works right after install.
    """
    decoder = get_decoder(decode, min_confidence)
    return Predictor.load(
        Workspace(workdir).serving(),
        tree=tree,
        routing=routing,
        runtime=runtime,
        decoder=decoder,
        target_accuracy=target_accuracy,
        sets=sets,
    )


def predict(
    paths: Iterable[str | Path],
    *,
    workdir: str | Path | None = None,
    tree: str | None = None,
    routing: str | None = None,
    runtime: str | None = None,
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
    genre timeline over the whole file (:mod:`hiergenre.prediction.timeline`). A loaded
    ``predictor`` already fixes the workspace, tree, routing and runtime: giving them too is an error.
    """
    at_least_one(jobs, "--jobs")
    parse_cluster(cluster)
    if predictor is None:
        predictor = load_predictor(
            workdir=workdir, tree=tree, routing=routing or "greedy", runtime=runtime or DEFAULT_RUNTIME
        )
    else:
        given = {"workdir": workdir, "tree": tree, "routing": routing, "runtime": runtime}
        conflicting = [name for name, value in given.items() if value is not None]
        if conflicting:
            raise InvalidValue(
                f"the predictor given already fixes {', '.join(conflicting)}: leave them out, "
                "or load another predictor with hiergenre.load_predictor"
            )
    return predictor.predict_files(paths, jobs=jobs, cluster=cluster, on_done=on_done, timeline_hop=timeline_hop)


def clip_vectors(
    paths: Iterable[str | Path],
    *,
    features: str = "musicnn",
    workdir: str | Path | None = None,
    jobs: int = 1,
) -> tuple[np.ndarray, list[str], dict[str, str]]:
    """One vector per readable audio file, ``(n_files, 2 * n_dims)``: what a statistics node sees, for any classifier.

    Each file's windows (cut as prediction cuts them) are summarised by the mean and standard
    deviation of every value over the window's frames, then averaged over its windows: for
    ``musicnn``, 400 numbers (the embedding probe of the literature), for ``lmfcc`` 26. Feed them
    to :class:`~hiergenre.cascade.estimator.HierarchicalClassifier` or any scikit-learn model.
    Directories expand to their audio files; features are cached in the workspace. Returns the
    vectors, the files they belong to (in order), and a one-line reason for each file left out.

    >>> X, files, skipped = hiergenre.clip_vectors(["songs/"], features="musicnn")   # doctest: +SKIP
    """
    from hiergenre.features.extraction import FeatureCache
    from hiergenre.features.registry import front_end_for
    from hiergenre.models.statistics import frame_statistics
    from hiergenre.parallel.backends import LocalBackend
    from hiergenre.presets import DEFAULT_PRESET, get_preset, with_front_end

    if features == "musicnn+lmfcc":
        raise InvalidValue("clip vectors come from one front-end: choose --features lmfcc or musicnn")
    front_end = front_end_for(with_front_end(get_preset(DEFAULT_PRESET), features).features)
    inputs = expand_inputs(paths)
    failures = {path: error for path, error in inputs if error}
    readable = [path for path, error in inputs if not error]
    cache = FeatureCache(Workspace(workdir).cache_dir)
    frames, unreadable = front_end.extract(readable, cache=cache, backend=LocalBackend(at_least_one(jobs, "--jobs")))
    failures.update(unreadable)
    kept = [path for path in readable if path in frames]
    width = 2 * front_end.config.n_dims
    vectors = [frame_statistics(front_end.clip_windows(frames[path])).mean(axis=0) for path in kept]
    return (np.stack(vectors) if vectors else np.zeros((0, width))), kept, failures
