"""Prediction speed and parity: the lean LiteRT path against the Keras + librosa reference.

Measures, on one machine and in one run, side by side:

- cold single-clip prediction: the wall time of a whole ``hiergenre predict clip.au`` process,
  each backend run ``--repeats`` times, alternating with the import floor (a process importing
  only numpy, soundfile, soxr and the LiteRT interpreter) (median and best reported);
- peak memory: the peak RSS of ``hiergenre predict`` and ``hiergenre predict --timeline`` on the
  30-s clip and on a ``--long-minutes`` file made of it (written block by block);
- batch prediction: a whole ``hiergenre predict DATA --output out.csv`` process over every clip
  of DATA, clips per second including start-up;
- parity: largest difference between the lean (numpy) and librosa LMFCC on every clip, relative
  to the largest coefficient, and how many clips the two backends classify alike.

It trains a throw-away workspace on DATA first (few epochs: speed does not depend on accuracy)
unless ``--workdir`` points at a trained one.

    python -m benchmarks.predict_speed ../shared/gtzan-mini/genres --out benchmarks/results/predict-speed
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.common import ROOT, output_and_scratch, provenance, provenance_line, write_json
from hiergenre import api
from hiergenre.data.audio import load_audio
from hiergenre.data.datasets import load_dataset
from hiergenre.features.lmfcc import lmfcc, lmfcc_numpy
from hiergenre.viz.reports import markdown_table
from hiergenre.workspace.layout import Workspace


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="dataset folder (GTZAN layout or folder per genre)")
    parser.add_argument("--workdir", help="an already trained workspace (default: train a throw-away one)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the throw-away training")
    parser.add_argument("--repeats", type=int, default=5, help="cold runs per backend")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the batch command")
    parser.add_argument("--long-minutes", type=float, default=40.0, help="length of the long file of the memory test")
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out, scratch = output_and_scratch(args.out, "hiergenre-speed-")
    workdir = Path(args.workdir) if args.workdir else train_workspace(args, scratch / "ws")
    dataset = load_dataset(args.data)
    clips = [str(c.path) for c in dataset.clips]
    clip = clips[0]
    cold = {backend: [] for backend in ("litert", "keras")}
    floor = []
    for _ in range(args.repeats):
        floor.append(import_floor())
        for backend in cold:
            cold[backend].append(wall_time(["predict", clip, "--runtime", backend], workdir))
    memory = peak_memory(clip, write_long_file(clip, scratch / "long.wav", args.long_minutes), workdir)
    batch = {}
    for jobs in sorted({1, args.jobs}):
        output = scratch / f"out-{jobs}.csv"
        seconds = wall_time(["predict", args.data, "--output", str(output), "--jobs", str(jobs)], workdir)
        with output.open() as handle:
            classified = sum(1 for row in csv.DictReader(handle) if row["genre"])
        batch[jobs] = {
            "seconds": seconds,
            "clips": len(clips),
            "classified": classified,
            "clips_per_second": len(clips) / seconds,
            "jobs": jobs,
        }
    parity = feature_parity(clips, workdir)
    agreement = backend_agreement(clips, workdir)
    results = {
        "command": f"python -m benchmarks.predict_speed {' '.join(sys.argv[1:] if argv is None else argv)}",
        "provenance": provenance(),
        "data": args.data,
        "models": describe_models(workdir, throwaway=not args.workdir),
        "clips": len(clips),
        "clip_seconds": float(np.mean([len(load_audio(c)) / 22050 for c in clips[:10]])),
        "cold_seconds": cold,
        "import_floor_seconds": floor,
        "long_minutes": args.long_minutes,
        "peak_rss_mb": memory,
        "batch": list(batch.values()),
        "parity": parity,
        "agreement": agreement,
    }
    write_json(out / "results.json", results)
    (out / "report.md").write_text(report(results, clip))
    print((out / "report.md").read_text())
    return 0


def train_workspace(args: argparse.Namespace, workdir: Path) -> Path:
    api.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir, draw=False)
    api.train_all(workdir=workdir, data=args.data, epochs=args.epochs, jobs=2)
    return workdir


def describe_models(workdir: Path, *, throwaway: bool) -> str:
    """What was timed, read from the workspace's manifests (so a ``--workdir`` run says it too)."""
    workspace = Workspace(workdir)
    parts = []
    for name in workspace.trained_trees():
        manifest = workspace.manifest(name)
        parts.append(f"{name} (preset {manifest.preset}, at most {manifest.epochs_cap} epochs)")
    where = "a throw-away workspace" if throwaway else f"the workspace {workdir}"
    return f"{where}: {', '.join(parts)}"


#: What a cold prediction cannot avoid importing: the issue's floor for ``hiergenre predict clip.au``.
FLOOR_IMPORTS = "import numpy, soundfile, soxr; from ai_edge_litert.interpreter import Interpreter"


