"""The ``hiergenre`` command line: a thin layer over :mod:`hiergenre.api`.

Every expected failure becomes one line on stderr and exit code 1; Ctrl-C exits with 130. Help
texts for presets, node models and routing policies come from their registries, so they list
exactly what exists.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from hiergenre.config import DEFAULT_PRESET, node_model_help, preset_help
from hiergenre.errors import HierGenreError
from hiergenre.routing import policy_help

app = typer.Typer(
    help="Hierarchical music-genre classification with small LMFCC CNNs.\n\n"
    "Typical session: build-tree hierarchies/default.yaml, then train-all [--data DIR], "
    "then predict song.au.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        envvar="HIERGENRE_WORKDIR",
        help="Workspace folder for the tree, caches and models (default: ./.hiergenre).",
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for splits, weight initialisation and synthesis.")]
DataOption = Annotated[
    Path | None,
    typer.Option(
        help="Dataset: folder per genre (GTZAN layout works) or CSV manifest (path,genre). "
        "Default: the embedded SYNTHETIC corpus."
    ),
]
SplitOption = Annotated[
    str,
    typer.Option(
        help="'paper' (70/10/20 per genre), ratios like 80/20/0, 'kfold:K:I' (fold I of K tests, the next "
        "validates), 'gtzan-fault-filtered', or a folder with train.txt/valid.txt/test.txt of clip ids."
    ),
]
JobsOption = Annotated[int, typer.Option(help="Parallel processes for feature extraction.")]
RoutingOption = Annotated[str, typer.Option(help=f"Routing policy: {policy_help()}")]


@app.command("build-tree")
def build_tree_command(
    tree_file: Annotated[
        Path, typer.Argument(help="YAML tree file, e.g. hierarchies/default.yaml (with --learn: the file to write).")
    ],
    learn: Annotated[
        bool,
        typer.Option(
            "--learn", help="Derive the groups from the confusions of a classifier on --data, write them to TREE_FILE."
        ),
    ] = False,
    data: DataOption = None,
    split: SplitOption = "paper",
    groups: Annotated[int, typer.Option(help="With --learn: number of top-level groups.")] = 3,
    force: Annotated[bool, typer.Option("--force", help="With --learn: overwrite TREE_FILE if it exists.")] = False,
    jobs: JobsOption = 1,
    workdir: WorkdirOption = None,
    seed: SeedOption = 0,
) -> None:
    """Validate a genre tree, store it in the workspace and draw it to tree.png.

    The tree's file has a top-level 'tree:' whose value is a list of genres (a flat tree) or a
    mapping from group names to lists; a list item is a genre or a one-key mapping (a subgroup).
    Each group with two or more children gets one node model.

    With --learn the groups come from data instead: out-of-fold confusions of an LMFCC-statistics
    classifier on the train and valid parts of --split (never the test part) are clustered into
    --groups groups. The tree is written to TREE_FILE, with comments on how it was derived, for
    you to edit; then it is built like any other. Example:

        hiergenre build-tree hierarchies/learned.yaml --learn --data ~/gtzan/genres --groups 3
    """
    from hiergenre import api
    from hiergenre.render import tree_view
    from hiergenre.workspace import Workspace

    if learn:
        learned = api.learn_tree(
            tree_file, workdir=workdir, data=data, split=split, groups=groups, seed=seed, jobs=jobs, force=force
        )
        console.print(
            f"learned from {learned.clips} train+valid clips (out-of-fold accuracy of the statistics classifier "
            f"{100 * learned.out_of_fold_accuracy:.0f}%); wrote {tree_file}"
        )
        tree = learned.tree
    elif data is not None:
        raise HierGenreError("--data is only used with --learn (train-all takes the training data)")
    else:
        tree = api.build_tree(tree_file, workdir=workdir)
    space = Workspace(workdir)
    console.print(tree_view(tree))
    console.print(
        f"{len(tree.leaves)} genres, {len(tree.model_nodes)} node model(s) for this tree "
        f"(train-all adds the flat model and, if the data allows, the 3-class baseline)."
    )
    console.print(f"Saved to {space.tree_file} and drawn to {space.tree_png}")


@app.command("train-all")
def train_all_command(
    data: DataOption = None,
    split: SplitOption = "paper",
    preset: Annotated[str, typer.Option(help=f"Model and training recipe. {preset_help()}")] = DEFAULT_PRESET,
    node_model: Annotated[
        str | None,
        typer.Option(help=f"Classifier of every node (default: the preset's, cnn): {node_model_help()}"),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(help="Cap on training epochs per network (the paper preset runs 1000, the others at most 400)."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            help="Parallel processes extracting features and training node models (default: one per core). "
            "The models are the same whatever their number."
        ),
    ] = None,
    baseline3: Annotated[
        bool, typer.Option("--baseline3/--no-baseline3", help="Also train the report's 3-class baseline.")
    ] = True,
    workdir: WorkdirOption = None,
    seed: SeedOption = 0,
) -> None:
    """Train a model per tree node, the flat model and the 3-class baseline.

    One model per decision node of the built tree, a flat model over the same genres, and the
    paper's 3-class baseline (metal, classical, disco) when the data has those genres.

    Features are cached in the workspace; models that are already trained on the same data,
    split and settings are reused, so an interrupted run continues where it stopped.
    """
    from hiergenre import api
    from hiergenre.render import ProgressReporter, progress_bars, training_table

    if data is None:
        console.print(
            "[yellow]No --data given: training on the embedded SYNTHETIC corpus "
            "(generated clips, not music; written to the workspace on first use). "
            "Use --data DIR for a real dataset such as GTZAN.[/]"
        )
    with progress_bars(console) as progress:
        extraction = progress.add_task("features", total=None, status="")
        report = api.train_all(
            workdir=workdir,
            data=data,
            split=split,
            preset=preset,
            node_model=node_model,
            epochs=epochs,
            jobs=jobs,
            seed=seed,
            reporter=ProgressReporter(progress),
            on_extracted=lambda: progress.advance(extraction),
            on_dataset=lambda dataset, count: progress.update(extraction, total=count),
            baseline3=baseline3,
        )
    console.print(training_table(report.results))
    label = "SYNTHETIC corpus" if report.synthetic else "dataset"
    console.print(f"{label}: {report.dataset}\nsplit: {report.split}\ntime: {report.seconds:.1f} s")
    if report.timings:
        phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in report.timings.items())
        console.print(f"seconds by phase: {phases}", highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    if report.skipped_files:
        console.print(f"[yellow]skipped {len(report.skipped_files)} unreadable file(s):[/]")
        for reason in report.skipped_files.values():
            console.print(f"  - {reason}", highlight=False, soft_wrap=True)


@app.command("predict")
def predict_command(
    files: Annotated[list[Path], typer.Argument(help="Audio files or folders (au, wav, flac, ogg, mp3).")],
    tree: Annotated[
        str | None,
        typer.Option(help="Trained tree to route through: the built tree (default), 'flat' or 'baseline3'."),
    ] = None,
    routing: RoutingOption = "greedy",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write all predictions to this .csv or .json file (atomically)."),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            help="'litert': the exported LiteRT models with numpy features, no TensorFlow or librosa (fast start); "
            "'keras': the Keras models with librosa features (the reference)."
        ),
    ] = "litert",
    jobs: Annotated[int, typer.Option(help="Threads decoding files and computing features in parallel.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of text.")] = False,
    workdir: WorkdirOption = None,
) -> None:
    """Classify songs by routing them root to leaf through the trained tree.

    Each step prints the chosen group and its probability; long songs are scored on several
    windows whose probabilities are averaged. Folders are searched for audio files. A file that
    cannot be read is reported on stderr and the others are still classified; the exit code is
    non-zero only if no file could be classified. Examples:

        hiergenre predict song.au

        hiergenre predict ~/music --output genres.csv --jobs 4
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from hiergenre import api
    from hiergenre.prediction import output_format, write_predictions
    from hiergenre.render import route_text

    if output is not None:
        output_format(output)
    predictor = api.load_predictor(workdir=workdir, tree=tree, routing=routing, backend=backend)
    with Progress(
        TextColumn("classifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=len(files) == 1 and files[0].is_file(),
    ) as progress:
        task = progress.add_task("classifying", total=None)
        predictions = api.predict(files, predictor=predictor, jobs=jobs, on_done=lambda: progress.advance(task))
    if as_json:
        print(json.dumps([p.as_dict() for p in predictions], indent=2))
    for p in predictions:
        if p.error:
            errors.print(f"error: {p.error}", highlight=False, soft_wrap=True)
        elif not as_json and output is None:
            console.print(
                f"{p.file}: [bold green]{p.genre}[/]  {route_text(p.route, predictor.cascade.tree.name)}",
                highlight=False,
                soft_wrap=True,
            )
    classified = sum(p.route is not None for p in predictions)
    if output is not None:
        write_predictions(predictions, output)
        errors.print(f"wrote {len(predictions)} predictions ({classified} classified) to {output}")
    if not classified:
        raise typer.Exit(1)


@app.command("evaluate")
def evaluate_command(
    data: Annotated[
        Path | None,
        typer.Option(help="Score on this whole dataset instead of the test part of each model's split."),
    ] = None,
    tree: Annotated[list[str] | None, typer.Option(help="Trained tree(s) to score (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every number as JSON instead of text.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write a Markdown report with PNG plots here.")] = None,
    routing: RoutingOption = "greedy",
    jobs: JobsOption = 1,
    workdir: WorkdirOption = None,
) -> None:
    """Score the trained cascade, flat model and 3-class baseline on held-out clips.

    Prints accuracy, balanced accuracy, per-class precision/recall/F1, per-node and per-level
    accuracy, hierarchical precision/recall/F1 and mistake severity (tree edges between the
    predicted and the true genre, measured on the built tree for every model), and confusion
    matrices.
    """
    from hiergenre import api
    from hiergenre.evaluation import confusion_text
    from hiergenre.reports import SUMMARY_HEADER, summary_rows, write_evaluation_report

    result = api.evaluate(workdir=workdir, data=data, trees=tree, jobs=jobs, routing=routing)
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        table = Table(title=f"Evaluation on {result.source}", box=box.SIMPLE_HEAD)
        for column in SUMMARY_HEADER:
            table.add_column(column, justify="left" if column == "model" else "right")
        for row in summary_rows(result.scores):
            table.add_row(*map(str, row))
        console.print(table)
        for name, scores in result.scores.items():
            recalls = ", ".join(f"{g} {100 * v['recall']:.0f}%" for g, v in scores.per_class.items())
            console.print(f"[bold]{name}[/]: per-class recall {recalls}", highlight=False)
            if scores.per_node and len(scores.per_node) > 1:
                nodes = ", ".join(
                    f"{n} {100 * v['accuracy']:.0f}% (n={v['support']})" for n, v in scores.per_node.items()
                )
                console.print(f"  node accuracy {nodes}", highlight=False)
            console.print(confusion_text(scores), highlight=False)
    if report is not None:
        path = write_evaluation_report(result, report)
        errors.print(f"report written to {path}")


@app.command("make-corpus")
def make_corpus_command(
    directory: Annotated[Path, typer.Argument(help="Where to write genres/<genre>/<genre>.000NN.au.")],
    clips_per_genre: Annotated[int, typer.Option(help="Clips per genre.")] = 10,
    seconds: Annotated[float, typer.Option(help="Length of each clip in seconds.")] = 15.0,
    seed: SeedOption = 0,
) -> None:
    """Write the embedded SYNTHETIC genre corpus to a folder (for demos, tests and benchmarks).

    It is generated audio, not music: use a real dataset such as GTZAN for real results.
    """
    from hiergenre.synthetic import write_corpus

    if clips_per_genre < 1 or seconds <= 0:
        raise HierGenreError("--clips-per-genre must be at least 1 and --seconds positive")
    root = write_corpus(directory, clips_per_genre=clips_per_genre, seconds=seconds, seed=seed)
    console.print(f"wrote {clips_per_genre} synthetic clips per genre to {root}")


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command in this process and return its exit code (what ``main`` and the tests use)."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="hiergenre", standalone_mode=True)
    except HierGenreError as exc:
        errors.print(f"error: {exc}", highlight=False, soft_wrap=True)
        return 1
    except SystemExit as exit:
        code = exit.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def main() -> None:
    """Entry point: native libraries' stderr is silenced (see :mod:`hiergenre.native`), then the command runs."""
    from hiergenre.native import silence_native_stderr

    silence_native_stderr()
    sys.exit(run())


if __name__ == "__main__":
    main()
