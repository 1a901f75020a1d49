"""How calibrated probabilities are: expected calibration error with honest intervals, Brier score, log loss.

The measures (:func:`calibration_metrics`) are the usual ones: expected calibration error over 15
equal-width bins of the top probability (and debiased, with a bias-corrected bootstrap 90%
interval), the Brier score (sum of squared errors over classes, 0 is perfect, 2 the worst) and the
log loss. An ECE is read against the floor a perfectly calibrated model shows on as many clips
(:func:`calibrated_ece`), never against 0. All numpy and scipy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiergenre.cascade.calibration import negative_log_likelihood
from hiergenre.errors import InvalidValue

#: Bins of the top probability for the expected calibration error and reliability diagrams.
ECE_BINS = 15
#: Bootstrap resamples of the calibration error's interval.
BOOTSTRAP_RESAMPLES = 1000


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Σ_bins (share of clips) · |accuracy − mean confidence| over equal-width bins of ``confidence``."""
    return float(binned_ece(confidence, correct, bins))


def binned_ece(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS, axis: int = -1) -> np.ndarray:
    """:func:`expected_calibration_error` of every row along ``axis`` at once (NaN without clips), so that
    bootstrap resamples and simulated outcomes (``(draws, n)`` arrays) are scored without a Python loop."""
    try:
        confidence, correct = np.broadcast_arrays(np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float))
    except ValueError:
        raise InvalidValue(f"{np.shape(confidence)} confidences for {np.shape(correct)} outcomes") from None
    confidence, correct = np.moveaxis(confidence, axis, -1), np.moveaxis(correct, axis, -1)
    shape, n = confidence.shape[:-1], confidence.shape[-1]
    if n == 0:
        return np.full(shape, np.nan)
    rows = confidence.reshape(-1, n)
    which = np.clip((rows * bins).astype(int), 0, bins - 1) + bins * np.arange(len(rows))[:, None]
    gaps = np.bincount(which.ravel(), weights=(correct.reshape(-1, n) - rows).ravel(), minlength=bins * len(rows))
    return np.abs(gaps.reshape(-1, bins)).sum(axis=1).reshape(shape) / n


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """For each non-empty bin: its bounds, clips, mean confidence and accuracy (a reliability diagram)."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return [
        {
            "low": b / bins,
            "high": (b + 1) / bins,
            "clips": int((which == b).sum()),
            "confidence": float(confidence[which == b].mean()),
            "accuracy": float(correct[which == b].mean()),
        }
        for b in np.unique(which)
    ]


@dataclass(frozen=True)
class BiasCorrected:
    """A plug-in estimate, the same with its bootstrap bias removed, and its bias-corrected bootstrap interval."""

    estimate: float
    debiased: float
    low: float
    high: float


def bootstrap_interval(
    statistic: Callable[..., np.ndarray],
    samples: tuple[np.ndarray, ...],
    *,
    level: float = 0.9,
    seed: int = 0,
    floor: float = -np.inf,
) -> BiasCorrected:
    """The bias-corrected ("basic") bootstrap of ``statistic(*samples)`` (rows of ``(resamples, n)`` arrays).

    Resamples spread around the plug-in as it spreads around the truth, so both are reflected about it:
    debiased = estimate − (mean(resampled) − estimate), interval [2·estimate − q_high, 2·estimate − q_low],
    raised to ``floor``. The percentile interval [q_low, q_high] adds a biased statistic's bias once more
    and can lie wholly above the estimate; scipy's BCa over-corrects an ECE.
    """
    from scipy.stats import bootstrap

    estimate, n = float(statistic(*samples)), len(samples[0])
    if n < 2:  # one clip resamples to itself: no spread, no bias (scipy needs two)
        at_floor = float(np.maximum(estimate, floor))
        return BiasCorrected(estimate, at_floor, at_floor, at_floor)
    result = bootstrap(
        samples,
        lambda *resampled, axis: statistic(*resampled),
        n_resamples=BOOTSTRAP_RESAMPLES,
        batch=max(1, 1_000_000 // n),  # a few (batch, n) arrays at a time: less memory, warmer caches
        vectorized=True,
        paired=True,
        confidence_level=level,
        method="basic",
        random_state=np.random.default_rng(seed),
    )
    debiased = 2 * estimate - float(np.mean(result.bootstrap_distribution))
    low, high = (float(np.maximum(v, floor)) for v in result.confidence_interval)
    return BiasCorrected(estimate, float(np.maximum(debiased, floor)), low, high)


def calibrated_ece(confidence: np.ndarray, draws: int = 200, seed: int = 0) -> float:
    """The ECE a perfectly calibrated model with these confidences would show, on average.

    Each draw makes every clip right with probability its confidence. On few clips this is far
    from 0 (about 0.23 on 20 clips with confidences spread over 0.3–1, 0.05 on 600), so an ECE
    is read against it, not against 0.
    """
    return float(np.mean(calibrated_ece_draws(confidence, draws, seed)))


def calibrated_ece_draws(confidence: np.ndarray, draws: int = 200, seed: int = 0) -> np.ndarray:
    """``(draws,)`` ECEs of a perfectly calibrated model with these confidences (NaN without clips)."""
    confidence = np.asarray(confidence, dtype=float)
    if not len(confidence):
        return np.full(draws, np.nan)
    outcomes = np.random.default_rng(seed).random((draws, len(confidence))) < confidence
    return binned_ece(confidence, outcomes)


def ece_summary(confidence: np.ndarray, correct: np.ndarray) -> dict[str, Any]:
    """The ECE of predictions with these confidences and outcomes (to pool samples of many runs).

    ``ece``: the plug-in over :data:`ECE_BINS` bins, biased upwards on few clips (each bin's gap picks up
    noise); ``ece_debiased`` and ``ece_interval``: without that bias, with the bias-corrected bootstrap 90%
    interval (:func:`bootstrap_interval`, clipped at 0); ``ece_if_calibrated``: :func:`calibrated_ece`.
    Near 0 the bootstrap sees only part of the bias (|gap| is not smooth there), so when the ECE is
    no larger than 95% of a perfectly calibrated model's on these confidences, the interval starts
    at 0 (``consistent_with_calibrated``): on simulated calibrated clips that lifts its coverage of
    the true 0 from about 40% to 91–97% (100–1000 clips).
    """
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    boot = bootstrap_interval(binned_ece, (confidence, correct), floor=0.0)
    floor_draws = calibrated_ece_draws(confidence)
    consistent = bool(len(correct)) and boot.estimate <= float(np.quantile(floor_draws, 0.95))
    return {
        "clips": len(correct),
        "ece": boot.estimate,
        "ece_debiased": boot.debiased,
        "ece_interval": [0.0 if consistent else boot.low, boot.high],
        "ece_if_calibrated": float(np.mean(floor_draws)),
        "consistent_with_calibrated": consistent,
    }


def calibration_metrics(
    probabilities: np.ndarray, labels: np.ndarray, *, chosen: np.ndarray | None = None, samples: bool = False
) -> dict[str, Any]:
    """ECE (:func:`ece_summary`), reliability bins, Brier score, log loss, accuracy, mean confidence.

    ``probabilities`` is ``(n, k)``, ``labels`` the true class indices. The prediction is the most
    probable class, or ``chosen`` (class indices) when the model predicts otherwise (greedy
    routing need not end at the most probable genre): its probability is the confidence. With
    ``samples`` each clip's confidence and correctness are kept, so that runs can be pooled.
    """
    proba = np.asarray(probabilities, dtype=float).reshape(len(labels), -1)
    labels = np.asarray(labels, dtype=int)
    if not len(labels):
        return {"clips": 0}
    predicted = proba.argmax(axis=1) if chosen is None else np.asarray(chosen, dtype=int)
    confidence = proba[np.arange(len(labels)), predicted]
    correct = (predicted == labels).astype(float)
    out: dict[str, Any] = {
        **ece_summary(confidence, correct),
        "brier": float(np.mean(np.sum((proba - np.eye(proba.shape[1])[labels]) ** 2, axis=1))),
        "log_loss": negative_log_likelihood(proba, labels),
        "accuracy": float(correct.mean()),
        "confidence": float(confidence.mean()),
        "reliability": reliability_bins(confidence, correct),
    }
    if samples:
        out["samples"] = [[round(float(c), 4), int(k)] for c, k in zip(confidence, correct, strict=True)]
    return out
