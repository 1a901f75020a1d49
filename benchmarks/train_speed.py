"""Training speed: ``hiergenre train-all`` of this code against an earlier commit, side by side.

Both run the same command in fresh processes on the same machine, one after the other, each in a
new workspace with a cold feature cache: ``build-tree hierarchies/default.yaml`` then
``train-all --data DATA --seed 0`` (the default preset, the paper split). The earlier commit's
package is taken with ``git archive`` into a temporary folder and run from there with the same
Python environment, so only hiergenre's code differs.

This code runs twice: with ``--jobs 1`` (node models one after another, in one process) and
with its default (one worker process per core), so the report separates the faster loop from the
parallel node training.

Reported: wall time of ``train-all``; for this code, seconds per phase (summed over the workers) (features, TensorFlow
import, network set-up, epoch data preparation, optimiser steps, validation, export, scoring,
writing); epochs and seconds per epoch; training windows per second; and the optimiser steps'
floating-point rate against what this machine reaches on one large batch of the same network
(forward and backward: the arithmetic ceiling of the loop on this CPU).

    python -m benchmarks.train_speed ../shared/gtzan-mini/genres --baseline 0bc63e7 --out benchmarks/results/train-speed
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

from benchmarks.common import ROOT, output_and_scratch, provenance, provenance_line, write_json
from hiergenre.training.jobs import usable_cores
from hiergenre.viz.reports import markdown_table

#: Multiply-accumulates of one forward pass of the default preset's network on one window (see ``flops``).
FLOP_PER_TRAINING_WINDOW_FACTOR = 3  # backward ≈ twice the forward


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="dataset folder (GTZAN layout)")
    parser.add_argument("--baseline", default="0bc63e7", help="git commit of the code to compare with")
    parser.add_argument("--epochs", type=int, default=None, help="epoch cap for both (default: the preset's)")
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out, scratch = output_and_scratch(args.out, "hiergenre-train-speed-")
    baseline = checkout(args.baseline, scratch / "baseline")
    runs = {
        "baseline": run_train_all(baseline, scratch / "ws-baseline", args),
        "current-jobs1": run_train_all(ROOT, scratch / "ws-current-jobs1", args, ["--jobs", "1"]),
        "current": run_train_all(ROOT, scratch / "ws-current", args),
    }
    for name, run in runs.items():
        run["nodes"] = node_records(scratch / f"ws-{name}")
    ceiling = dense_ceiling()
    results = {
        "command": f"python -m benchmarks.train_speed {' '.join(sys.argv[1:] if argv is None else argv)}",
        "provenance": provenance(),
        "baseline_commit": args.baseline,
        "data": args.data,
        "runs": runs,
        "ceiling": ceiling,
        "workers": usable_cores(),
        "windows_trained": sum(n["windows_trained"] or 0 for n in runs["current"]["nodes"]),
        "flop_per_window": flops_per_training_window(),
    }
    write_json(out / "results.json", results)
    (out / "report.md").write_text(report(results), encoding="utf-8")
    print((out / "report.md").read_text())
    return 0


def checkout(commit: str, folder: Path) -> Path:
    """The ``hiergenre`` package and tree files of ``commit``, unpacked into ``folder``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "hiergenre", "hierarchies"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def run_train_all(code: Path, workdir: Path, args: argparse.Namespace, extra: list[str] = ()) -> dict:
    """Wall seconds and output of build-tree + train-all with the package in ``code``."""
    env = {**os.environ, "PYTHONPATH": str(code), "HIERGENRE_WORKDIR": str(workdir)}
    command = [sys.executable, "-m", "hiergenre.cli"]
    # cwd is the package's folder: ``python -m`` puts the working directory first on sys.path
    options = {"env": env, "cwd": code, "check": True, "capture_output": True}
    subprocess.run([*command, "build-tree", str(code / "hierarchies" / "default.yaml")], **options)
    lmfcc = ["--features", "lmfcc"] if code == ROOT else []  # the CNN's speed (0.5's default is musicnn)
    train = [*command, "train-all", "--data", args.data, *lmfcc, "--seed", "0", *extra]
    if args.epochs:
        train += ["--epochs", str(args.epochs)]
    started = time.perf_counter()
    result = subprocess.run(train, text=True, **options)
    seconds = time.perf_counter() - started
    print(f"{code}: train-all {' '.join(extra)} {seconds:.1f} s", flush=True)
    phases = {}
    for line in result.stdout.splitlines():
        if line.startswith("seconds by phase"):  # "...: " or "..., summed over N worker processes: "
            phases = {k.strip(): float(v) for k, v in (p.rsplit(" ", 1) for p in line.split(":", 1)[1].split(", "))}
    return {"wall_seconds": seconds, "phases": phases, "stdout": result.stdout[-4000:]}


def node_records(workdir: Path) -> list[dict]:
    """Epochs, seconds and training windows of every trained node."""
    records = []
    for manifest in sorted((workdir / "models").glob("*/manifest.json")):
        data = json.loads(manifest.read_text())
        for node in data["nodes"]:
            folder = manifest.parent / data.get("models", "")  # hiergenre 0.2: the models are beside the manifest
            meta = json.loads((folder / f"{node}.json").read_text())
            records.append(
                {
                    "model": f"{data['tree_name']}/{node}",
                    "epochs": meta.get("epochs_run", 0),
                    "seconds": meta.get("seconds", 0.0),
                    "steps_seconds": meta.get("phase_seconds", {}).get("steps"),
                    "windows_trained": meta.get("windows_trained"),
                    "parameters": meta.get("parameters"),
                }
            )
    return records


