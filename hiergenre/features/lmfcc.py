"""LMFCC features: extraction, windowing, normalisation and an on-disk cache.

One clip becomes a matrix of ``(frames, n_mfcc)`` liftered MFCCs; a CNN input is a window of
``window_frames`` consecutive frames. Normalisation statistics (one mean and standard deviation per
coefficient) are fitted on training windows only and travel with each model.

The cache stores each clip's full LMFCC matrix as ``.npy`` under a key made of the file's content
hash and the feature parameters, so renaming a file keeps its entry and changing a parameter never
serves stale features. Entries are written to a temporary name and renamed, and a corrupted entry
is recomputed rather than trusted. No pickle is involved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from hiergenre.config import FeatureConfig
from hiergenre.data.audio import load_audio
from hiergenre.errors import HierGenreError
from hiergenre.parallel.backends import Backend, LocalBackend, batches
from hiergenre.storage import atomic_file

#: Version of how :func:`lmfcc` computes; part of the cache key, so a change recomputes features.
#: 2: computed in float64 (identical whatever the number of extraction jobs).
LMFCC_ALGORITHM = 2

#: Shortest clip worth classifying. Shorter ones are refused; clips between this and one window
#: (300 frames, ~14 s) are repeated until they fill the window (see :func:`windows`).
MIN_SECONDS = 1.0


def analysable(signal: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The signal as float32, or an error when it is too short to say anything about its genre."""
    signal = np.asarray(signal, dtype=np.float32)
    if signal.size < MIN_SECONDS * config.sample_rate:
        raise HierGenreError(
            f"too short: {1000 * signal.size / config.sample_rate:.0f} ms of audio, "
            f"at least {MIN_SECONDS:g} s is needed"
        )
    return signal


