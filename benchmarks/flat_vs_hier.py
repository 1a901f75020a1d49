"""Flat versus hierarchical, under identical conditions, repeated over seeds or folds.

For every run (a seed, or a fold of k-fold cross-validation, or a clip-id split) the same
clips, split, feature settings, preset, epoch budget and seed train: the cascade of the given
tree, the flat model over the same genres, the 3-class baseline, and (unless ``--no-learned``) the
cascade of a tree learned from that run's train+valid clips. Every cascade is scored under every
routing policy (greedy, product, blend) without retraining. Two non-deep bars are scored on the
same clips: LMFCC clip statistics with an RBF SVM and with logistic regression, trained on the
train+valid parts (they need no validation data, so they get it as training data).

The report gives mean ± standard deviation over runs, the paired per-run difference of every
model against flat, pooled per-class tables and confusion matrices, per-node decisions versus the
flat model's own group accuracy, learning curves, and the costs (feature extraction rate,
training seconds and parameters per model, prediction time). ``--flat-only`` trains only the flat
model (no cascade, no 3-class baseline): that is the preset ablation.

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
from hiergenre.config import DEFAULT_PRESET
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
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="node preset of every network")
    parser.add_argument("--node-model", default=None, help="override the preset's node classifier kind")
    parser.add_argument("--groups", type=int, default=3, help="top-level groups of the learned tree")
    parser.add_argument("--no-learned", action="store_true", help="skip the learned tree")
    parser.add_argument("--flat-only", action="store_true", help="only the flat model and the bars (ablations)")
    parser.add_argument("--synthetic-clips", type=int, default=20, help="clips per genre for 'synthetic'")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", required=True, help="folder for report.md, results.json and plots")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # for the report's command line
    return args


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


POLICIES = ("greedy", "product", "blend")


def one_run(args: argparse.Namespace, data: str, seed: int, spec: str, scratch: Path) -> dict:
    """Train every model on one split and score them all on its test part."""
    workdir = scratch / f"seed{seed}-{spec.replace(':', '-').replace('/', '-')}"
    (scratch / "cache").mkdir(exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / "cache").exists():
        (workdir / "cache").symlink_to(scratch / "cache")  # all runs share one feature cache
    tree_file = args.tree
    if args.flat_only:
        tree_file = workdir / "flat.yaml"
        tree_file.write_text(GenreTree.flat(GenreTree.from_file(args.tree).leaves, "flat").to_yaml())
    reference = api.build_tree(tree_file, workdir=workdir, draw=False)
    kwargs = dict(
        data=data,
        split=spec,
        preset=args.preset,
        node_model=args.node_model,
        epochs=args.epochs,
        jobs=args.jobs,
        seed=seed,
    )
    training = api.train_all(workdir=workdir, baseline3=not args.flat_only, **kwargs)
    models = score_policies(workdir, None, seed)
    learned_spec = None
    if not (args.flat_only or args.no_learned):
        learned = api.learn_tree(
            workdir / "learned.yaml",
            workdir=workdir,
            data=data,
            split=spec,
            groups=args.groups,
            seed=seed,
            jobs=args.jobs,
        )
        learned_spec = learned.tree.to_spec()
        api.train_all(workdir=workdir, **kwargs)  # flat and baseline3 are reused, only the learned tree trains
        models |= score_policies(workdir, ["learned"], seed)
    models |= statistics_bars(workdir, reference, args, seed)
    return {
        "seed": seed,
        "split": spec,
        "split_description": training.split,
        "reference": reference.name,
        "learned_tree": learned_spec,
        "models": models,
        "skipped": training.skipped_files,
    }


def score_policies(workdir: Path, trees: list[str] | None, seed: int) -> dict[str, dict]:
    """Scores of the workspace's trees under every routing policy (one entry per cascade and policy)."""
    models = {}
    for policy in POLICIES:
        evaluation = api.evaluate(workdir=workdir, trees=trees, routing=policy)
        for name, s in evaluation.scores.items():
            single = len(s.per_node) <= 1
            if single and policy != "greedy":
                continue  # routing policies only matter for trees with several decision nodes
            if policy == "greedy":
                costs = {**model_costs(workdir, name), "predict_seconds_per_clip": predict_timing(workdir, name)}
                models[name] = {"scores": s.as_dict(), **costs}
            else:  # the same trained cascade: its costs are stored once, under the greedy entry
                models[f"{name}+{policy}"] = {"scores": s.as_dict(), "routing_of": name}
    return models