def import_floor() -> float:
    """Seconds of a process that only imports what a LiteRT prediction needs."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR_IMPORTS], check=True, capture_output=True)
    return time.perf_counter() - start


def write_long_file(clip: str, path: Path, minutes: float) -> Path:
    """``clip`` repeated to ``minutes``, written one clip at a time (the benchmark never holds the long file)."""
    samples, rate = sf.read(clip, dtype="float32", always_2d=True)
    total = int(minutes * 60 * rate)
    with sf.SoundFile(str(path), "w", rate, samples.shape[1], subtype="PCM_16") as handle:
        for start in range(0, total, len(samples)):
            handle.write(samples[: total - start])
    return path


def peak_memory(clip: str, long_file: Path, workdir: Path) -> dict[str, dict[str, float]]:
    """Peak RSS (MB) of ``predict`` and ``predict --timeline`` on the clip and the long file (fresh processes)."""
    command = [str(Path(sys.executable).parent / "hiergenre"), "predict", "--workdir", str(workdir)]
    peaks: dict[str, dict[str, float]] = {}
    for name, extra in (("predict", []), ("predict --timeline", ["--timeline"])):
        peaks[name] = {}
        for label, path in (("clip", clip), ("long", str(long_file))):
            process = subprocess.Popen([*command, path, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise RuntimeError(f"{' '.join([*command, path, *extra])} exited {process.returncode}")
            peaks[name][label] = usage.ru_maxrss / 1024
    return peaks


def wall_time(arguments: list[str], workdir: Path) -> float:
    """Seconds of a whole ``hiergenre`` process, as a user would wait for it."""
    command = [str(Path(sys.executable).parent / "hiergenre"), *arguments, "--workdir", str(workdir)]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def feature_parity(clips: list[str], workdir: Path) -> dict[str, float]:
    """Largest |lean − librosa| LMFCC difference over all clips, absolute and relative to the largest value."""
    predictor = api.load_predictor(workdir=workdir)
    config, matrices = predictor.front_end.config, predictor.front_end.matrices
    worst_abs, worst_rel = 0.0, 0.0
    for path in clips:
        signal = load_audio(path, sample_rate=config.sample_rate, max_seconds=config.max_seconds)
        reference = lmfcc(signal, config)
        difference = float(np.abs(lmfcc_numpy(signal, config, matrices) - reference).max())
        worst_abs = max(worst_abs, difference)
        worst_rel = max(worst_rel, difference / float(np.abs(reference).max()))
    return {"max_abs": worst_abs, "max_relative": worst_rel}


def backend_agreement(clips: list[str], workdir: Path) -> dict[str, float]:
    lean = api.predict(clips, workdir=workdir, runtime="litert")
    reference = api.predict(clips, workdir=workdir, runtime="keras")
    same = sum(a.genre == b.genre for a, b in zip(lean, reference, strict=True))
    gap = max(abs(a.route.p - b.route.p) for a, b in zip(lean, reference, strict=True) if a.route and b.route)
    return {"same_genre": same, "clips": len(clips), "max_path_probability_difference": gap}


def report(r: dict, clip: str) -> str:
    lite, keras = r["cold_seconds"]["litert"], r["cold_seconds"]["keras"]
    speedup = statistics.median(keras) / statistics.median(lite)
    floor = r["import_floor_seconds"]
    rows = [
        [name, f"{statistics.median(v):.2f}", f"{min(v):.2f}", " ".join(f"{x:.2f}" for x in v)]
        for name, v in (("litert (default)", lite), ("keras + librosa", keras), ("import floor", floor))
    ]
    memory = r["peak_rss_mb"]
    memory_rows = [
        [f"`{name}`", f"{m['clip']:.0f}", f"{m['long']:.0f}", f"{m['long'] / m['clip']:.2f}"]
        for name, m in memory.items()
    ]
    return "\n".join(
        [
            "# Prediction speed: LiteRT path versus Keras + librosa",
            "",
            f"Command: `{r['command']}`",
            "",
            f"Code and machine: {provenance_line(r['provenance'])} Data: {r['data']} "
            f"({r['clips']} clips of about {r['clip_seconds']:.0f} s). Every time is the wall time of a whole "
            "`hiergenre predict` process (start-up, imports, model loading, decoding, LMFCC, routing), "
            "both backends measured alternately in the same run. "
            f"Models: {r.get('models', 'not recorded')}.",
            "",
            f"## Cold single clip: `hiergenre predict {Path(clip).name}`",
            "",
            markdown_table(["backend", "median s", "best s", "all runs s"], rows),
            "",
            f"Speed-up of the median: {speedup:.1f}×. Target: at most 1.0 s and at least 5× faster.",
            "",
            f"Import floor: a process running `{FLOOR_IMPORTS}`, alternated with the predictions. The median "
            f"LiteRT prediction takes {statistics.median(lite) / statistics.median(floor):.2f}× the median floor "
            "(target: at most 1.5×).",
            "",
            "## Peak memory",
            "",
            f"Peak RSS of a whole process, on the clip and on a {r['long_minutes']:g}-minute file made of it "
            "(`predict` reads at most its first 10 minutes; `--timeline` reads it to the end). "
            "Target: the long file within 20% of the clip (ratio at most 1.20).",
            "",
            markdown_table(["command", "clip MB", "long file MB", "ratio"], memory_rows),
            "",
            "## Batch",
            "",
            f"`hiergenre predict DATA --output out.csv --jobs N` over all {r['clips']} clips, whole process "
            "(start-up included). Target: at least 50 clips/s on 2 cores.",
            "",
            markdown_table(
                ["--jobs", "seconds", "clips/s", "classified"],
                [
                    [b["jobs"], f"{b['seconds']:.2f}", f"{b['clips_per_second']:.1f}", b["classified"]]
                    for b in r["batch"]
                ],
            ),
            "",
            "## Parity",
            "",
            f"- LMFCC, lean numpy path against librosa, every clip: largest difference {r['parity']['max_abs']:.2e} "
            f"({r['parity']['max_relative']:.1e} of the largest coefficient).",
            f"- Predictions: {r['agreement']['same_genre']} of {r['agreement']['clips']} clips get the same genre from "
            f"both backends; largest difference of a route's probability "
            f"{r['agreement']['max_path_probability_difference']:.1e}.",
            "",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
