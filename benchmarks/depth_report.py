"""Calibration and operating curves of :mod:`benchmarks.flat_vs_hier` runs.

Each run's evaluation keeps, per model, the calibration numbers before and after the nodes'
temperatures and the operating curve (:func:`compact_scores` trims them to what pooling needs:
every clip's confidence and correctness at the model's genre and at the first tree level, the
other levels' and nodes' summary numbers). The report pools the clips of all runs for the
calibration error (with a bias-corrected bootstrap 90% interval over clips) and compares operating curves run
by run, against the flat model, at fixed specificities.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired, paired_text
from benchmarks.depth_plots import GRID, correct_at, operating_mean_png, reliability_pooled_png
from hiergenre.cascade.calibration_error import ece_summary
from hiergenre.viz.reports import markdown_table

#: Numbers of one calibration entry kept per run (samples are kept where pooling needs them).
SUMMARY_KEYS = ("clips", "ece", "brier", "log_loss", "accuracy", "confidence")


def compact_scores(scores: dict[str, Any]) -> dict[str, Any]:
    """A model's score dictionary with its calibration trimmed for a benchmark's per-run record."""
    calibration = scores.get("calibration") or {}
    out = dict(scores)
    out["calibration"] = {"temperatures": calibration.get("temperatures", {})}
    for stage in ("before", "after"):
        if stage not in calibration:
            continue
        entry = calibration[stage]
        levels = entry.get("levels", {})
        out["calibration"][stage] = {
            "model": _summary(entry["model"], samples=True),
            "levels": {level: _summary(m, samples=level == "1") for level, m in levels.items()},
            "nodes": {node: _summary(m, samples=False) for node, m in entry.get("nodes", {}).items()},
        }
    return out


def _summary(metrics: dict[str, Any], *, samples: bool) -> dict[str, Any]:
    kept = {
        k: round(metrics[k], 5) if isinstance(metrics[k], float) else metrics[k] for k in SUMMARY_KEYS if k in metrics
    }
    if samples and "samples" in metrics:
        kept["samples"] = metrics["samples"]
    return kept


#: The models compared, named before the 30-run benchmark was run (all calibrated the same way);
#: ``{tree}`` is the benchmark's own tree (``default`` on GTZAN, ``deep`` on the deep synthetic corpus).
NAMED = ("flat", "learned+product", "learned+blend", "{tree}+product", "{tree}+blend")
#: The hierarchical model the curve target is judged on, named in advance: the best leaf accuracy
#: of hiergenre 0.3's 30-run benchmark (results/gtzan-mini-5fold-30runs).
PRIMARY = "learned+blend"


def pooled_ece(runs: list[dict], name: str, stage: str, where: str = "model") -> dict[str, Any]:
    """ECE of model ``name`` over all runs' test clips pooled (``where``: ``model`` or ``level1``)."""
    rows = []
    for r in runs:
        entry = r["models"][name]["scores"]["calibration"].get(stage, {})
        part = entry.get("model") if where == "model" else entry.get("levels", {}).get("1")
        rows += (part or {}).get("samples", [])
    if not rows:
        return {}
    samples = np.array(rows, dtype=float)
    return ece_summary(samples[:, 0], samples[:, 1])


def curve_comparison(runs: list[dict], name: str, against: str = "flat") -> dict[str, Any]:
    """Paired per-run differences ``name`` − ``against``: area, correct rate at each grid point, leaf share at 90%."""
    ours = [r["models"][name]["scores"]["operating"] for r in runs]
    theirs = [r["models"][against]["scores"]["operating"] for r in runs]
    grid = np.array([correct_at(o["points"]) - correct_at(t["points"]) for o, t in zip(ours, theirs, strict=True)])
    return {
        "area": paired([o["area"] for o in ours], [t["area"] for t in theirs]),
        "grid": {f"{s:.1f}": paired(grid[:, i], np.zeros(len(runs))) for i, s in enumerate(GRID)},
        "leaf_share_at_90": paired(
            [o["leaf_share_at"]["0.90"] or 0.0 for o in ours], [t["leaf_share_at"]["0.90"] or 0.0 for t in theirs]
        ),
    }


def target_summary(runs: list[dict], name: str) -> dict[str, Any]:
    """``--target-accuracy 0.9``: test hierarchical accuracy and leaf share over runs.

    Runs of hiergenre 0.5 record the climb's conformal threshold and its calibration accuracy;
    earlier ones the minimum confidence chosen on validation scores (read under the same names).
    """
    targets = [r["models"][name]["scores"].get("target") for r in runs]
    targets = [t for t in targets if t]
    if not targets:
        return {}
    return {
        "target": targets[0]["target"],
        "min_confidence": float(np.mean([t.get("threshold", t.get("min_confidence")) for t in targets])),
        "validation_accuracy": float(
            np.mean([t.get("calibration_accuracy", t.get("validation_accuracy")) for t in targets])
        ),
        "test_accuracy": float(np.mean([t["test_accuracy"] for t in targets])),
        "test_accuracy_std": float(np.std([t["test_accuracy"] for t in targets])),
        "test_leaf_share": float(np.mean([t["test_leaf_share"] for t in targets])),
        "runs_at_target": int(sum(t["test_accuracy"] >= t["target"] for t in targets)),
        "runs": len(targets),
    }