def trained_entry(run: dict, name: str) -> dict:
    """The run's entry holding the training costs of model ``name`` (a routing variant's cascade)."""
    return run["models"][run["models"][name].get("routing_of", name)]


def model_costs(workdir: Path, name: str) -> dict:
    """Training seconds, parameters, epochs and the root's learning curve (4 significant digits) of one tree."""
    tree_dir = workdir / "models" / name
    manifest = read_json(tree_dir / "manifest.json", what="manifest")
    nodes = [read_json(tree_dir / f"{n}.json", what="node") for n in manifest["nodes"]]
    return {
        "train_seconds": sum(n.get("seconds", 0.0) for n in nodes),
        "parameters": sum(n["parameters"] for n in nodes),
        "n_models": len(nodes),
        "node_kinds": [n.get("kind", "cnn") for n in nodes],
        "epochs_run": [n.get("epochs_run") for n in nodes],
        "root_history": {k: [float(f"{v:.4g}") for v in values] for k, values in nodes[0]["history"].items()},
        "tree": manifest["tree"],
    }


def statistics_bars(workdir: Path, reference: GenreTree, args: argparse.Namespace, seed: int) -> dict[str, dict]:
    """The non-deep bars: clip LMFCC statistics + RBF SVM / logistic regression, on train+valid."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from hiergenre.config import get_preset
    from hiergenre.datasets import Split
    from hiergenre.discovery import clip_statistics
    from hiergenre.features import FeatureCache

    split = Split.from_dict(read_json(workdir / "models" / "flat" / "manifest.json", what="manifest")["split"])
    seen = [c for c in (*split.train, *split.valid) if c.genre in reference.leaves]
    test = [c for c in split.test if c.genre in reference.leaves]
    config = get_preset(args.preset).features
    frames, _ = extract_many([c.path for c in seen + test], config, cache=FeatureCache(workdir / "cache" / "features"))

    def stats(clips):  # noqa: ANN001, ANN202
        kept = [c for c in clips if str(c.path) in frames]
        return np.stack([clip_statistics(frames[str(c.path)]) for c in kept]), [c.genre for c in kept]

    x, y = stats(seen)
    x_test, y_test = stats(test)
    out = {}
    for name, classifier in (("stats-svm", SVC(C=10, gamma="scale")), ("stats-lr", LogisticRegression(max_iter=5000))):
        started = time.perf_counter()
        model = make_pipeline(StandardScaler(), classifier).fit(x, y)
        predicted = [str(p) for p in model.predict(x_test)]
        out[name] = {
            "scores": score(name, y_test, predicted, reference).as_dict(),
            "train_seconds": time.perf_counter() - started,
            "parameters": 0,
            "n_models": 1,
            "node_kinds": ["sklearn"],
            "epochs_run": [],
            "root_history": {},
            "predict_seconds_per_clip": None,
        }
    return out


def predict_timing(workdir: Path, name: str) -> float | None:
    """Seconds per clip for decoding, LMFCC and routing (LiteRT path, warm process, models loaded)."""
    from hiergenre.datasets import Split

    predictor = api.load_predictor(workdir=workdir, tree=name)
    split = Split.from_dict(read_json(workdir / "models" / name / "manifest.json", what="m")["split"])
    files = [c.path for c in split.test if c.genre in predictor.cascade.tree.leaves][:10]
    if not files:
        return None
    predictor.predict(files[:1])  # warm-up: first-call costs are not per clip
    start = time.perf_counter()
    predictor.predict(files)
    return (time.perf_counter() - start) / len(files)


def aggregate(args, runs, extraction, dataset, seconds) -> dict:  # noqa: ANN001
    """Mean ± std over runs, paired differences against flat, pooled scores."""
    names = list(runs[0]["models"])
    reference = GenreTree.from_file(args.tree)
    summary = {}
    for name in names:
        accs = [r["models"][name]["scores"]["accuracy"] for r in runs]
        bals = [r["models"][name]["scores"]["balanced_accuracy"] for r in runs]
        timing = [r["models"][name].get("predict_seconds_per_clip") for r in runs]
        summary[name] = {
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "balanced_mean": float(np.mean(bals)),
            "balanced_std": float(np.std(bals)),
            "per_run": accs,
            "train_seconds_mean": float(np.mean([trained_entry(r, name)["train_seconds"] for r in runs])),
            "parameters": trained_entry(runs[0], name)["parameters"],
            "n_models": trained_entry(runs[0], name)["n_models"],
            "predict_seconds_per_clip": float(np.mean([t for t in timing if t is not None])) if any(timing) else None,
            "paired_vs_flat": paired(runs, name, "flat"),
        }
        pooled_true, pooled_pred = pooled_predictions(runs, name)
        summary[name]["pooled"] = score(name, pooled_true, pooled_pred, reference)
    cascade = reference.name if reference.name in names else "flat"
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
        "paired_difference": paired(runs, cascade, "flat"),
        "node_accuracy": {
            n: pooled_node_accuracy(runs, n)
            for n in names
            if len(runs[0]["models"][n]["scores"].get("per_node", {})) > 1
        },
        "group_accuracy": group_accuracy(runs, reference),
    }


def paired(runs: list[dict], name: str, against: str) -> dict:
    """Per-run accuracy differences ``name − against``: mean, std and wins/ties/losses."""
    diffs = [r["models"][name]["scores"]["accuracy"] - r["models"][against]["scores"]["accuracy"] for r in runs]
    return {
        "per_run": diffs,
        "mean": float(np.mean(diffs)),
        "std": float(np.std(diffs)),
        "wins": sum(d > 1e-9 for d in diffs),
        "ties": sum(abs(d) <= 1e-9 for d in diffs),
        "losses": sum(d < -1e-9 for d in diffs),
    }


def pooled_predictions(runs: list[dict], name: str) -> tuple[list[str], list[str]]:
    """True and predicted genres of every test clip of every run, rebuilt from the confusion matrices."""
    true, predicted = [], []
    for r in runs:
        s = r["models"][name]["scores"]
        for i, row in enumerate(s["confusion"]):
            for j, n in enumerate(row):
                true += [s["labels"][i]] * n
                predicted += [s["labels"][j]] * n
    return true, predicted


def group_accuracy(runs: list[dict], reference: GenreTree) -> dict[str, float]:
    """How often each model's genre falls in the right top-level group of the reference tree.

    For the flat model this is the root accuracy a cascade would need just to tie with it.
    """
    top = {leaf: reference.path_to(leaf)[1] for leaf in reference.leaves}
    out = {}
    for name in runs[0]["models"]:
        true, predicted = pooled_predictions(runs, name)
        pairs = [(t, p) for t, p in zip(true, predicted, strict=True) if t in top and p in top]
        if pairs:
            out[name] = float(np.mean([top[t] == top[p] for t, p in pairs]))
    return out


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
    main_models = [n for n in summary if "+" not in n and not n.startswith("stats-")]
    for name in main_models:
        confusion_png(summary[name]["pooled"], out / f"confusion-{name}.png", title=f"{name}: pooled over runs")
    histories = {name: [r["models"][name]["root_history"] for r in runs] for name in main_models}
    learning_curves_png({f"{n} (root)": h for n, h in histories.items() if any(h)}, out / "learning-curves.png")
    pooled: dict[str, ModelScores] = {n: summary[n]["pooled"] for n in main_models}
    noise = 1 / max(1, min(r["models"]["flat"]["scores"]["n_clips"] for r in runs))
    split_names = ", ".join(sorted({r["split_description"] for r in runs}))
    kind = "the embedded SYNTHETIC corpus (generated clips, not music)" if report["synthetic"] else report["dataset"]
    text = [
        f"# Flat versus hierarchical: {kind}",
        "",
        f"Command: `python benchmarks/{Path(__file__).name} {' '.join(args.argv)}`",
        "",
        f"- Data: {kind}, {report['clips']} clips. Protocol: {args.protocol}"
        + (f" ({args.folds} folds)" if args.protocol == "kfold" else "")
        + f"; seeds {args.seeds}; {len(runs)} runs. Splits: {split_names}.",
        f"- Every network: preset `{args.preset}`"
        + (f", node model `{args.node_model}`" if args.node_model else "")
        + f", at most {args.epochs} epochs, the same split and seed per run; "
        "scored on the run's test part with up to 8 windows per clip.",
        f"- Machine: {report['machine']}. Wall time: {report['wall_seconds'] / 60:.1f} min. "
        f"hiergenre {hiergenre.__version__}, {datetime.now(UTC).date()}.",
        "",
        "## Accuracy (mean ± std over runs, %)",
        "",
        "`+product` / `+blend`: the same trained cascade under another routing policy. `stats-svm` and "
        "`stats-lr`: mean and std of each LMFCC coefficient over the whole clip, RBF SVM (C=10) or logistic "
        "regression, trained on train+valid. Δ vs flat: paired per-run difference (wins/ties/losses).",
        "",
        markdown_table(
            ["model", "accuracy", "balanced accuracy", "Δ vs flat (points)", "per run"], accuracy_rows(summary)
        ),
        "",
        f"One test clip is {100 * noise:.1f} points of a run's accuracy: a mean difference smaller than about "
        "one standard error (std / √runs) of its paired differences is within noise.",
        "",
    ]
    text += group_section(report)
    text += learned_section(runs)
    text += [
        "## Pooled over all runs' test parts",
        "",
        markdown_table(SUMMARY_HEADER, summary_rows(pooled)),
        "",
        "Hierarchical F1 and mistake distance use the cascade's tree as reference for every model.",
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
    text += costs_section(report, main_models)
    (out / "report.md").write_text("\n".join(text), encoding="utf-8")
    serialisable = {
        **report,
        "summary": {
            n: {k: v for k, v in s.items() if k != "pooled"} | {"pooled": s["pooled"].as_dict()}
            for n, s in summary.items()
        },
    }
    (out / "results.json").write_text(json.dumps({"report": serialisable, "runs": runs}, indent=1, default=str))


def accuracy_rows(summary: dict) -> list[list[str]]:
    rows = []
    for name, s in summary.items():
        d = s["paired_vs_flat"]
        delta = (
            "–"
            if name == "flat"
            else (f"{100 * d['mean']:+.1f} ± {100 * d['std']:.1f} ({d['wins']}/{d['ties']}/{d['losses']})")
        )
        rows.append(
            [
                name,
                f"{100 * s['accuracy_mean']:.1f} ± {100 * s['accuracy_std']:.1f}",
                f"{100 * s['balanced_mean']:.1f} ± {100 * s['balanced_std']:.1f}",
                delta,
                " ".join(f"{100 * a:.0f}" for a in s["per_run"]),
            ]
        )
    return rows


def group_section(report: dict) -> list[str]:
    if not report["node_accuracy"]:
        return []
    text = [
        "## Where cascades lose: the first decision",
        "",
        "Decision accuracy per node of each cascade (greedy routing, pooled over runs), and how often each "
        "model's genre lands in the right top-level group of the reference tree. A cascade whose root is less "
        "accurate than the flat model's own group accuracy cannot beat flat with greedy routing.",
        "",
    ]
    for name, nodes in report["node_accuracy"].items():
        if "+" in name:
            continue
        text += [
            f"**{name}**: " + ", ".join(f"{n} {100 * v['accuracy']:.0f}% (n={v['support']})" for n, v in nodes.items()),
            "",
        ]
    text += [
        markdown_table(
            ["model", "right top-level group (reference tree)"],
            [[n, f"{100 * v:.1f}%"] for n, v in report["group_accuracy"].items()],
        ),
        "",
    ]
    return text


def learned_section(runs: list[dict]) -> list[str]:
    shapes = [tree_shape(r["learned_tree"]) for r in runs if r["learned_tree"]]
    if not shapes:
        return []
    text = [
        "## Learned trees",
        "",
        "Each run learns its own tree from its train+valid clips (never its test part). "
        "Distinct top-level groupings, with the number of runs that produced each:",
        "",
    ]
    text += [f"- {shapes.count(shape)}×: {shape}" for shape in sorted(set(shapes), key=shapes.count, reverse=True)]
    return [*text, ""]


def tree_shape(spec: object) -> str:
    """``blues, rock | classical, jazz | metal``: the genres under each child of the root."""
    tree = GenreTree.from_spec(spec, "learned")
    return " | ".join(", ".join(tree.leaves_under(child)) for child in tree.children("root"))


def costs_section(report: dict, names: list[str]) -> list[str]:
    summary = report["summary"]
    costs = [
        [
            n,
            summary[n]["n_models"],
            f"{summary[n]['parameters']:,}",
            f"{summary[n]['train_seconds_mean']:.1f}",
            "–"
            if summary[n]["predict_seconds_per_clip"] is None
            else f"{1000 * summary[n]['predict_seconds_per_clip']:.0f}",
        ]
        for n in names
    ]
    header = [
        "model",
        "networks",
        "parameters",
        "training s (all its networks, mean per run)",
        "prediction ms per clip (decode + LMFCC + routing)",
    ]
    return [
        "## Costs",
        "",
        f"Feature extraction (decode + LMFCC, one process, no cache): "
        f"{report['extraction']['clips_per_second']:.1f} clips/s over {report['extraction']['clips']} clips.",
        "",
        markdown_table(header, costs),
        "",
        "## Learning curves",
        "",
        "Loss and accuracy per epoch of each model's root network, training and clip-level validation, mean over runs.",
        "",
        "![learning curves](learning-curves.png)",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
