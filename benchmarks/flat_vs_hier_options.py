"""The settings of one :mod:`benchmarks.flat_vs_hier` run.

Kept apart so that its report and pooling need not import the runner (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hiergenre.presets import DEFAULT_PRESET


@dataclass
class Options:
    """One benchmark's settings (the command-line options, or what :mod:`benchmarks.ablation` asks for)."""

    data: str
    out: str
    tree: str = "hierarchies/default.yaml"
    protocol: str = "paper"
    folds: int = 5
    split_dir: str = "gtzan-fault-filtered"
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    epochs: int = 200
    preset: str = DEFAULT_PRESET
    node_model: str | None = None
    #: The feature front-end every model learns from (``train-all --features``); None: the preset's (lmfcc).
    features: str | None = None
    groups: int = 3
    no_learned: bool = False
    flat_only: bool = False
    synthetic_clips: int = 20
    jobs: int = 2
    #: The command line that made the report (for its "Command:" line).
    command: str = ""
