"""The FMA projection of :mod:`benchmarks.scale` for musicnn features (logistic-regression nodes).

A model, not a measurement, as the LMFCC projection is: extraction at musicnn's measured seconds
per clip (decoding + log-mel + the network, one worker; read from the front-end cost run), one
logistic-regression fit per decision node of FMA's genre tree plus the flat model, each costing
the measured fit time for its clips (fits of 2,000 to 16,000 synthetic windows of overlapping classes, a line
through them, extrapolated), scheduled largest first. It adds a ``musicnn_projection`` section to
the scale benchmark's ``results.json`` and rewrites its report, without rerunning the backends.

    python -m benchmarks.scale_musicnn --costs benchmarks/results/front-ends-gtzan-mini/costs.json \\
        --scale benchmarks/results/scale
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.scale import projection
from benchmarks.scale_report import write_report
from hiergenre.models.statistics import StatsClassifier

#: Windows of the fits the per-clip cost is measured on.
FIT_SIZES = (2000, 4000, 8000, 16000)


def fit_seconds_per_window(classes: int = 16) -> tuple[float, float]:
    """(fixed seconds, seconds per window) of a logistic-regression node on musicnn windows (10 × 200 values)."""
    rng = np.random.default_rng(0)
    seconds = []
    for size in FIT_SIZES:
        labels = rng.integers(classes, size=size)
        centres = 0.1 * rng.normal(size=(classes, 1, 200))  # overlapping classes, as real genres are
        windows = (centres[labels] + rng.normal(size=(size, 10, 200))).astype(np.float32)
        runs = []
        for _ in range(2):  # the faster of two: less noise from other work on the machine
            started = time.perf_counter()
            StatsClassifier.fit(windows, labels, classes)
            runs.append(time.perf_counter() - started)
        seconds.append(min(runs))
    slope, intercept = np.polyfit(FIT_SIZES, seconds, 1)
    return max(float(intercept), 0.0), float(slope)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--costs", required=True, help="costs.json of benchmarks.front_ends")
    parser.add_argument("--scale", default="benchmarks/results/scale", help="the scale benchmark's folder")
    parser.add_argument("--fma-genres", default="../shared/fma/genres.csv")
    options = parser.parse_args(argv)
    scale = Path(options.scale)
    results = json.loads((scale / "results.json").read_text())
    per_clip = json.loads(Path(options.costs).read_text())["musicnn"]["extraction_seconds_per_clip"]
    overhead = results["projection"]["task_overhead_seconds"]
    fixed, per_window = fit_seconds_per_window()
    results["musicnn_projection"] = {
        "per_clip_seconds": per_clip,
        "task_overhead_seconds": overhead,
        "fit_fixed_seconds": fixed,
        "fit_seconds_per_window": per_window,
        "command": "python -m benchmarks.scale_musicnn " + " ".join(sys.argv[1:] if argv is None else argv),
        "rows": projection(Path(options.fma_genres), per_clip, overhead, per_window, fixed),
    }
    (scale / "results.json").write_text(json.dumps(results))
    print(write_report(results, scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
