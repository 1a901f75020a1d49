"""Every tunable number of the pipeline, in one place.

The paper's recipe is the ``paper`` preset: LMFCC with 2048-sample frames, hop 1024, 40 mel bands,
13 coefficients, liftering, the first 300 frames (~14 s) of each clip, and a three-layer CNN of
32 filters. Configurations are frozen dataclasses so that they can be hashed into cache keys and
stored as JSON next to the models they produced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from hiergenre.errors import InvalidValue

#: Sample rate every clip is resampled to (GTZAN's own rate).
SAMPLE_RATE = 22050

#: Extensions the audio loader accepts when scanning folders.
AUDIO_EXTENSIONS = (".au", ".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".snd")


@dataclass(frozen=True)
class FeatureConfig:
    """Liftered MFCC (LMFCC) parameters.

    ``frame_length``/``hop_length`` are in samples at :data:`SAMPLE_RATE`; ``lifter`` is the
    sinusoidal liftering coefficient (22 is the textbook value and what librosa's ``lifter=``
    applies); ``window_frames`` is the number of frames one CNN input spans (300 frames is ~14 s);
    ``max_seconds`` caps how much of a file is decoded, so huge files cost bounded time.
    """

    sample_rate: int = SAMPLE_RATE
    frame_length: int = 2048
    hop_length: int = 1024
    n_mels: int = 40
    n_mfcc: int = 13
    lifter: int = 22
    window_frames: int = 300
    max_seconds: float = 600.0

    def key(self) -> str:
        """A short stable hash of the parameters, for cache keys."""
        return stable_hash(dataclasses.asdict(self))

    @property
    def window_seconds(self) -> float:
        """Audio duration one window covers."""
        samples = self.frame_length + (self.window_frames - 1) * self.hop_length
        return samples / self.sample_rate


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the small LMFCC CNN.

    The first convolution has kernel ``(first_kernel_time, n_mfcc)`` so each filter sees all
    coefficients of a few frames at once; the later ones slide over time only. Its stride over
    time is ``first_stride_time``, or the kernel's own length when ``None`` (the paper: blocks
    of 3 frames that do not overlap, so a sound's position inside its block changes the output).
    ``stat_pooling`` adds the variance over time next to the paper's average, so the network sees
    how its features vary as well as their level (what the statistics baseline uses).
    """

    filters: int = 32
    first_kernel_time: int = 3
    first_stride_time: int | None = None
    kernel_time: int = 3
    pool_time: int = 2
    dropout: float = 0.8
    batch_norm: bool = False
    stat_pooling: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """How a node model is fitted.

    ``patience=None`` trains for exactly ``epochs`` epochs as the paper did; an integer enables
    early stopping on the *clip-level* validation loss (window probabilities averaged per clip,
    as prediction does) and restores the best weights.

    ``windows``: ``"first"`` trains on the first window of each clip only (the paper); ``"all"``
    on every window ``window_hop_frames`` apart; ``"random"`` draws ``crops_per_clip`` fresh random
    crops of each clip every epoch. ``time_mask``/``coef_mask`` blank a random run of at most that
    many frames/coefficients per window (SpecAugment-style), ``mixup`` is the Beta(α, α) parameter
    of mixup (0 = off). ``node_model`` picks the classifier kind of every node: ``cnn``,
    ``stats`` (LMFCC statistics + logistic regression), ``ensemble`` (both, probabilities
    averaged) or ``auto`` (whichever of the three has the lowest clip-level validation loss).
    ``members`` > 1 trains that many CNNs from different seeds, each early-stopped on its own,
    and stores their average as one network: at this data size single networks vary a lot
    from seed to seed, and averaging them cancels part of that variance. ``cross_fit`` pools the
    training and validation clips and gives each member a different stratified fold of them to
    early-stop on (see ``training.cross_fit_parts``): the ensemble then learns from every clip,
    as the statistics baseline does, at the price of having no untouched validation clips left.
    ``calibration`` names how each node's probabilities are calibrated after training
    (:mod:`hiergenre.cascade.calibration`; it never changes a node's most probable child).
    """

    epochs: int = 1000
    batch_size: int = 32
    learning_rate: float = 1e-3
    patience: int | None = None
    windows: str = "first"
    window_hop_frames: int = 150
    balance_classes: bool = True
    crops_per_clip: int = 4
    time_mask: int = 0
    coef_mask: int = 0
    mixup: float = 0.0
    node_model: str = "cnn"
    members: int = 1
    cross_fit: bool = False
    calibration: str = "temperature"

    @property
    def cross_fitted(self) -> bool:
        """Whether members really train on validation clips (one member has nothing to cross-fit)."""
        return self.cross_fit and self.members > 1


