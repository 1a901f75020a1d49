"""The paired front-end: LMFCC windows and musicnn windows side by side, for nodes that mix both.

A node of ``--features musicnn+lmfcc`` holds the LMFCC CNN and a musicnn classifier
(``--node-model ensemble`` or ``auto``). Each of its windows is a record of an LMFCC window
``(300, 13)`` and the musicnn window ``(10, 200)`` centred nearest to it
(:class:`~hiergenre.features.windows.PairedFrames`), so each part sees exactly what it would see
on its own front-end. The file is decoded twice (22.05 kHz for LMFCC, 16 kHz for musicnn) and
every patch of its first ``max_seconds`` is embedded; everything runs in numpy and LiteRT.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import soxr

from hiergenre.config import PairedConfig
from hiergenre.data.audio import load_audio, stream_signal
from hiergenre.features.frontend import FrontEndBase, LmfccFrontEnd, recorded_settings
from hiergenre.features.lmfcc import LmfccMatrices
from hiergenre.features.musicnn_frontend import MusicnnFrontEnd
from hiergenre.features.windows import PairedFrames, paired_dtype, windows


@dataclass(frozen=True)
class PairedFrontEnd(FrontEndBase):
    """LMFCC (lean with ``matrices``, as :class:`LmfccFrontEnd`) and musicnn, windows paired. Picklable."""

    config: PairedConfig
    matrices: LmfccMatrices | None = None
    kind: ClassVar[str] = PairedConfig.kind

    @property
    def lmfcc(self) -> LmfccFrontEnd:
        """The LMFCC part."""
        return LmfccFrontEnd(self.config.lmfcc, self.matrices)

    @property
    def musicnn(self) -> MusicnnFrontEnd:
        """The musicnn part."""
        return MusicnnFrontEnd(self.config.musicnn)

    @property
    def window_samples(self) -> int:
        """Samples of one LMFCC window (a timeline segment)."""
        return self.lmfcc.window_samples

    def windows_at_rate(self, signal: np.ndarray) -> np.ndarray:
        """The paired windows of a signal at :attr:`sample_rate` (its musicnn part resampled to 16 kHz)."""
        return self.clip_windows(PairedFrames(self.lmfcc.frames(signal), self._musicnn_frames(signal), self.config))

    def file_windows(self, path: str | Path) -> np.ndarray:
        """The paired windows of a file's first :attr:`max_seconds` (LMFCC streamed, musicnn decoded at 16 kHz)."""
        lmfcc = self.lmfcc.stream_frames(
            stream_signal(path, sample_rate=self.sample_rate, max_seconds=self.max_seconds)
        )
        rate = self.config.musicnn.sample_rate
        musicnn = self.musicnn.frames(load_audio(path, sample_rate=rate, max_seconds=self.max_seconds))
        return self.clip_windows(PairedFrames(lmfcc, musicnn, self.config))

    def analysis_window(self, samples: np.ndarray) -> np.ndarray:
        """One paired window (a 0-d record) from :attr:`window_samples` samples at :attr:`sample_rate`.

        Its musicnn part embeds the segment itself (about 14 s: four patches, repeated to fill a window).
        """
        window = np.empty((), dtype=paired_dtype(self.config))
        window["lmfcc"] = self.lmfcc.analysis_window(samples)
        patches = self._musicnn_frames(samples)
        window["musicnn"] = windows(patches, self.config.musicnn.window_frames, mode="first")[0]
        return window

    def _musicnn_frames(self, signal: np.ndarray) -> np.ndarray:
        rate = self.config.musicnn.sample_rate
        resampled = soxr.resample(np.asarray(signal, np.float32), self.sample_rate, rate, quality="HQ")
        return self.musicnn.frames(np.asarray(resampled, np.float32))

    def save(self, matrices_file: Path) -> None:
        """The LMFCC part's matrices (the musicnn network ships in the package)."""
        self.lmfcc.save(matrices_file)

    @classmethod
    def load(cls, params: dict[str, Any], matrices_file: Path, *, lean: bool) -> PairedFrontEnd:
        """The front-end a manifest records; ``lean`` loads the LMFCC matrices stored in ``matrices_file``."""
        config = recorded_settings(PairedConfig, params, matrices_file)
        return cls(config, LmfccMatrices.load(matrices_file) if lean else None)
