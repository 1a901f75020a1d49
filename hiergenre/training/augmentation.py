"""Training-time augmentation of LMFCC windows, in plain numpy.

GTZAN gives about a hundred clips per genre; a small CNN trained on one fixed window per clip sees
too few examples and memorises them. These transforms make every epoch look different while
keeping what identifies a genre:

- random crops: a window may start anywhere in the clip (a song is a genre all along);
- time and coefficient masking (SpecAugment-style): blank a run of frames or of cepstral
  coefficients, so no single moment or coefficient decides;
- mixup: train on convex mixtures of two examples and of their labels, which smooths the decision
  boundaries and calibrates probabilities.

Masks set values to zero, which is the mean once windows are normalised, so augmentation runs
after normalisation. Everything takes an explicit ``numpy.random.Generator`` to stay reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def random_crops(
    clips: Sequence[np.ndarray], labels: np.ndarray, window: int, per_clip: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``per_clip`` windows of ``window`` frames at random starts in each clip's LMFCC matrix.

    A clip shorter than ``window`` is repeated to fill it (as at prediction time).
    """
    xs, ys = [], []
    for frames, label in zip(clips, labels, strict=True):
        if len(frames) < window:
            frames = np.resize(frames, (window, frames.shape[1]))
        starts = rng.integers(0, len(frames) - window + 1, size=per_clip)
        xs.extend(frames[s : s + window] for s in starts)
        ys.extend([label] * per_clip)
    return np.stack(xs), np.asarray(ys)


def mask_runs(x: np.ndarray, max_width: int, axis: int, rng: np.random.Generator) -> np.ndarray:
    """Zero one random run of up to ``max_width`` positions along ``axis`` (1 time, 2 coefficient).

    ``x`` has shape ``(n, frames, coefficients)``; a copy is returned.
    """
    out = np.array(x, copy=True)
    if max_width <= 0:
        return out
    size = out.shape[axis]
    widths = rng.integers(0, min(max_width, size) + 1, size=len(out))
    starts = rng.integers(0, size - widths + 1)
    positions = np.arange(size)
    masked = (positions >= starts[:, None]) & (positions < (starts + widths)[:, None])
    shape = (len(out), size, 1) if axis == 1 else (len(out), 1, size)
    return np.where(masked.reshape(shape), 0.0, out).astype(out.dtype)


def mixup(x: np.ndarray, y: np.ndarray, alpha: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mix each example with a random partner: ``λ·a + (1-λ)·b`` for inputs and one-hot labels.

    ``λ ~ Beta(alpha, alpha)`` per example; ``alpha <= 0`` returns the inputs unchanged.
    """
    if alpha <= 0 or len(x) < 2:
        return x, y
    lam = rng.beta(alpha, alpha, size=len(x)).astype(np.float32)
    partner = rng.permutation(len(x))
    mixed_x = lam[:, None, None] * x + (1 - lam[:, None, None]) * x[partner]
    mixed_y = lam[:, None] * y + (1 - lam[:, None]) * y[partner]
    return mixed_x.astype(np.float32), mixed_y.astype(np.float32)
