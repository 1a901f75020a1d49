"""Extracting every clip's frames once: parallel, cached on disk by file content and front-end.

The cache stores each clip's full matrix of frames (LMFCC coefficients or musicnn embeddings) as
``.npy`` under ``<settings hash>-v<algorithm>/<content hash>.npy`` (the hash covers the front-end's
kind), so renaming a file keeps its entry, each front-end has its own entries, and changing a
parameter never serves stale features. Entries are written to a temporary name and renamed, and a corrupted entry is
recomputed rather than trusted. No pickle is involved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from hiergenre.config import FeatureConfig, FeatureSettings, MusicnnConfig, PairedConfig
from hiergenre.data.audio import load_audio
from hiergenre.errors import HierGenreError
from hiergenre.features.lmfcc import LMFCC_ALGORITHM, analysable, lmfcc
from hiergenre.features.musicnn import MUSICNN_ALGORITHM, musicnn_frames
from hiergenre.features.windows import PairedFrames
from hiergenre.parallel.backends import Backend, LocalBackend, batches
from hiergenre.storage import atomic_file

#: One clip's frames: a matrix ``(n_frames, n_dims)``, or both matrices under the paired front-end.
ClipFrames = np.ndarray | PairedFrames
#: Each front-end's algorithm version, part of its cache folder's name.
ALGORITHMS = {FeatureConfig.kind: LMFCC_ALGORITHM, MusicnnConfig.kind: MUSICNN_ALGORITHM}


def failure_reason(path: str, exc: BaseException) -> str:
    """One line naming the file and what is wrong with it."""
    message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return message if message.startswith(path) else f"{path}: {message}"


def file_digest(path: str | Path) -> str:
    """SHA-1 of a file's bytes (the cache key part that follows the content, not the name)."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FeatureCache:
    """Clip matrices of frames stored as ``.npy`` files keyed by content, front-end and parameters."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def entry(self, path: str | Path, config: FeatureSettings) -> Path:
        """Where the features of ``path`` under ``config`` live."""
        return self.directory / f"{config.key()}-v{ALGORITHMS[config.kind]}" / f"{file_digest(path)}.npy"

    def load(self, entry: Path, config: FeatureSettings) -> np.ndarray | None:
        """The cached matrix, or None when absent or unreadable (then it gets recomputed)."""
        try:
            frames = np.load(entry, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if frames.ndim != 2 or frames.shape[1] != config.n_dims or not np.all(np.isfinite(frames)):
            return None
        return frames

    def store(self, entry: Path, frames: np.ndarray) -> None:
        """Write atomically: a reader never sees a half-written entry."""
        with atomic_file(entry, "wb") as out:
            np.save(out, frames, allow_pickle=False)


def clip_features(path: str | Path, config: FeatureSettings, cache: FeatureCache | None = None) -> ClipFrames:
    """The matrix of frames of one file under the front-end ``config`` belongs to, from the cache when possible.

    Under the paired front-end, both parts' matrices (each cached as its own front-end's).
    """
    if isinstance(config, PairedConfig):
        return PairedFrames(
            clip_features(path, config.lmfcc, cache), clip_features(path, config.musicnn, cache), config
        )
    entry = cache.entry(path, config) if cache else None
    if entry is not None and (frames := cache.load(entry, config)) is not None:
        return frames
    signal = analysable(load_audio(path, sample_rate=config.sample_rate, max_seconds=config.max_seconds), config)
    frames = musicnn_frames(signal, config) if isinstance(config, MusicnnConfig) else lmfcc(signal, config)
    if entry is not None:
        cache.store(entry, frames)
    return frames


def _extract_or_reason(path: str, config: FeatureSettings, cache_dir: str | None) -> tuple[str, ClipFrames | None, str]:
    cache = FeatureCache(cache_dir) if cache_dir else None
    try:
        return path, clip_features(path, config, cache), ""
    except (HierGenreError, OSError) as exc:
        return path, None, failure_reason(path, exc)


def _extract_batch(
    paths: Sequence[str], config: FeatureSettings, cache_dir: str | None
) -> list[tuple[str, ClipFrames | None, str]]:
    """One job of :func:`extract_many`: a batch of files (a worker process or a Dask worker)."""
    return [_extract_or_reason(path, config, cache_dir) for path in paths]


def extract_many(
    paths: Sequence[str | Path],
    config: FeatureSettings,
    *,
    cache: FeatureCache | None = None,
    jobs: int = 1,
    backend: Backend | None = None,
    on_done: Callable[[], None] | None = None,
) -> tuple[dict[str, ClipFrames], dict[str, str]]:
    """Features of many files in parallel; unreadable files are returned apart, not raised.

    The files are cut into batches that run on ``backend`` (default: ``jobs`` local processes);
    workers read and fill the cache themselves. Returns ``(features, failures)``: path to matrix of
    frames, and path to a one-line reason.
    """
    backend = backend or LocalBackend(jobs)
    cache_dir = str(cache.directory.absolute()) if cache else None
    # Workers get absolute paths (a Dask worker's folder is not this one); results keep the caller's spelling.
    names = {str(Path(p).absolute()): str(p) for p in paths}
    work = partial(_extract_batch, config=config, cache_dir=cache_dir)
    features: dict[str, ClipFrames] = {}
    failures: dict[str, str] = {}
    for batch in backend.map_unordered(work, batches(list(names), backend.batch_size(len(names)))):
        for absolute, frames, reason in batch:
            path = names[absolute]
            if frames is None:
                failures[path] = reason.replace(absolute, path, 1)
            else:
                features[path] = frames
            if on_done:
                on_done()
    return features, failures