def leaf_accuracy_check(runs: list[dict], previous: list[dict], name: str) -> dict[str, Any] | None:
    """Paired per-run leaf accuracy of ``name`` against the same run (seed, split) of an earlier benchmark."""
    before = {(r["seed"], r["split"]): r["models"].get(name, {}).get("scores", {}).get("accuracy") for r in previous}
    pairs = [(r["models"][name]["scores"]["accuracy"], before.get((r["seed"], r["split"]))) for r in runs]
    pairs = [(a, b) for a, b in pairs if b is not None]
    if not pairs:
        return None
    return paired([a for a, _ in pairs], [b for _, b in pairs])


def read_results(out: Path) -> dict[str, Any]:
    """A benchmark folder's ``results.json``, or its committed gzip (``results.json.gz``, kept small)."""
    plain = out / "results.json"
    if plain.is_file():
        return json.loads(plain.read_text())
    with gzip.open(out / "results.json.gz", "rt", encoding="utf-8") as handle:
        return json.load(handle)


def write_depth_report(out: Path, previous: Path | None = None, primary: str = PRIMARY) -> Path:
    """``calibration-and-depth.md`` and its PNGs from a flat_vs_hier ``results.json`` in ``out``;
    ``primary`` is the hierarchical model judged against flat (named before the benchmark ran)."""
    results = read_results(out)
    runs = results["runs"]
    tree = runs[0]["reference"]
    names = [n.format(tree=tree) for n in NAMED if n.format(tree=tree) in runs[0]["models"]]
    why = "the best leaf accuracy of hiergenre 0.3's 30-run benchmark" if primary == PRIMARY else "named before the run"
    earlier = json.loads(previous.read_text())["runs"] if previous and previous.is_file() else []
    text = [
        "# Calibration, operating curves and stopping early",
        "",
        f"From `results.json` of this folder: {len(runs)} runs (seeds × folds), the test part of each. Models "
        f"named before the run: {', '.join(f'`{n}`' for n in names)}; every node calibrated with its temperature "
        f"(fitted out of fold on its own training clips); the hierarchical model judged against flat: `{primary}` "
        f"({why}). No choice below was made on test folds.",
        "",
        "## Calibration of the predicted genre's probability",
        "",
        "ECE: 15 equal-width bins, all runs' test clips pooled, bias-corrected bootstrap 90% interval over clips; "
        "'if calibrated': the ECE a perfectly calibrated model with the same confidences shows on as many clips "
        "(the noise floor). Level 1: the top-level group's probability (the distribution summed up the tree). "
        "Brier and log loss: means over runs of the whole distribution over genres.",
        "",
        markdown_table(
            [
                "model",
                "ECE before",
                "ECE after",
                "if calibrated",
                "level 1 after",
                "Brier before → after",
                "log loss before → after",
                "≤ 0.05",
            ],
            [calibration_row(runs, n) for n in names],
        ),
        "",
        "![pooled reliability](reliability-pooled.png)",
        "",
        "## Operating curves against flat",
        "",
        "Each run's curve (hierarchically right against specificity as the minimum confidence rises) is compared "
        "with flat's of the same run: area, and the share of clips still given a genre where 90% are "
        "hierarchically right (a run whose curve never reaches 90% before the root counts 0). Every model's "
        f"distribution is summed up the built tree `{tree}`, the learned cascades' too. Paired differences in "
        "points: mean ± std (wins/ties/losses); standard error = std / √runs.",
        "",
        markdown_table(
            [
                "model",
                "area",
                "Δ area vs flat",
                "specificity at 90% / 95%",
                "genre at 90% / 95%",
                "Δ genre at 90% vs flat",
            ],
            [curve_row(runs, n) for n in names],
        ),
        "",
        f"`{primary}` against flat at each specificity (correct rate interpolated on each run's curve):",
        "",
        markdown_table(["specificity", "Δ correct (points)", "standard error"], grid_rows(runs, primary)),
        "",
        "![operating curves](operating-curves-mean.png)",
        "",
        "## --target-accuracy 0.9: threshold chosen on validation, scored on test",
        "",
        markdown_table(
            ["model", "mean min confidence", "validation right", "test right", "runs ≥ 90% on test", "test at a genre"],
            [target_row(runs, n) for n in names],
        ),
        "",
    ]
    if earlier:
        text += [
            "## Leaf accuracy against hiergenre 0.3 (same seeds and folds, decoding off)",
            "",
            markdown_table(
                ["model", "accuracy now", "Δ vs 0.3 (points)", "standard error"],
                [check_row(runs, earlier, n) for n in [*names, tree, "learned"]],
            ),
            "",
        ]
    operating_mean_png(runs, names, out / "operating-curves-mean.png", highlight=("flat", primary))
    reliability_pooled_png(runs, names, out / "reliability-pooled.png")
    path = out / "calibration-and-depth.md"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def _ece_text(e: dict[str, Any]) -> str:
    return f"{e['ece']:.3f} [{e['ece_interval'][0]:.3f}, {e['ece_interval'][1]:.3f}]" if e else "–"