@dataclass(frozen=True)
class Preset:
    """A named pairing of feature, model and training settings."""

    name: str
    description: str
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


#: The classifier kinds ``--node-model`` chooses among, with what each means.
NODE_MODELS: dict[str, str] = {
    "cnn": "the preset's LMFCC CNN",
    "stats": "LMFCC statistics and a logistic regression (no network)",
    "ensemble": "the CNN and the statistics classifier, probabilities averaged",
    "auto": "per node, whichever of the three has the lowest clip-level validation loss",
}

_PAPER = Preset(
    name="paper",
    description="The report's recipe, unchanged: first 300 LMFCC frames, 3 conv layers of 32, "
    "dropout 0.8, 1000 epochs without early stopping.",
)
_EARLY = dataclasses.replace(
    _PAPER,
    name="paper-es",
    description="paper + early stopping on clip-level validation loss (patience 40, best weights kept).",
    train=dataclasses.replace(_PAPER.train, epochs=400, patience=40),
)
_WINDOWS = dataclasses.replace(
    _EARLY,
    name="bn-crops",
    description="paper-es + BatchNorm + random 300-frame crops of the whole clip each epoch + dropout 0.5.",
    model=dataclasses.replace(_EARLY.model, batch_norm=True, dropout=0.5),
    train=dataclasses.replace(_EARLY.train, windows="random"),
)
_IMPROVED = dataclasses.replace(
    _WINDOWS,
    name="improved",
    description="bn-crops + variance pooling over time + time/coefficient masking + mixup.",
    model=dataclasses.replace(_WINDOWS.model, stat_pooling=True),
    train=dataclasses.replace(_WINDOWS.train, time_mask=40, coef_mask=2, mixup=0.2),
)

_SEEDS = dataclasses.replace(
    _IMPROVED,
    name="improved-x3",
    description="improved, three CNNs from different seeds averaged into one network (3x the training time).",
    train=dataclasses.replace(_IMPROVED.train, members=3),
)
_CROSS = dataclasses.replace(
    _SEEDS,
    name="improved-cv3",
    description="improved-x3, each member early-stopped on a different third of train+valid (cross-fitting).",
    train=dataclasses.replace(_SEEDS.train, cross_fit=True),
)
_STRIDE1 = dataclasses.replace(
    _CROSS,
    name="improved-cv3-s1",
    description="improved-cv3 with the first convolution sliding one frame at a time instead of three, "
    "and max-pooling by 3 instead of 2 (same 8.7k parameters, about the same training time); the default.",
    model=dataclasses.replace(_CROSS.model, first_stride_time=1, pool_time=3),
)
_CROSS5 = dataclasses.replace(
    _CROSS,
    name="improved-cv5",
    description="improved-cv3 with five members, each early-stopped on a different fifth of train+valid.",
    train=dataclasses.replace(_CROSS.train, members=5),
)

#: The ``paper`` preset and the steps from it to the default; each step adds one change, so the
#: ablation benchmark can say what each change bought. ``improved-cv5`` (five members) was
#: measured as the next step and gained nothing over three at 5/3 of the training time.
PRESETS: dict[str, Preset] = {
    p.name: p for p in (_PAPER, _EARLY, _WINDOWS, _IMPROVED, _SEEDS, _CROSS, _STRIDE1, _CROSS5)
}

DEFAULT_PRESET = "improved-cv3-s1"


def get_preset(name: str) -> Preset:
    """Look a preset up by name, with an error that lists the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidValue(f"unknown preset {name!r}; choose one of: {', '.join(sorted(PRESETS))}") from None


def with_node_model(preset: Preset, node_model: str | None) -> Preset:
    """The preset with its node classifier kind replaced (``None`` keeps the preset's own)."""
    if node_model is None:
        return preset
    if node_model not in NODE_MODELS:
        raise InvalidValue(f"unknown node model {node_model!r}; choose one of: {', '.join(NODE_MODELS)}")
    return dataclasses.replace(preset, train=dataclasses.replace(preset.train, node_model=node_model))


def with_calibration(preset: Preset, calibration: str | None) -> Preset:
    """The preset with its calibration method replaced (``None`` keeps the preset's own)."""
    if calibration is None:
        return preset
    return dataclasses.replace(preset, train=dataclasses.replace(preset.train, calibration=calibration))


def stable_hash(value: Any) -> str:
    """SHA-1 of a JSON-serialisable value with sorted keys: equal values, equal hashes."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def preset_help() -> str:
    """Every preset with its description, for command-line help."""
    return " ".join(f"'{p.name}': {p.description}" for p in PRESETS.values())


def node_model_help() -> str:
    """Every node-model choice with its meaning, for command-line help."""
    return "; ".join(f"'{name}': {text}" for name, text in NODE_MODELS.items()) + "."
