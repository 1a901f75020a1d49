"""A trained tree ready to classify audio: one signal at any sample rate, or files decoded in parallel.

:class:`Predictor` (what :func:`hiergenre.load_predictor` returns) reads like a scikit-learn
classifier of signals: ``classes_`` are the tree's genres, ``predict(y, sr)`` routes one mono
signal to a :class:`~hiergenre.prediction.outcome.Prediction`, ``predict_proba(y, sr)`` gives the
distribution over ``classes_`` the routing decides on, and ``predict_files(paths)`` classifies files.

Everything comes from one :class:`~hiergenre.workspace.trained.TrainedTree`: its node models, its
feature front-end and its validation scores belong to one published version. Two runtimes give
the same numbers: ``litert`` (the LiteRT exports, LMFCC in numpy from the matrices stored with the
models: neither TensorFlow, Keras nor librosa is imported) and ``keras`` (the reference). Decoding
and LMFCC of a batch of files run in a small thread pool (libsndfile, soxr, the FFT and the matrix
products release the GIL), or in batches of files on the workers of a Dask cluster
(:mod:`hiergenre.parallel.backends`); the routing itself is milliseconds per clip and runs here.
A file that cannot be read becomes a failed :class:`Prediction` with a one-line reason, never an
exception, so one bad file never stops a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.conformal import ClimbDecoder, Guarantee, conformal_guarantee, genre_sets
from hiergenre.cascade.decoding import Decoded, Decoder, LeafDecoder
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route, RoutingPolicy, check_routing_applies, get_policy
from hiergenre.data.datasets import is_audio
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.extraction import failure_reason
from hiergenre.features.registry import AnyFrontEnd
from hiergenre.parallel.backends import Backend, batches
from hiergenre.parallel.choose import open_backend
from hiergenre.prediction.outcome import SIGNAL, Prediction
from hiergenre.prediction.timeline import timeline
from hiergenre.workspace.layout import Workspace
from hiergenre.workspace.trained import DEFAULT_RUNTIME, TrainedTree, check_runtime
from hiergenre.workspace.validation import cascade_validation

__all__ = ["Prediction", "Predictor", "WindowReader", "expand_inputs"]


def expand_inputs(paths: Iterable[str | Path]) -> list[tuple[str, str | None]]:
    """Files to classify, as ``(path, error)``: directories expand to their audio files."""
    out: list[tuple[str, str | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if is_audio(p))
            out += [(str(p), None) for p in found] or [(str(path), f"{path}: directory holds no audio files")]
        elif not path.exists():
            out.append((str(path), f"{path}: no such file"))
        else:
            out.append((str(path), None))
    return out


@dataclass(frozen=True)
class WindowReader:
    """Decode files and cut them into the front-end's windows: one job of a batch prediction.

    A file is streamed (:meth:`~hiergenre.features.frontend.FrontEnd.file_windows`): its
    decoded signal is never held whole, so memory does not grow with the file's length.
    Picklable (the front-end carries its matrices), so that a worker process or a Dask worker can run it.
    """

    front_end: AnyFrontEnd

    def __call__(self, paths: Sequence[str]) -> list[tuple[str, np.ndarray | str]]:
        """Each file's windows ``(n_windows, window_frames, n_mfcc)``, or the one-line reason it failed."""
        return [(path, self.windows_or_reason(path)) for path in paths]

    def windows_or_reason(self, path: str) -> np.ndarray | str:
        """One file's windows, or why it cannot be read."""
        try:
            return self.front_end.file_windows(path)
        except (HierGenreError, OSError) as exc:
            return failure_reason(path, exc)


