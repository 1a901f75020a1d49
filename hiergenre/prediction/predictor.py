"""Classifying files: decode, LMFCC, route, and report each file's outcome.

Two feature paths give the same numbers: the reference one (librosa, with the Keras backend) and
the lean one (numpy and the matrices stored with the models, with the LiteRT backend), which keeps
TensorFlow, Keras and librosa out of the prediction process. Decoding and LMFCC of a batch run
in a small thread pool (libsndfile, soxr, the FFT and the matrix products release the GIL), or in
batches of files on the workers of a Dask cluster (:mod:`hiergenre.parallel.backends`); the routing itself
is milliseconds per clip and runs here. A file that cannot be read becomes a failed
:class:`Prediction` with a one-line reason, never an exception, so one bad file never stops a batch.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hiergenre.cascade.cascade import Cascade
from hiergenre.cascade.decoding import ConfidenceDecoder, Decoded, Decoder, LeafDecoder
from hiergenre.cascade.routing import Route, RoutingPolicy, check_routing_applies, get_policy
from hiergenre.cascade.thresholds import TargetChoice, choose_min_confidence
from hiergenre.config import FeatureConfig
from hiergenre.data.audio import load_audio
from hiergenre.data.datasets import is_audio
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.lmfcc import LmfccMatrices, failure_reason, lmfcc, lmfcc_numpy, prediction_windows
from hiergenre.parallel.backends import Backend, LocalBackend, batches
from hiergenre.prediction.timeline import Segment, timeline
from hiergenre.storage import atomic_file
from hiergenre.workspace.layout import Workspace
from hiergenre.workspace.validation import cascade_validation


@dataclass(frozen=True)
class Prediction:
    """The outcome for one input file: a route, or the reason it could not be classified."""

    file: str
    route: Route | None = None
    error: str | None = None
    #: With ``predict --timeline``: the whole file's segments, each routed (see :mod:`hiergenre.prediction.timeline`).
    timeline: list[Segment] | None = None
    #: With ``--min-confidence`` or ``--decode``: the node the evidence supports (:mod:`hiergenre.cascade.decoding`).
    decoded: Decoded | None = None

    @property
    def genre(self) -> str | None:
        """The predicted genre (None when the file failed)."""
        return self.route.genre if self.route else None

    def as_dict(self, top: int = 0) -> dict[str, Any]:
        """JSON-friendly form: file, genre, p, the path of steps from the root down, and the ``top`` genres."""
        if self.route is None:
            return {"file": self.file, "genre": None, "error": self.error}
        out = {
            "file": self.file,
            "genre": self.route.genre,
            "p": self.route.p,
            "path": [{"node": s.node, "choice": s.choice, "p": s.p} for s in self.route.steps],
        }
        if top:
            out["top"] = [{"genre": genre, "p": p} for genre, p in self.route.top(top)]
        if self.timeline is not None:
            out["timeline"] = [segment.as_dict() for segment in self.timeline]
        if self.decoded is not None:
            out["decoded"] = self.decoded.as_dict()
        return out


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
    """Decode files and cut their LMFCC into prediction windows: one job of a batch prediction.

    ``matrices`` set: LMFCC in numpy (the lean path); None: librosa (the reference path).
    Picklable, so that a worker process or a Dask worker can run it.
    """

    features: FeatureConfig
    matrices: LmfccMatrices | None = None

    def __call__(self, paths: Sequence[str]) -> list[tuple[str, np.ndarray | str]]:
        """Each file's windows ``(n_windows, window_frames, n_mfcc)``, or the one-line reason it failed."""
        return [(path, self.windows_or_reason(path)) for path in paths]

    def windows_or_reason(self, path: str) -> np.ndarray | str:
        """One file's prediction windows, or why it cannot be read."""
        try:
            signal = load_audio(path, sample_rate=self.features.sample_rate, max_seconds=self.features.max_seconds)
            return prediction_windows(self.frames(signal), self.features)
        except (HierGenreError, OSError) as exc:
            return failure_reason(path, exc)

    def frames(self, signal: np.ndarray) -> np.ndarray:
        """LMFCC ``(n_frames, n_mfcc)`` of a mono signal."""
        if self.matrices is not None:
            return lmfcc_numpy(signal, self.features, self.matrices)
        return lmfcc(signal, self.features)


