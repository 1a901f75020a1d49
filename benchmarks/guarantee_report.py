"""The report of :mod:`benchmarks.guarantee`: ``report.md``, ``results.json.gz`` and the plots."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired_text, provenance, provenance_line
from benchmarks.guarantee_analysis import MODELS, TARGETS
from benchmarks.guarantee_halves import halves_results
from benchmarks.guarantee_store import load_store, read_commands, run_names
from benchmarks.guarantee_summary import ECE_MARGIN, PAIRED_TARGET, summarise_source, verdicts

METHOD_NAMES = {
    "conformal": "conformal climb (the library: calibration clips scored out of fold)",
    "today": "today's rule",
    "conformal-same": "climb, calibration clips scored by temperatures that saw them",
    "conformal-raw": "control: climb on raw probabilities",
}


def pct(value: float | None, digits: int = 1) -> str:
    """A share in percent, or a dash."""
    return "–" if value is None else f"{100 * value:.{digits}f}"


def collect_sources(out: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every ``scores-*.npz`` of ``out`` summarised, by source name (``gtzan-mini-musicnn``...)."""
    sources = {}
    for path in sorted(out.glob("scores-*.npz")):
        source = path.stem.removeprefix("scores-")
        calibration = args.synthetic_calibration_clips if source.startswith("synthetic") else args.calibration_clips
        store = load_store(path)
        if store:
            cache = Path(args.work) / "analysis-cache"
            draws = args.draws if len(run_names(store)) == 1 else args.run_draws
            sources[source] = summarise_source(store, source, draws, calibration, cache)
    return sources


