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
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from hiergenre.cli_options import (
    EXIT_CODES_HELP,
    Command,
    DataOption,
    Group,
    JobsOption,
    RoutingOption,
    SeedOption,
    SplitOption,
    TreeOption,
    WorkdirOption,
)
from hiergenre.config import DEFAULT_PRESET, node_model_help, preset_help
from hiergenre.errors import HierGenreError, InvalidValue

if TYPE_CHECKING:
    from hiergenre.datasets import Dataset

app = typer.Typer(
    help="Hierarchical music-genre classification with small LMFCC CNNs.\n\n"
    "Typical session: build-tree hierarchies/default.yaml, then train-all [--data DIR], "
    "then predict song.au.",
    epilog=EXIT_CODES_HELP,
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
console = Console()
errors = Console(stderr=True)
#: Columns of tables written to a file or a pipe (rich would cut them at 80).
PIPE_WIDTH = 160
SYNTHETIC_NOTICE = (
    "[yellow]No --data given: training on the embedded SYNTHETIC corpus "
    "(generated clips, not music; written to the workspace on first use). "
    "Use --data DIR for a real dataset such as GTZAN.[/]"
)


@app.command("build-tree", cls=Command)
def build_tree_command(
    tree_file: Annotated[
        Path,
        typer.Argument(
            metavar="TREE_FILE", help="YAML tree file, e.g. hierarchies/default.yaml (with --learn: the file to write)."
        ),
    ],
    learn: Annotated[
        bool,
        typer.Option(
            "--learn", help="Derive the groups from the confusions of a classifier on --data, write them to TREE_FILE."
        ),
    ] = False,
    data: DataOption = None,
    split: SplitOption = "paper",
    groups: Annotated[int, typer.Option(metavar="N", help="With --learn: number of top-level groups.")] = 3,
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

    previous = api.built_tree_or_none(workdir)
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
    if previous is not None and previous.name != tree.name:
        console.print(
            f"The built tree is now {tree.name!r} (was {previous.name!r}): train-all trains it; predict and "
            f"evaluate use it by default, and --tree {previous.name} still reaches the old one if it was trained.",
            highlight=False,
        )
    if tree.name not in space.trained_trees():
        console.print(f"Next: hiergenre train-all --data DIR to train tree {tree.name!r}.", highlight=False)


@app.command("train-all", cls=Command)
def train_all_command(
    data: DataOption = None,
    split: SplitOption = "paper",
    preset: Annotated[
        str, typer.Option(metavar="NAME", help=f"Model and training recipe. {preset_help()}")
    ] = DEFAULT_PRESET,
    node_model: Annotated[
        str | None,
        typer.Option(
            metavar="KIND", help=f"Classifier of every node: {node_model_help()}", show_default="the preset's: cnn"
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Cap on training epochs per network.",
            show_default="the preset's: 1000 for paper, at most 400 for the others",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Parallel processes extracting features and training node models. "
            "The models are the same whatever their number.",
            show_default="one per core",
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
    from hiergenre.render import ProgressReporter, print_training, progress_bars

    with progress_bars(errors) as progress:
        extraction = None

        def dataset_ready(dataset: Dataset, count: int) -> None:
            nonlocal extraction
            if dataset.synthetic:
                errors.print(SYNTHETIC_NOTICE)
            extraction = progress.add_task("features", total=count, status="")

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
            on_dataset=dataset_ready,
            baseline3=baseline3,
        )
    print_training(console, report)


@app.command("predict", cls=Command)
def predict_command(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", help="Audio files or folders (au, wav, flac, ogg, mp3).")
    ],
    tree: TreeOption = None,
    routing: RoutingOption = "greedy",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write all predictions to this .csv or .json file (atomically)."
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="'litert': the exported LiteRT models with numpy features, no TensorFlow or librosa (fast start); "
            "'keras': the Keras models with librosa features (the reference).",
        ),
    ] = "litert",
    jobs: Annotated[
        int, typer.Option(metavar="N", help="Threads decoding files and computing features in parallel.")
    ] = 2,
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
    from hiergenre.render import prediction_legend, route_text
    from hiergenre.routing import get_policy

    if output is not None:
        output_format(output)
    predictor = api.load_predictor(workdir=workdir, tree=tree, routing=routing, backend=backend)
    single = len(files) == 1 and files[0].is_file()
    with Progress(
        TextColumn("classifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=single or not errors.is_terminal,
    ) as progress:
        task = progress.add_task("classifying", total=None)
        predictions = api.predict(files, predictor=predictor, jobs=jobs, on_done=lambda: progress.advance(task))
    if as_json:
        print(json.dumps([p.as_dict() for p in predictions], indent=2))
    elif output is None:
        legend = prediction_legend(predictor.cascade.tree, get_policy(routing).name, api.built_tree_or_none(workdir))
        console.print(legend, style="dim", highlight=False, soft_wrap=True)
    for p in predictions:
        if p.error:
            errors.print(f"error: {p.error}", highlight=False, soft_wrap=True)
        elif not as_json and output is None:
            console.print(
                f"{p.file}: [bold green]{p.genre}[/] (p={p.route.p:.2f})  {route_text(p.route)}",
                highlight=False,
                soft_wrap=True,
            )
    classified = sum(p.route is not None for p in predictions)
    if output is not None:
        write_predictions(predictions, output)
        errors.print(f"wrote {len(predictions)} predictions ({classified} classified) to {output}")
    if not classified:
        raise typer.Exit(1)


@app.command("evaluate", cls=Command)
def evaluate_command(
    data: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR|CSV", help="Score on this whole dataset instead of the test part of each model's split."
        ),
    ] = None,
    trees: Annotated[
        list[str] | None,
        typer.Argument(metavar="TREE", help="Trained trees to score, e.g. default flat.", show_default="all"),
    ] = None,
    tree: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="A tree to score (repeatable; same as the TREE arguments)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every number as JSON instead of text.")] = False,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write a Markdown report with PNG plots here.")
    ] = None,
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
    from hiergenre.render import print_evaluation
    from hiergenre.reports import write_evaluation_report

    chosen = [name for value in [*(tree or []), *(trees or [])] for name in value.split(",") if name]
    result = api.evaluate(workdir=workdir, data=data, trees=chosen or None, jobs=jobs, routing=routing)
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print_evaluation(console, result)
    if report is not None:
        path = write_evaluation_report(result, report)
        errors.print(f"report written to {path}")


