"""LMFCC features, the paper's: liftered MFCCs with librosa (training) or numpy alone (prediction).

One clip becomes a matrix of ``(frames, n_mfcc)`` liftered MFCCs; a CNN input is a window of
``window_frames`` consecutive frames (:mod:`hiergenre.features.windows`). Extraction and its cache
are in :mod:`hiergenre.features.extraction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hiergenre.config import FeatureConfig
from hiergenre.errors import HierGenreError
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
        # float32: what lmfcc_numpy computes in (stored compressed, the mostly empty mel bank takes kilobytes)
        return cls(*(np.asarray(m, np.float32) for m in (window, mel, lifter[:, None] * dct)))

    def save(self, path: str | Path) -> None:
        """Write as a compressed ``.npz`` atomically (plain arrays: loading needs no pickle)."""
        with atomic_file(path, "wb") as out:
            np.savez_compressed(out, window=self.window, mel_basis=self.mel_basis, dct_lifter=self.dct_lifter)

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
