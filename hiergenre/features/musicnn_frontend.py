"""The musicnn front-end: a clip's windows of 10 patch embeddings, for the nodes that learn from them.

A window is ``window_frames`` consecutive 3-s patches (10: about 30 s, the length of the clips
the nodes learn from), each patch the 200 values of musicnn's ``penultimate`` layer
(:mod:`hiergenre.features.musicnn`). A node model summarises a window by the mean and standard
deviation of each value over its patches (400 numbers, the embedding probe of the literature).

Which part of a song is analysed: the first ``max_seconds`` (10 minutes) are decoded; a clip of
up to 30 s is one window (a shorter one is repeated to fill it); a longer file gets up to four
windows spread evenly over it, first patch to last, and only their patches go through the
network (a 4-minute song: four 30-s windows, half of it). A clip's probability is the mean of its
windows'. Everything runs in numpy and LiteRT: neither librosa nor TensorFlow is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hiergenre.config import MusicnnConfig
from hiergenre.data.audio import load_audio
from hiergenre.features.frontend import FrontEndBase, recorded_settings
from hiergenre.features.lmfcc import analysable
from hiergenre.features.musicnn import (
    PREDICTION_THREADS,
    Embedder,
    embedder,
    log_compress,
    mel_power,
    patch_count,
    patches,
)
from hiergenre.features.windows import spread_starts
from hiergenre.parallel.backends import usable_cores


@dataclass(frozen=True)
class MusicnnFrontEnd(FrontEndBase):
    """musicnn embeddings of 3-s patches, cut into windows of ``config.window_frames`` patches. Picklable."""

    config: MusicnnConfig = field(default_factory=MusicnnConfig)
    kind: ClassVar[str] = MusicnnConfig.kind

    @property
    def window_samples(self) -> int:
        """Samples of one window: centred frames give ``1 + n // hop`` frames, so this many give exactly its patches."""
        return (self.config.window_frames * self.config.patch_frames - 1) * self.config.hop_length

    def frames(self, signal: np.ndarray) -> np.ndarray:
        """The embedding of every patch ``(n_patches, 200)`` of a signal at :attr:`sample_rate`."""
        log_mel = self._log_mel(signal)
        return self._embedder().embed(patches(log_mel, self.config))

    def _embedder(self) -> Embedder:
        """The network on :data:`PREDICTION_THREADS` threads, or fewer on fewer cores."""
        return embedder(self.config, min(PREDICTION_THREADS, usable_cores()))

    def _log_mel(self, signal: np.ndarray) -> np.ndarray:
        return log_compress(mel_power(analysable(signal, self.config), self.config))

    def windows_at_rate(self, signal: np.ndarray) -> np.ndarray:
        """The windows of a signal at :attr:`sample_rate`, embedding only the patches they hold."""
        log_mel = self._log_mel(signal)
        count = patch_count(len(log_mel), self.config)
        width = self.config.window_frames
        needed = sorted(
            {p for start in spread_starts(count, self.config) for p in range(start, min(start + width, count))}
        )
        embedded = np.zeros((count, self.config.n_dims), np.float32)
        embedded[needed] = self._embedder().embed(patches(log_mel, self.config, np.asarray(needed)))
        return self.clip_windows(embedded)

    def file_windows(self, path: str | Path) -> np.ndarray:
        """The windows of a file's decoded first :attr:`max_seconds` (at most 10 minutes at 16 kHz: 38 MB)."""
        return self.windows_at_rate(load_audio(path, sample_rate=self.sample_rate, max_seconds=self.max_seconds))

    def analysis_window(self, samples: np.ndarray) -> np.ndarray:
        """One window ``(window_frames, 200)`` from :attr:`window_samples` samples at :attr:`sample_rate`."""
        return self.frames(samples)[: self.config.window_frames]

    def save(self, matrices_file: Path) -> None:
        """Nothing to store beside the models: the network ships in the package."""

    @classmethod
    def load(cls, params: dict[str, Any], matrices_file: Path, *, lean: bool) -> MusicnnFrontEnd:
        """The front-end a manifest records (numpy and LiteRT whatever ``lean`` says)."""
        return cls(recorded_settings(MusicnnConfig, params, matrices_file))
