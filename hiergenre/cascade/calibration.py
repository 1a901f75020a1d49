"""Calibration: node probabilities that mean what they say, and the numbers that check it.

A node model's clip probabilities (window probabilities averaged) are rarely calibrated: small
networks trained to convergence are over-confident, averaging windows and ensemble members makes
them under-confident. *Temperature scaling* (Guo et al., ICML 2017) fixes this with one number per
node, fitted on clips the model did not train on: ``p_T ∝ p^(1/T)``, i.e. the log-probabilities
divided by T and renormalised. T > 1 softens, T < 1 sharpens; the most probable class never
changes, so greedy routing and the flat model's genre stay exactly as they were.

T is fitted *pool-then-calibrate* (Rahaman & Thiery, NeurIPS 2021): on the deployed model's clip
probabilities (an ensemble's members already averaged) for the split's validation clips, which no
model or member trained, early-stopped or was chosen on (:func:`hiergenre.training.node.calibrated`).
A temperature fitted on single out-of-fold members would be too cold for their flatter average.

How well it worked is measured in :mod:`hiergenre.cascade.calibration_error`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hiergenre.errors import InvalidValue
from hiergenre.storage import atomic_path

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
