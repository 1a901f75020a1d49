"""Decoding audio files into mono float32 signals at the pipeline's sample rate.

soundfile (libsndfile) reads au, wav, flac, ogg and mp3 without spawning a decoder process;
soxr resamples. Neither imports librosa, so this module is cheap to load. Only the first
``max_seconds`` of a file are decoded, so a multi-hour file costs no more than that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from hiergenre.config import SAMPLE_RATE
from hiergenre.errors import HierGenreError


def load_audio(path: str | Path, *, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None) -> np.ndarray:
    """Read ``path`` as a mono float32 signal at ``sample_rate``.

    Multi-channel audio is averaged to mono. Raises :class:`HierGenreError` naming the file when it
    is missing, not decodable, empty, or holds non-finite samples.
    """
    path = Path(path)
    if not path.exists():
        raise HierGenreError(f"{path}: no such file")
    if path.is_dir():
        raise HierGenreError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise HierGenreError(f"{path}: empty file")
    try:
        with sf.SoundFile(str(path)) as handle:
            if handle.format == "RAW":
                # libsndfile guesses headerless .au/.snd files as 8 kHz mu-law: text would "play"
                raise HierGenreError(f"{path}: not a readable audio file (no audio header)")
            native_rate = handle.samplerate
            frames = -1 if max_seconds is None else int(max_seconds * native_rate)
            data = handle.read(frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise HierGenreError(f"{path}: not a readable audio file ({_short(exc)})") from None
    if data.size == 0:
        raise HierGenreError(f"{path}: contains no audio samples")
    signal = data.mean(axis=1)
    if not np.all(np.isfinite(signal)):
        raise HierGenreError(f"{path}: contains NaN or infinite samples")
    if native_rate != sample_rate:
        signal = soxr.resample(signal, native_rate, sample_rate, quality="HQ")
    return np.ascontiguousarray(signal, dtype=np.float32)


def save_audio(path: str | Path, signal: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write a mono signal; the format follows the extension (``.au`` gives 16-bit Sun/NeXT)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = "PCM_16" if path.suffix.lower() in {".au", ".wav", ".flac"} else None
    sf.write(str(path), np.asarray(signal, dtype=np.float32), sample_rate, subtype=subtype)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
