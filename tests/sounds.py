"""Sounds the tests write: enough signal for every stage, made here rather than read from outside the repo."""

from __future__ import annotations

import numpy as np


def music(seconds: float = 3.0, rate: int = 22050, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A few notes with a beat and some noise: ``(n_samples,)``, or ``(n_samples, channels)`` if ``channels > 1``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    mono += 0.02 * rng.standard_normal(len(t))
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono
