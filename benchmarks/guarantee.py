"""Does ``--target-accuracy A`` keep its promise? Evidence for the split-conformal climb (issue 32).

Stages (each resumable: runs whose scores are saved are skipped; the report is rebuilt after each):

- ``collect DATA --features F``: for each seed, ``train-all --split 70/30/0`` (per genre 7 clips train,
  3 clips no model trained, early-stopped or was chosen on), then the raw scores of those clips by the
  default tree and the flat model (their ``validation.npz``) are saved. The report redraws them
  1000 times into calibration and test clips (:mod:`benchmarks.guarantee_analysis`).
- ``halves DATA --features F``: artist-ordered halves (new artists: no guarantee applies), per genre
  in file-name order the training half's first 3 clips train, its last 2 calibrate, the other
  half's 5 test; test clips scored by the deployed models with their own temperatures.
- ``synthetic``: one larger synthetic corpus, ``--split 20/80/0``, redrawn the same way.
- ``report``: ``report.md``, ``results.json.gz`` and plots (:mod:`benchmarks.guarantee_report`).

    python -m benchmarks.guarantee collect ../shared/gtzan-mini/genres --features musicnn --seeds 0-29 \
        --out benchmarks/results/guarantee
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT
from benchmarks.guarantee_store import append_command, load_store, save_store

#: Where workspaces (feature caches), split folders and synthetic corpora live between stages.
DEFAULT_WORK = Path("/tmp/guarantee-work")


def seeds_of(text: list[str]) -> list[int]:
    """``0-29`` or ``0 1 2`` as a list of seeds."""
    out: list[int] = []
    for item in text:
        low, _, high = item.partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=("collect", "halves", "synthetic", "report"))
    parser.add_argument("data", nargs="?", help="a GTZAN-layout folder (collect, halves)")
    parser.add_argument("--out", required=True, help="results folder")
    parser.add_argument("--work", default=str(DEFAULT_WORK), help="workspaces and corpora kept between stages")
    parser.add_argument("--label", default="gtzan-mini", help="name of the data set in file names and the report")
    parser.add_argument("--features", default="musicnn", help="front-end: musicnn or lmfcc")
    parser.add_argument("--node-model", default=None, help="node model override (synthetic lmfcc: stats)")
    parser.add_argument("--seeds", nargs="+", default=["0-29"], help="seeds, e.g. 0-29 or 0 1 2")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=None, help="collect: start no seed after this long")
    parser.add_argument("--clips-per-genre", type=int, default=60, help="synthetic corpus size")
    parser.add_argument("--seconds", type=float, default=10.0, help="synthetic clip length")
    parser.add_argument("--draws", type=int, default=1000, help="calibration/test redraws of a single run (report)")
    parser.add_argument("--run-draws", type=int, default=100, help="redraws per run of a many-run source (report)")
    parser.add_argument("--calibration-clips", type=int, default=20, help="per draw on collected runs (report)")
    parser.add_argument("--synthetic-calibration-clips", type=int, default=100, help="per draw, synthetic (report)")
    return parser.parse_args(argv)


def scores_file(out: Path, label: str, features: str, node_model: str | None = None) -> Path:
    """``<out>/scores-<label>-<features>[-<node model>].npz``: the raw scores of one stage's runs."""
    suffix = f"-{node_model}" if node_model else ""
    return out / f"scores-{label}-{features}{suffix}.npz"


def fresh_workspace(work: Path, name: str) -> Path:
    """A workspace folder with the default tree built in it (once)."""
    import hiergenre

    workdir = work / name
    if not (workdir / "tree.yaml").is_file():
        hiergenre.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir, draw=False)
    return workdir


def validation_arrays(workdir: Path, prefix: str) -> dict[str, np.ndarray]:
    """The default tree's and flat model's raw validation scores as arrays named ``<prefix>/...``.

    Only clips both hold, in the default tree's order; the flat model's columns in the default
    tree's ``leaves`` order.
    """
    from hiergenre.cascade.hierarchy import ROOT as TREE_ROOT
    from hiergenre.workspace.layout import Workspace
    from hiergenre.workspace.validation import stored_validation

    workspace = Workspace(workdir)
    default, flat = workspace.open("default", runtime=None), workspace.open("flat", runtime=None)
    ids, genres, raw = stored_validation(default)
    flat_ids, _, flat_raw = stored_validation(flat)
    row = {clip: i for i, clip in enumerate(flat_ids)}
    keep = [i for i, clip in enumerate(ids) if clip in row]
    columns = flat.tree.children(TREE_ROOT)
    order = [columns.index(g) for g in default.tree.leaves]
    arrays = {
        f"{prefix}/ids": np.array([Path(ids[i]).name for i in keep]),
        f"{prefix}/genres": np.array([genres[i] for i in keep]),
        f"{prefix}/flat": flat_raw.nodes[TREE_ROOT][[row[ids[i]] for i in keep]][:, order],
    }
    arrays.update({f"{prefix}/node/{node}": p[keep] for node, p in raw.nodes.items()})
    return arrays


def train(workdir: Path, data: str | Path, args: argparse.Namespace, split: str, seed: int) -> float:
    """``train_all`` (no 3-class baseline) and its wall seconds."""
    import hiergenre

    start = time.perf_counter()
    hiergenre.train_all(
        workdir=workdir,
        data=data,
        features=args.features,
        node_model=args.node_model,
        split=split,
        seed=seed,
        jobs=args.jobs,
        baseline3=False,
    )
    return time.perf_counter() - start


