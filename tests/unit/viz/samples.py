"""Hand-made inputs of the views: a small tree, one model's scores, a routed prediction with a timeline."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import Route, Step
from hiergenre.evaluation.metrics import ModelScores
from hiergenre.prediction.predictor import Prediction
from hiergenre.prediction.timeline import Segment

TREE = GenreTree.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, {calm: [classical, ambient]}]}", "small")


def png_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` in pixels from a PNG's header (and a check that it is a PNG at all)."""
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def scores(name: str = "small", *, calibrated: bool = True, operating: bool = True) -> ModelScores:
    """Scores of a model over :data:`TREE`'s genres, with reliability bins and an operating curve."""
    labels = TREE.leaves
    confusion = (np.eye(len(labels), dtype=int) * 6 + 1).tolist()
    bins = [{"confidence": c, "accuracy": c - 0.05, "clips": 4} for c in (0.3, 0.5, 0.7, 0.9)]
    model = {
        "clips": 16,
        "ece": 0.05,
        "ece_interval": [0.02, 0.09],
        "ece_if_calibrated": 0.03,
        "brier": 0.4,
        "log_loss": 0.9,
        "reliability": bins,
    }
    curve = {
        "area": 0.81,
        "points": [{"specificity": s, "correct": 1 - 0.3 * s} for s in (0.0, 0.5, 1.0)],
        "specificity_at": {"0.90": 0.33},
    }
    return ModelScores(
        model=name,
        labels=labels,
        accuracy=0.6,
        balanced_accuracy=0.55,
        per_class={g: {"precision": 0.6, "recall": 0.5, "f1": 0.55, "support": 7} for g in labels},
        confusion=confusion,
        hierarchical={"f1": 0.7},
        severity={"mean_distance_of_mistakes": 2.5, "histogram": {"2": 4, "4": 1}},
        per_level={"1": 0.8},
        n_clips=35,
        operating=curve if operating else {},
        calibration={"before": {"model": model}, "after": {"model": model}} if calibrated else {},
    )


def route(genre: str, steps: list[tuple[str, str, float]]) -> Route:
    """A route through ``steps`` (node, choice, p) with all probability on ``genre``."""
    return Route(genre, [Step(*s) for s in steps], {g: float(g == genre) for g in TREE.leaves})


def timeline_prediction(segments: int = 6, *, silent: bool = False) -> Prediction:
    """A file of ``segments`` 14-second segments every 15 s, each routed (or all silent)."""
    rng = np.random.default_rng(0)
    routed = []
    for i in range(segments):
        p = rng.dirichlet(np.ones(len(TREE.leaves)))
        distribution = dict(zip(TREE.leaves, p.tolist(), strict=True))
        genre = max(distribution, key=distribution.__getitem__)
        chosen = None if silent else Route(genre, [Step("root", genre, float(p.max()))], distribution)
        routed.append(Segment(15.0 * i, 15.0 * i + 14.0, chosen))
    return Prediction("song.au", route=None if silent else routed[0].route, timeline=routed)