def lmfcc(signal: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Liftered MFCCs of a mono signal, shape ``(frames, n_mfcc)``, float32.

    Frames are not centred (frame ``i`` starts at sample ``i * hop_length``). Signals shorter
    than :data:`MIN_SECONDS` are refused.
    """
    import librosa  # heavy: only paid by code that extracts features

    signal = analysable(signal, config)
    coefficients = librosa.feature.mfcc(
        # float64 inside: float32 matrix products round differently with the BLAS thread count
        # (joblib workers run single-threaded), which made features, and through them every
        # trained network, depend on --jobs. Rounded to float32 only at the end, they do not.
        y=signal.astype(np.float64),
        sr=config.sample_rate,
        n_mfcc=config.n_mfcc,
        n_fft=config.frame_length,
        hop_length=config.hop_length,
        n_mels=config.n_mels,
        lifter=config.lifter,
        center=False,
    )
    return np.ascontiguousarray(coefficients.T, dtype=np.float32)


@dataclass(frozen=True)
class LmfccMatrices:
    """Everything LMFCC needs besides an FFT: the analysis window, the mel filter bank, and the DCT
    with liftering folded in.

    Computed once with librosa (:meth:`from_librosa`) and stored next to the trained models, they let
    prediction compute the very features the models were trained on with numpy alone
    (:func:`lmfcc_numpy`), without importing librosa (about 2 s of start-up).
    """

    window: np.ndarray
    mel_basis: np.ndarray
    dct_lifter: np.ndarray

    @classmethod
    def from_librosa(cls, config: FeatureConfig) -> LmfccMatrices:
        """The matrices librosa's ``mfcc`` uses for ``config`` (Hann window, Slaney mel, DCT-II ortho)."""
        import librosa
        import scipy.fft

        window = librosa.filters.get_window("hann", config.frame_length, fftbins=True)
        mel = librosa.filters.mel(sr=config.sample_rate, n_fft=config.frame_length, n_mels=config.n_mels)
        dct = scipy.fft.dct(np.eye(config.n_mels), type=2, norm="ortho", axis=0)[: config.n_mfcc]
        lifter = np.ones(config.n_mfcc)
        if config.lifter > 0:
            lifter += (config.lifter / 2) * np.sin(np.pi * np.arange(1, config.n_mfcc + 1) / config.lifter)
        return cls(np.asarray(window, np.float64), np.asarray(mel, np.float64), lifter[:, None] * dct)

    def save(self, path: str | Path) -> None:
        """Write as ``.npz`` atomically (plain arrays: loading needs no pickle)."""
        with atomic_file(path, "wb") as out:
            np.savez(out, window=self.window, mel_basis=self.mel_basis, dct_lifter=self.dct_lifter)

    @classmethod
    def load(cls, path: str | Path) -> LmfccMatrices:
        """Read what :meth:`save` wrote; a missing or damaged file is a one-line error."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["window"], data["mel_basis"], data["dct_lifter"])
        except FileNotFoundError:
            raise HierGenreError(f"feature matrices not found: {path} (retrain with train-all)") from None
        except (OSError, ValueError, KeyError) as exc:
            raise HierGenreError(f"feature matrices are unreadable ({path}): {exc}") from None


def lmfcc_numpy(signal: np.ndarray, config: FeatureConfig, matrices: LmfccMatrices) -> np.ndarray:
    """:func:`lmfcc` in numpy alone, from precomputed matrices; equal to it up to float rounding.

    Same steps as librosa: uncentred frames, Hann window, power spectrum, mel filter bank,
    ``10·log10`` clipped 80 dB below the clip's maximum, DCT-II and liftering.
    """
    signal = analysable(signal, config)
    n_frames = 1 + (signal.size - config.frame_length) // config.hop_length
    frames = np.lib.stride_tricks.sliding_window_view(signal, config.frame_length)[:: config.hop_length][:n_frames]
    spectrum = np.fft.rfft(frames * matrices.window.astype(np.float32), axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    mel = power @ matrices.mel_basis.T.astype(np.float32)
    log_mel = 10.0 * np.log10(np.maximum(mel, 1e-10))
    log_mel = np.maximum(log_mel, log_mel.max() - 80.0)
    return np.ascontiguousarray(log_mel @ matrices.dct_lifter.T.astype(np.float32), dtype=np.float32)


def window_starts(n_frames: int, window: int, *, mode: str, hop: int = 150, max_windows: int = 8) -> list[int]:
    """First frame of each window taken from a clip of ``n_frames`` frames.

    ``first``: the clip's opening window only (the paper). ``all``: every ``hop`` frames.
    ``spread``: at most ``max_windows`` windows evenly spread over the clip (prediction on long
    songs). A clip shorter than one window gives a single window starting at 0.
    """
    last = n_frames - window
    if last <= 0 or mode == "first":
        return [0]
    if mode == "all":
        return list(range(0, last + 1, hop))
    if mode == "spread":
        count = min(max_windows, last // hop + 1)
        return sorted({int(round(s)) for s in np.linspace(0, last, count)})
    raise HierGenreError(f"unknown window mode {mode!r}; use first, all or spread")


def windows(frames: np.ndarray, window: int, *, mode: str, hop: int = 150, max_windows: int = 8) -> np.ndarray:
    """Stack of windows ``(n, window, n_mfcc)`` cut from one clip's LMFCC matrix.

    A clip shorter than ``window`` frames is repeated to fill it (documented choice: music is
    mostly repetitive, and zero padding would look like silence to the model).
    """
    if len(frames) < window:
        frames = np.resize(frames, (window, frames.shape[1])) if len(frames) else frames
    starts = window_starts(len(frames), window, mode=mode, hop=hop, max_windows=max_windows)
    return np.stack([frames[s : s + window] for s in starts])


#: At most this many windows are scored per clip at prediction time; their probabilities are averaged.
PREDICT_MAX_WINDOWS = 8
#: Smallest distance between two prediction windows (50 frames ≈ 2.3 s): a 30 s clip gets 7 windows.
PREDICT_HOP_FRAMES = 50


def prediction_windows(frames: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The windows every scoring path uses (prediction, evaluation, validation): spread over the clip."""
    return windows(frames, config.window_frames, mode="spread", hop=PREDICT_HOP_FRAMES, max_windows=PREDICT_MAX_WINDOWS)


@dataclass(frozen=True)
class Normalizer:
    """Per-coefficient standardisation fitted on training data."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, data: np.ndarray) -> Normalizer:
        """Fit on any array whose last axis is the coefficient axis."""
        flat = np.asarray(data, dtype=np.float64).reshape(-1, data.shape[-1])
        std = flat.std(axis=0)
        return cls(flat.mean(axis=0), np.where(std > 1e-8, std, 1.0))

    def transform(self, data: np.ndarray) -> np.ndarray:
        """Zero mean, unit variance per coefficient, float32."""
        return ((data - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-friendly form, stored in model metadata."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> Normalizer:
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(data["mean"], dtype=np.float64), np.asarray(data["std"], dtype=np.float64))


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
    """Clip LMFCC matrices stored as ``.npy`` files keyed by content and parameters."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def entry(self, path: str | Path, config: FeatureConfig) -> Path:
        """Where the features of ``path`` under ``config`` live."""
        return self.directory / f"{config.key()}-v{LMFCC_ALGORITHM}" / f"{file_digest(path)}.npy"

    def load(self, entry: Path, config: FeatureConfig) -> np.ndarray | None:
        """The cached matrix, or None when absent or unreadable (then it gets recomputed)."""
        try:
            frames = np.load(entry, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if frames.ndim != 2 or frames.shape[1] != config.n_mfcc or not np.all(np.isfinite(frames)):
            return None
        return frames

    def store(self, entry: Path, frames: np.ndarray) -> None:
        """Write atomically: a reader never sees a half-written entry."""
        with atomic_file(entry, "wb") as out:
            np.save(out, frames, allow_pickle=False)


def clip_features(path: str | Path, config: FeatureConfig, cache: FeatureCache | None = None) -> np.ndarray:
    """LMFCC matrix of one file, from the cache when possible."""
    entry = cache.entry(path, config) if cache else None
    if entry is not None and (frames := cache.load(entry, config)) is not None:
        return frames
    frames = lmfcc(load_audio(path, sample_rate=config.sample_rate, max_seconds=config.max_seconds), config)
    if entry is not None:
        cache.store(entry, frames)
    return frames


def _extract_or_reason(path: str, config: FeatureConfig, cache_dir: str | None) -> tuple[str, np.ndarray | None, str]:
    cache = FeatureCache(cache_dir) if cache_dir else None
    try:
        return path, clip_features(path, config, cache), ""
    except (HierGenreError, OSError) as exc:
        return path, None, failure_reason(path, exc)


def _extract_batch(
    paths: Sequence[str], config: FeatureConfig, cache_dir: str | None
) -> list[tuple[str, np.ndarray | None, str]]:
    """One job of :func:`extract_many`: a batch of files (a worker process or a Dask worker)."""
    return [_extract_or_reason(path, config, cache_dir) for path in paths]


def extract_many(
    paths: Sequence[str | Path],
    config: FeatureConfig,
    *,
    cache: FeatureCache | None = None,
    jobs: int = 1,
    backend: Backend | None = None,
    on_done: Callable[[], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Features of many files in parallel; unreadable files are returned apart, not raised.

    The files are cut into batches that run on ``backend`` (default: ``jobs`` local processes);
    workers read and fill the cache themselves. Returns ``(features, failures)``: path to LMFCC
    matrix, and path to a one-line reason.
    """
    backend = backend or LocalBackend(jobs)
    cache_dir = str(cache.directory.absolute()) if cache else None
    # Workers get absolute paths (a Dask worker's folder is not this one); results keep the caller's spelling.
    names = {str(Path(p).absolute()): str(p) for p in paths}
    work = partial(_extract_batch, config=config, cache_dir=cache_dir)
    features: dict[str, np.ndarray] = {}
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
