"""Window statistics: the summary the non-deep classifiers work on, whatever the front-end.

The mean and standard deviation of each value over a window's frames: for LMFCC, each
coefficient over time (a clip's timbre, nothing of its rhythm; the bar a CNN has to beat, the
benchmarks' ``stats-svm`` and ``stats-lr``); for musicnn, each embedding value over the window's
patches (the 400-number clip vector of the embedding probes in the literature). They are what
``build-tree --learn`` clusters genres by and what the statistics node model classifies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def frame_statistics(frames: np.ndarray) -> np.ndarray:
    """Mean and standard deviation over time of each value of the frames.

    ``frames`` is ``(..., n_frames, n_dims)``: one clip's matrix gives ``(2 * n_dims,)``, a stack
    of windows ``(n, n_frames, n_dims)`` gives ``(n, 2 * n_dims)``. Computed in float64.
    """
    frames = np.asarray(frames, dtype=np.float64)
    return np.concatenate([frames.mean(axis=-2), frames.std(axis=-2)], axis=-1)


@dataclass
class StatsClassifier:
    """Window statistics, standardised, then a multinomial logistic regression.

    Fitted with scikit-learn but stored as plain arrays (JSON), so loading it needs neither
    pickle nor TensorFlow.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    @classmethod
    def fit(cls, windows: np.ndarray, labels: np.ndarray, n_classes: int, *, c: float = 1.0) -> StatsClassifier:
        """Fit on raw windows ``(n, frames, n_dims)`` and integer labels (class-balanced)."""
        from sklearn.linear_model import LogisticRegression

        x = frame_statistics(windows)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 1e-8, scale, 1.0)
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        model.fit((x - mean) / scale, labels)
        coef = np.zeros((n_classes, x.shape[1]))
        intercept = np.zeros(n_classes)
        seen = model.classes_.astype(int)
        if len(seen) == 2:  # binary: sklearn keeps one row, the log-odds of the second class
            coef[seen[1]], intercept[seen[1]] = model.coef_[0], model.intercept_[0]
        else:
            coef[seen], intercept[seen] = model.coef_, model.intercept_
        absent = np.setdiff1d(np.arange(n_classes), seen)
        intercept[absent] = -1e3  # a class with no training data is never predicted
        return cls(mean, scale, coef, intercept)

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Class probabilities per window, ``(n, n_classes)``."""
        logits = ((frame_statistics(windows) - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict[str, list]:
        """JSON-friendly form."""
        return {k: getattr(self, k).tolist() for k in ("mean", "scale", "coef", "intercept")}

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> StatsClassifier:
        """Inverse of :meth:`to_dict`."""
        return cls(*(np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef", "intercept")))

    @property
    def n_parameters(self) -> int:
        """Number of fitted numbers."""
        return int(self.coef.size + self.intercept.size)