def calibration_row(runs: list[dict], name: str) -> list[str]:
    """One model's pooled calibration before and after."""
    before, after = pooled_ece(runs, name, "before"), pooled_ece(runs, name, "after")
    level = pooled_ece(runs, name, "after", "level1")

    def mean(stage: str, key: str) -> float:
        return float(np.mean([r["models"][name]["scores"]["calibration"][stage]["model"][key] for r in runs]))

    return [
        name,
        _ece_text(before),
        _ece_text(after),
        f"{after['ece_if_calibrated']:.3f}" if after else "–",
        _ece_text(level),
        f"{mean('before', 'brier'):.3f} → {mean('after', 'brier'):.3f}",
        f"{mean('before', 'log_loss'):.3f} → {mean('after', 'log_loss'):.3f}",
        ("yes" if after["ece"] <= 0.05 else "no") if after else "–",
    ]


def curve_row(runs: list[dict], name: str) -> list[str]:
    """One model's operating-curve numbers and its paired differences against flat."""
    curves = [r["models"][name]["scores"]["operating"] for r in runs]
    compared = curve_comparison(runs, name) if name != "flat" else None

    def mean(key: str, level: str) -> float:
        return float(np.mean([c[key][level] or 0.0 for c in curves]))

    return [
        name,
        f"{np.mean([c['area'] for c in curves]):.3f} ± {np.std([c['area'] for c in curves]):.3f}",
        paired_text(compared["area"]) if compared else "",
        f"{mean('specificity_at', '0.90'):.2f} / {mean('specificity_at', '0.95'):.2f}",
        f"{100 * mean('leaf_share_at', '0.90'):.1f}% / {100 * mean('leaf_share_at', '0.95'):.1f}%",
        paired_text(compared["leaf_share_at_90"]) if compared else "",
    ]


def grid_rows(runs: list[dict], primary: str) -> list[list[str]]:
    """The primary model against flat at each specificity of :data:`GRID`."""
    compared = curve_comparison(runs, primary)["grid"]
    return [[s, paired_text(d), f"{100 * d['sem']:.1f}"] for s, d in compared.items()]


def target_row(runs: list[dict], name: str) -> list[str]:
    """``--target-accuracy`` outcome of one model."""
    t = target_summary(runs, name)
    if not t:
        return [name, "–", "–", "–", "–", "–"]
    return [
        name,
        f"{t['min_confidence']:.2f}",
        f"{100 * t['validation_accuracy']:.1f}%",
        f"{100 * t['test_accuracy']:.1f} ± {100 * t['test_accuracy_std']:.1f}%",
        f"{t['runs_at_target']} of {t['runs']}",
        f"{100 * t['test_leaf_share']:.1f}%",
    ]


def check_row(runs: list[dict], earlier: list[dict], name: str) -> list[str]:
    """Leaf accuracy now against the earlier benchmark's same runs."""
    d = leaf_accuracy_check(runs, earlier, name)
    now = np.mean([r["models"][name]["scores"]["accuracy"] for r in runs])
    return [name, f"{100 * now:.1f}%", paired_text(d) if d else "–", f"{100 * d['sem']:.1f}" if d else "–"]


def compact_for_commit(path: Path) -> None:
    """Shrink a results.json before committing: per-run per-class tables dropped (each run's confusion
    matrix gives them; the pooled tables stay) and per-node calibration; every per-run number rounded to 4
    decimals (a test clip is worth 0.05 of a run's accuracy; confidences to 1e-4)."""
    results = json.loads(path.read_text())
    for run in results["runs"]:
        for entry in run["models"].values():
            entry["scores"].pop("per_class", None)
            for stage in entry["scores"].get("calibration", {}).values():
                if isinstance(stage, dict):
                    stage.pop("nodes", None)  # per-node calibration: in evaluate --report, not pooled here
    results["runs"] = _rounded(results["runs"])
    path.write_text(json.dumps(results, separators=(",", ":")))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.depth_report FOLDER [--previous RESULTS.json] [--compact]``."""
    import argparse

    parser = argparse.ArgumentParser(description=write_depth_report.__doc__)
    parser.add_argument("folder", type=Path, help="a flat_vs_hier output folder (with results.json)")
    parser.add_argument("--previous", type=Path, help="results.json of an earlier run of the same seeds and folds")
    parser.add_argument("--compact", action="store_true", help="then shrink results.json for committing")
    parser.add_argument("--primary", default=PRIMARY, help="the hierarchical model judged against flat")
    args = parser.parse_args(argv)
    print(write_depth_report(args.folder, args.previous, args.primary))
    if args.compact:
        compact_for_commit(args.folder / "results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
