"""Decoding audio files into mono float32 signals at the pipeline's sample rate.

soundfile (libsndfile) reads au, wav, flac, ogg and mp3 without spawning a decoder process;
soxr resamples. Neither imports librosa, so this module is cheap to load. Only the first
``max_seconds`` of a file are decoded, so a multi-hour file costs no more than that; and
:func:`stream_signal` hands them over block by block, so that prediction never holds them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from hiergenre.config import SAMPLE_RATE
from hiergenre.errors import HierGenreError

#: Frames decoded per read: memory stays bounded however long the file is.
BLOCK_FRAMES = 1 << 16
#: A peak below this (−80 dBFS) is silence: there is nothing to classify.
SILENCE_PEAK = 1e-4


def load_audio(path: str | Path, *, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None) -> np.ndarray:
    """Read ``path`` as a mono float32 signal at ``sample_rate``.

    The file is read block by block, each block downmixed to mono and streamed through the
    resampler, and reading stops after ``max_seconds``: memory depends on ``max_seconds``, never
    on the file's length or channel count. Raises :class:`HierGenreError` naming the file when
    it is missing, not decodable (text, random bytes, truncated header), empty, silent, or holds
    non-finite samples.
    """
    pieces = list(stream_signal(path, sample_rate=sample_rate, max_seconds=max_seconds))
    return np.ascontiguousarray(np.concatenate(pieces), dtype=np.float32)


def stream_signal(
    path: str | Path, *, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None
) -> Iterator[np.ndarray]:
    """:func:`load_audio`'s signal as consecutive mono float32 blocks: the same samples, one block in memory.

    The checks :func:`load_audio` makes of the whole signal (empty, silent) raise after the last
    block, so a consumer learns of them before it finishes its own work.
    """
    path = Path(path)
    samples, peak = 0, 0.0
    for block in stream_audio(path, sample_rate=sample_rate, max_seconds=max_seconds):
        if block.size:
            samples, peak = samples + block.size, max(peak, float(np.max(np.abs(block))))
            yield block
    if samples == 0:
        raise HierGenreError(f"{path}: contains no audio samples")
    if peak < SILENCE_PEAK:
        raise HierGenreError(f"{path}: silent (peak below -80 dBFS): nothing to classify")


def _existing_file(path: str | Path) -> Path:
    """``path``, or the one-line reason it cannot be an audio file (missing, a folder, empty)."""
    path = Path(path)
    if not path.exists():
        raise HierGenreError(f"{path}: no such file")
    if path.is_dir():
        raise HierGenreError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise HierGenreError(f"{path}: empty file")
    return path


def _open_audio(path: Path) -> sf.SoundFile:
    """The file opened by libsndfile, refusing what it would guess as headerless raw audio."""
    handle = sf.SoundFile(str(path))
    if handle.format == "RAW":
        handle.close()  # libsndfile guesses headerless .au/.snd files as 8 kHz mu-law: text would "play"
        raise HierGenreError(f"{path}: not a readable audio file (no audio header)")
    return handle


def _mono_blocks(handle: sf.SoundFile, path: Path, limit: int | None, sample_rate: int) -> Iterator[np.ndarray]:
    """The file's signal as consecutive mono blocks at ``sample_rate`` (one resampler for all: seamless)."""
    resampler = None
    if handle.samplerate != sample_rate:
        resampler = soxr.ResampleStream(handle.samplerate, sample_rate, 1, dtype="float32", quality="HQ")
    remaining = limit
    while remaining is None or remaining > 0:
        block = handle.read(
            BLOCK_FRAMES if remaining is None else min(BLOCK_FRAMES, remaining), dtype="float32", always_2d=True
        )
        if not len(block):
            break
        if remaining is not None:
            remaining -= len(block)
        mono = block.mean(axis=1, dtype=np.float32)
        if not np.all(np.isfinite(mono)):
            raise HierGenreError(f"{path}: contains NaN or infinite samples")
        yield resampler.resample_chunk(mono) if resampler else mono
    if resampler is not None:
        yield resampler.resample_chunk(np.zeros(0, np.float32), last=True)


def stream_audio(
    path: str | Path, *, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None
) -> Iterator[np.ndarray]:
    """The file (its first ``max_seconds``, if given) as consecutive mono float32 blocks at ``sample_rate``.

    Memory holds one block at a time, for files of any length. Errors are :class:`HierGenreError`
    naming the file, as :func:`load_audio` raises them (silence is the caller's to judge, block by
    block; :func:`stream_signal` judges it as :func:`load_audio` does).
    """
    path = _existing_file(path)
    try:
        with _open_audio(path) as handle:
            limit = None if max_seconds is None else int(max_seconds * handle.samplerate)
            yield from _mono_blocks(handle, path, limit, sample_rate)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, EOFError) as exc:
        raise HierGenreError(f"{path}: not a readable audio file ({_short(exc)})") from None


def save_audio(path: str | Path, signal: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write a mono signal; the format follows the extension (``.au`` gives 16-bit Sun/NeXT)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = "PCM_16" if path.suffix.lower() in {".au", ".wav", ".flac"} else None
    sf.write(str(path), np.asarray(signal, dtype=np.float32), sample_rate, subtype=subtype)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