def accuracy_table(source: dict[str, Any]) -> list[str]:
    """Achieved hierarchical accuracy on the test clips: conformal vs today's rule vs theory, per model × A."""
    lines = [
        f"| model | A | method | mean ± s.e. (over {'runs' if source['runs'] > 1 else 'draws'}) | std | p5 | p50 "
        "| share of draws < A | lowest run mean "
        "| share given a genre |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in MODELS:
        for target in TARGETS:
            for method in METHOD_NAMES:
                entry = source["outcomes"].get(f"{model}|{method}|{target}")
                if entry is None:
                    continue
                mean = f"{pct(entry['mean'], 2)} ± {pct(entry['sem'], 2)}"
                lines.append(
                    f"| {model} | {target:g} | {METHOD_NAMES[method]} | {mean} "
                    f"| {pct(entry['std'])} | {pct(entry['p5'])} | {pct(entry['p50'])} | {pct(entry['share_below'])} "
                    f"| {pct(entry['min_run_mean'])} | {pct(entry['mean_leaf_share'])} |"
                )
    lines += ["", "Theory (split conformal, continuous exchangeable scores; draws of this size):", ""]
    lines += ["| A | mean in | mean | std | p5 | share of draws < A |", "|---|---|---|---|---|---|"]
    for target in TARGETS:
        t = source["theory"][str(target)]
        if t:
            band = f"[{pct(t['band'][0])}, {pct(t['band'][1])}]"
            lines.append(
                f"| {target:g} | {band} | {pct(t['mean'])} | {pct(t['std'])} | {pct(t['p5'])} "
                f"| {pct(t['share_below'])} |"
            )
    return lines


def leaf_share_table(source: dict[str, Any]) -> list[str]:
    """Share of test clips given a genre (not a group) per A, every model, both methods; paired at 0.9."""
    lines = ["| A | method | " + " | ".join(MODELS) + " |", "|---|---|" + "---|" * len(MODELS)]
    for target in TARGETS:
        for method in ("conformal", "today"):
            cells = [pct(source["outcomes"].get(f"{m}|{method}|{target}", {}).get("mean_leaf_share")) for m in MODELS]
            lines.append(f"| {target:g} | {METHOD_NAMES[method]} | " + " | ".join(cells) + " |")
    for cascade, stats in source["leaf_share_paired"].items():
        lines.append(
            f"\n{cascade} − flat, share given a genre at A = {PAIRED_TARGET:g} (conformal), per run (mean of its "
            f"draws), over {source['runs']} runs: {paired_text(stats)} points (wins/ties/losses)."
        )
    accuracy = source["leaf_accuracy"]
    text = ", ".join(f"{m} {pct(accuracy[m]['mean'])} ± {pct(accuracy[m]['std'])}" for m in MODELS)
    lines.append(f"\nLeaf accuracy (routed genre right; mean ± std over runs): {text}.")
    return lines


def ece_table(sources: dict[str, dict[str, Any]]) -> list[str]:
    """Pooled ECE of the routed genre's probability after calibration (and raw), against its floor."""
    lines = [
        "| source | model | clips | ECE | debiased [90% interval] | floor (if calibrated) | ECE − floor "
        f"| ≤ {ECE_MARGIN:g}? | raw ECE (floor) | mean confidence | accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, source in sources.items():
        for model in MODELS:
            after, before = source["ece"][model]["calibrated"], source["ece"][model]["raw"]
            low, high = after["ece_interval"]
            lines.append(
                f"| {name} | {model} | {after['clips']} | {after['ece']:.3f} | {after['ece_debiased']:.3f} "
                f"[{low:.3f}, {high:.3f}] | {after['ece_if_calibrated']:.3f} | {after['excess']:+.3f} "
                f"| {'met' if after['target_met'] else 'NOT met'} "
                f"| {before['ece']:.3f} ({before['ece_if_calibrated']:.3f}) "
                f"| {pct(after['mean_confidence'])} | {pct(after['accuracy'])} |"
            )
    return lines


def halves_table(halves: dict[str, dict[str, Any]]) -> list[str]:
    """Achieved accuracy and share given a genre on the new-artist halves: mean and min over runs."""
    lines = [
        "| front-end | model | A | conformal: accuracy mean (min) | share given a genre | today's rule: accuracy "
        "mean (min) | share given a genre |",
        "|---|---|---|---|---|---|---|",
    ]
    for front_end, result in halves.items():
        for model in MODELS:
            for target in TARGETS:
                cells = []
                for method in ("conformal", "today"):
                    e = result["outcomes"].get(f"{model}|{method}|{target}")
                    cells += [
                        f"{pct(e['mean_accuracy'])} ({pct(e['min_accuracy'])})" if e else "–",
                        f"{pct(e['mean_leaf_share'])} ({pct(e['min_leaf_share'])})" if e else "–",
                    ]
                lines.append(f"| {front_end} | {model} | {target:g} | " + " | ".join(cells) + " |")
    return lines


def targets_section(sources: dict[str, dict[str, Any]]) -> list[str]:
    """Plainly, per source: which targets were met and which not, with the numbers."""
    lines = []
    for name, source in sources.items():
        rows = verdicts(source)
        met = [r for r in rows if r["at_least_target"]]
        missed = [r for r in rows if not r["at_least_target"]]
        below = ", ".join(
            f"{r['model']} at {r['target']:g}: {pct(r['mean'], 2)} ± {pct(r['sem'], 2)} "
            f"({r['standard_errors_below']:.1f} s.e. below; control on raw probabilities {pct(r['control_mean'], 2)})"
            for r in missed
        )
        lines.append(
            f"- **{name}** ({source['runs']} run(s) × {source['draws']} draws, {source['calibration_clips']} "
            f"calibration / {source['test_clips']} test clips): conformal mean achieved accuracy ≥ A in "
            f"{len(met)} of {len(rows)} (model, A) cases"
            + (f"; **below A**: {below}" if missed else "")
            + f"; inside the band [A, A + 1/(n+1)] in {sum(r['within_band'] for r in rows)} of {len(rows)}. "
            + todays_rule(source)
            + "ECE − floor ≤ 0.01: "
            + ", ".join(
                f"{m} {'met' if source['ece'][m]['calibrated']['target_met'] else 'NOT met'} "
                f"({source['ece'][m]['calibrated']['excess']:+.3f})"
                for m in MODELS
            )
            + "."
        )
    return lines


def todays_rule(source: dict[str, Any]) -> str:
    """How often today's rule reached A on average, and its largest shortfall."""
    found = [
        (source["outcomes"][f"{m}|today|{a}"]["mean"] - a, m, a)
        for m in MODELS
        for a in TARGETS
        if f"{m}|today|{a}" in source["outcomes"]
    ]
    if not found:
        return ""
    reached = sum(gap >= 0 for gap, _, _ in found)
    gap, model, target = min(found)
    worst = f"; largest shortfall {model} at {target:g}: {100 * gap:+.2f} points" if gap < 0 else ""
    return f"Today's rule: mean ≥ A in {reached} of {len(found)}{worst}. "


def halves_verdict(halves: dict[str, dict[str, Any]]) -> list[str]:
    """One line on the halves: what the default tree achieved at A = 0.9 on new artists."""
    parts = []
    for front_end, result in halves.items():
        entry = result["outcomes"].get("default|conformal|0.9")
        if entry:
            parts.append(
                f"{front_end}: default at A = 0.9, conformal, mean {pct(entry['mean_accuracy'])} "
                f"(lowest {pct(entry['min_accuracy'])}) over {len(result['runs'])} runs"
            )
    return [f"- **halves** (new artists, no guarantee applies): {'; '.join(parts)}.", ""] if parts else []


def commands_section(out: Path, sources: dict[str, dict[str, Any]], halves: dict[str, dict[str, Any]]) -> list[str]:
    """The stages run (command, wall time) and each source's training time."""
    lines = ["| command | wall time |", "|---|---|"]
    lines += [
        f"| `{c['command']}`{' (' + c['note'] + ')' if c.get('note') else ''} | {c['wall_seconds'] / 60:.1f} min |"
        for c in read_commands(out)
    ]
    lines += ["", "| scores | runs | train-all seconds: first run, median of the others, total |", "|---|---|---|"]
    for name, entry in [*sources.items(), *((f"halves-{k}", v) for k, v in halves.items())]:
        seconds = entry["train_seconds"]
        rest = f"{np.median(seconds[1:]):.0f}" if len(seconds) > 1 else "–"
        lines.append(f"| {name} | {len(seconds)} | {seconds[0]:.0f}, {rest}, {sum(seconds) / 60:.1f} min |")
    return lines


def write_report(out: Path, args: argparse.Namespace) -> None:
    """Summarise every stored stage, write ``results.json.gz``, ``report.md`` and the plots."""
    from benchmarks.guarantee_plots import draw_plots

    sources = collect_sources(out, args)
    halves = {}
    for path in sorted(out.glob("halves-*.npz")):
        store = load_store(path)
        if store:
            seconds = [float(store[key]) for key in sorted(store) if key.endswith("/train_seconds")]
            halves[path.stem.removeprefix("halves-")] = {**halves_results(store), "train_seconds": seconds}
    prov = provenance()
    results = {"provenance": prov, "commands": read_commands(out), "sources": sources, "halves": halves}
    with gzip.open(out / "results.json.gz", "wt", encoding="utf-8") as handle:  # keeps results/ under 5 MB
        json.dump(rounded(results), handle, indent=1)
    plots = draw_plots(out, sources)
    text = render(out, sources, halves, prov, plots)
    (out / "report.md").write_text(text, encoding="utf-8")


def rounded(value: Any) -> Any:
    """Floats to 5 significant digits, all the way down (results.json stays small and readable)."""
    if isinstance(value, float):
        return float(f"{value:.5g}")
    if isinstance(value, dict):
        return {key: rounded(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def render(out: Path, sources: dict[str, Any], halves: dict[str, Any], prov: dict[str, Any], plots: list[str]) -> str:
    """The Markdown report."""
    from benchmarks.guarantee_text import EXPLANATION, HALVES_TEXT, SYNTHETIC_TEXT

    lines = ["# Does `--target-accuracy A` keep its promise? (issue 32)", "", provenance_line(prov), ""]
    lines += ["## Targets", "", *targets_section(sources), ""]
    lines += halves_verdict(halves)
    lines += ["## What was measured", "", EXPLANATION, "", "## What ran", "", *commands_section(out, sources, halves)]
    for name, source in sources.items():
        lines += ["", f"## {name}: achieved hierarchical accuracy on the test clips", "", *accuracy_table(source)]
        lines += ["", f"### {name}: share of test clips given a genre", "", *leaf_share_table(source)]
    lines += ["", "## Calibration: pooled expected calibration error", "", *ece_table(sources)]
    if halves:
        lines += ["", "## New artists: artist-ordered halves", "", HALVES_TEXT, "", *halves_table(halves)]
        for fe, r in halves.items():
            acc = ", ".join(f"{m} {pct(v['mean'])}" for m, v in r["leaf_accuracy"].items())
            lines.append(
                f"\n{fe}: runs {', '.join(r['runs'])}; {r['calibration_clips']} calibration and {r['test_clips']} "
                f"test clips a run; leaf accuracy {acc}; largest difference between these numbers and the library's "
                f"own `target_on_test` (conformal): {r['largest_difference_from_library']:.2g}."
            )
    if any(name.startswith("synthetic") for name in sources):
        lines += ["", "## Synthetic corpus", "", SYNTHETIC_TEXT]
    lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"