def flops_per_training_window() -> float:
    """Floating-point operations of one training step on one window of the default network (forward and backward)."""
    from hiergenre.presets import get_preset

    preset = get_preset("improved-cv3-s1")
    frames, coefficients, filters = preset.features.window_frames, preset.features.n_mfcc, preset.model.filters
    kernel, pool = preset.model.kernel_time, preset.model.pool_time
    first = frames - preset.model.first_kernel_time + 1
    macs = first * filters * preset.model.first_kernel_time * coefficients
    second = -(-first // pool)
    macs += second * filters * kernel * filters
    third = -(-second // pool)
    macs += third * filters * kernel * filters
    return 2.0 * macs * FLOP_PER_TRAINING_WINDOW_FACTOR


def dense_ceiling(batch: int = 512, repeats: int = 20) -> dict:
    """Windows per second and FLOP/s of compiled training steps on large batches of the same network."""
    import numpy as np

    from hiergenre.models.network import build_cnn
    from hiergenre.presets import get_preset
    from hiergenre.training.keras_loop import CompiledLoop

    preset = get_preset("improved-cv3-s1")
    network = build_cnn(10, preset.model, preset.features)
    loop = CompiledLoop(network, 1e-3, batch)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, preset.features.window_frames, preset.features.n_mfcc, 1)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    w = np.ones(batch, np.float32)
    loop.epoch(x, y, w)
    started = time.perf_counter()
    for _ in range(repeats):
        loop.epoch(x, y, w)
    windows_per_second = batch * repeats / (time.perf_counter() - started)
    return {"windows_per_second": windows_per_second, "flops": windows_per_second * flops_per_training_window()}


def report(r: dict) -> str:
    runs, workers = r["runs"], r.get("workers", 1)
    base, current = runs["baseline"], runs["current"]
    sequential = runs.get("current-jobs1")
    labelled = [(f"baseline {r['baseline_commit']}", base)]
    if sequential:
        labelled.append(("this code, `--jobs 1`", sequential))
    labelled.append((f"this code, default (`--jobs {workers}` here)", current))
    rows = []
    for name, run in labelled:
        epochs = sum(n["epochs"] for n in run["nodes"])
        training = sum(n["seconds"] for n in run["nodes"])
        speedup = base["wall_seconds"] / run["wall_seconds"]
        rows.append(
            [
                name,
                f"{run['wall_seconds']:.1f}",
                f"{speedup:.2f}×",
                f"{training:.1f}",
                epochs,
                f"{1000 * training / max(1, epochs):.0f}",
            ]
        )
    lines = [
        "# Training speed: train-all against an earlier commit",
        "",
        f"Command: `{r['command']}`",
        "",
        f"Code and machine: {provenance_line(r['provenance'])} Data: {r['data']}. Each: a fresh workspace with a cold "
        "feature cache, `build-tree hierarchies/default.yaml`, then `train-all --data DATA --seed 0` (default preset, "
        "paper split), one after the other in fresh processes.",
        "",
        markdown_table(
            [
                "code",
                "train-all wall s",
                "speed-up",
                "node training core-s (incl. export)",
                "epochs (all members)",
                "core-ms per member-epoch",
            ],
            rows,
        ),
        "",
        f"**Speed-up of train-all as a user runs it: {base['wall_seconds'] / current['wall_seconds']:.2f}×.**",
        "",
        "## Where this code's time goes",
        "",
        "Core-seconds per phase, summed over the worker processes (with `--jobs 1`, wall seconds):",
        "",
    ]
    phase_runs = [("`--jobs 1`", sequential), (f"`--jobs {workers}`", current)] if sequential else [("", current)]
    names = list(dict.fromkeys(k for _, run in phase_runs for k in run["phases"]))
    lines += [
        markdown_table(
            ["phase", *(label for label, _ in phase_runs)],
            [[k, *(f"{run['phases'].get(k, 0.0):.1f}" for _, run in phase_runs)] for k in names],
        ),
        "",
    ]
    windows = r.get("windows_trained")
    if windows:
        steps_run = sequential or current
        steps = steps_run["phases"].get("steps", 0.0)
        rate = windows / steps if steps else float("nan")
        ceiling = r["ceiling"]["windows_per_second"]
        lines += [
            "## Against the arithmetic",
            "",
            f"Optimiser steps trained {windows:,} windows in {steps:.1f} core-seconds: {rate:.0f} windows/s per core, "
            f"{rate * r['flop_per_window'] / 1e9:.1f} GFLOP/s ({r['flop_per_window'] / 1e6:.1f} MFLOP per window, "
            "forward and backward). The same network's compiled training step on batches of 512 windows, on the "
            f"same one TensorFlow thread, reaches {ceiling:.0f} windows/s ({r['ceiling']['flops'] / 1e9:.1f} GFLOP/s) "
            f"per core here: the loop runs at {100 * rate / ceiling:.0f}% of that ceiling.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
