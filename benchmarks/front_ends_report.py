"""The report of :mod:`benchmarks.front_ends`: every front-end side by side, paired, and the default it chose."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import mean_std_text, paired, paired_text, provenance, provenance_line, write_json
from benchmarks.depth_report import pooled_ece
from benchmarks.front_end_costs import measure_costs
from benchmarks.front_ends_options import (
    DEFAULT_RULE,
    FRONT_ENDS,
    JUDGED_MODEL,
    NAMED_CASCADE,
    TIE_POINTS,
    ZERO_SHOT_TAGS,
    zero_shot_accuracy,
)

#: Every model scored per run: flat, then each cascade under each routing.
MODELS = ("flat", "default", "default+product", "default+blend", "learned", "learned+product", "learned+blend")
PROTOCOL_TITLES = {
    "halves": "Artist-ordered halves (new artists): `--split halves:1` and `halves:2`, 50 test clips each",
    "kfold": "Stratified 5-fold × seeds 0–5 (30 runs; artists shared between folds: optimistic)",
}


def run_key(run: dict) -> tuple[int, str]:
    """(seed, split): what pairs the runs of two front-ends."""
    return int(run["seed"]), str(run["split"])


def values(runs: list[dict], model: str, field: str = "accuracy") -> dict[tuple[int, str], float]:
    """One number per run of ``model``: ``accuracy``, ``balanced_accuracy``, ``top`` (level 1) or ``area``."""
    out = {}
    for run in runs:
        scores = run["models"].get(model, {}).get("scores")
        if scores is None:
            continue
        if field == "top":
            out[run_key(run)] = float(scores["per_level"].get("1", scores["accuracy"]))
        elif field == "area":
            out[run_key(run)] = float(scores["operating"]["area"])
        else:
            out[run_key(run)] = float(scores[field])
    return out


def mean_calibration(runs: list[dict], model: str, key: str) -> float | None:
    """Mean over runs of ``key`` (brier, log_loss) of the calibrated model."""
    found = [
        run["models"][model]["scores"]["calibration"]["after"]["model"][key]
        for run in runs
        if model in run["models"] and run["models"][model]["scores"].get("calibration")
    ]
    return float(np.mean(found)) if found else None


def model_row(runs: list[dict], model: str) -> list[str]:
    """Accuracy, balanced, top level, pooled ECE (floor), Brier, log loss, curve area of one model."""
    accuracy = values(runs, model)
    if not accuracy:
        return ["–"] * 7
    ece = pooled_ece(runs, model, "after")
    brier, log_loss = mean_calibration(runs, model, "brier"), mean_calibration(runs, model, "log_loss")
    return [
        mean_std_text(list(accuracy.values())),
        mean_std_text(list(values(runs, model, "balanced_accuracy").values())),
        mean_std_text(list(values(runs, model, "top").values())),
        f"{ece['ece']:.3f} ({ece['ece_if_calibrated']:.3f})" if ece else "–",
        f"{brier:.3f}" if brier is not None else "–",
        f"{log_loss:.3f}" if log_loss is not None else "–",
        f"{np.mean(list(values(runs, model, 'area').values())):.3f}",
    ]


def paired_between(a: dict, b: dict) -> dict[str, Any] | None:
    """Paired differences ``a − b`` over the runs both have."""
    keys = sorted(set(a) & set(b))
    return paired([a[k] for k in keys], [b[k] for k in keys]) | {"runs": len(keys)} if keys else None


def protocol_section(protocol: str, runs: dict[tuple[str, str], list[dict]]) -> tuple[list[str], dict]:
    """Tables of one protocol: every model of every front-end, then paired differences."""
    present = [name for name in FRONT_ENDS if (protocol, name) in runs]
    lines = [f"## {PROTOCOL_TITLES[protocol]}", ""]
    summary: dict[str, Any] = {}
    for name in present:
        these = runs[(protocol, name)]
        lines += [
            f"### `{name}` ({len(these)} runs, seeds {sorted({r['seed'] for r in these})})",
            "",
            "| model | leaf accuracy % | balanced % | top level % | pooled ECE (floor) | Brier | log loss | curve area"
            " |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [f"| {model} | " + " | ".join(model_row(these, model)) + " |" for model in MODELS]
        summary[name] = {model: values(these, model) for model in MODELS}
        named = paired_between(summary[name][NAMED_CASCADE], summary[name]["flat"])
        area = paired_between(values(these, NAMED_CASCADE, "area"), values(these, "flat", "area"))
        if named and area:
            lines += [
                "",
                f"Named cascade `{NAMED_CASCADE}` − flat: leaf accuracy {paired_text(named)} "
                f"(se {100 * named['sem']:.1f}), curve area {paired_text(area)} (se {100 * area['sem']:.1f}).",
            ]
        lines.append("")
    if "lmfcc" in present and len(present) > 1:
        lines += [
            "### Paired differences against `lmfcc` (points of leaf accuracy; wins/ties/losses over runs)",
            "",
            "| model | " + " | ".join(f"`{n}` − `lmfcc`" for n in present if n != "lmfcc") + " |",
            "|---|" + "---|" * (len(present) - 1),
        ]
        for model in MODELS:
            cells = []
            for name in present:
                if name == "lmfcc":
                    continue
                d = paired_between(summary[name][model], summary["lmfcc"][model])
                cells.append(f"{paired_text(d)} (n={d['runs']})" if d else "–")
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines, summary


def choose_default(halves: dict[str, dict], costs: dict[str, dict]) -> tuple[str, list[str]]:
    """:data:`~benchmarks.front_ends.DEFAULT_RULE` applied: the chosen front-end and the reasoning, line by line."""
    means = {name: 100 * float(np.mean(list(models[JUDGED_MODEL].values()))) for name, models in halves.items()}
    best = max(means.values())
    tied = [name for name, mean in means.items() if best - mean <= TIE_POINTS]
    chosen = min(tied, key=lambda name: costs.get(name, {}).get("train_all_seconds", float("inf")))
    lines = [f"- `{name}`: {mean:.1f}%" for name, mean in sorted(means.items(), key=lambda kv: -kv[1])]
    lines.append(
        f"- tied with the best (within {TIE_POINTS:g} points): {', '.join(f'`{n}`' for n in tied)}; "
        f"cheapest of them to train: **`{chosen}`**"
    )
    return chosen, lines


def zero_shot_lines(zero_shot: dict) -> list[str]:
    """The zero-shot row: on all clips and on each half's test clips."""
    everything = zero_shot_accuracy(zero_shot["clips"])
    lines = [
        "## Zero-shot: musicnn's own MSD tags, no training",
        "",
        f"Genres with a tag of the same name: {', '.join(sorted(ZERO_SHOT_TAGS))} (metal: the higher of `metal` and "
        "`heavy metal`); each clip gets the matched genre of highest mean tag probability over its patches. "
        "Classical, disco and reggae have no such tag and are always wrong.",
        "",
        "| clips | accuracy, all genres % | accuracy on the 7 matched genres % |",
        "|---|---|---|",
        f"| all {everything[2]} | {100 * everything[0]:.1f} | {100 * everything[1]:.1f} |",
    ]
    for split, names in zero_shot["tests"].items():
        result = zero_shot_accuracy(zero_shot["clips"], set(names))
        lines.append(f"| test clips of {split} ({result[2]}) | {100 * result[0]:.1f} | {100 * result[1]:.1f} |")
    return [*lines, ""]


