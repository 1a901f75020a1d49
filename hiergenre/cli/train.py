"""Commands that build and train: ``build-tree`` and ``train-all``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hiergenre.cascade.calibration import calibration_help
from hiergenre.cli.app import SYNTHETIC_NOTICE, app, console, errors
from hiergenre.cli.options import (
    ClusterOption,
    Command,
    DataOption,
    FeaturesOption,
    JobsOption,
    MetadataOption,
    SeedOption,
    SplitOption,
    WorkdirOption,
)
from hiergenre.data.trees import shipped_tree_names
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.presets import DEFAULT_PRESET, node_model_help, preset_help

if TYPE_CHECKING:
    from hiergenre.data.datasets import Dataset


@app.command("build-tree", cls=Command)
def build_tree_command(
    tree_file: Annotated[
        Path,
        typer.Argument(
            metavar="TREE_FILE",
            help="YAML tree file, e.g. hierarchies/default.yaml, or the name of a shipped tree: "
            f"{', '.join(shipped_tree_names())} (with --learn, --from-fma, --from-labels: the file to write).",
        ),
    ],
    learn: Annotated[
        bool,
        typer.Option(
            "--learn", help="Derive the groups from the confusions of a classifier on --data, write them to TREE_FILE."
        ),
    ] = False,
    from_fma: Annotated[
        Path | None,
        typer.Option(
            metavar="GENRES_CSV",
            help="Write the Free Music Archive's genre hierarchy (its genres.csv) to TREE_FILE, then build it.",
        ),
    ] = None,
    from_labels: Annotated[
        Path | None,
        typer.Option(
            metavar="MANIFEST_CSV",
            help="Write the tree that the path labels of a CSV manifest imply (Electronic---House, rock/punk) "
            "to TREE_FILE, then build it.",
        ),
    ] = None,
    min_tracks: Annotated[
        int, typer.Option(metavar="N", help="With --from-fma: fold genres with fewer tracks into their parent.")
    ] = 0,
    under: Annotated[
        str | None,
        typer.Option(metavar="GENRE", help="With --from-fma: only this top-level genre's subtree (e.g. Rock)."),
    ] = None,
    data: DataOption = None,
    split: SplitOption = "paper",
    groups: Annotated[int, typer.Option(metavar="N", help="With --learn: number of top-level groups.")] = 3,
    features: FeaturesOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --learn, --from-fma or --from-labels: overwrite TREE_FILE if it exists."),
    ] = False,
    jobs: JobsOption = 1,
    workdir: WorkdirOption = None,
    seed: SeedOption = 0,
) -> None:
    """Validate a genre tree, store it in the workspace and draw it to tree.png.

    The tree's file has a top-level 'tree:' whose value is a list of genres (a flat tree) or a
    mapping from group names to lists; a list item is a genre or a one-key mapping (a subgroup).
    Each group with two or more children gets one node model. TREE_FILE may also name a tree
    that ships with hiergenre (e.g. 'hiergenre build-tree default'); a file of that name wins.

    With --learn the groups come from data instead: out-of-fold confusions of a statistics
    classifier on the --features front-end's frames (musicnn's embedding by default, or LMFCC)
    on the train and valid parts of --split (never the test part) are clustered into --groups
    groups. The tree is written to TREE_FILE, with comments on how it was derived, for you to
    edit; then it is built like any other. With --from-fma the tree is the Free Music
    Archive's own genre hierarchy (its genres.csv: 163 genres under 16 top-level ones). Examples:

        hiergenre build-tree hierarchies/learned.yaml --learn --data ~/gtzan/genres --groups 3

        hiergenre build-tree fma.yaml --from-fma fma_metadata/genres.csv --min-tracks 100
    """
    from hiergenre import api
    from hiergenre.cli.render import tree_view
    from hiergenre.workspace.layout import Workspace

    previous = api.built_tree_or_none(workdir)
    if sum(x is not None and x is not False for x in (from_fma, from_labels, learn or None)) > 1:
        raise InvalidValue("--learn, --from-fma and --from-labels are three ways to make TREE_FILE: choose one")
    if (from_fma or from_labels) and data is not None:
        raise InvalidValue("--from-fma and --from-labels read their own file: drop --data")
    if (min_tracks or under) and from_fma is None:
        raise InvalidValue("--min-tracks and --under go with --from-fma")
    if from_fma is not None:
        made = api.fma_tree_file(tree_file, from_fma, workdir=workdir, min_tracks=min_tracks, under=under, force=force)
        folded = f"; {len(made.folded)} rarer genres folded into their parents" if made.folded else ""
        console.print(f"wrote {len(made.names)} FMA genres to {tree_file}{folded}", highlight=False)
        tree = made.tree
    elif from_labels is not None:
        tree = api.labels_tree_file(tree_file, from_labels, workdir=workdir, force=force)
        console.print(f"wrote the tree of the path labels of {from_labels} to {tree_file}", highlight=False)
    elif learn:
        learned = api.learn_tree(
            tree_file,
            workdir=workdir,
            data=data,
            split=split,
            groups=groups,
            seed=seed,
            jobs=jobs,
            force=force,
            features=features,
        )
        console.print(
            f"learned from {learned.clips} training clips (out-of-fold accuracy of the statistics classifier "
            f"{100 * learned.out_of_fold_accuracy:.0f}%); wrote {tree_file}"
        )
        tree = learned.tree
    elif data is not None or features is not None:
        option = "--data" if data is not None else "--features"
        raise HierGenreError(f"{option} is only used with --learn (train-all takes the training data and features)")
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
    metadata: MetadataOption = None,
    split: SplitOption = "paper",
    preset: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help=f"Model and training recipe of the LMFCC CNN (naming one trains LMFCC features unless --features "
            f"says otherwise). {preset_help()}",
            show_default=DEFAULT_PRESET,
        ),
    ] = None,
    features: FeaturesOption = None,
    node_model: Annotated[
        str | None,
        typer.Option(
            metavar="KIND",
            help=f"Classifier of every node: {node_model_help()}",
            show_default="ensemble on the default musicnn+lmfcc; the preset's cnn on lmfcc; stats on musicnn",
        ),
    ] = None,
    calibration: Annotated[
        str | None,
        typer.Option(
            metavar="METHOD",
            help=f"How node probabilities are calibrated after training: {calibration_help()} "
            "It never changes which child a node prefers.",
            show_default="the preset's: temperature",
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
    cluster: ClusterOption = None,
    baseline3: Annotated[
        bool, typer.Option("--baseline3/--no-baseline3", help="Also train the report's 3-class baseline.")
    ] = True,
    replace_data: Annotated[
        bool,
        typer.Option(
            "--replace-data",
            help="Replace models of the workspace trained on other data. Without it, train-all refuses to, and "
            "says which data they were trained on (models of the synthetic corpus are replaced without asking).",
        ),
    ] = False,
    workdir: WorkdirOption = None,
    seed: SeedOption = 0,
) -> None:
    """Train a model per tree node, the flat model and the 3-class baseline.

    By default every node mixes a logistic regression on the pretrained musicnn embedding with the
    preset's LMFCC CNN (--features musicnn+lmfcc: the default tree right on 85% of GTZAN clips by
    artists it never heard, against 86% for musicnn alone, which trains in seconds, and 55% for the
    LMFCC CNN alone). --features lmfcc, or naming --preset, --node-model or --epochs without
    --features, trains the paper's LMFCC CNNs (--preset paper: the report's recipe, unchanged).

    One model per decision node of the built tree, a flat model over the same genres, and the
    paper's 3-class baseline (metal, classical, disco) when the data has those genres.

    The split's validation part is kept for calibration: no model trains, early-stops or is
    chosen on it (networks early-stop on clips they hold out of the training part). Each node's
    probabilities are calibrated on it (one temperature per node, fitted on the deployed model,
    an ensemble's members averaged), and every node's scores of it are kept for predict
    --target-accuracy, whose guarantee needs enough of them (19 for 0.95: --split 70/30/0 on
    10 clips a genre). Features are cached in the workspace; models that are
    already trained on the same data, split and settings are reused, so an interrupted run
    continues where it stopped.
    """
    from hiergenre import api
    from hiergenre.cli.render import ProgressReporter, progress_bars
    from hiergenre.cli.summaries import interruption_explained, print_training

    with interruption_explained(errors), progress_bars(errors) as progress:
        extraction = None

        def dataset_ready(dataset: Dataset, count: int) -> None:
            nonlocal extraction
            if dataset.synthetic:
                errors.print(SYNTHETIC_NOTICE)
            extraction = progress.add_task("features", total=count, status="")

        report = api.train_all(
            workdir=workdir,
            data=data,
            metadata=metadata,
            split=split,
            preset=preset,
            features=features,
            node_model=node_model,
            calibration=calibration,
            epochs=epochs,
            jobs=jobs,
            cluster=cluster,
            seed=seed,
            reporter=ProgressReporter(progress),
            on_extracted=lambda: progress.advance(extraction),
            on_dataset=dataset_ready,
            baseline3=baseline3,
            replace_data=replace_data,
        )
    print_training(console, report)
