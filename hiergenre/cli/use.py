"""Commands that use what was trained: ``predict``, ``evaluate``, and ``make-corpus`` for demo data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hiergenre.cli.app import app, console, errors
from hiergenre.cli.options import (
    ClusterOption,
    Command,
    DecodeOption,
    JobsOption,
    MetadataOption,
    MinConfidenceOption,
    RoutingOption,
    SeedOption,
    TargetAccuracyOption,
    TreeOption,
    WorkdirOption,
)
from hiergenre.errors import InvalidValue

if TYPE_CHECKING:
    from hiergenre.cascade.conformal import Guarantee


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
    runtime: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="What runs the node models. 'litert': the exported LiteRT models with numpy features, no "
            "TensorFlow or librosa (fast start); 'keras': the Keras models with librosa features (the reference).",
            show_default="litert",
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option(metavar="NAME", hidden=True, help="Old name of --runtime.")] = None,
    jobs: Annotated[
        int, typer.Option(metavar="N", help="Threads decoding files and computing features in parallel.")
    ] = 2,
    cluster: ClusterOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of text.")] = False,
    top: Annotated[
        int,
        typer.Option(
            metavar="K",
            help="Also list the K most probable genres (each genre's whole-path probability) in text, JSON and CSV.",
        ),
    ] = 0,
    min_confidence: MinConfidenceOption = None,
    decode: DecodeOption = None,
    target_accuracy: TargetAccuracyOption = None,
    sets: Annotated[
        bool,
        typer.Option(
            "--sets",
            help="With --target-accuracy: name a set of a few genres and groups instead of one node, with the same "
            "guarantee for the set (e.g. 'one of jazz, roots (blues, country)'): more specific than climbing to a "
            "broad group when two distant genres compete.",
        ),
    ] = False,
    timeline: Annotated[
        bool,
        typer.Option("--timeline", help="Also classify the whole file segment by segment (streamed: any length)."),
    ] = False,
    hop: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="With --timeline: seconds between segment starts.",
            show_default="one analysis window: ~13.9 s with lmfcc features, ~29.9 s with musicnn",
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(metavar="FILE.png", help="With --timeline and one file: draw genre probability over time."),
    ] = None,
    workdir: WorkdirOption = None,
) -> None:
    """Classify songs by routing them root to leaf through the trained tree.

    Each step prints the chosen group and its probability; long songs are scored on several
    windows whose probabilities are averaged. Folders are searched for audio files. A file that
    cannot be read is reported on stderr and the others are still classified; the exit code is
    non-zero only if no file could be classified. In a workspace with no trained tree, the
    model bundled with hiergenre answers (trained on 70 GTZAN clips; 'hiergenre info' shows its
    card), and stderr says so. Examples:

        hiergenre predict song.au

        hiergenre predict ~/music --output genres.csv --jobs 4

        hiergenre predict mix.wav --timeline --plot mix.png

        hiergenre predict song.mp3 --target-accuracy 0.9 --sets
    """

    from hiergenre import api_predict, api_trees  # not hiergenre.api: it imports training and evaluation
    from hiergenre.cascade.routing import get_policy
    from hiergenre.cli.render import files_progress, prediction_legend, prediction_text
    from hiergenre.prediction.output import output_format, write_predictions
    from hiergenre.viz.timeline import draw_timeline, timeline_lines

    if output is not None:
        output_format(output)
    if top < 0:
        raise InvalidValue(f"--top must be 0 or more, got {top}")
    if (hop is not None or plot is not None) and not timeline:
        raise InvalidValue("--hop and --plot go with --timeline")
    if plot is not None and (len(files) != 1 or not files[0].is_file()):
        raise InvalidValue("--plot draws the timeline of one file: give exactly one file")
    if hop is not None and hop <= 0:
        raise InvalidValue(f"--hop must be positive, got {hop}")
    if backend is not None:  # the deprecated name of --runtime
        if runtime not in (None, backend):
            raise InvalidValue("--backend is the old name of --runtime: give --runtime only")
        errors.print("note: --backend is now called --runtime", highlight=False)
    predictor = api_predict.load_predictor(
        workdir=workdir,
        tree=tree,
        routing=routing,
        runtime=runtime or backend or "litert",
        decode=decode,
        min_confidence=min_confidence,
        target_accuracy=target_accuracy,
        sets=sets,
    )
    if predictor.trained.bundled:
        errors.print(bundled_model_notice(workdir), highlight=False, soft_wrap=True)
    if predictor.trained.manifest.synthetic:
        errors.print(synthetic_models_notice([predictor.tree.name]), highlight=False, soft_wrap=True)
    if predictor.target is not None:
        errors.print(target_text(predictor.target), highlight=False, soft_wrap=True)
    single = len(files) == 1 and files[0].is_file()
    with files_progress(errors, show=not single) as on_done:
        predictions = api_predict.predict(
            files,
            predictor=predictor,
            jobs=jobs,
            cluster=cluster,
            on_done=on_done,
            timeline_hop=(hop or 0.0) if timeline else None,
        )
    if as_json:
        print(json.dumps([p.as_dict(top) for p in predictions], indent=2))
    elif output is None:
        built = api_trees.built_tree_or_none(workdir, serving=True)
        legend = prediction_legend(predictor.cascade.tree, get_policy(predictor.routing).name, built, predictor.decoder)
        console.print(legend, style="dim", highlight=False, soft_wrap=True)
    for p in predictions:
        if p.error:
            errors.print(f"error: {p.error}", highlight=False, soft_wrap=True)
        elif not as_json and output is None:
            console.print(
                prediction_text(p, predictor.cascade.tree, predictor.decoder), highlight=False, soft_wrap=True
            )
            if top:
                ranked = ", ".join(f"{genre} {prob:.2f}" for genre, prob in p.route.top(top))
                console.print(f"  top {top}: {ranked}", highlight=False, soft_wrap=True)
            for line in timeline_lines(p.timeline or []):
                console.print(f"  {line}", highlight=False)
    if plot is not None and predictions[0].timeline:
        draw_timeline(predictions[0], predictor.cascade.tree, plot)
        errors.print(f"timeline drawn to {plot}")
    classified = sum(p.route is not None for p in predictions)
    if output is not None:
        write_predictions(predictions, output, top=top)
        errors.print(f"wrote {len(predictions)} predictions ({classified} classified) to {output}")
    if not classified:
        raise typer.Exit(1)


def bundled_model_notice(workdir: Path | None) -> str:
    """What predict says once on stderr when the bundled model answered: which model, where to read about it."""
    from hiergenre.workspace.bundled import bundled_summary, card_page
    from hiergenre.workspace.layout import Workspace

    return (
        f"note: no trained tree in {Workspace(workdir).root}, so {bundled_summary()} answered; "
        f"what it knows and where it fails: 'hiergenre info' or {card_page()}. "
        "Train your own: hiergenre build-tree default, then hiergenre train-all --data DIR"
    )


def synthetic_models_notice(trees: list[str]) -> str:
    """What predict and evaluate say on stderr when models were trained on the synthetic corpus."""
    return (
        f"note: the models of {'tree' if len(trees) == 1 else 'trees'} {', '.join(trees)} were trained on the "
        "embedded SYNTHETIC corpus (generated clips, not music): their genres say little about real music; "
        "train on real data with 'hiergenre train-all --data DIR'"
    )


def target_text(guarantee: Guarantee) -> str:
    """What ``--target-accuracy`` set up, what it promises, and what it gave on the calibration clips."""
    seen = (
        f"on the calibration clips: {100 * guarantee.calibration_accuracy:.0f}% right, "
        f"{100 * guarantee.calibration_leaf_share:.0f}% given a genre"
    )
    how = f"climbing to a node of probability {guarantee.threshold:.2f} or more ({seen})"
    if guarantee.threshold < 1e-6:  # the scores below the quantile are 0: right at their genre
        how = f"every clip keeps its genre: enough calibration clips were right at theirs ({seen})"
    if guarantee.set_threshold is not None:
        how = f"sets of the genres with probability above {1 - guarantee.set_threshold:.2f}"
    return f"--target-accuracy {guarantee.target:g}: {guarantee.statement()}; {how}"


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
        Path | None,
        typer.Option(metavar="DIR", help="Write a Markdown report (DIR/report.md) and its PNG plots into this folder."),
    ] = None,
    metadata: MetadataOption = None,
    routing: RoutingOption = "greedy",
    target_accuracy: TargetAccuracyOption = None,
    jobs: JobsOption = 1,
    cluster: ClusterOption = None,
    workdir: WorkdirOption = None,
) -> None:
    """Score the trained cascade, flat model and 3-class baseline on held-out clips.

    Prints accuracy, balanced accuracy, per-class precision/recall/F1, per-node and per-level
    accuracy, hierarchical precision/recall/F1 and mistake severity (tree edges between the
    predicted and the true genre, measured on the built tree for every model), operating curves
    (right against specific as predictions stop earlier), the calibration of each model's
    probabilities before and after its temperatures, and confusion matrices. With
    --target-accuracy, each model's threshold chosen on its validation clips and what it gives
    on the test clips.
    """
    from hiergenre import api
    from hiergenre.cli.summaries import print_evaluation
    from hiergenre.viz.reports import write_evaluation_report

    chosen = [name for value in [*(tree or []), *(trees or [])] for name in value.split(",") if name]
    if report is not None and (report.suffix.lower() in (".md", ".markdown") or report.is_file()):
        raise InvalidValue(
            f"--report takes a folder, where report.md and its PNG plots go: {report} names a file; "
            f"give a folder such as {report.with_suffix('')}"
        )
    result = api.evaluate(
        workdir=workdir,
        data=data,
        metadata=metadata,
        trees=chosen or None,
        jobs=jobs,
        cluster=cluster,
        routing=routing,
        target_accuracy=target_accuracy,
    )
    if result.synthetic:
        errors.print(synthetic_models_notice(result.synthetic), highlight=False, soft_wrap=True)
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print_evaluation(console, result)
    if report is not None:
        path = write_evaluation_report(result, report)
        errors.print(f"report written to {path}")


@app.command("make-corpus", cls=Command)
def make_corpus_command(
    directory: Annotated[Path, typer.Argument(metavar="DIRECTORY", help="Where to write genres/GENRE/GENRE.000NN.au.")],
    clips_per_genre: Annotated[int, typer.Option(metavar="N", help="Clips per genre.")] = 10,
    seconds: Annotated[float, typer.Option(metavar="SECONDS", help="Length of each clip in seconds.")] = 15.0,
    taxonomy: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="'gtzan': ten genres named like GTZAN's; 'deep': 30 variants in three levels (families, "
            "genres, variants), with its tree written to DIRECTORY/deep.yaml.",
        ),
    ] = "gtzan",
    seed: SeedOption = 0,
) -> None:
    """Write the embedded SYNTHETIC genre corpus to a folder (for demos, tests and benchmarks).

    It is generated audio, not music: use a real dataset such as GTZAN for real results. Example:

        hiergenre make-corpus deep-corpus --taxonomy deep --clips-per-genre 6 --seconds 8
    """
    from hiergenre.data.synthetic.corpus import write_corpus
    from hiergenre.data.synthetic.deep import deep_styles, deep_tree
    from hiergenre.data.synthetic.styles import STYLES

    if clips_per_genre < 1 or seconds <= 0:
        raise InvalidValue("--clips-per-genre must be at least 1 and --seconds positive")
    styles = {"gtzan": STYLES, "deep": deep_styles()}.get(taxonomy)
    if styles is None:
        raise InvalidValue(f"unknown taxonomy {taxonomy!r}; choose 'gtzan' or 'deep'")
    root = write_corpus(directory, clips_per_genre=clips_per_genre, seconds=seconds, seed=seed, styles=styles)
    console.print(f"wrote {clips_per_genre} synthetic clips per genre ({len(styles)} genres) to {root}")
    if taxonomy == "deep":
        (Path(directory) / "deep.yaml").write_text(deep_tree().to_yaml(), encoding="utf-8")
        console.print(
            f"its tree: {Path(directory) / 'deep.yaml'} (hiergenre build-tree {Path(directory) / 'deep.yaml'})"
        )


@app.command("info", cls=Command)
def info_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON instead of text.")] = False,
    workdir: WorkdirOption = None,
) -> None:
    """Show what a workspace holds: the built tree, the trained trees and how each was trained, sizes on disk.

    Where nothing is trained, the card of the bundled model that answers predict instead: its
    genres and tree, training and calibration clips, features, accuracy on new artists, where it
    is known to fail, licences.
    """
    from hiergenre import api
    from hiergenre.cli.summaries import print_info

    found = api.info(workdir=workdir)
    if as_json:
        print(json.dumps(found, indent=2))
    else:
        print_info(console, found)