def cost_lines(costs: dict[str, dict]) -> list[str]:
    """The costs table."""
    lines = [
        "## Costs, side by side in one run (cold feature cache, default split, 2 cores)",
        "",
        f"Measured by {costs.get('measured', 'this run')}.",
        "",
        "| front-end | extraction s/clip (1 process) | train-all s | cold predict s | batch clips/s | models MB |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in costs.items():
        if name == "measured":
            continue
        lines.append(
            f"| `{name}` | {c['extraction_seconds_per_clip']:.3f} | {c['train_all_seconds']:.1f} | "
            f"{c['cold_predict_seconds']:.2f} | {c['batch_clips_per_second']:.1f} | {c['model_bytes'] / 1e6:.2f} |"
        )
    return [*lines, ""]


def curves_png(runs: dict[tuple[str, str], list[dict]], path: Path) -> Path:
    """Mean operating curves per protocol: flat (dashed) and the named cascade (solid), one colour a front-end."""
    from benchmarks.depth_plots import GRID, correct_at
    from hiergenre.viz.figures import save_figure, subplots

    protocols = [p for p in PROTOCOL_TITLES if any(key[0] == p for key in runs)]
    fig, axes = subplots((5.2 * len(protocols), 4.2), 1, len(protocols), squeeze=False)
    colours = dict(zip(FRONT_ENDS, ("#d62728", "#1f77b4", "#2ca02c"), strict=True))
    for ax, protocol in zip(axes[0], protocols, strict=True):
        for name in FRONT_ENDS:
            these = runs.get((protocol, name))
            if not these:
                continue
            for model, style in (("flat", "--"), (NAMED_CASCADE, "-")):
                curves = [correct_at(r["models"][model]["scores"]["operating"]["points"]) for r in these]
                label = f"{name}: {model} ({len(these)} runs)"
                ax.plot(GRID, np.mean(curves, axis=0), style, marker=".", color=colours[name], label=label)
        ax.axhline(0.9, color="#999999", linewidth=0.8, linestyle=":")
        ax.set_title("artist-ordered halves" if protocol == "halves" else "stratified 5-fold", fontsize=10)
        ax.set_xlabel("specificity (1: a genre for every clip, 0: the root)")
        ax.set_ylim(0.5, 1.01)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("hierarchically right (mean over runs)")
    fig.suptitle("Operating curves of each front-end: stopping at a group when unsure", fontsize=10)
    return save_figure(fig, path)


def write_report(out: Path, runs: dict, zero_shot: dict, args: argparse.Namespace) -> Path:
    """``report.md`` and ``summary.json`` in ``out``."""
    costs = measure_costs(args.data, FRONT_ENDS, out, args.jobs)
    lines = [
        "# Feature front-ends on music the models never heard",
        "",
        f"Data: `{args.data}`. Code and machine: {provenance_line(provenance()).rstrip('.')}; each run folder's report "
        "names the commit it ran at. Each protocol's run folder "
        "(`halves-*`, `kfold-*`) holds its own report; the 5-fold `lmfcc` runs are read from "
        f"{', '.join(f'`{e.split(chr(61))[-1]}`' for e in args.kfold_from) or 'nowhere'}.",
        "",
        f"**Rule fixed before the runs**: {DEFAULT_RULE}",
        "",
    ]
    summaries = {}
    for protocol in ("halves", "kfold"):
        if any(key[0] == protocol for key in runs):
            section, summaries[protocol] = protocol_section(protocol, runs)
            lines += section
    curves_png(runs, out / "operating-curves.png")
    lines += [
        "![operating curves](operating-curves.png)",
        "",
        "How often the answer is right (the true genre lies below it) against how specific it is, as the "
        "minimum confidence rises (`predict --min-confidence`): dashed the flat model, solid the named cascade "
        f"(`{NAMED_CASCADE}`), mean over runs.",
        "",
    ]
    lines += zero_shot_lines(zero_shot)
    lines += cost_lines(costs)
    chosen, reasoning = choose_default(summaries.get("halves", {}), costs)
    lines += ["## The default, by the rule", "", *reasoning, ""]
    (out / "report.md").write_text("\n".join(lines))
    write_json(out / "summary.json", {"chosen_default": chosen, "costs": costs, "rule": DEFAULT_RULE})
    print(f"report: {out / 'report.md'}; default by the rule: {chosen}")
    return out / "report.md"
