"""Windows: the unit every node model sees, cut from a clip's matrix of frames, whatever the front-end.

A front-end turns a clip into frames ``(n_frames, n_dims)`` (LMFCC: 13 coefficients every 46 ms;
musicnn: 200 embedding values every 3-s patch); a window is ``window_frames`` consecutive frames
(LMFCC: 300, about 14 s; musicnn: 10 patches, about 30 s). Training cuts windows by a mode, every
scoring path spreads a few over the clip and averages their probabilities. Normalisation
statistics (one mean and standard deviation per value) are fitted on training windows only and
travel with each model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hiergenre.config import FeatureSettings, PairedConfig
from hiergenre.errors import HierGenreError


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


def windows(
    frames: np.ndarray | PairedFrames, window: int, *, mode: str, hop: int = 150, max_windows: int = 8
) -> np.ndarray:
    """Stack of windows ``(n, window, n_dims)`` cut from one clip's matrix of frames ``(n_frames, n_dims)``.

    A clip shorter than ``window`` frames is repeated to fill it (documented choice: music is
    mostly repetitive, and zero padding would look like silence to the model). A clip of
    :class:`PairedFrames` gives paired windows (:meth:`PairedFrames.windows`).
    """
    if isinstance(frames, PairedFrames):
        return frames.windows(window, mode=mode, hop=hop, max_windows=max_windows)
    if len(frames) < window:
        frames = np.resize(frames, (window, frames.shape[1])) if len(frames) else frames
    starts = window_starts(len(frames), window, mode=mode, hop=hop, max_windows=max_windows)
    return np.stack([frames[s : s + window] for s in starts])


def prediction_windows(frames: np.ndarray | PairedFrames, config: FeatureSettings) -> np.ndarray:
    """The windows every scoring path uses (prediction, evaluation, validation): spread over the clip.

    At most ``config.spread_max_windows`` windows at least ``config.spread_hop_frames`` apart
    (LMFCC: 8 windows of 14 s; musicnn: 4 windows of 30 s); their probabilities are averaged.
    """
    return windows(
        frames,
        config.window_frames,
        mode="spread",
        hop=config.spread_hop_frames,
        max_windows=config.spread_max_windows,
    )


def spread_starts(n_frames: int, config: FeatureSettings) -> list[int]:
    """First frame of each window :func:`prediction_windows` cuts from ``n_frames`` frames."""
    hop, most = config.spread_hop_frames, config.spread_max_windows
    return window_starts(n_frames, config.window_frames, mode="spread", hop=hop, max_windows=most)


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


@dataclass(frozen=True)
class PairedFrames:
    """One clip under the paired front-end: its LMFCC frames ``(n, 13)`` and musicnn patches ``(m, 200)``.

    :meth:`windows` pairs each LMFCC window with the musicnn window centred nearest to it, as one
    record of a structured array (fields ``lmfcc`` and ``musicnn``), so that every path that
    stacks, concatenates and counts windows works unchanged; a node's part reads its own field
    (:func:`part_of`).
    """

    lmfcc: np.ndarray
    musicnn: np.ndarray
    config: PairedConfig

    def __len__(self) -> int:
        return len(self.lmfcc)

    def part(self, name: str) -> np.ndarray:
        """The frames of one part (``lmfcc`` or ``musicnn``)."""
        return self.lmfcc if name == "lmfcc" else self.musicnn

    def windows(self, window: int, *, mode: str, hop: int, max_windows: int) -> np.ndarray:
        """Structured windows ``(n,)``: LMFCC windows cut by ``mode``, each with its nearest musicnn window."""
        lmfcc_config, musicnn_config = self.config.lmfcc, self.config.musicnn
        lmfcc_windows = windows(self.lmfcc, window, mode=mode, hop=hop, max_windows=max_windows)
        starts = window_starts(max(len(self.lmfcc), window), window, mode=mode, hop=hop, max_windows=max_windows)
        musicnn_windows = windows(self.musicnn, musicnn_config.window_frames, mode="all", hop=1)
        centres = [
            start * lmfcc_config.hop_length / lmfcc_config.sample_rate + lmfcc_config.window_seconds / 2
            for start in starts
        ]
        latest = len(musicnn_windows) - 1
        chosen = [
            min(latest, max(0, round(t / musicnn_config.patch_seconds - musicnn_config.window_frames / 2)))
            for t in centres
        ]
        paired = np.empty(len(starts), dtype=paired_dtype(self.config))
        paired["lmfcc"] = lmfcc_windows
        paired["musicnn"] = musicnn_windows[chosen]
        return paired


def paired_dtype(config: PairedConfig) -> np.dtype:
    """The record of one paired window: an LMFCC window and a musicnn window."""
    lmfcc, musicnn = config.lmfcc, config.musicnn
    return np.dtype(
        [
            ("lmfcc", np.float32, (lmfcc.window_frames, lmfcc.n_dims)),
            ("musicnn", np.float32, (musicnn.window_frames, musicnn.n_dims)),
        ]
    )


def part_of(windows: Any, part: str | None) -> np.ndarray:
    """The windows a node part reads: field ``part`` of paired windows, or the windows themselves."""
    array = np.asarray(windows)
    if part is None or array.dtype.names is None:
        return array
    return array[part]