@dataclass
class Predictor:
    """A loaded cascade plus the feature path and routing policy predictions use.

    ``matrices`` set: LMFCC in numpy (the lean path); None: librosa (the reference path).
    """

    cascade: Cascade
    features: FeatureConfig
    matrices: LmfccMatrices | None = None
    routing: RoutingPolicy | str = "greedy"
    decoder: Decoder = field(default_factory=LeafDecoder)
    #: How ``--target-accuracy`` chose the decoder's minimum confidence, when it did.
    target: TargetChoice | None = None

    @classmethod
    def load(
        cls,
        workspace: Workspace,
        *,
        tree: str | None = None,
        routing: str = "greedy",
        backend: str = "litert",
        decoder: Decoder | None = None,
        target_accuracy: float | None = None,
    ) -> Predictor:
        """Everything prediction needs, loaded once: the cascade, its feature settings and feature path.

        The ``litert`` backend computes LMFCC with numpy from the matrices stored at training, so
        neither TensorFlow, Keras nor librosa is imported; ``keras`` is the reference path.
        ``target_accuracy`` sets the decoder: the minimum confidence whose hierarchical accuracy on
        the tree's validation clips reaches it (:mod:`hiergenre.workspace.validation`).
        """
        policy = get_policy(routing)
        cascade = workspace.load_cascade(tree, routing=policy, backend=backend)
        check_routing_applies(cascade.tree, policy)
        config = next(iter(cascade.classifiers.values())).features
        matrices = workspace.feature_matrices(cascade.tree.name) if backend == "litert" else None
        target = None
        if target_accuracy is not None:
            if decoder is not None and not isinstance(decoder, LeafDecoder):
                raise InvalidValue(
                    "--target-accuracy chooses the minimum confidence itself: drop --min-confidence/--decode"
                )
            genres, leaves = cascade_validation(workspace, cascade, policy)
            target = choose_min_confidence(cascade.tree, leaves, genres, target_accuracy)
            decoder = ConfidenceDecoder(target.min_confidence)
        return cls(cascade, config, matrices, policy, decoder or LeafDecoder(), target)

    def decode(self, route: Route) -> Decoded | None:
        """The node the decoder chooses from the route's distribution (None with the default leaf decoder)."""
        if isinstance(self.decoder, LeafDecoder) or route.distribution is None:
            return None
        tree = self.cascade.tree
        leaves = np.array([[route.distribution[leaf] for leaf in tree.leaves]])
        return self.decoder.decode(tree, leaves, [route.genre])[0]

    @property
    def window_reader(self) -> WindowReader:
        """Decoding and LMFCC of this predictor, as a picklable job for a worker."""
        return WindowReader(self.features, self.matrices)

    def frames(self, signal: np.ndarray) -> np.ndarray:
        """LMFCC ``(n_frames, n_mfcc)`` of a mono signal, on this predictor's feature path."""
        return self.window_reader.frames(signal)

    def predict(
        self,
        paths: Iterable[str | Path],
        *,
        jobs: int = 1,
        backend: Backend | None = None,
        on_done: Callable[[], None] | None = None,
        timeline_hop: float | None = None,
    ) -> list[Prediction]:
        """Classify every file (directories expand to their audio files), in input order.

        Files are decoded and their LMFCC computed in batches on ``backend`` (default: ``jobs``
        local threads); the routing runs here. ``timeline_hop`` (seconds; 0 for one analysis
        window) adds each file's genre timeline.
        """
        backend = backend or LocalBackend(jobs)
        inputs = expand_inputs(paths)
        # Workers get absolute paths (a Dask worker's folder is not this one); results keep the user's spelling.
        readable = {str(Path(path).absolute()): path for path, error in inputs if error is None}
        results: dict[str, Prediction] = {}
        work = self.window_reader
        jobs = batches(list(readable), backend.batch_size(len(readable)))
        for batch in backend.map_unordered(work, jobs, threads=True):
            for absolute, outcome in batch:
                path = readable[absolute]
                if isinstance(outcome, str):
                    outcome = outcome.replace(absolute, path, 1)
                    results[path] = Prediction(path, error=outcome)
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
            route = self.cascade.route(windows, self.routing)
            return Prediction(path, route=route, timeline=segments, decoded=self.decode(route))
        except HierGenreError as exc:
            return Prediction(path, error=failure_reason(path, exc))


OUTPUT_FORMATS = (".csv", ".json")


def output_format(path: str | Path) -> str:
    """``.csv`` or ``.json``, from the file name; anything else is refused (before any work is done)."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise InvalidValue(f"--output {path}: use a .csv or .json file name")
    return suffix


def write_predictions(predictions: Sequence[Prediction], path: str | Path, *, top: int = 0) -> Path:
    """Write predictions as CSV or JSON (by the file's suffix), atomically.

    CSV columns: file, genre, p, path (``group>genre``), path_p (each step's probability), error,
    then ``genre_1, p_1 ... genre_K, p_K`` for ``top`` K.
    """
    path = Path(path)
    suffix = output_format(path)
    if suffix == ".json":
        text = json.dumps([p.as_dict(top) for p in predictions], indent=2)
    elif any(p.timeline is not None for p in predictions):
        text = timeline_csv(predictions)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        ranks = [f"{name}_{rank}" for rank in range(1, top + 1) for name in ("genre", "p")]
        decoded = ["node", "node_p", "depth", "leaf"] if any(p.decoded for p in predictions) else []
        writer.writerow(["file", "genre", "p", "path", "path_p", "error", *ranks, *decoded])
        for p in predictions:
            steps = p.route.steps if p.route else []
            ranked = p.route.top(top) if p.route else []
            cells = [cell for genre, prob in ranked for cell in (genre, f"{prob:.6f}")]
            writer.writerow(
                [
                    p.file,
                    p.genre or "",
                    f"{p.route.p:.6f}" if p.route else "",
                    ">".join(s.choice for s in steps),
                    " ".join(f"{s.p:.4f}" for s in steps),
                    p.error or "",
                    *cells,
                    *[""] * (len(ranks) - len(cells)),
                    *(decoded_cells(p.decoded) if decoded else []),
                ]
            )
        text = buffer.getvalue()
    with atomic_file(path) as out:
        out.write(text)
    return path


def timeline_csv(predictions: Sequence[Prediction]) -> str:
    """One row per segment: file, start, end, genre, p, error (a failed file: one row with its error)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "start", "end", "genre", "p", "error"])
    for p in predictions:
        if p.timeline is None:
            writer.writerow([p.file, "", "", "", "", p.error or ""])
        for segment in p.timeline or []:
            row = segment.as_dict()
            writer.writerow([p.file, row["start"], row["end"], row["genre"] or "", row["p"] or "", ""])
    return buffer.getvalue()


def decoded_cells(decoded: Decoded | None) -> list[str]:
    """CSV cells node, node_p, depth, leaf (empty for a failed file)."""
    if decoded is None:
        return ["", "", "", ""]
    return [decoded.node, f"{decoded.p:.6f}", str(decoded.depth), str(decoded.leaf).lower()]
