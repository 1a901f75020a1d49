"""The report of :mod:`benchmarks.vs_hiclass`: parity, calibration pooled over runs, operating curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.common import mean_std_text, paired, paired_text, provenance_line
from hiergenre.cascade.calibration_error import ece_summary
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.viz.reports import markdown_table

#: The variant every other is compared with, run by run.
BASE = "hiclass none (train only)"


def variant_rows(runs: list[dict]) -> list[list[str]]:
    """Per variant: accuracy, pooled ECE with its interval, Brier, log loss, curve area and its paired difference."""
    rows = []
    for name in runs[0]["variants"]:
        values = [r["variants"][name] for r in runs]
        samples = np.array([s for v in values for s in v["samples"]])
        ece = ece_summary(samples[:, 0], samples[:, 1])
        low, high = ece["ece_interval"]
        areas = [v["curve_area"] for v in values]
        at90 = [v["leaf_share_at_90"] or 0.0 for v in values]
        rows.append(
            [
                name,
                mean_std_text([v["accuracy"] for v in values]),
                f"{ece['ece']:.3f} [{low:.3f}, {high:.3f}] ({ece['ece_if_calibrated']:.3f})",
                f"{np.mean([v['brier'] for v in values]):.3f}",
                f"{np.mean([v['log_loss'] for v in values]):.3f}",
                f"{np.mean(areas):.3f} ± {np.std(areas):.3f}",
                paired_text(paired(areas, [r["variants"][BASE]["curve_area"] for r in runs])),
                f"{100 * np.mean(at90):.0f}%",
            ]
        )
    return rows


def write_report(results: dict, tree: GenreTree, out: Path) -> Path:
    """``report.md`` beside ``results.json``."""
    runs = results["runs"]
    clips = sum(r["parity"]["clips"] for r in runs)
    agree = sum(r["parity"]["agree"] for r in runs)
    seconds = {k: np.mean([r["parity"]["seconds"][k] for r in runs]) for k in runs[0]["parity"]["seconds"]}
    differences = [d | {"seed": r["seed"], "fold": r["fold"]} for r in runs for d in r["parity"]["differences"]]
    synthetic = results["data"] == "synthetic"
    data = "the embedded SYNTHETIC corpus (generated clips, not music)" if synthetic else results["data"]
    failed: dict[str, list[str]] = {}
    for r in runs:
        for method, why in r.get("failures", {}).items():
            failed.setdefault(method, []).append(why)
    failures = [f"`{m}` failed in {len(whys)} of {len(runs)} runs ({whys[0]}); left out" for m, whys in failed.items()]
    text = [
        f"# hiergenre against hiclass: {data}",
        "",
        f"Command: `{results['command']}`",
        "",
        f"- Data: {data}, {results['clips']} clips; stratified {results['folds']}-fold × seeds "
        f"{sorted({r['seed'] for r in runs})}: "
        f"{len(runs)} runs. Tree `{tree.name}`. Features: each clip's LMFCC statistics (mean and standard deviation "
        "of each coefficient), standardised on train+valid. Every node: `LogisticRegression(max_iter=1000)`.",
        f"- {provenance_line(results['provenance'])}",
        "",
        "## 1. Greedy routing without calibration: the same algorithm",
        "",
        f"Fitted on train+valid, scored on test: the genres agree on **{agree} of {clips} clips**"
        + (" (every clip)." if agree == clips else f"; {clips - agree} differ (listed below)."),
        "",
        markdown_table(
            ["", "fit (s per run)", "predict (s per run)"],
            [
                ["hiergenre", f"{seconds['hiergenre_fit']:.3f}", f"{seconds['hiergenre_predict']:.4f}"],
                ["hiclass", f"{seconds['hiclass_fit']:.3f}", f"{seconds['hiclass_predict']:.4f}"],
                [
                    "hiclass / hiergenre",
                    f"{seconds['hiclass_fit'] / seconds['hiergenre_fit']:.2f}×",
                    f"{seconds['hiclass_predict'] / seconds['hiergenre_predict']:.2f}×",
                ],
            ],
        ),
        "",
        *[
            f"- seed {d['seed']} fold {d['fold']}, test clip {d['clip']}: hiergenre {d['hiergenre']}, "
            f"hiclass {d['hiclass']}"
            for d in differences[:20]
        ],
        "",
        "## 2. Calibration and 3. operating curves",
        "",
        "Every variant's node probabilities are multiplied along paths (`product`), so only the calibration "
        "differs. hiclass calibrates on a set apart from its training data: its variants train on the train "
        "part and calibrate on the valid part (its `none` variant trains on the train part too, the baseline of "
        "the paired column). hiergenre is given train+valid and fits one temperature per node on the 20% of "
        "rows it holds out for calibration (runs before hiergenre 0.5: out of fold). "
        "ECE: pooled over all runs' test clips, 15 bins, bias-corrected bootstrap 90% interval, and in brackets "
        "what a perfectly calibrated model with the same confidences shows on as many clips. Curve: hierarchically "
        "right against specificity as hiergenre's confidence decoder stops earlier (hiclass itself always "
        "predicts a genre: the curve's leaf end); at 90%: share of clips that still get a genre where 90% are "
        "hierarchically right.",
        "",
        markdown_table(
            [
                "variant",
                "leaf accuracy %",
                "ECE [90% CI] (if calibrated)",
                "Brier",
                "log loss",
                "curve area",
                f"area Δ vs {BASE} (points, w/t/l)",
                "genre at 90%",
            ],
            variant_rows(runs),
        ),
        "",
        *[f"- hiclass calibration {failure}" for failure in failures],
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(text), encoding="utf-8")
    return path
