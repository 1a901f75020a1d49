"""Which change bought how much: the flat model under each step from the paper preset to the default.

Runs :func:`benchmarks.flat_vs_hier.run` with ``flat_only`` once per variant on the same data, protocol and seeds (so
every variant sees the same splits), then writes ``summary.md`` with each variant's accuracy and
its paired per-run difference against the previous step and against ``paper``. The statistics
bars (RBF SVM and logistic regression on clip statistics) come from the same runs.

    python -m benchmarks.ablation ../shared/gtzan-mini/genres --protocol kfold --folds 5 --seeds 0 1 \\
        --out benchmarks/results/ablation-gtzan-mini
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from benchmarks import flat_vs_hier
from benchmarks.common import mean_std_text, paired, paired_text, provenance, provenance_line
from benchmarks.flat_vs_hier_options import Options
from hiergenre.presets import PRESETS
from hiergenre.viz.reports import markdown_table

#: (label, preset, node model, the variant it adds one change to).
VARIANTS = [
    ("paper", "paper", None, None),
    ("paper-es", "paper-es", None, "paper"),
    ("bn-crops", "bn-crops", None, "paper-es"),
    ("improved", "improved", None, "bn-crops"),
    ("improved+ensemble", "improved", "ensemble", "improved"),
    ("improved+auto", "improved", "auto", "improved"),
    ("improved-x3", "improved-x3", None, "improved"),
    ("improved-cv3", "improved-cv3", None, "improved-x3"),
    ("improved-cv3-s1", "improved-cv3-s1", None, "improved-cv3"),
    ("improved-cv5", "improved-cv5", None, "improved-cv3"),
    ("improved-cv3+ensemble", "improved-cv3", "ensemble", "improved-cv3"),
]
PREVIOUS = {label: previous for label, _, _, previous in VARIANTS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("--protocol", default="kfold", choices=["paper", "kfold", "ids"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=1000, help="epoch cap (1000 lets every preset run its own)")
    parser.add_argument("--variants", nargs="+", default=[v[0] for v in VARIANTS])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # for the report's command line
    out = Path(args.out)
    chosen = [v for v in VARIANTS if v[0] in args.variants]
    for label, preset, node_model, _ in chosen:
        if (out / label / "results.json").is_file():
            print(f"{label}: already measured, reusing {out / label / 'results.json'}", flush=True)
            continue
        options = Options(
            data=args.data,
            out=str(out / label),
            flat_only=True,
            protocol=args.protocol,
            folds=args.folds,
            seeds=list(args.seeds),
            epochs=args.epochs,
            preset=preset,
            node_model=node_model,
            jobs=args.jobs,
            command=f"{command_line(args)} (variant {label})",
        )
        print(f"{label}: preset {preset}, node model {node_model or 'the preset’s'}", flush=True)
        flat_vs_hier.run(options)
    write_summary(out, [v[0] for v in chosen], args)
    return 0


def write_summary(out: Path, labels: list[str], args: argparse.Namespace) -> None:
    runs = {label: json.loads((out / label / "results.json").read_text())["runs"] for label in labels}
    accuracy = {label: np.array([r["models"]["flat"]["scores"]["accuracy"] for r in rs]) for label, rs in runs.items()}
    bars = {
        b: np.array([r["models"][b]["scores"]["accuracy"] for r in runs[labels[0]]]) for b in ("stats-svm", "stats-lr")
    }
    epochs = {
        label: np.mean([np.mean(r["models"]["flat"]["epochs_run"] or [0]) for r in rs]) for label, rs in runs.items()
    }
    rows = []
    for i, label in enumerate(labels):
        acc = accuracy[label]
        previous = PREVIOUS.get(label)
        step = paired_text(paired(acc, accuracy[previous])) + f" vs {previous}" if previous in accuracy else "–"
        rows.append(
            [
                label,
                describe(label),
                mean_std_text(acc),
                step,
                paired_text(paired(acc, accuracy[labels[0]])) if i else "–",
                paired_text(paired(acc, bars["stats-svm"])),
                f"{epochs[label]:.0f}",
            ]
        )
    for bar, acc in bars.items():
        rows.append(
            [
                bar,
                "clip statistics, trained on train+valid",
                mean_std_text(acc),
                "–",
                paired_text(paired(acc, accuracy[labels[0]])),
                "–" if bar == "stats-svm" else paired_text(paired(acc, bars["stats-svm"])),
                "–",
            ]
        )
    n = len(accuracy[labels[0]])
    text = [
        "# Ablation: what each change bought (flat 10-genre model)",
        "",
        f"Command: `{command_line(args)}`",
        "",
        f"Code and machine: {provenance_line(provenance())}",
        "",
        f"Data: {args.data}; protocol {args.protocol}"
        + (f" ({args.folds} folds)" if args.protocol == "kfold" else "")
        + f"; seeds {args.seeds}; {n} runs, the same splits for every variant. Accuracy on each run's test part, "
        "mean ± std over runs (%). Differences are paired per run: mean ± std in points "
        "(wins/ties/losses). A difference whose mean is below its std / √runs is within noise.",
        "",
        markdown_table(
            [
                "variant",
                "what it adds",
                "accuracy",
                "Δ vs step before",
                "Δ vs paper",
                "Δ vs stats-svm",
                "epochs (all members)",
            ],
            rows,
        ),
        "",
        "Per-variant reports (confusions, learning curves, costs): the sub-folders.",
        "",
    ]
    (out / "summary.md").write_text("\n".join(text), encoding="utf-8")
    print(f"summary: {out / 'summary.md'}")


def command_line(args: argparse.Namespace) -> str:
    """The command that made the summary (not the caller's argv when called from Python)."""
    return f"python -m benchmarks.ablation {' '.join(args.argv)}"


def describe(label: str) -> str:
    if label in PRESETS:
        return PRESETS[label].description
    preset, node_model = label.split("+", 1)
    return {
        "ensemble": f"{preset}, every node the average of its CNN and a statistics classifier",
        "auto": f"{preset}, each node picks CNN, statistics or their average by validation loss",
    }[node_model]


if __name__ == "__main__":
    sys.exit(main())