def tree_arrays(workdir: Path) -> dict[str, np.ndarray]:
    """The default tree (YAML) and its genre order, stored once per file."""
    from hiergenre.workspace.layout import Workspace

    tree = Workspace(workdir).built_tree()
    return {"tree": np.array(tree.to_yaml()), "leaves": np.array(tree.leaves)}


def collect(args: argparse.Namespace, out: Path, work: Path) -> None:
    """Train each missing seed on 70/30/0 and save its calibration clips' raw scores."""
    path = scores_file(out, args.label, args.features, args.node_model)
    workdir = fresh_workspace(work, f"ws-{args.label}-{args.features}")
    start = time.perf_counter()
    for seed in seeds_of(args.seeds):
        store = load_store(path)
        if f"seed{seed}/genres" in store:
            continue
        if args.max_minutes is not None and time.perf_counter() - start > 60 * args.max_minutes:
            print(f"{args.features}: --max-minutes {args.max_minutes:g} reached before seed {seed}", flush=True)
            break
        seconds = train(workdir, args.data, args, "70/30/0", seed)
        arrays = {**tree_arrays(workdir), **validation_arrays(workdir, f"seed{seed}")}
        arrays[f"seed{seed}/train_seconds"] = np.array(seconds)
        save_store(path, {**store, **arrays})
        print(f"{args.features} seed {seed}: {seconds:.1f} s, {len(arrays[f'seed{seed}/genres'])} clips", flush=True)


def halves_split(data: str, half: int, folder: Path) -> Path:
    """A split folder: per genre in file-name order, the training half's first 3 clips train, its
    last 2 validate (calibrate), the other half's 5 test (for 10 clips a genre)."""
    from hiergenre.data.datasets import load_dataset
    from hiergenre.data.splits_ordered import natural_key

    parts: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    clips = load_dataset(data).clips
    for genre in sorted({c.genre for c in clips}):
        ordered = sorted((c for c in clips if c.genre == genre), key=lambda c: natural_key(c.path.name))
        cut = len(ordered) // 2
        first, second = ordered[:cut], ordered[cut:]
        training, testing = (first, second) if half == 1 else (second, first)
        keep = max(1, len(training) - 2)
        parts["train"] += [c.clip_id for c in training[:keep]]
        parts["valid"] += [c.clip_id for c in training[keep:]]
        parts["test"] += [c.clip_id for c in testing]
    folder.mkdir(parents=True, exist_ok=True)
    for name, ids in parts.items():
        (folder / f"{name}.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
    return folder


def halves(args: argparse.Namespace, out: Path, work: Path) -> None:
    """Train each (seed, half) on its split folder; save calibration and test raw scores and temperatures."""
    from benchmarks.guarantee_halves import test_arrays

    path = out / f"halves-{args.label}-{args.features}.npz"
    workdir = fresh_workspace(work, f"ws-{args.label}-{args.features}")
    for seed in seeds_of(args.seeds):
        for half in (1, 2):
            run = f"seed{seed}-half{half}"
            store = load_store(path)
            if f"{run}/test/genres" in store:
                continue
            folder = halves_split(args.data, half, work / "halves-splits" / f"{args.label}-half{half}")
            seconds = train(workdir, args.data, args, str(folder), seed)
            arrays = {**tree_arrays(workdir), **validation_arrays(workdir, f"{run}/cal")}
            arrays.update(test_arrays(workdir, args.data, folder, run, args.jobs))
            arrays[f"{run}/train_seconds"] = np.array(seconds)
            save_store(path, {**store, **arrays})
            print(f"{args.features} {run}: {seconds:.1f} s", flush=True)


def synthetic(args: argparse.Namespace, out: Path, work: Path) -> None:
    """Train once on a synthetic corpus with ``20/80/0`` (seed 0); print the flat model's leaf accuracy only."""
    from hiergenre.data.synthetic.corpus import write_corpus

    label = f"synthetic-{args.clips_per_genre}x{args.seconds:g}s"
    path = scores_file(out, label, args.features, args.node_model)
    store = load_store(path)
    if "seed0/genres" not in store:
        corpus = write_corpus(work / f"corpus-{label}", clips_per_genre=args.clips_per_genre, seconds=args.seconds)
        workdir = fresh_workspace(work, f"ws-{label}-{args.features}-{args.node_model or 'default'}")
        seconds = train(workdir, corpus, args, "20/80/0", 0)
        store = {**tree_arrays(workdir), **validation_arrays(workdir, "seed0")}
        store["seed0/train_seconds"] = np.array(seconds)
        save_store(path, store)
    leaves = [str(g) for g in store["leaves"]]
    flat_genres = np.array(leaves)[store["seed0/flat"].argmax(axis=1)]
    accuracy = float(np.mean(flat_genres == store["seed0/genres"]))
    print(f"{label} {args.features}: flat leaf accuracy on the {len(flat_genres)} held-out clips {100 * accuracy:.1f}%")


def main(argv: list[str] | None = None) -> int:
    """Run one stage, record its command line and wall time, then rebuild the report."""
    from benchmarks.guarantee_report import write_report

    args = parse_args(argv)
    out, work = Path(args.out).absolute(), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    if args.stage in ("collect", "halves") and not args.data:
        raise SystemExit(f"{args.stage} needs a data folder")
    start = time.perf_counter()
    if args.stage != "report":
        {"collect": collect, "halves": halves, "synthetic": synthetic}[args.stage](args, out, work)
        command = "python -m benchmarks.guarantee " + " ".join(sys.argv[1:] if argv is None else argv)
        append_command(out, command, time.perf_counter() - start)
    write_report(out, args)
    print(json.dumps({"stage": args.stage, "wall_seconds": round(time.perf_counter() - start, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
