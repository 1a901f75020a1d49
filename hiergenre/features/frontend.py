"""Feature front-ends: from a signal at any sample rate to the windows a trained tree's node models take.

A trained tree's manifest records its front-end, ``{"kind": "lmfcc", "params": {...}}``, and every
path that feeds its models (prediction, timelines, evaluation) asks that front-end for their inputs
instead of assuming LMFCC settings. A front-end takes ``(y, sr)``, resamples to its own rate and
returns the windows of one clip, ``(n_windows, frames, n_dims)``. This module holds the protocol
and LMFCC's (:class:`LmfccFrontEnd`); musicnn's is in :mod:`hiergenre.features.musicnn_frontend`,
and :mod:`hiergenre.features.registry` knows every kind.

A file's windows are computed from its decoded blocks as they arrive (:meth:`LmfccFrontEnd.file_windows`):
spectra of :data:`FRAMES_PER_CHUNK` frames at a time, of which only the mel energies are kept
(``(n_frames, n_mels)``, 2 MB for ten minutes), so that the memory of a prediction does not grow
with the file's length. The 80 dB floor below the loudest frame needs all of them, which is why
the mel energies are kept rather than the coefficients alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import soxr

from hiergenre.config import FeatureConfig
from hiergenre.data.audio import BLOCK_FRAMES, SILENCE_PEAK, stream_signal
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.features.lmfcc import LmfccMatrices, analysable, lmfcc, lmfcc_numpy
from hiergenre.features.windows import prediction_windows
from hiergenre.parallel.backends import Backend

#: Frames whose spectra are computed at once when a file is streamed (~6 MB of working memory).
FRAMES_PER_CHUNK = 256


class FrontEnd(Protocol):
    """What prediction needs of a front-end (:class:`LmfccFrontEnd` is one)."""

    kind: ClassVar[str]

    @property
    def params(self) -> dict[str, Any]:
        """Its settings, as the manifest records them."""
        ...

    @property
    def sample_rate(self) -> int:
        """The rate it resamples every signal to."""
        ...

    @property
    def window_samples(self) -> int:
        """Samples (at :attr:`sample_rate`) one analysis window spans."""
        ...

    @property
    def max_seconds(self) -> float:
        """Seconds of a signal it uses at most (the first ones)."""
        ...

    def windows(self, y: np.ndarray, sr: float) -> np.ndarray:
        """The windows of one clip ``(n_windows, frames, n_coefficients)`` from a mono signal ``(n_samples,)``."""
        ...

    def windows_at_rate(self, signal: np.ndarray) -> np.ndarray:
        """:meth:`windows` of a signal already at :attr:`sample_rate`, cut to :attr:`max_seconds` (a decoded file)."""
        ...

    def file_windows(self, path: str | Path) -> np.ndarray:
        """The windows of a file's first :attr:`max_seconds`, in memory that does not grow with the file."""
        ...

    def analysis_window(self, samples: np.ndarray) -> np.ndarray:
        """One window ``(frames, n_coefficients)`` from :attr:`window_samples` samples at :attr:`sample_rate`."""
        ...


class FrontEndBase:
    """What every front-end does the same way, from its settings (``config``) and its ``kind``.

    A front-end adds how it turns a signal at its own rate into windows (``windows_at_rate``), a
    file into windows (``file_windows``), one analysis window, and what it stores beside the models.
    """

    config: Any
    kind: ClassVar[str]

    @property
    def params(self) -> dict[str, Any]:
        """Its settings' fields, as the manifest records them."""
        return asdict(self.config)

    @property
    def record(self) -> dict[str, Any]:
        """What a manifest stores of it."""
        return {"kind": self.kind, "params": self.params}

    @property
    def sample_rate(self) -> int:
        """The rate it resamples every signal to."""
        return self.config.sample_rate

    @property
    def max_seconds(self) -> float:
        """Seconds of a signal it uses at most (the first ones): what the file decoder is told to read."""
        return self.config.max_seconds

    def windows_at_rate(self, signal: np.ndarray) -> np.ndarray:
        """The windows of a signal already at :attr:`sample_rate` (each front-end's own)."""
        raise NotImplementedError

    def windows(self, y: np.ndarray, sr: float) -> np.ndarray:
        """The windows of a mono signal ``(n_samples,)`` at ``sr`` Hz: resampled, cut to :attr:`max_seconds`."""
        return self.windows_at_rate(resample_signal(y, sr, self.sample_rate, self.max_seconds))

    def clip_windows(self, frames: Any) -> np.ndarray:
        """The windows every scoring path uses, spread over one clip's frames."""
        return prediction_windows(frames, self.config)

    def extract(
        self,
        paths: Sequence[str | Path],
        *,
        cache: FeatureCache | None = None,
        backend: Backend | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Every readable file's frames (cached under this front-end's key), and a one-line reason for each other."""
        return extract_many(paths, self.config, cache=cache, backend=backend, on_done=on_done)


def recorded_settings(settings: type, params: dict[str, Any], matrices_file: Path) -> Any:
    """``settings(**params)`` read from a manifest, or the one-line error that the models' settings are damaged."""
    try:
        return settings(**params)
    except TypeError as exc:
        raise HierGenreError(
            f"damaged front-end settings of the models in {matrices_file.parent} ({exc}); retrain with train-all"
        ) from None


