"""The report of :mod:`benchmarks.flat_vs_hier`: Markdown, compact JSON and PNGs."""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import paired_text, provenance_line, write_json
from benchmarks.flat_vs_hier_options import Options
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.evaluation.metrics import ModelScores
from hiergenre.viz.reports import (
    SUMMARY_HEADER,
    cascade_section,
    confusion_png,
    learning_curves_png,
    markdown_table,
    per_class_section,
    summary_rows,
)


def write_outputs(report: dict, runs: list[dict], out: Path, args: Options) -> None:
    """``report.md``, ``results.json`` (compact) and the PNGs of one benchmark."""
    summary = report["summary"]
    main_models = [n for n in summary if "+" not in n and not n.startswith("stats-")]
    for name in main_models:
        confusion_png(summary[name]["pooled"], out / f"confusion-{name}.png", title=f"{name}: pooled over runs")
    curves = report["learning_curves"]
    learning_curves_png({f"{n} (root)": [curves[n]] for n in main_models if n in curves}, out / "learning-curves.png")
    pooled: dict[str, ModelScores] = {n: summary[n]["pooled"] for n in main_models}
    noise = 1 / max(1, min(r["models"]["flat"]["scores"]["n_clips"] for r in runs))
    split_names = ", ".join(sorted({r["split_description"] for r in runs}))
    kind = "the embedded SYNTHETIC corpus (generated clips, not music)" if report["synthetic"] else report["dataset"]
    text = [
        f"# Flat versus hierarchical: {kind}",
        "",
        f"Command: `{args.command}`",
        "",
        f"- Data: {kind}, {report['clips']} clips. Protocol: {args.protocol}"
        + (f" ({args.folds} folds)" if args.protocol == "kfold" else "")
        + f"; seeds {args.seeds}; {len(runs)} runs. Splits: {split_names}.",
        f"- Every network: preset `{args.preset}`"
        + (f", features `{args.features}`" if args.features else "")
        + (f", node model `{args.node_model}`" if args.node_model else "")
        + f", at most {args.epochs} epochs, the same split and seed per run; "
        "scored on the run's test part with up to 8 windows per clip.",
        f"- Wall time: {report['wall_seconds'] / 60:.1f} min. "
        f"Code and machine: {provenance_line(report['provenance'])}",
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
    write_json(out / "results.json", {"report": serialisable, "runs": runs})


def accuracy_rows(summary: dict) -> list[list[str]]:
    rows = []
    for name, s in summary.items():
        delta = "–" if name == "flat" else paired_text(s["paired_vs_flat"])
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