@dataclass
class Predictor:
    """A trained tree loaded to classify audio, routed by ``routing`` and decoded by ``decoder``.

    >>> predictor = hiergenre.load_predictor(workdir="ws")                # doctest: +SKIP
    >>> y, sr = soundfile.read("song.wav", dtype="float32")               # doctest: +SKIP
    >>> predictor.predict(y.mean(axis=1), sr).genre                       # doctest: +SKIP
    """

    trained: TrainedTree
    routing: RoutingPolicy = field(default_factory=lambda: get_policy("greedy"))
    decoder: Decoder = field(default_factory=LeafDecoder)
    #: What ``--target-accuracy`` set up (the climbing decoder's threshold and its guarantee), when asked.
    target: Guarantee | None = None

    @classmethod
    def load(
        cls,
        workspace: Workspace,
        *,
        tree: str | None = None,
        routing: str | RoutingPolicy = "greedy",
        runtime: str = DEFAULT_RUNTIME,
        decoder: Decoder | None = None,
        target_accuracy: float | None = None,
        sets: bool = False,
    ) -> Predictor:
        """Everything prediction needs, loaded once from one published version of ``tree`` (default: the built tree).

        ``target_accuracy`` sets the decoder: a climb from the genre towards the root whose threshold
        is set on the tree's calibration clips so that the node named contains the true genre for at
        least that share of new clips like them (:mod:`hiergenre.cascade.conformal`). ``sets`` (with a
        target) also gives each prediction a set of a few genres and groups with the same guarantee.
        """
        policy = get_policy(routing)
        trained = workspace.open(tree, runtime=check_runtime(runtime), with_flat=policy.uses_flat)
        check_routing_applies(trained.tree, policy)
        target = None
        if sets and target_accuracy is None:
            raise InvalidValue("--sets gives sets for a target accuracy: add --target-accuracy A")
        if target_accuracy is not None:
            if decoder is not None and not isinstance(decoder, LeafDecoder):
                raise InvalidValue(
                    "--target-accuracy decides where predictions stop itself: drop --min-confidence/--decode"
                )
            genres, leaves, routed = cascade_validation(trained, policy)
            target = conformal_guarantee(trained.tree, leaves, genres, routed, target_accuracy, sets=sets)
            decoder = ClimbDecoder(target.threshold)
        return cls(trained, policy, decoder or LeafDecoder(), target)

    @property
    def cascade(self) -> Cascade:
        """The trained tree's node models as a cascade."""
        return self.trained.cascade

    @property
    def tree(self) -> GenreTree:
        """The tree the models were trained for."""
        return self.trained.tree

    @property
    def front_end(self) -> AnyFrontEnd:
        """What turns audio into the node models' inputs."""
        return self.trained.front_end

    @property
    def classes_(self) -> np.ndarray:
        """The genres a prediction can name: the tree's leaves, the order of :meth:`predict_proba`."""
        return np.array(self.tree.leaves)

    def route_clips(self, clips: Sequence[np.ndarray]) -> list[Route]:
        """The route of each clip, a stack of windows ``(n_windows, frames, n_coefficients)``."""
        return self.cascade.route_clips(clips, self.routing)

    def decode(self, route: Route) -> Decoded | None:
        """The node the decoder chooses from the route's distribution (None with the default leaf decoder)."""
        if isinstance(self.decoder, LeafDecoder) or route.distribution is None:
            return None
        leaves = np.array([[route.distribution[leaf] for leaf in self.tree.leaves]])
        return self.decoder.decode(self.tree, leaves, [route.genre])[0]

    def genre_set(self, route: Route) -> list[str] | None:
        """The route's prediction set of ``--sets`` (None without it)."""
        if self.target is None or self.target.set_threshold is None or route.distribution is None:
            return None
        leaves = np.array([[route.distribution[leaf] for leaf in self.tree.leaves]])
        return genre_sets(self.tree, leaves, self.target.set_threshold)[0]

    def outcome(self, file: str, route: Route, segments: list | None = None) -> Prediction:
        """The prediction for ``file`` routed by ``route``: decoded, with its set when asked for."""
        return Prediction(
            file, route=route, timeline=segments, decoded=self.decode(route), genre_set=self.genre_set(route)
        )

    def predict(self, y: np.ndarray, sr: float) -> Prediction:
        """The prediction for one mono signal ``y`` ``(n_samples,)`` at ``sr`` Hz (any rate: it is resampled).

        Bad input (not 1-D, too short, silent, non-finite) raises a one-line
        :class:`~hiergenre.errors.HierGenreError`.
        """
        route = self.route_clips([self.front_end.windows(y, sr)])[0]
        return self.outcome(SIGNAL, route)

    def predict_proba(self, y: np.ndarray, sr: float) -> np.ndarray:
        """The distribution ``(n_classes,)`` over :attr:`classes_` that the routing decides on, for one signal."""
        route = self.predict(y, sr).route
        distribution = route.distribution or {route.genre: 1.0}
        return np.array([distribution.get(genre, 0.0) for genre in self.tree.leaves])

    @property
    def window_reader(self) -> WindowReader:
        """Decoding and windowing of this predictor, as a picklable job for a worker."""
        return WindowReader(self.front_end)

    def predict_files(
        self,
        paths: Iterable[str | Path],
        *,
        jobs: int = 1,
        cluster: str | None = None,
        on_done: Callable[[], None] | None = None,
        timeline_hop: float | None = None,
    ) -> list[Prediction]:
        """Classify every file (directories expand to their audio files), in input order.

        ``jobs`` threads decode files and compute features (or batches of files go to the workers of
        the Dask cluster ``cluster``: ``local:N`` or a scheduler address); the routing runs here.
        ``timeline_hop`` (seconds; 0 for one analysis window) adds each file's genre timeline over
        the whole file (:mod:`hiergenre.prediction.timeline`).
        """
        if jobs < 1:
            raise InvalidValue(f"--jobs must be at least 1, got {jobs}")
        if timeline_hop is not None and timeline_hop < 0:
            raise InvalidValue(f"--hop must be positive, got {timeline_hop}")
        with open_backend(cluster, jobs) as workers:
            return self._predict_files_on(workers, paths, on_done=on_done, timeline_hop=timeline_hop)

    def _predict_files_on(
        self,
        workers: Backend,
        paths: Iterable[str | Path],
        *,
        on_done: Callable[[], None] | None = None,
        timeline_hop: float | None = None,
    ) -> list[Prediction]:
        """:meth:`predict_files` on a parallel backend the caller opened (and closes)."""
        inputs = expand_inputs(paths)
        # Workers get absolute paths (a Dask worker's folder is not this one); results keep the user's spelling.
        readable = {str(Path(path).absolute()): path for path, error in inputs if error is None}
        results: dict[str, Prediction] = {}
        work = self.window_reader
        for batch in workers.map_unordered(
            work, batches(list(readable), workers.batch_size(len(readable))), threads=True
        ):
            for absolute, outcome in batch:
                path = readable[absolute]
                if isinstance(outcome, str):
                    results[path] = Prediction(path, error=outcome.replace(absolute, path, 1))
                else:
                    results[path] = self._route(path, outcome, timeline_hop)
                if on_done:
                    on_done()
        return [results[path] if error is None else Prediction(path, error=error) for path, error in inputs]

    def _route(self, path: str, windows: np.ndarray, timeline_hop: float | None) -> Prediction:
        try:
            segments = None
            if timeline_hop is not None:
                segments = timeline(self, path, timeline_hop or None)
            route = self.route_clips([windows])[0]
            return self.outcome(path, route, segments)
        except HierGenreError as exc:
            return Prediction(path, error=failure_reason(path, exc))