@dataclass(frozen=True)
class LmfccFrontEnd(FrontEndBase):
    """Liftered MFCCs (:mod:`hiergenre.features.lmfcc`), cut into the windows every scoring path uses.

    ``matrices`` set: LMFCC in numpy from the matrices stored with the models (the lean path, no
    librosa); None: librosa (the reference path). Picklable, so a worker process can run it.
    """

    config: FeatureConfig
    matrices: LmfccMatrices | None = None
    kind: ClassVar[str] = "lmfcc"

    @property
    def window_samples(self) -> int:
        """Samples one analysis window spans: its frames' first sample to their last one."""
        return self.config.frame_length + (self.config.window_frames - 1) * self.config.hop_length

    def frames(self, signal: np.ndarray) -> np.ndarray:
        """LMFCC ``(n_frames, n_mfcc)`` of a mono signal already at :attr:`sample_rate`."""
        if self.matrices is not None:
            return lmfcc_numpy(signal, self.config, self.matrices)
        return lmfcc(signal, self.config)

    def file_windows(self, path: str | Path) -> np.ndarray:
        """:meth:`windows_at_rate` of a file's decoded first :attr:`max_seconds`, computed as its blocks arrive.

        Memory holds one decoded block, one chunk of frames and the mel energies of the frames so
        far, never the signal: an hour-long file costs what a song does. Raises the one-line
        :class:`~hiergenre.errors.HierGenreError` that :func:`~hiergenre.data.audio.load_audio` would.
        """
        blocks = stream_signal(path, sample_rate=self.sample_rate, max_seconds=self.max_seconds)
        return self.clip_windows(self.stream_frames(blocks))

    def stream_frames(self, blocks: Iterable[np.ndarray]) -> np.ndarray:
        """:meth:`frames` of the signal that ``blocks`` (consecutive pieces of it) make, without joining them.

        Frames are uncentred, so a chunk of frames needs exactly its own samples: the chunks'
        mel energies are those of the whole signal, and so are the coefficients, up to float rounding.
        """
        config = self.config
        chunk_samples = config.frame_length + (FRAMES_PER_CHUNK - 1) * config.hop_length
        buffer, samples = np.zeros(0, np.float32), 0
        mel_chunks: list[np.ndarray] = []
        for block in blocks:
            buffer, samples = np.concatenate([buffer, block]), samples + len(block)
            while len(buffer) >= chunk_samples:
                mel_chunks.append(self._mel_energies(buffer[:chunk_samples]))
                buffer = buffer[FRAMES_PER_CHUNK * config.hop_length :]
        # Too short for one analysis: the error lmfcc gives (the samples' values do not matter to it).
        analysable(np.broadcast_to(np.float32(0), (samples,)), config)
        if len(buffer) >= config.frame_length:
            mel_chunks.append(self._mel_energies(buffer))
        return self._coefficients(np.concatenate(mel_chunks))

    def _mel_energies(self, samples: np.ndarray) -> np.ndarray:
        """Mel energies ``(n_frames, n_mels)`` of every whole frame in ``samples``, as :meth:`frames` computes them."""
        config = self.config
        if self.matrices is None:
            import librosa  # the reference path: the very calls of librosa.feature.mfcc

            mel = librosa.feature.melspectrogram(
                y=samples.astype(np.float64),
                sr=config.sample_rate,
                n_fft=config.frame_length,
                hop_length=config.hop_length,
                n_mels=config.n_mels,
                center=False,
            )
            return mel.T
        n_frames = 1 + (samples.size - config.frame_length) // config.hop_length
        frames = np.lib.stride_tricks.sliding_window_view(samples, config.frame_length)[:: config.hop_length][:n_frames]
        spectrum = np.fft.rfft(frames * self.matrices.window.astype(np.float32), axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        return power @ self.matrices.mel_basis.T.astype(np.float32)

    def _coefficients(self, mel: np.ndarray) -> np.ndarray:
        """LMFCC ``(n_frames, n_mfcc)`` from a whole signal's mel energies ``(n_frames, n_mels)``."""
        config = self.config
        if self.matrices is None:
            import librosa

            coefficients = librosa.feature.mfcc(
                S=librosa.power_to_db(mel.T), n_mfcc=config.n_mfcc, lifter=config.lifter
            )
            return np.ascontiguousarray(coefficients.T, dtype=np.float32)
        log_mel = 10.0 * np.log10(np.maximum(mel, 1e-10))
        log_mel = np.maximum(log_mel, log_mel.max() - 80.0)
        return np.ascontiguousarray(log_mel @ self.matrices.dct_lifter.T.astype(np.float32), dtype=np.float32)

    def windows_at_rate(self, signal: np.ndarray) -> np.ndarray:
        """:meth:`windows` of a signal already at :attr:`sample_rate`, cut to :attr:`max_seconds` (a decoded file)."""
        return self.clip_windows(self.frames(signal))

    def analysis_window(self, samples: np.ndarray) -> np.ndarray:
        """One window ``(window_frames, n_mfcc)`` from :attr:`window_samples` samples at :attr:`sample_rate`."""
        return self.frames(samples)[: self.config.window_frames]

    def save(self, matrices_file: Path) -> None:
        """Store what the lean path needs beside the models: the LMFCC matrices (computed with librosa)."""
        (self.matrices or LmfccMatrices.from_librosa(self.config)).save(matrices_file)

    @classmethod
    def load(cls, params: dict[str, Any], matrices_file: Path, *, lean: bool) -> LmfccFrontEnd:
        """The front-end a manifest records; ``lean`` loads the matrices stored in ``matrices_file`` (no librosa)."""
        config = recorded_settings(FeatureConfig, params, matrices_file)
        return cls(config, LmfccMatrices.load(matrices_file) if lean else None)


def resample_signal(y: np.ndarray, sr: float, rate: int, max_seconds: float) -> np.ndarray:
    """A mono signal ``(n_samples,)`` at ``sr`` Hz as float32 at ``rate``, checked as files are.

    Resampled by soxr in the blocks the file decoder uses (:mod:`hiergenre.data.audio`), so a
    signal gives the very samples its file would; only the first ``max_seconds`` are used.
    """
    signal = checked_signal(y, sr)[: int(max_seconds * sr)]
    if sr != rate:
        resampler = soxr.ResampleStream(sr, rate, 1, dtype="float32", quality="HQ")
        blocks = [resampler.resample_chunk(signal[i : i + BLOCK_FRAMES]) for i in range(0, len(signal), BLOCK_FRAMES)]
        signal = np.concatenate([*blocks, resampler.resample_chunk(np.zeros(0, np.float32), last=True)])
    if float(np.max(np.abs(signal))) < SILENCE_PEAK:
        raise HierGenreError("the signal is silent (peak below -80 dBFS): nothing to classify")
    return np.ascontiguousarray(signal, dtype=np.float32)


def checked_signal(y: np.ndarray, sr: float) -> np.ndarray:
    """``y`` as a float32 mono signal, or a one-line error saying what is wrong with it or with ``sr``."""
    try:
        rate = float(sr)
        signal = np.asarray(y, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidValue("expected a numeric mono signal (a 1-D numpy array) and a sample rate in Hz") from None
    if not np.isfinite(rate) or rate <= 0:
        raise InvalidValue(f"the sample rate must be a positive number of Hz, got {sr}")
    if signal.ndim != 1:
        raise InvalidValue(
            f"expected a mono signal of shape (n_samples,), got shape {signal.shape}: "
            "downmix first (y.mean(axis=0) for librosa's (channels, n_samples))"
        )
    if signal.size == 0:
        raise HierGenreError("the signal holds no samples")
    if not np.all(np.isfinite(signal)):
        raise HierGenreError("the signal contains NaN or infinite samples")
    return signal
