"""What the commands print after their work: the training summary, the evaluation, the workspace info."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table

from hiergenre.cli.render import training_table

if TYPE_CHECKING:
    from hiergenre.evaluation.evaluate import EvaluationReport
    from hiergenre.training.run import TrainingReport


def print_evaluation(console: Console, result: EvaluationReport) -> None:
    """``evaluate``'s text: the summary table (its reference tree named), notes, then per model
    its per-class recall, node accuracy and confusion matrix."""
    from hiergenre.evaluation.metrics import confusion_text
    from hiergenre.viz.reports import SUMMARY_HEADER, summary_rows

    table = Table(
        title=f"Evaluation on {result.source}",
        box=box.SIMPLE_HEAD,
        caption=f"hierarchical scores of every model are measured on tree {result.reference.name!r} (the built tree)",
    )
    for column in SUMMARY_HEADER:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in summary_rows(result.scores):
        table.add_row(*map(str, row))
    console.print(table)
    print_calibration(console, result)
    print_targets(console, result)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    for name, scores in result.scores.items():
        recalls = ", ".join(f"{g} {100 * v['recall']:.0f}%" for g, v in scores.per_class.items())
        console.print(f"[bold]{name}[/]: per-class recall {recalls}", highlight=False)
        if scores.partial:
            console.print(
                f"  partial labels: {scores.partial['clips']} clips labelled with a group, "
                f"{100 * scores.partial['right_at_depth']:.0f}% given a genre below it",
                highlight=False,
            )
        if scores.per_node and len(scores.per_node) > 1:
            nodes = ", ".join(f"{n} {100 * v['accuracy']:.0f}% (n={v['support']})" for n, v in scores.per_node.items())
            console.print(f"  node accuracy {nodes}", highlight=False)
        console.print(confusion_text(scores), highlight=False)


def print_calibration(console: Console, result: EvaluationReport) -> None:
    """The calibration of each model's genre probability, before and after its nodes' temperatures."""
    from hiergenre.viz.calibration import CALIBRATION_HEADER, calibration_rows

    rows = calibration_rows(result.scores)
    if not rows:
        return
    table = Table(
        title="Calibration of the probability of the predicted genre",
        box=box.SIMPLE_HEAD,
        caption="ECE: 15 bins of the probability; 'if calibrated': what a perfectly calibrated model with the same "
        "probabilities shows on this many clips. Per level and node: --report",
    )
    for column in CALIBRATION_HEADER:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def print_targets(console: Console, result: EvaluationReport) -> None:
    """``--target-accuracy``: per model, the threshold set on its calibration clips and what it gives on test."""
    targets = {name: s.target for name, s in result.scores.items() if s.target}
    if not targets:
        return
    target = next(iter(targets.values()))["target"]
    table = Table(
        title=f"Stopping early for {100 * target:g}% hierarchically right (split-conformal, on calibration clips)",
        box=box.SIMPLE_HEAD,
        caption="right: the true genre lies under the prediction; at a genre: clips that get a genre, not a group. "
        f"Promised: at least {100 * target:g}% right on average over new clips like the calibration clips; "
        "a single test part of a few clips varies around that",
    )
    for column in ("model", "threshold", "calibration clips", "cal. right", "cal. at a genre"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for column in ("test clips", "test right", "test at a genre"):
        table.add_column(column, justify="right")
    for name, t in targets.items():
        table.add_row(
            name,
            f"{t['threshold']:.2f}",
            str(t["clips"]),
            f"{100 * t['calibration_accuracy']:.1f}%",
            f"{100 * t['calibration_leaf_share']:.0f}%",
            str(t["test_clips"]),
            f"{100 * t['test_accuracy']:.1f}%",
            f"{100 * t['test_leaf_share']:.0f}%",
        )
    console.print(table)


def print_training(console: Console, report: TrainingReport) -> None:
    """``train-all``'s summary: the table, the data and split, the time by phase, notes, skipped files."""
    console.print(training_table(report.results))
    label = "SYNTHETIC corpus" if report.synthetic else "dataset"
    console.print(f"{label}: {report.dataset}\nsplit: {report.split}\ntime: {report.seconds:.1f} s", highlight=False)
    if report.device:
        if report.backend.startswith("Dask"):
            processes = f"{report.backend}, one TensorFlow thread per worker"
        else:
            processes = f"{report.workers} worker processes of" if report.workers > 1 else "one process,"
            processes += " one TensorFlow thread"
        console.print(f"trained on: {report.device}, {processes}", highlight=False)
    if report.timings:
        phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in report.timings.items())
        summed = f", summed over {report.workers} worker processes" if report.workers > 1 else ""
        console.print(f"seconds by phase{summed}: {phases}", highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    if report.skipped_files:
        console.print(f"[yellow]skipped {len(report.skipped_files)} unreadable file(s):[/]")
        for reason in report.skipped_files.values():
            console.print(f"  - {reason}", highlight=False, soft_wrap=True)


@contextmanager
def interruption_explained(console: Console) -> Iterator[None]:
    """Ctrl-C in the block: say on ``console`` what the run kept and that rerunning continues, then let it end the run.

    Without it, the command ended with no word, and the last progress line could pass for a finished model.
    """
    try:
        yield
    except KeyboardInterrupt as interrupt:
        console.print(interruption_text(interrupt), highlight=False, soft_wrap=True)
        raise


def interruption_text(interrupt: KeyboardInterrupt) -> str:
    """What an interrupted ``train-all`` kept: the node models saved (named when known) and the feature cache."""
    from hiergenre.training.jobs import TrainingInterrupted

    again = "Run the same command again to continue: it reuses what was kept."
    if not isinstance(interrupt, TrainingInterrupted):  # while extracting features, or after every model was saved
        return f"interrupted: the features extracted and the node models finished so far are kept. {again}"
    saved, unfinished = interrupt.saved, interrupt.unfinished
    total = len(saved) + len(unfinished)
    if not saved:
        kept = f"interrupted before any of the {total} node models was finished: none was saved (the features are)"
    else:
        kept = f"interrupted: {len(saved)} of {total} node models were finished and saved ({listed(saved)})"
    lost = f"; not finished, trained next time: {listed(unfinished)}" if unfinished and saved else ""
    return f"{kept}{lost}. {again}"


def listed(labels: Sequence[str], at_most: int = 8) -> str:
    """``a, b, c`` (the first ``at_most``, then ``and N more``)."""
    shown = ", ".join(labels[:at_most])
    return shown + (f" and {len(labels) - at_most} more" if len(labels) > at_most else "")


def megabytes(count: int) -> str:
    """``12.3 MB``."""
    return f"{count / 1e6:.1f} MB"


def print_info(console: Console, info: Mapping) -> None:
    """``info``'s text: the built tree, a table of trained trees, sizes on disk; the bundled model's card
    where it answers predict."""
    if info.get("exists", True):
        print_workspace(console, info)
    else:
        console.print(f"no workspace at {info['workspace']} (hiergenre {info['hiergenre_version']})", highlight=False)
    bundled = info.get("bundled_model")
    if bundled and bundled["answers_predict"]:
        console.print()
        for line in model_card_lines(bundled["card"], bundled["card_page"]):
            console.print(line, highlight=False, soft_wrap=True)
    elif bundled:
        console.print(
            f"the bundled model answers only where nothing is trained (its card: {bundled['card_page']})",
            style="dim",
            highlight=False,
            soft_wrap=True,
        )


def print_workspace(console: Console, info: Mapping) -> None:
    """The workspace's part of ``info``: built tree, trained trees, sizes on disk."""
    built = info["built_tree"]
    console.print(f"workspace {info['workspace']} (hiergenre {info['hiergenre_version']})", highlight=False)
    if built is None:
        console.print("no tree built: run 'hiergenre build-tree default' (or a tree file of yours)")
    else:
        console.print(
            f"built tree {built['name']!r}: {len(built['genres'])} genres, {built['node_models']} node model(s)",
            highlight=False,
        )
    table = Table(title="Trained trees", box=box.SIMPLE_HEAD)
    columns = (
        "tree",
        "genres",
        "nodes",
        "features",
        "kinds",
        "preset",
        "epochs",
        "seed",
        "trained (UTC)",
        "version",
        "size",
    )
    for column in columns:
        table.add_column(column, no_wrap=True)
    sources: dict[str, list[str]] = {}
    for name, tree in info["trained_trees"].items():
        kinds = ", ".join(f"{count} {kind}" for kind, count in tree["node_kinds"].items())
        networks = any(kind in ("cnn", "ensemble") for kind in tree["node_kinds"])  # preset and epochs shape them
        table.add_row(
            name + (" *" if tree["is_built_tree"] else ""),
            str(tree["genres"]),
            str(tree["node_models"]),
            tree["front_end"],
            kinds,
            *((tree["preset"], f"≤{tree['epochs_cap']}") if networks else ("–", "–")),
            str(tree["seed"]),
            tree["trained_at"].replace("T", " ")[:16],
            tree["hiergenre_version"],
            megabytes(tree["bytes"]),
        )
        synthetic = ", SYNTHETIC" if tree["synthetic"] else ""
        n = tree["calibration_clips"]
        reach = f"--target-accuracy up to {math.floor(100 * n / (n + 1)) / 100:.2f}" if n else "no --target-accuracy"
        source = f"{tree['dataset']} ({tree['clips']} clips{synthetic}), {tree['split']}; "
        source += f"{n} calibration clips ({reach})"
        sources.setdefault(source, []).append(name)
    if info["trained_trees"]:
        console.print(table)
        console.print("* the built tree (what predict and evaluate use by default)", style="dim")
        for source, names in sources.items():
            console.print(f"{', '.join(names)} trained on {source}", highlight=False, soft_wrap=True)
    else:
        console.print("nothing trained yet: run 'hiergenre train-all --data DIR'")
    sizes = info["bytes"]
    console.print(
        f"on disk: {megabytes(sizes['total'])} in all, models {megabytes(sizes['models'])}, "
        f"feature cache {megabytes(sizes['feature_cache'])}",
        highlight=False,
    )


def model_card_lines(card: Mapping, page: str) -> list[str]:
    """The bundled model's card in a few lines: what it is, what it learnt from, how right it is, where it fails."""
    trees = card["trees"]
    halves = card["halves"]
    seeds = {name: ", ".join(f"{100 * a:.0f}" for a in s["accuracy_by_seed"]) for name, s in halves["trees"].items()}
    accuracy = ", ".join(
        f"{name} {100 * scores['accuracy']:.1f}% (by seed: {seeds[name]})" for name, scores in halves["trees"].items()
    )
    lines = [
        "Nothing is trained here, so the BUNDLED MODEL answers predict:",
        f"  trees: default ({len(trees['default']['genres'])} genres, {len(trees['default']['nodes'])} decision "
        f"nodes), flat, baseline3 ({', '.join(trees['baseline3']['genres'])})",
        f"  genres: {', '.join(trees['default']['genres'])}",
        f"  features: {card['front_end']}; preset {card['recipe']['preset']}, node model "
        f"{card['recipe']['node_model']}, seed {card['recipe']['seed']}",
        f"  trained on {card['training_data']['clips']} {card['training_data']['name']} clips "
        f"({card['training_data']['description']}); {card['calibration_clips']['clips']} calibration clips kept out",
        f"  right on new artists ({card['training_data']['name']}'s artist-ordered halves): {accuracy}",
        "  known to fail:",
        *[f"    - {text}" for text in card["known_failures"]],
        "  licences: " + "; ".join(f"{what}: {licence}" for what, licence in card["licences"].items()),
        f"  built by hiergenre {card['hiergenre_version']} (commit {card['git_commit'][:12]}); the whole card: {page}",
    ]
    return lines
