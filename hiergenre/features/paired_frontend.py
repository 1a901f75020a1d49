"""The paired front-end: LMFCC windows and musicnn windows side by side, for nodes that mix both.

A node of ``--features musicnn+lmfcc`` holds the LMFCC CNN and a musicnn classifier
(``--node-model ensemble`` or ``auto``). Each of its windows is a record of an LMFCC window
``(300, 13)`` and the musicnn window ``(10, 200)`` centred nearest to it
(:class:`~hiergenre.features.windows.PairedFrames`), so each part sees exactly what it would see
on its own front-end. The file is decoded twice (22.05 kHz for LMFCC, 16 kHz for musicnn) and
every patch of its first ``max_seconds`` is embedded; everything runs in numpy and LiteRT.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import soxr

from hiergenre.config import PairedConfig
from hiergenre.data.audio import load_audio, stream_signal
from hiergenre.errors import HierGenreError
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.features.frontend import LmfccFrontEnd, resample_signal
from hiergenre.features.lmfcc import LmfccMatrices
from hiergenre.features.musicnn_frontend import MusicnnFrontEnd
from hiergenre.features.windows import PairedFrames, paired_dtype, prediction_windows, windows
from hiergenre.parallel.backends import Backend


@dataclass(frozen=True)
class PairedFrontEnd:
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
    def params(self) -> dict[str, Any]:
        """Both parts' settings, as two nested dicts."""
        return asdict(self.config)

    @property
    def record(self) -> dict[str, Any]:
        """What a manifest stores of it."""
        return {"kind": self.kind, "params": self.params}

    @property
    def sample_rate(self) -> int:
        """The LMFCC part's rate: timelines cut segments at it."""
        return self.config.sample_rate

    @property
    def window_samples(self) -> int:
        """Samples of one LMFCC window (a timeline segment)."""
        return self.lmfcc.window_samples

    @property
    def max_seconds(self) -> float:
        """Seconds of a file it decodes at most."""
        return self.config.max_seconds

    def clip_windows(self, frames: PairedFrames) -> np.ndarray:
        """The paired windows ``(n_windows,)`` of one clip (spread over it, as LMFCC's are)."""
        return prediction_windows(frames, self.config)

    def windows_at_rate(self, signal: np.ndarray) -> np.ndarray:
        """The paired windows of a signal at :attr:`sample_rate` (its musicnn part resampled to 16 kHz)."""
        return self.clip_windows(PairedFrames(self.lmfcc.frames(signal), self._musicnn_frames(signal), self.config))

    def windows(self, y: np.ndarray, sr: float) -> np.ndarray:
        """The paired windows ``(n_windows,)`` of a mono signal ``(n_samples,)`` at ``sr`` Hz."""
        return self.windows_at_rate(resample_signal(y, sr, self.sample_rate, self.max_seconds))

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

    def extract(
        self,
        paths: Sequence[str | Path],
        *,
        cache: FeatureCache | None = None,
        backend: Backend | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Both parts' frames of every readable file (each cached as its own front-end's), and failures."""
        return extract_many(paths, self.config, cache=cache, backend=backend, on_done=on_done)

    def save(self, matrices_file: Path) -> None:
        """The LMFCC part's matrices (the musicnn network ships in the package)."""
        self.lmfcc.save(matrices_file)

    @classmethod
    def load(cls, params: dict[str, Any], matrices_file: Path, *, lean: bool) -> PairedFrontEnd:
        """The front-end a manifest records; ``lean`` loads the LMFCC matrices stored in ``matrices_file``."""
        try:
            config = PairedConfig(**params)
        except TypeError as exc:
            raise HierGenreError(
                f"damaged front-end settings of the models in {matrices_file.parent} ({exc}); retrain with train-all"
            ) from None
        return cls(config, LmfccMatrices.load(matrices_file) if lean else None)
