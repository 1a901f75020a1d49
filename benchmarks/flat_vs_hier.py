"""Flat versus hierarchical, under identical conditions, repeated over seeds or folds.

For every run (a seed, or a fold of k-fold cross-validation, or a clip-id split) the same
clips, split, feature settings, preset, epoch budget and seed train three things: the cascade of
the given tree, the flat model over the same genres, and the 3-class baseline. Each is scored on
the run's test part. The report gives mean ± standard deviation over runs, the paired per-run
difference cascade − flat, pooled per-class tables and confusion matrices, learning curves, and
the costs (feature extraction rate, training seconds and parameters per model, prediction time).

    python benchmarks/flat_vs_hier.py DATA --protocol kfold --folds 5 --seeds 0 --epochs 200 \\
        --out benchmarks/results/gtzan-mini-5fold

DATA is a dataset folder (GTZAN layout or any folder per genre), or ``synthetic`` for the embedded
synthetic corpus.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import hiergenre
from hiergenre import api
from hiergenre.datasets import load_dataset
from hiergenre.evaluation import ModelScores, score
from hiergenre.features import extract_many
from hiergenre.hierarchy import GenreTree
from hiergenre.models import read_json
from hiergenre.reports import (
    SUMMARY_HEADER,
    cascade_section,
    confusion_png,
    learning_curves_png,
    markdown_table,
    per_class_section,
    summary_rows,
)
from hiergenre.synthetic import write_corpus


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="dataset folder, or 'synthetic'")
    parser.add_argument("--tree", default="hierarchies/default.yaml", help="tree of the cascade")
    parser.add_argument(
        "--protocol",
        choices=["paper", "kfold", "ids"],
        default="paper",
        help="paper: per-genre 70/10/20 per seed; kfold: stratified k-fold; ids: clip-id lists",
    )
    parser.add_argument("--folds", type=int, default=5, help="k for --protocol kfold")
    parser.add_argument("--split-dir", default="gtzan-fault-filtered", help="clip-id lists for --protocol ids")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=200, help="epoch cap per model (same for every model)")
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--synthetic-clips", type=int, default=20, help="clips per genre for 'synthetic'")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", required=True, help="folder for report.md, results.json and plots")
    return parser.parse_args(argv)


def split_specs(args: argparse.Namespace) -> list[tuple[int, str]]:
    """(seed, --split value) for every run."""
    if args.protocol == "paper":
        return [(seed, "paper") for seed in args.seeds]
    if args.protocol == "kfold":
        return [(seed, f"kfold:{args.folds}:{i}") for seed in args.seeds for i in range(1, args.folds + 1)]
    return [(seed, args.split_dir) for seed in args.seeds]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="hiergenre-bench-"))
    started = time.perf_counter()
    data = args.data
    if data == "synthetic":
        data = str(write_corpus(scratch / "corpus", clips_per_genre=args.synthetic_clips, seed=0))
    dataset = load_dataset(data)
    extraction = measure_extraction(dataset, args)
    runs = []
    for seed, spec in split_specs(args):
        print(f"run: seed {seed}, split {spec}", flush=True)
        runs.append(one_run(args, data, seed, spec, scratch))
    report = aggregate(args, runs, extraction, dataset, time.perf_counter() - started)
    write_outputs(report, runs, out, args)
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"report: {out / 'report.md'}")
    return 0


def measure_extraction(dataset, args) -> dict[str, float]:  # noqa: ANN001
    """Clips per second of decoding + LMFCC, without cache, on up to 50 clips."""
    from hiergenre.config import get_preset

    clips = [c.path for c in dataset.clips][:: max(1, len(dataset.clips) // 50)][:50]
    start = time.perf_counter()
    extract_many(clips, get_preset(args.preset).features, cache=None, jobs=1)
    seconds = time.perf_counter() - start
    return {"clips": len(clips), "seconds": seconds, "clips_per_second": len(clips) / seconds}


def one_run(args: argparse.Namespace, data: str, seed: int, spec: str, scratch: Path) -> dict:
    """Train the three models on one split and score them on its test part."""
    workdir = scratch / f"seed{seed}-{spec.replace(':', '-').replace('/', '-')}"
    (scratch / "cache").mkdir(exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / "cache").exists():
        (workdir / "cache").symlink_to(scratch / "cache")  # all runs share one feature cache
    reference = api.build_tree(args.tree, workdir=workdir, draw=False)
    training = api.train_all(
        workdir=workdir, data=data, split=spec, preset=args.preset, epochs=args.epochs, jobs=args.jobs, seed=seed
    )
    evaluation = api.evaluate(workdir=workdir, jobs=args.jobs)
    timing = predict_timing(workdir, evaluation, reference)
    models = {}
    for name, s in evaluation.scores.items():
        tree_dir = workdir / "models" / name
        manifest = read_json(tree_dir / "manifest.json", what="manifest")
        nodes = [read_json(tree_dir / f"{n}.json", what="node") for n in manifest["nodes"]]
        models[name] = {
            "scores": s.as_dict(),
            "train_seconds": sum(n.get("seconds", 0.0) for n in nodes),
            "parameters": sum(n["parameters"] for n in nodes),
            "n_models": len(nodes),
            "epochs_run": [n.get("epochs_run") for n in nodes],
            "root_history": nodes[0]["history"],
            "predict_seconds_per_clip": timing.get(name),
        }
    return {
        "seed": seed,
        "split": spec,
        "split_description": training.split,
        "reference": reference.name,
        "models": models,
        "skipped": training.skipped_files,
    }


def predict_timing(workdir: Path, evaluation, reference: GenreTree) -> dict[str, float]:  # noqa: ANN001
    """Seconds per clip for decoding, LMFCC and routing (warm process, models loaded, no cache)."""
    from hiergenre.datasets import Split

    timing = {}
    for name in evaluation.scores:
        cascade = api.load_cascade(workdir=workdir, tree=name)
        split = Split.from_dict(read_json(workdir / "models" / name / "manifest.json", what="m")["split"])
        files = [c.path for c in split.test if c.genre in cascade.tree.leaves][:10]
        if not files:
            continue
        api.predict(files[:1], cascade=cascade)  # warm-up: first-call costs are not per clip
        start = time.perf_counter()
        api.predict(files, cascade=cascade)
        timing[name] = (time.perf_counter() - start) / len(files)
    return timing


def aggregate(args, runs, extraction, dataset, seconds) -> dict:  # noqa: ANN001
    """Mean ± std over runs, paired differences, pooled scores."""
    names = list(runs[0]["models"])
    reference = GenreTree.from_file(args.tree)
    summary = {}
    for name in names:
        accs = [r["models"][name]["scores"]["accuracy"] for r in runs]
        bals = [r["models"][name]["scores"]["balanced_accuracy"] for r in runs]
        summary[name] = {
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "balanced_mean": float(np.mean(bals)),
            "balanced_std": float(np.std(bals)),
            "per_run": accs,
            "train_seconds_mean": float(np.mean([r["models"][name]["train_seconds"] for r in runs])),
            "parameters": runs[0]["models"][name]["parameters"],
            "n_models": runs[0]["models"][name]["n_models"],
            "predict_seconds_per_clip": float(
                np.mean([r["models"][name]["predict_seconds_per_clip"] or np.nan for r in runs])
            ),
        }
        pooled_true, pooled_pred = [], []
        for r in runs:
            s = r["models"][name]["scores"]
            for i, row in enumerate(s["confusion"]):
                for j, n in enumerate(row):
                    pooled_true += [s["labels"][i]] * n
                    pooled_pred += [s["labels"][j]] * n
        summary[name]["pooled"] = score(name, pooled_true, pooled_pred, reference)
    cascade = reference.name
    diffs = [r["models"][cascade]["scores"]["accuracy"] - r["models"]["flat"]["scores"]["accuracy"] for r in runs]
    return {
        "args": vars(args),
        "dataset": str(dataset.root),
        "clips": len(dataset.clips),
        "synthetic": args.data == "synthetic",
        "machine": machine(),
        "wall_seconds": seconds,
        "extraction": extraction,
        "summary": summary,
        "cascade": cascade,
        "paired_difference": {
            "per_run": diffs,
            "mean": float(np.mean(diffs)),
            "std": float(np.std(diffs)),
            "wins": sum(d > 0 for d in diffs),
            "ties": sum(d == 0 for d in diffs),
            "losses": sum(d < 0 for d in diffs),
        },
        "node_accuracy": pooled_node_accuracy(runs, cascade),
    }


def pooled_node_accuracy(runs, cascade) -> dict[str, dict[str, float]]:  # noqa: ANN001
    """Decision accuracy per node, weighted by the clips that reached it, over all runs."""
    totals: dict[str, list[float]] = {}
    for r in runs:
        for node, v in r["models"][cascade]["scores"]["per_node"].items():
            hits, n = totals.setdefault(node, [0.0, 0])
            if v["support"]:
                totals[node] = [hits + v["accuracy"] * v["support"], n + v["support"]]
    return {node: {"accuracy": h / n if n else float("nan"), "support": n} for node, (h, n) in totals.items()}


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def write_outputs(report: dict, runs: list[dict], out: Path, args: argparse.Namespace) -> None:
    summary = report["summary"]
    for name, s in summary.items():
        confusion_png(s["pooled"], out / f"confusion-{name}.png", title=f"{name}: pooled over runs")
    histories = {name: [r["models"][name]["root_history"] for r in runs] for name in summary}
    learning_curves_png({f"{n} (root)": h for n, h in histories.items()}, out / "learning-curves.png")
    pooled: dict[str, ModelScores] = {n: s["pooled"] for n, s in summary.items()}
    diff = report["paired_difference"]
    noise = 1 / max(1, min(r["models"]["flat"]["scores"]["n_clips"] for r in runs))
    rows = [
        [
            n,
            f"{100 * s['accuracy_mean']:.1f} ± {100 * s['accuracy_std']:.1f}",
            f"{100 * s['balanced_mean']:.1f} ± {100 * s['balanced_std']:.1f}",
            " ".join(f"{100 * a:.0f}" for a in s["per_run"]),
        ]
        for n, s in summary.items()
    ]
    costs = [
        [
            n,
            s["n_models"],
            f"{s['parameters']:,}",
            f"{s['train_seconds_mean']:.1f}",
            f"{1000 * s['predict_seconds_per_clip']:.0f}",
        ]
        for n, s in summary.items()
    ]
    split_names = ", ".join(sorted({r["split_description"] for r in runs}))
    kind = "the embedded SYNTHETIC corpus (generated clips, not music)" if report["synthetic"] else report["dataset"]
    text = [
        f"# Flat versus hierarchical: {kind}",
        "",
        f"Command: `python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}`",
        "",
        f"- Data: {kind}, {report['clips']} clips. Protocol: {args.protocol}"
        + (f" ({args.folds} folds)" if args.protocol == "kfold" else "")
        + f"; seeds {args.seeds}; {len(runs)} runs. Splits: {split_names}.",
        f"- Every model: preset `{args.preset}`, at most {args.epochs} epochs, the same split and seed per run; "
        "scored on the run's test part with up to 8 windows per clip.",
        f"- Machine: {report['machine']}. Wall time: {report['wall_seconds'] / 60:.1f} min. "
        f"hiergenre {hiergenre.__version__}, {datetime.now(UTC).date()}.",
        "",
        "## Accuracy (mean ± std over runs, %)",
        "",
        markdown_table(["model", "accuracy", "balanced accuracy", "per run"], rows),
        "",
        f"Paired difference, cascade `{report['cascade']}` − flat, per run: "
        f"{100 * diff['mean']:+.1f} ± {100 * diff['std']:.1f} points "
        f"({diff['wins']} wins, {diff['ties']} ties, {diff['losses']} losses). "
        f"One test clip is {100 * noise:.1f} points of a run's accuracy"
        + (": a difference below a few clips is within noise." if abs(diff["mean"]) < 3 * noise else "."),
        "",
        "## Pooled over all runs' test parts",
        "",
        markdown_table(SUMMARY_HEADER, summary_rows(pooled)),
        "",
        "Hierarchical F1 and mistake distance use the cascade's tree as reference for every model.",
        "",
        "### Cascade decisions per node (pooled)",
        "",
        markdown_table(
            ["node", "decision accuracy", "clips that reached it"],
            [[n, f"{100 * v['accuracy']:.1f}%", v["support"]] for n, v in report["node_accuracy"].items()],
        ),
        "",
    ]
    for name, s in pooled.items():
        text += [
            f"### {name}",
            "",
            per_class_section(s),
            "",
            cascade_section(s),
            "",
            f"![confusion {name}](confusion-{name}.png)",
            "",
        ]
    text += [
        "## Costs",
        "",
        f"Feature extraction (decode + LMFCC, one process, no cache): "
        f"{report['extraction']['clips_per_second']:.1f} clips/s over {report['extraction']['clips']} clips.",
        "",
        markdown_table(
            [
                "model",
                "networks",
                "parameters",
                "training s (all its networks, mean per run)",
                "prediction ms per clip (decode + LMFCC + routing)",
            ],
            costs,
        ),
        "",
        "## Learning curves",
        "",
        "Loss and accuracy per epoch of each model's root network, training and validation windows, mean over runs.",
        "",
        "![learning curves](learning-curves.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(text), encoding="utf-8")
    serialisable = {
        **report,
        "summary": {
            n: {k: v for k, v in s.items() if k != "pooled"} | {"pooled": s["pooled"].as_dict()}
            for n, s in summary.items()
        },
    }
    (out / "results.json").write_text(json.dumps({"report": serialisable, "runs": runs}, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