@app.command("make-corpus", cls=Command)
def make_corpus_command(
    directory: Annotated[
        Path, typer.Argument(metavar="DIRECTORY", help="Where to write genres/<genre>/<genre>.000NN.au.")
    ],
    clips_per_genre: Annotated[int, typer.Option(metavar="N", help="Clips per genre.")] = 10,
    seconds: Annotated[float, typer.Option(metavar="SECONDS", help="Length of each clip in seconds.")] = 15.0,
    seed: SeedOption = 0,
) -> None:
    """Write the embedded SYNTHETIC genre corpus to a folder (for demos, tests and benchmarks).

    It is generated audio, not music: use a real dataset such as GTZAN for real results.
    """
    from hiergenre.synthetic import write_corpus

    if clips_per_genre < 1 or seconds <= 0:
        raise InvalidValue("--clips-per-genre must be at least 1 and --seconds positive")
    root = write_corpus(directory, clips_per_genre=clips_per_genre, seconds=seconds, seed=seed)
    console.print(f"wrote {clips_per_genre} synthetic clips per genre to {root}")


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command in this process and return its exit code (what ``main`` and the tests use)."""
    for target in (console, errors):
        target.width = None if target.is_terminal else PIPE_WIDTH
    try:
        app(args=list(argv) if argv is not None else None, prog_name="hiergenre", standalone_mode=True)
    except HierGenreError as exc:
        errors.print(f"error: {exc}", highlight=False, soft_wrap=True)
        return 2 if isinstance(exc, InvalidValue) else 1
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
