"""hiergenre: hierarchical music-genre classification with small LMFCC CNNs.

The public API is loaded lazily, so ``import hiergenre`` stays cheap and pulls in neither
TensorFlow nor librosa until a function that needs them runs.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.5.0"

_EXPORTS = {
    "build_tree": "hiergenre.api_trees",
    "train_all": "hiergenre.api",
    "predict": "hiergenre.api_predict",
    "evaluate": "hiergenre.api",
    "learn_tree": "hiergenre.api_trees",
    "load_cascade": "hiergenre.api_predict",
    "load_predictor": "hiergenre.api_predict",
    "clip_vectors": "hiergenre.api_predict",
    "tag": "hiergenre.api_tag",
    "undo_tags": "hiergenre.api_tag",
    "Predictor": "hiergenre.prediction.predictor",
    "Prediction": "hiergenre.prediction.outcome",
    "Workspace": "hiergenre.workspace.layout",
    "TrainedTree": "hiergenre.workspace.trained",
    "LeafDecoder": "hiergenre.cascade.decoding",
    "ConfidenceDecoder": "hiergenre.cascade.decoding",
    "ExpectedHF1Decoder": "hiergenre.cascade.decoding",
    "get_decoder": "hiergenre.cascade.decoding",
    "TrainingReport": "hiergenre.training.run",
    "EvaluationReport": "hiergenre.evaluation.evaluate",
    "HierarchicalClassifier": "hiergenre.cascade.estimator",
    "ROUTING_POLICIES": "hiergenre.cascade.routing",
    "GenreTree": "hiergenre.cascade.hierarchy",
    "Cascade": "hiergenre.cascade.cascade",
    "Route": "hiergenre.cascade.routing",
    "Step": "hiergenre.cascade.routing",
    "HierGenreError": "hiergenre.errors",
    "FeatureConfig": "hiergenre.config",
    "PRESETS": "hiergenre.presets",
    "load_dataset": "hiergenre.data.datasets",
    "load_audio": "hiergenre.data.audio",
    "lmfcc": "hiergenre.features.lmfcc",
    "write_corpus": "hiergenre.data.synthetic.corpus",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'hiergenre' has no attribute {name!r}")
