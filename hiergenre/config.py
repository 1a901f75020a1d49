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
import numbers
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: Sample rate every clip is resampled to (GTZAN's own rate).
SAMPLE_RATE = 22050

#: Extensions the audio loader accepts when scanning folders.
AUDIO_EXTENSIONS = (".au", ".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif", ".snd")


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

    #: The front-end kind these settings belong to (:mod:`hiergenre.features.registry`).
    kind: ClassVar[str] = "lmfcc"

    def __post_init__(self) -> None:
        check_value_types(self)

    #: Smallest distance between two windows spread over a clip (50 frames ≈ 2.3 s: a 30-s clip gets 7).
    spread_hop_frames: ClassVar[int] = 50
    #: At most this many windows are scored per clip; their probabilities are averaged.
    spread_max_windows: ClassVar[int] = 8

    def key(self) -> str:
        """A short stable hash of the parameters, for cache keys."""
        return stable_hash(dataclasses.asdict(self))

    @property
    def n_dims(self) -> int:
        """Values per frame: the coefficients."""
        return self.n_mfcc

    @property
    def window_seconds(self) -> float:
        """Audio duration one window covers."""
        samples = self.frame_length + (self.window_frames - 1) * self.hop_length
        return samples / self.sample_rate


@dataclass(frozen=True)
class MusicnnConfig:
    """The pretrained musicnn embedding (:mod:`hiergenre.features.musicnn`), as its model was trained.

    A "frame" of this front-end is one patch of ``patch_frames`` log-mel frames (187 frames of
    256 samples at 16 kHz: 3 s) turned into the ``n_dims`` values of musicnn's ``penultimate``
    layer; a window is ``window_frames`` consecutive patches (10: about 30 s, the length of the
    clips the nodes learn from). The mel settings are musicnn's own (librosa 0.7 defaults: Slaney
    mel with area normalisation, periodic Hann window, centred frames padded in reflect mode) and
    must not change: the network only knows its own input.
    """

    model: str = "MSD_musicnn"
    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    fmax: float = 8000.0
    patch_frames: int = 187
    window_frames: int = 10
    max_seconds: float = 600.0

    kind: ClassVar[str] = "musicnn"

    def __post_init__(self) -> None:
        check_value_types(self)

    #: Smallest distance between two windows spread over a long file (5 patches, 15 s).
    spread_hop_frames: ClassVar[int] = 5
    #: At most four windows of 30 s are embedded per file: two minutes of a long song, spread over it.
    spread_max_windows: ClassVar[int] = 4

    def key(self) -> str:
        """A short stable hash of the parameters, for cache keys."""
        return stable_hash({"kind": self.kind, **dataclasses.asdict(self)})

    @property
    def n_dims(self) -> int:
        """Values per patch: the width of musicnn's ``penultimate`` layer."""
        return 200

    @property
    def patch_seconds(self) -> float:
        """Audio one patch covers."""
        return self.patch_frames * self.hop_length / self.sample_rate

    @property
    def window_seconds(self) -> float:
        """Audio duration one window covers."""
        return self.window_frames * self.patch_seconds


@dataclass(frozen=True)
class PairedConfig:
    """Both front-ends at once, for nodes that mix the LMFCC CNN with a musicnn classifier.

    A window of this front-end is an LMFCC window (``lmfcc.window_frames`` frames) paired with
    the musicnn window (``musicnn.window_frames`` patches) centred nearest to it: each part of a
    node sees exactly the windows it would see on its own front-end. Windows are spread and cut as
    LMFCC's are (the CNN's are the shorter ones). Parameters are recorded as two nested dicts.
    """

    lmfcc: FeatureConfig = field(default_factory=FeatureConfig)
    musicnn: MusicnnConfig = field(default_factory=MusicnnConfig)

    kind: ClassVar[str] = "musicnn+lmfcc"
    spread_hop_frames: ClassVar[int] = FeatureConfig.spread_hop_frames
    spread_max_windows: ClassVar[int] = FeatureConfig.spread_max_windows

    def __post_init__(self) -> None:
        for name, settings in (("lmfcc", FeatureConfig), ("musicnn", MusicnnConfig)):
            value = getattr(self, name)
            if isinstance(value, dict):  # read back from JSON
                object.__setattr__(self, name, settings(**value))

    def key(self) -> str:
        """A short stable hash of both parts' parameters, for cache keys."""
        return stable_hash({"kind": self.kind, **dataclasses.asdict(self)})

    @property
    def window_frames(self) -> int:
        """LMFCC frames of one window (its musicnn part has its own length)."""
        return self.lmfcc.window_frames

    @property
    def n_dims(self) -> int:
        """Values per frame of the LMFCC part."""
        return self.lmfcc.n_dims

    @property
    def sample_rate(self) -> int:
        """The LMFCC part's rate (what timelines cut segments at)."""
        return self.lmfcc.sample_rate

    @property
    def max_seconds(self) -> float:
        """Seconds of a file either part decodes at most."""
        return min(self.lmfcc.max_seconds, self.musicnn.max_seconds)

    @property
    def window_seconds(self) -> float:
        """Audio duration one LMFCC window covers."""
        return self.lmfcc.window_seconds


def check_value_types(settings: Any) -> None:
    """``TypeError`` naming the field when a setting is not of its default's kind (a hand-edited manifest, say).

    Read back from JSON, ``{"n_fft": "512"}`` would otherwise fail much later, inside the FFT.
    """
    for item in dataclasses.fields(settings):
        value, default = getattr(settings, item.name), item.default
        if isinstance(default, bool) or isinstance(value, bool):
            ok = isinstance(value, bool) == isinstance(default, bool)
        elif isinstance(default, int):
            ok = isinstance(value, numbers.Integral)
        elif isinstance(default, float):
            ok = isinstance(value, numbers.Real)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[type(default)]
            raise TypeError(f"{item.name} must be {kind}, got {value!r}")


#: The settings of any front-end: what ``Preset.features`` holds.
FeatureSettings = FeatureConfig | MusicnnConfig | PairedConfig
#: Every front-end's settings class by the kind a manifest records.
FEATURE_SETTINGS: dict[str, type[FeatureConfig] | type[MusicnnConfig] | type[PairedConfig]] = {
    FeatureConfig.kind: FeatureConfig,
    MusicnnConfig.kind: MusicnnConfig,
    PairedConfig.kind: PairedConfig,
}


def feature_settings(kind: str, params: dict[str, Any]) -> FeatureSettings:
    """The settings of front-end ``kind`` from its recorded parameters (``TypeError``/``KeyError`` when damaged)."""
    return FEATURE_SETTINGS[kind](**params)


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
    features: FeatureSettings = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def stable_hash(value: Any) -> str:
    """SHA-1 of a JSON-serialisable value with sorted keys: equal values, equal hashes."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:16]
