"""The pretrained musicnn embedding: log-mel patches in numpy, musicnn's network in LiteRT.

musicnn (Pons & Serra, 2019; code and weights under the ISC licence, see
``musicnn_model/LICENSE-musicnn.md``) is a music tagger trained on the Million Song Dataset. Its
``MSD_musicnn`` model, converted to LiteRT by ``scripts/convert_musicnn.py``, ships in this package:
what it learned from a million songs carries to artists hiergenre's few training clips never had,
which LMFCC features learned from scratch do not.

Its input is recomputed here as its authors computed it with librosa 0.7, in numpy alone (no
librosa at prediction): a 16 kHz signal, centred frames of 512 samples every 256 padded in
``reflect`` mode, a periodic Hann window, the power spectrum, a Slaney mel filter bank (96 bands up
to 8 kHz, area-normalised), then ``log10(10000·x + 1)`` **in float32** (musicnn's own code casts to
float16 first, which overflows to inf for loud frames under numpy 2 and silently ruins the
embedding). Patches of 187 frames (3 s) that do not overlap go through the network; each gives the
200 values of its ``penultimate`` layer: one "frame" of this front-end.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from hiergenre.config import MusicnnConfig
from hiergenre.errors import HierGenreError
from hiergenre.native import native_stderr_muted

#: The converted model inside the package, and its licence notice.
MODEL_FILES = {"MSD_musicnn": "msd_musicnn.tflite"}
#: Version of how the embedding is computed; part of the cache key, so a change recomputes features.
MUSICNN_ALGORITHM = 1
#: Patches sent through the network at once (bounded memory on long files).
PATCH_BATCH = 32
#: The 50 Million Song Dataset tags of ``MSD_musicnn``'s second output, in its order (musicnn's ``MSD_LABELS``).
MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
    "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
    "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient",
    "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening",
    "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House",
    "happy",
)  # fmt: skip
#: Threads of the network when a file is predicted (more gained nothing measurable: 0.23 s with 4).
PREDICTION_THREADS = 2


def model_path(config: MusicnnConfig) -> Path:
    """The LiteRT file of ``config.model`` shipped in the package."""
    try:
        name = MODEL_FILES[config.model]
    except KeyError:
        raise HierGenreError(
            f"unknown musicnn model {config.model!r}; this hiergenre ships {', '.join(MODEL_FILES)}"
        ) from None
    return Path(str(resources.files("hiergenre.features") / "musicnn_model" / name))


def hz_to_mel(frequencies: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    frequencies = np.asarray(frequencies, dtype=np.float64)
    linear = frequencies / (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    above = frequencies >= 1000.0
    logarithmic = 15.0 + np.log(np.maximum(frequencies, 1e-10) / 1000.0) / log_step
    return np.where(above, logarithmic, linear)


def mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mels = np.asarray(mels, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mels >= 15.0, 1000.0 * np.exp(log_step * (mels - 15.0)), mels * (200.0 / 3))


def mel_basis(config: MusicnnConfig) -> np.ndarray:
    """The mel filter bank ``(n_mels, 1 + n_fft // 2)``: triangles on Slaney's scale, each of unit area (float32)."""
    fft_frequencies = np.linspace(0, config.sample_rate / 2, 1 + config.n_fft // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(config.fmax), config.n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_frequencies[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def hann_window(length: int) -> np.ndarray:
    """The periodic Hann window (``scipy.signal.get_window('hann', length)``, librosa's STFT window)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)).astype(np.float32)


def mel_power(signal: np.ndarray, config: MusicnnConfig) -> np.ndarray:
    """Mel power spectrogram ``(n_frames, n_mels)`` of a 16 kHz signal, as librosa 0.7 computed it (float32).

    Frames are centred: the signal is padded by ``n_fft // 2`` on each side in ``reflect`` mode,
    so ``n_frames = 1 + len(signal) // hop_length``.
    """
    signal = np.asarray(signal, dtype=np.float32)
    pad = config.n_fft // 2
    if signal.size <= pad:  # reflect padding needs more samples than the pad
        signal = np.resize(signal, pad + 1)
    padded = np.pad(signal, pad, mode="reflect")
    n_frames = 1 + (padded.size - config.n_fft) // config.hop_length
    frames = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft)[:: config.hop_length][:n_frames]
    spectrum = np.fft.rfft(frames * hann_window(config.n_fft), axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    return power @ _mel_basis(config).T


def log_compress(mel: np.ndarray) -> np.ndarray:
    """``log10(10000·x + 1)`` in float32: musicnn's compression without its float16 overflow."""
    return np.log10(np.float32(10000.0) * np.asarray(mel, dtype=np.float32) + np.float32(1.0))


def patch_count(n_frames: int, config: MusicnnConfig) -> int:
    """Patches of ``patch_frames`` that do not overlap in ``n_frames`` log-mel frames (at least one)."""
    return max(1, n_frames // config.patch_frames)


def patches(log_mel: np.ndarray, config: MusicnnConfig, indices: np.ndarray | None = None) -> np.ndarray:
    """Patches ``(n, patch_frames, n_mels)`` of a log-mel spectrogram ``(n_frames, n_mels)``.

    ``indices`` picks some of them (default: all). A spectrogram shorter than one patch is
    repeated to fill it (music repeats; zeros would look like silence to the network).
    """
    if len(log_mel) < config.patch_frames:
        log_mel = np.resize(log_mel, (config.patch_frames, log_mel.shape[1]))
    count = patch_count(len(log_mel), config)
    stacked = log_mel[: count * config.patch_frames].reshape(count, config.patch_frames, log_mel.shape[1])
    return stacked if indices is None else stacked[indices]


class Embedder:
    """musicnn's network in LiteRT: ``embed(patches) -> (n, 200)`` penultimate values (and tag probabilities).

    One interpreter per process, model and thread count (:func:`embedder`); a lock keeps threads
    (``predict --jobs``) from sharing it at once.
    """

    def __init__(self, path: Path, threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        if not path.is_file():
            raise HierGenreError(f"the musicnn model is missing from the installation: {path} (reinstall hiergenre)")
        with native_stderr_muted():
            self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["name"].split("/")[-1]: d["index"] for d in self.interpreter.get_output_details()}
        self.penultimate, self.tags = outputs["penultimate"], outputs["tags"]
        self.batch = 0
        self.lock = threading.Lock()

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate ``(n, 200)`` and MSD tag probabilities ``(n, 50)`` of patches ``(n, 187, 96)``."""
        pieces: list[tuple[np.ndarray, np.ndarray]] = []
        with self.lock:
            for start in range(0, len(batch), PATCH_BATCH):
                chunk = np.ascontiguousarray(batch[start : start + PATCH_BATCH], dtype=np.float32)
                if len(chunk) != self.batch:
                    with native_stderr_muted():
                        self.interpreter.resize_tensor_input(self.input, chunk.shape)
                        self.interpreter.allocate_tensors()
                    self.batch = len(chunk)
                self.interpreter.set_tensor(self.input, chunk)
                self.interpreter.invoke()
                pieces.append(
                    (
                        np.array(self.interpreter.get_tensor(self.penultimate)),
                        np.array(self.interpreter.get_tensor(self.tags)),
                    )
                )
        return np.concatenate([p for p, _ in pieces]), np.concatenate([t for _, t in pieces])

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """The penultimate values ``(n, 200)`` of patches ``(n, 187, 96)``, float32."""
        return np.ascontiguousarray(self.run(batch)[0], dtype=np.float32)


@lru_cache(maxsize=4)
def embedder(config: MusicnnConfig, threads: int = 1) -> Embedder:
    """The process's :class:`Embedder` for ``config.model`` on ``threads`` threads (loaded once).

    Extraction runs one thread per worker process (``--jobs`` processes share the cores);
    prediction of a single file uses two (:data:`PREDICTION_THREADS`): 10 patches in 0.22 s
    instead of 0.44 s. Features differ between the two by float rounding only.
    """
    return Embedder(model_path(config), threads)


@lru_cache(maxsize=4)
def _mel_basis(config: MusicnnConfig) -> np.ndarray:
    return mel_basis(config)


def musicnn_frames(signal: np.ndarray, config: MusicnnConfig) -> np.ndarray:
    """The embedding of every patch of a 16 kHz signal: ``(n_patches, 200)``, float32."""
    return embedder(config).embed(patches(log_compress(mel_power(signal, config)), config))


def msd_tags(signal: np.ndarray, config: MusicnnConfig) -> np.ndarray:
    """musicnn's own MSD tag probabilities ``(n_patches, 50)`` (its ``MSD_LABELS`` order), for zero-shot use."""
    return embedder(config).run(patches(log_compress(mel_power(signal, config)), config))[1]
