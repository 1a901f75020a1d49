"""Calibration: node probabilities that mean what they say, and the numbers that check it.

A node model's clip probabilities (window probabilities averaged) are rarely calibrated: small
networks trained to convergence are over-confident, averaging windows and ensemble members makes
them under-confident. *Temperature scaling* (Guo et al., ICML 2017) fixes this with one number per
node, fitted on clips the model did not train on: ``p_T ∝ p^(1/T)``, i.e. the log-probabilities
divided by T and renormalised. T > 1 softens, T < 1 sharpens; the most probable class never
changes, so greedy routing and the flat model's genre stay exactly as they were.

Which clips are honest for fitting T depends on how the node was trained
(:func:`hiergenre.training.keras_loop.fit_cnn` collects them): a cross-fitted ensemble has no clip
untouched by all its members, so each clip of train+valid contributes the prediction of the one
member that held it out (out-of-fold), and the temperature fitted on those is applied to the
members' average; other CNNs use their validation clips. Statistics nodes train on the training
part only and use the validation clips; a CNN + statistics mixture uses the same out-of-fold
clips, with statistics models fitted on the same folds.

The measures (:func:`calibration_metrics`) are the usual ones: expected calibration error over 15
equal-width bins of the top probability (with a bootstrap 90% interval), the Brier score (sum of
squared errors over classes, 0 is perfect, 2 the worst) and the log loss. All numpy and scipy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hiergenre.errors import InvalidValue
from hiergenre.storage import atomic_path

#: Bins of the top probability for the expected calibration error and reliability diagrams.
ECE_BINS = 15
#: Bootstrap resamples of the calibration error's interval.
BOOTSTRAP_RESAMPLES = 1000
#: Temperatures searched (log-uniform bounds): beyond them a node's probabilities are meaningless anyway.
TEMPERATURE_BOUNDS = (0.05, 20.0)
#: Width (in e-folds of T) of the log-normal prior that keeps T near 1 when few clips say otherwise:
#: a held-out set the node separates perfectly would otherwise drive T to its lower bound.
PRIOR_WIDTH = 1.0
#: Probabilities are clipped here before logarithms.
EPSILON = 1e-7


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``(n, k)`` probabilities with log-probabilities divided by ``temperature``, renormalised."""
    proba = np.asarray(probabilities, dtype=np.float64)
    if temperature == 1.0 or proba.size == 0:
        return proba
    logits = np.log(np.clip(proba, EPSILON, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def calibrate(calibrator: Any, clip_probabilities: np.ndarray) -> np.ndarray:
    """``(n_clips, n_classes)`` through ``calibrator.calibrate``: the one calibration step of both cascades.

    :class:`~hiergenre.cascade.cascade.Cascade` passes its node models (each calibrates with its own
    temperature), :class:`~hiergenre.cascade.estimator.HierarchicalClassifier` a :class:`Temperature`
    per node. Without a ``calibrate`` method (a plain scikit-learn classifier), or without clips,
    the probabilities are kept raw. The columns may be in another order than the model's classes
    (the tree's): a calibration must treat the classes alike, as temperature scaling does.
    """
    method = getattr(calibrator, "calibrate", None)
    return method(clip_probabilities) if method is not None and len(clip_probabilities) else clip_probabilities


@dataclass(frozen=True)
class Temperature:
    """Temperature scaling with a fitted temperature (1 = raw), as a node's ``calibrate``."""

    value: float = 1.0

    def calibrate(self, clip_probabilities: np.ndarray) -> np.ndarray:
        """:func:`apply_temperature` with this temperature."""
        return apply_temperature(clip_probabilities, self.value)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean of ``-log p(true class)``, probabilities clipped at :data:`EPSILON`."""
    picked = np.asarray(probabilities)[np.arange(len(labels)), np.asarray(labels, dtype=int)]
    return float(-np.mean(np.log(np.clip(picked, EPSILON, 1.0))))


class Calibration:
    """A way to fit a node's temperature on held-out clip probabilities."""

    name: ClassVar[str]
    help: ClassVar[str]

    def fit(self, probabilities: np.ndarray, labels: np.ndarray) -> float:
        """The temperature for clips ``(n, k)`` with true class indices ``labels``."""
        raise NotImplementedError


class TemperatureScaling(Calibration):
    """The temperature of maximal posterior on the held-out clips: their summed log loss plus a
    log-normal prior centred on 1 (:data:`PRIOR_WIDTH`), found by a bounded search over log T."""

    name = "temperature"
    help = "one temperature per node, fitted on clips the node did not train on (the default)"

    def fit(self, probabilities: np.ndarray, labels: np.ndarray) -> float:
        """1.0 without held-out clips or with a single class among them (nothing to calibrate on)."""
        from scipy.optimize import minimize_scalar

        if len(labels) == 0 or np.asarray(probabilities).shape[1] < 2:
            return 1.0
        n = len(labels)

        def objective(log_t: float) -> float:
            scaled = apply_temperature(probabilities, float(np.exp(log_t)))
            return n * negative_log_likelihood(scaled, labels) + 0.5 * (log_t / PRIOR_WIDTH) ** 2

        result = minimize_scalar(objective, bounds=tuple(np.log(TEMPERATURE_BOUNDS)), method="bounded")
        return float(np.exp(result.x))


class NoCalibration(Calibration):
    """The raw probabilities (temperature 1)."""

    name = "none"
    help = "the models' raw probabilities"

    def fit(self, probabilities: np.ndarray, labels: np.ndarray) -> float:
        """Always 1."""
        return 1.0


#: Calibration methods by name (``train-all --calibration``).
CALIBRATIONS: dict[str, Calibration] = {c.name: c for c in (TemperatureScaling(), NoCalibration())}


def get_calibration(name: str) -> Calibration:
    """Look a calibration method up by name, with an error that lists the valid names."""
    try:
        return CALIBRATIONS[name]
    except KeyError:
        raise InvalidValue(f"unknown calibration {name!r}; choose one of: {', '.join(CALIBRATIONS)}") from None


def calibration_help() -> str:
    """Every method with its meaning, for command-line help."""
    return "; ".join(f"'{c.name}': {c.help}" for c in CALIBRATIONS.values()) + "."


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Σ_bins (share of clips) · |accuracy − mean confidence| over equal-width bins of ``confidence``."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    if not len(confidence):
        return float("nan")
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = np.bincount(which, weights=correct - confidence, minlength=bins)
    return float(np.abs(gap).sum() / len(confidence))


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


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float], n: int, *, level: float = 0.9, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n`` items resampled with replacement."""
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, n, n)) for _ in range(BOOTSTRAP_RESAMPLES)]
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def calibrated_ece(confidence: np.ndarray, draws: int = 200, seed: int = 0) -> float:
    """The ECE a perfectly calibrated model with these confidences would show, on average.

    Each draw makes every clip right with probability its confidence. On few clips this is far
    from 0 (about 0.23 on 20 clips with confidences spread over 0.3–1, 0.05 on 600), so an ECE
    is read against it, not against 0.
    """
    if not len(confidence):
        return float("nan")
    rng = np.random.default_rng(seed)
    outcomes = rng.random((draws, len(confidence))) < confidence
    return float(np.mean([expected_calibration_error(confidence, o) for o in outcomes]))


def ece_summary(confidence: np.ndarray, correct: np.ndarray) -> dict[str, Any]:
    """ECE of predictions with these confidences and outcomes, its bootstrap 90% interval, and
    what a perfectly calibrated model would show on as many clips (to pool samples of many runs)."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    low, high = bootstrap_interval(lambda i: expected_calibration_error(confidence[i], correct[i]), len(correct))
    return {
        "clips": len(correct),
        "ece": expected_calibration_error(confidence, correct),
        "ece_interval": [low, high],
        "ece_if_calibrated": calibrated_ece(confidence),
    }


def calibration_metrics(
    probabilities: np.ndarray, labels: np.ndarray, *, chosen: np.ndarray | None = None, samples: bool = False
) -> dict[str, Any]:
    """ECE (with its bootstrap 90% interval), reliability bins, Brier score, log loss, accuracy, mean confidence.

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


@dataclass(frozen=True)
class HeldOut:
    """Clip probabilities ``(n_clips, n_classes)`` of a node on clips it did not train on, with their labels."""

    probabilities: np.ndarray
    labels: np.ndarray
    #: How the clips were chosen (for the node's metadata).
    source: str
    #: Each clip's id (its path), to find it again when the tree's validation scores are assembled.
    ids: tuple[str, ...] = ()

    @staticmethod
    def join(parts: list[HeldOut], source: str) -> HeldOut:
        """Several held-out sets as one."""
        width = parts[0].probabilities.shape[1] if parts else 0
        return HeldOut(
            np.concatenate([p.probabilities for p in parts]) if parts else np.zeros((0, width)),
            np.concatenate([p.labels for p in parts]).astype(int) if parts else np.zeros(0, int),
            source,
            tuple(i for p in parts for i in p.ids),
        )

    def save(self, path: Path) -> None:
        """Write the ids, labels and raw probabilities as ``.npz`` (atomically)."""
        with atomic_path(path) as tmp, open(tmp, "wb") as out:
            np.savez(out, ids=np.array(self.ids, dtype=str), labels=self.labels, probabilities=self.probabilities)

    @classmethod
    def load(cls, path: Path) -> HeldOut:
        """Inverse of :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(data["probabilities"], data["labels"], "stored", tuple(str(i) for i in data["ids"]))

    def fitted(self, calibration: Calibration) -> tuple[float, dict[str, Any]]:
        """The temperature ``calibration`` fits here, and what a node records of it."""
        temperature = calibration.fit(self.probabilities, self.labels)
        record = {
            "method": calibration.name,
            "temperature": temperature,
            "clips": len(self.labels),
            "source": self.source,
        }
        if len(self.labels):
            record["log_loss_before"] = negative_log_likelihood(self.probabilities, self.labels)
            record["log_loss_after"] = negative_log_likelihood(
                apply_temperature(self.probabilities, temperature), self.labels
            )
        return temperature, record
