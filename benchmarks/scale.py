"""Scaling out: feature extraction and ``train-all`` on local processes and on local Dask clusters.

For each data set (a folder such as gtzan-mini, and a synthetic 60-genre tree of the deep
taxonomy) and each backend — the local default (``--jobs`` processes), and Dask LocalClusters of
1 and 2 single-threaded workers — it measures, each with a cold feature cache:

- **start-up**: starting the backend and warming its workers (hiergenre and librosa imported),
  reported apart from the work;
- **per-task overhead**: the round trip of a job that does nothing, over 200 such jobs;
- **extraction**: clips per second of decoding + LMFCC of every clip (:func:`extract_many`);
- **train-all**: wall time of a whole ``train-all`` (features, every node model, the flat model),
  epochs capped (stated), in a fresh workspace; it starts its own cluster, start-up included.

It then **projects**, as a model and not a measurement, the wall time of ``train-all`` on FMA
medium and FMA large with 8 and 32 workers: extraction at the measured per-clip cost and per-task
overhead; one training job per node of FMA's own genre tree (``../shared/fma/genres.csv``), each
costing the measured seconds per clip and member-epoch times its clips (FMA's ``#tracks`` under the
node, scaled to the data set) times the member-epochs the default preset ran on gtzan-mini, the
jobs scheduled largest first on the workers.

    python -m benchmarks.scale ../shared/gtzan-mini/genres --out benchmarks/results/scale
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import output_and_scratch, provenance, write_json
from benchmarks.scale_report import write_report
from hiergenre import api
from hiergenre.cascade.hierarchy import ROOT
from hiergenre.data.datasets import load_dataset
from hiergenre.data.synthetic.corpus import write_corpus
from hiergenre.data.synthetic.deep import FAMILIES, deep_styles, deep_tree, spread_variants
from hiergenre.data.taxonomy import fma_tree, read_fma_genres
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.parallel.backends import Backend, usable_cores
from hiergenre.parallel.choose import open_backend
from hiergenre.presets import DEFAULT_PRESET, get_preset

#: (label, --cluster, --jobs): the local default on this machine's cores, then Dask with 1 and 2 workers.
BACKENDS = (("local", None, 2), ("dask local:1", "local:1", 1), ("dask local:2", "local:2", 2))
#: Clips of FMA medium and FMA large (mdeff/fma).
FMA_SIZES = {"fma_medium": 25_000, "fma_large": 106_574}
#: Member-epochs of one default-preset node model (3 members with early stopping): the mean of the
#: flat model's over the 30 runs of benchmarks/results/gtzan-mini-5fold-30runs.
MEMBER_EPOCHS = 410.5


def noop(item: object) -> object:
    """A job that does nothing: its round trip is the backend's per-task overhead."""
    return item


def warm(item: object) -> object:
    """A job that imports what extraction needs, so that the timed extraction does not pay for imports."""
    import librosa  # noqa: F401

    import hiergenre.features.lmfcc  # noqa: F401

    return item


def measure_backend(label: str, cluster: str | None, jobs: int, paths: list[str], scratch: Path) -> dict:
    """Start-up, per-task overhead and cold-cache extraction of one backend."""
    started = time.perf_counter()
    backend: Backend
    with open_backend(cluster, jobs) as backend:
        list(backend.map_unordered(warm, list(range(4 * backend.workers))))
        startup = time.perf_counter() - started
        begun = time.perf_counter()
        list(backend.map_unordered(noop, list(range(200))))
        overhead = (time.perf_counter() - begun) / 200
        cache = FeatureCache(tempfile.mkdtemp(dir=scratch, prefix="cache-"))
        begun = time.perf_counter()
        frames, failures = extract_many(paths, get_preset(DEFAULT_PRESET).features, cache=cache, backend=backend)
        seconds = time.perf_counter() - begun
    return {
        "backend": label,
        "workers": backend.workers,
        "startup_seconds": startup,
        "task_overhead_ms": 1000 * overhead,
        "extraction_seconds": seconds,
        "clips": len(frames),
        "failed": len(failures),
        "clips_per_second": len(frames) / seconds,
    }


def measure_training(cluster: str | None, jobs: int, data: str, tree: Path, epochs: int, scratch: Path) -> dict:
    """Wall time of build-tree + train-all in a fresh workspace (cold cache), and its node records."""
    workdir = Path(tempfile.mkdtemp(dir=scratch, prefix="ws-"))
    api.build_tree(tree, workdir=workdir, draw=False)
    started = time.perf_counter()
    report = api.train_all(workdir=workdir, data=data, epochs=epochs, jobs=jobs, cluster=cluster, baseline3=False)
    seconds = time.perf_counter() - started
    return {
        "train_all_seconds": seconds,
        "timings": report.timings,
        "node_models": len(report.results),
        "workdir": str(workdir),
    }


def training_costs(row: dict) -> tuple[float, float]:
    """From the local train-all on DATA: (seconds per training clip and member-epoch of the flat model,
    fixed seconds per node model: TensorFlow import, set-up and export)."""
    folder = Path(row["workdir"]) / "models" / "flat"
    manifest = json.loads((folder / "manifest.json").read_text())
    record = json.loads((folder / manifest["models"] / "root.json").read_text())
    phases = record["phase_seconds"]
    clips = len(manifest["split"]["train"]) + len(manifest["split"]["valid"])
    per_clip_epoch = sum(phases.get(p, 0.0) for p in ("draw", "steps", "validation")) / (clips * record["epochs_run"])
    export = row["timings"].get("export", 0.0) / row["node_models"]
    fixed = phases.get("import", 0.0) + phases.get("setup", 0.0) + export
    return per_clip_epoch, fixed


