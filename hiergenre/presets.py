"""The named recipes (presets) and the choices that adjust them: front-end, node model, calibration.

The paper's recipe is the ``paper`` preset; each later preset adds one change on the way to the
default, so the ablation benchmark can say what each change bought. ``--features``,
``--node-model`` and ``--calibration`` replace one part of a preset (:func:`with_front_end`,
:func:`with_node_model`, :func:`with_calibration`) and refuse pairings that cannot work.
"""

from __future__ import annotations

import dataclasses

from hiergenre.config import FEATURE_SETTINGS, Preset
from hiergenre.errors import InvalidValue

#: The classifier kinds ``--node-model`` chooses among, with what each means.
NODE_MODELS: dict[str, str] = {
    "cnn": "the preset's LMFCC CNN",
    "stats": "each window's statistics (mean and spread of its LMFCC or musicnn values) and a logistic regression",
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
    description="improved-x3, each member early-stopped on a different third of train (cross-fitting).",
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
    description="improved-cv3 with five members, each early-stopped on a different fifth of train.",
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


#: The feature front-ends ``--features`` chooses among, with what each means.
FRONT_ENDS: dict[str, str] = {
    "lmfcc": "the paper's liftered MFCCs, each node learning from scratch (the preset's CNN; what --preset, "
    "--node-model and --epochs imply)",
    "musicnn": "the pretrained musicnn embedding (a tagger trained on the Million Song Dataset), classified by "
    "a logistic regression at each node (--node-model stats); knows artists the training clips lack; seconds to train",
    "musicnn+lmfcc": "both: each node mixes the musicnn classifier with the preset's LMFCC CNN (--node-model "
    "ensemble, or auto: per node, whichever of the two or their mix validates best); the default",
}
#: The node models that work on each front-end's windows, the first being its default.
NODE_MODELS_OF: dict[str, tuple[str, ...]] = {
    "lmfcc": ("cnn", "stats", "ensemble", "auto"),
    "musicnn": ("stats",),
    "musicnn+lmfcc": ("ensemble", "auto"),
}


#: The front-end of a plain ``train-all``, chosen by ``benchmarks/front_ends.py`` under its rule, fixed before
#: the runs: the default tree's leaf accuracy on the artist-ordered halves of gtzan-mini (music by artists the
#: models never heard), ties within 2 points going to the cheaper front-end. Its report:
#: ``benchmarks/results/front-ends-gtzan-mini/report.md``.
DEFAULT_FRONT_END = "musicnn+lmfcc"


def training_recipe(
    preset: str | None = None,
    features: str | None = None,
    node_model: str | None = None,
    calibration: str | None = None,
    *,
    epochs: int | None = None,
) -> Preset:
    """What ``train-all`` trains, from its options (``None``: not given).

    Without ``--features``, a plain run uses :data:`DEFAULT_FRONT_END`; a run that names a preset,
    a node model or an epoch cap (the CNN's options) keeps the LMFCC front-end those options were
    made for, as before 0.5, so ``--preset paper`` is still exactly the report's recipe.
    """
    if features is None:
        cnn_options = preset is not None or node_model is not None or epochs is not None
        features = "lmfcc" if cnn_options else DEFAULT_FRONT_END
    chosen = with_front_end(get_preset(preset or DEFAULT_PRESET), features, node_model)
    return with_calibration(chosen, calibration)


def with_front_end(preset: Preset, front_end: str | None, node_model: str | None = None) -> Preset:
    """The preset computing ``front_end``'s features (``None`` keeps its own), with a node model that fits them.

    The preset's CNN learns from LMFCC windows; on musicnn's embeddings a node is a logistic
    regression over each window's statistics (``stats``), fitted in seconds. ``node_model``
    (``--node-model``) is checked against the front-end: a pairing that cannot work is refused.
    """
    if front_end is not None and front_end not in FRONT_ENDS:
        raise InvalidValue(f"unknown front-end {front_end!r}; choose one of: {', '.join(FRONT_ENDS)}")
    kind = front_end or preset.features.kind
    if kind != preset.features.kind:
        preset = dataclasses.replace(preset, features=FEATURE_SETTINGS[kind]())
    allowed = NODE_MODELS_OF[kind]
    if node_model is None and preset.train.node_model not in allowed:
        node_model = allowed[0]
    if node_model is not None and node_model in NODE_MODELS and node_model not in allowed:
        raise InvalidValue(
            f"--node-model {node_model} does not work on {kind} features; with --features {kind} use "
            f"{' or '.join(allowed)}"
        )
    return with_node_model(preset, node_model)


def with_calibration(preset: Preset, calibration: str | None) -> Preset:
    """The preset with its calibration method replaced (``None`` keeps the preset's own)."""
    if calibration is None:
        return preset
    return dataclasses.replace(preset, train=dataclasses.replace(preset.train, calibration=calibration))


def preset_help() -> str:
    """Every preset with its description, for command-line help."""
    return " ".join(f"'{p.name}': {p.description}" for p in PRESETS.values())


def front_end_help() -> str:
    """Every front-end with its meaning, for command-line help."""
    return "; ".join(f"'{name}': {text}" for name, text in FRONT_ENDS.items()) + "."


def node_model_help() -> str:
    """Every node-model choice with its meaning, for command-line help."""
    return "; ".join(f"'{name}': {text}" for name, text in NODE_MODELS.items()) + "."
