"""What :mod:`benchmarks.front_ends` compares and the rule it applies, fixed before any run.

Kept apart so that the runner and its report share them without importing each other.
"""

from __future__ import annotations

import numpy as np

#: What each front-end trains: ``train-all --features`` and ``--node-model``.
FRONT_ENDS = {
    "lmfcc": {"features": "lmfcc", "node_model": None},  # the default preset's CNN
    "musicnn": {"features": "musicnn", "node_model": None},  # logistic regressions (stats)
    "musicnn+lmfcc": {"features": "musicnn+lmfcc", "node_model": None},  # ensemble of both per node
}
#: The model a user of ``train-all`` then ``predict`` gets: the default tree, greedy routing.
JUDGED_MODEL = "default"
#: The cascade the issue's target names (within noise of flat or above on leaf accuracy, above on curve area).
NAMED_CASCADE = "default+blend"
#: Leaf-accuracy points within which two front-ends count as tied (one test clip in 50 is 2 points).
TIE_POINTS = 2.0
#: The rule, fixed before the runs.
DEFAULT_RULE = (
    f"The default front-end is the one whose judged model ({JUDGED_MODEL!r}: the default tree with greedy "
    "routing, what `train-all` then `predict` gives) has the highest mean leaf accuracy over the artist-ordered "
    f"halves (both halves, every seed). Front-ends within {TIE_POINTS:g} points of the best (one test clip in 50) "
    "count as tied with it, and among tied ones the cheapest to train (train-all wall time in the cost run) wins."
)
#: Our genres whose names are tags of musicnn's MSD model (a genre may match several tags: the highest counts).
ZERO_SHOT_TAGS = {
    "rock": ("rock",),
    "pop": ("pop",),
    "jazz": ("jazz",),
    "blues": ("blues",),
    "country": ("country",),
    "metal": ("metal", "heavy metal"),
    "hiphop": ("Hip-Hop",),
}


def zero_shot_accuracy(clips: dict, names: set[str] | None = None) -> tuple[float, float, int]:
    """Accuracy over ``names`` (file names; None: all clips), over all genres and over the matched genres only."""
    chosen = [c for name, c in clips.items() if names is None or name in names]
    right = [max(c["tags"], key=c["tags"].get) == c["genre"] for c in chosen]
    matched = [r for r, c in zip(right, chosen, strict=True) if c["genre"] in ZERO_SHOT_TAGS]
    return float(np.mean(right)), float(np.mean(matched)), len(chosen)
