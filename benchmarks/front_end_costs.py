"""What each feature front-end costs, measured side by side in one run on the same clips and machine.

For each front-end of :data:`benchmarks.front_ends.FRONT_ENDS`, in a fresh workspace with a cold
feature cache: feature extraction seconds per clip (decoding included, one process), ``train-all``
wall time (default tree + flat + 3-class baseline, the default split, ``--jobs`` processes), a cold
``hiergenre predict`` of one 30-s clip in a fresh process (median of three), batch clips per second
(a loaded predictor, 50 clips, one thread) and the size of the trained models.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import provenance, provenance_line
from hiergenre.workspace.info import folder_bytes


def measure_costs(data: str, front_ends: dict[str, dict], out: Path, jobs: int = 2) -> dict:
    """Costs of every front-end (cached in ``<out>/costs.json``: a report rebuild does not retrain)."""
    cache = out / "costs.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    from hiergenre import api
    from hiergenre.data.datasets import load_dataset
    from hiergenre.features.extraction import extract_many
    from hiergenre.presets import DEFAULT_PRESET, get_preset, with_front_end

    clips = [c.path for c in load_dataset(data).clips]
    costs: dict = {}
    for name, settings in front_ends.items():
        with tempfile.TemporaryDirectory(prefix="hiergenre-costs-") as scratch:
            workdir = Path(scratch) / "ws"
            features = with_front_end(get_preset(DEFAULT_PRESET), settings["features"]).features
            sample = clips[:: max(1, len(clips) // 20)][:20]
            started = time.perf_counter()
            extract_many(sample, features, cache=None, jobs=1)
            extraction = (time.perf_counter() - started) / len(sample)
            api.build_tree("default", workdir=workdir, draw=False)
            started = time.perf_counter()
            api.train_all(workdir=workdir, data=data, jobs=jobs, **settings)
            train_seconds = time.perf_counter() - started
            costs[name] = {
                "extraction_seconds_per_clip": extraction,
                "train_all_seconds": train_seconds,
                "cold_predict_seconds": cold_predict(workdir, clips[0]),
                "batch_clips_per_second": batch_rate(workdir, clips[:50]),
                "model_bytes": folder_bytes(workdir / "models"),
                "jobs": jobs,
            }
        print(f"costs {name}: {costs[name]}", flush=True)
    costs["measured"] = f"its own run of this benchmark: {provenance_line(provenance())}"
    cache.write_text(json.dumps(costs, indent=1))
    return costs


def cold_predict(workdir: Path, clip: str | Path, repeats: int = 3) -> float:
    """Median wall seconds of ``hiergenre predict CLIP`` in a fresh process."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hiergenre.cli", "predict", str(clip), "--workdir", str(workdir)],
            check=True,
            capture_output=True,
        )
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def batch_rate(workdir: Path, clips: list) -> float:
    """Clips per second of a loaded predictor over ``clips`` (after one warm-up clip), one thread."""
    from hiergenre import api

    predictor = api.load_predictor(workdir=workdir)
    predictor.predict_files(clips[:1])
    started = time.perf_counter()
    predictor.predict_files(clips)
    return len(clips) / (time.perf_counter() - started)