def projection(fma_csv: Path, per_clip: float, overhead: float, per_clip_training: float, fixed: float) -> list[dict]:
    """Projected train-all wall time on FMA medium and large with 8 and 32 workers (see the module docstring).

    A node's job costs ``fixed`` seconds plus ``per_clip_training`` for each clip under it (a CNN: seconds per
    clip and member-epoch times the member-epochs; a logistic regression: its fit time per clip).
    """
    genres = read_fma_genres(fma_csv)
    made = fma_tree(genres, name="fma")
    ids = {name: genre_id for genre_id, name in made.names.items()}
    tree = made.tree

    def tracks_under(node: str) -> int:
        own = genres[ids[node]].tracks if node in ids else 0
        return own + sum(tracks_under(child) for child in tree.children(node))

    total = tracks_under(ROOT)
    rows = []
    for data_set, clips in FMA_SIZES.items():
        jobs = [fixed + clips * tracks_under(n) / total * per_clip_training for n in tree.model_nodes]
        jobs.append(fixed + clips * per_clip_training)  # the flat model: every clip
        for workers in (8, 32):
            batches = math.ceil(clips / 32)
            extraction = (clips * per_clip + batches * overhead) / workers
            training = longest_first(jobs, workers)
            rows.append(
                {
                    "data_set": data_set,
                    "clips": clips,
                    "workers": workers,
                    "node_models": len(jobs),
                    "extraction_hours": extraction / 3600,
                    "training_hours": training / 3600,
                    "largest_job_hours": max(jobs) / 3600,
                    "total_hours": (extraction + training) / 3600,
                }
            )
    return rows


def longest_first(jobs: list[float], workers: int) -> float:
    """Makespan of ``jobs`` (seconds) on ``workers``, each job to the least busy worker, largest first."""
    loads = [0.0] * workers
    for job in sorted(jobs, reverse=True):
        loads[loads.index(min(loads))] += job
    return max(loads)


def synthetic_tree(genres: int, scratch: Path, clips: int, seconds: float) -> tuple[str, Path]:
    """A synthetic corpus and its tree of about ``genres`` genres (families → genres → variants)."""
    variants = spread_variants(max(1, genres // sum(len(g) for g in FAMILIES.values())))
    tree = deep_tree(variants, name=f"deep{genres}")
    corpus = write_corpus(
        scratch / f"corpus{genres}", clips_per_genre=clips, seconds=seconds, styles=deep_styles(variants)
    )
    tree_file = scratch / f"deep{genres}.yaml"
    tree_file.write_text(tree.to_yaml())
    return str(corpus), tree_file


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a dataset folder (e.g. ../shared/gtzan-mini/genres)")
    parser.add_argument("--tree", default="hierarchies/default.yaml", help="tree trained on DATA")
    parser.add_argument("--epochs", type=int, default=20, help="epoch cap of train-all on DATA")
    parser.add_argument("--synthetic-genres", type=int, default=60)
    parser.add_argument("--synthetic-clips", type=int, default=3, help="clips per synthetic genre")
    parser.add_argument("--synthetic-seconds", type=float, default=15.0)
    parser.add_argument("--synthetic-epochs", type=int, default=5)
    parser.add_argument("--fma-genres", default="../shared/fma/genres.csv")
    parser.add_argument("--out", required=True)
    options = parser.parse_args(argv)
    out, scratch = output_and_scratch(options.out, "hiergenre-scale-")
    synthetic, synthetic_tree_file = synthetic_tree(
        options.synthetic_genres, scratch, options.synthetic_clips, options.synthetic_seconds
    )
    sets = [
        (Path(options.data).name or options.data, options.data, Path(options.tree), options.epochs),
        (f"synthetic {options.synthetic_genres} genres", synthetic, synthetic_tree_file, options.synthetic_epochs),
    ]
    results: dict = {"data_sets": []}
    for name, data, tree, epochs in sets:
        paths = [str(c.path) for c in load_dataset(data).clips]
        rows = []
        for label, cluster, jobs in BACKENDS:
            print(f"{name}: {label}", flush=True)
            row = measure_backend(label, cluster, jobs, paths, scratch)
            row |= measure_training(cluster, jobs, data, tree, epochs, scratch)
            rows.append(row)
        results["data_sets"].append({"name": name, "clips": len(paths), "epochs": epochs, "rows": rows})
    gtzan = results["data_sets"][0]["rows"]
    one_worker = next(r for r in gtzan if r["backend"] == "dask local:1")
    two_workers = next(r for r in gtzan if r["backend"] == "dask local:2")
    per_clip = one_worker["extraction_seconds"] / one_worker["clips"]
    per_clip_epoch, fixed = training_costs(gtzan[0])
    overhead = two_workers["task_overhead_ms"] / 1000
    results["projection"] = {
        "per_clip_seconds": per_clip,
        "task_overhead_seconds": overhead,
        "per_clip_member_epoch_seconds": per_clip_epoch,
        "fixed_seconds_per_node": fixed,
        "member_epochs": MEMBER_EPOCHS,
        "rows": projection(Path(options.fma_genres), per_clip, overhead, MEMBER_EPOCHS * per_clip_epoch, fixed),
    }
    command = "python -m benchmarks.scale " + " ".join(sys.argv[1:] if argv is None else argv)
    results |= {"command": command, "provenance": provenance(), "cores": usable_cores(), "options": vars(options)}
    write_json(out / "results.json", results)
    print(write_report(results, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
