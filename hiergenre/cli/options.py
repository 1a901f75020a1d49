"""The options the commands share, and how the command line presents itself (help, usage, exit codes).

Exit codes: 0 success; 1 the command was valid but failed (unreadable data, a workspace without a
tree or models); 2 the command line itself is wrong (a usage error or an invalid value).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from hiergenre.cascade.routing import policy_help
from hiergenre.parallel.choose import CLUSTER_ENV
from hiergenre.presets import front_end_help

EXIT_CODES_HELP = (
    "Exit codes: 0 success, 1 the command failed (data, files, workspace), 2 the command line is wrong "
    "(usage or an invalid value)."
)


def _plain_metavars(params: list[Any]) -> list[Any]:
    """Arguments and flags without a type column (their name says it)."""
    for param in params:
        if isinstance(param, TyperArgument):
            param.display_type_rich = _no_type
        elif getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose help reads like a Unix tool's: ``Usage: hiergenre predict [OPTIONS] FILE...``.

    Typer 0.29 puts braces around required arguments in the usage line and shows Python types
    (``<list[Path]>``, ``<bool>``) next to arguments and flags; the metavars given here say it better.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """Typer's pieces without the braces it puts around required arguments."""
        return [piece.replace("{", "").replace("}", "") for piece in super().collect_usage_pieces(ctx)]

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, arguments and flags without a type column."""
        return _plain_metavars(super().get_params(ctx))


class Group(TyperGroup):
    """The ``hiergenre`` group, its ``--help`` shown without a type, like the commands'."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, flags without a type column."""
        return _plain_metavars(super().get_params(ctx))


def _no_type(ctx: Any) -> None:
    return None


WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        envvar="HIERGENRE_WORKDIR",
        metavar="DIR",
        help="Workspace folder for the tree, caches and models.",
        show_default="./.hiergenre",
    ),
]
SeedOption = Annotated[
    int, typer.Option("--seed", metavar="N", help="Seed for splits, weight initialisation and synthesis.")
]
DataOption = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR|CSV",
        help="Dataset: folder per genre (GTZAN layout works) or CSV manifest (path,genre).",
        show_default="the embedded SYNTHETIC corpus",
    ),
]
SplitOption = Annotated[
    str,
    typer.Option(
        metavar="SPLIT",
        help="'paper' (70/10/20 per genre), percentages summing to 100 like 70/30/0 (train/valid/test), "
        "'kfold:K:I' (fold I of K tests, the next validates), 'halves:1' or 'halves:2' (each genre's first "
        "half of clips by id trains, its last clip validating, and the second half tests, or the reverse: "
        "nearly unseen artists on GTZAN), 'gtzan-fault-filtered', or a folder with train.txt/valid.txt/test.txt "
        "of clip ids. The valid part calibrates: no model trains or early-stops on it; --target-accuracy A "
        "needs A/(1-A) of its clips.",
    ),
]
FeaturesOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help=f"Feature front-end the models learn from: {front_end_help()}",
        show_default="train-all: musicnn+lmfcc, or lmfcc when --preset, --node-model or --epochs is given; "
        "build-tree --learn: musicnn",
    ),
]
JobsOption = Annotated[int, typer.Option(metavar="N", help="Parallel processes for feature extraction.")]
ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        envvar=CLUSTER_ENV,
        metavar="ADDRESS",
        help="Run the independent jobs on a Dask cluster instead of --jobs local processes: 'local:N' starts "
        "a local cluster of N worker processes, 'tcp://host:8786' connects to a running scheduler (workers "
        "started with --nthreads 1). The workspace and the data must be at the same path on every worker "
        "(a shared filesystem). Needs pip install 'hiergenre[cluster]'.",
        show_default="local processes, no dask",
    ),
]
RoutingOption = Annotated[str, typer.Option(metavar="POLICY", help=f"Routing policy: {policy_help()}")]
MetadataOption = Annotated[
    Path | None,
    typer.Option(
        metavar="TRACKS_CSV",
        help="FMA's tracks.csv (genres.csv beside it) when --data is an FMA audio folder such as fma_small/: "
        "labels from each track's genres, FMA's own split as --split fma.",
    ),
]
TargetAccuracyOption = Annotated[
    float | None,
    typer.Option(
        metavar="A",
        help="Promise an accuracy: each prediction climbs from its genre towards the root until a node is probable "
        "enough, with the threshold set (split conformal) on the calibration clips, the split's validation part "
        "that no model trained on. Guarantee: on average, at least A of new clips like those get a node that "
        "contains their true genre (marginal, not per clip or per genre; none for music unlike the calibration "
        "clips). Needs at least A/(1-A) calibration clips: 9 for 0.9, 19 for 0.95.",
    ),
]
TreeOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Trained tree to use: also 'flat', 'baseline3' or any tree trained before in this workspace.",
        show_default="the built tree",
    ),
]
MinConfidenceOption = Annotated[
    float | None,
    typer.Option(
        metavar="P",
        help="Stop at an inner node (a group) when the most probable child below it has less than P "
        "of the probability: 'rhythmic (disco, pop, hiphop, reggae)' instead of a guess.",
    ),
]
DecodeOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="'hf1': predict the node (genre or group) with the highest expected hierarchical F1.",
        show_default="the genre the routing reaches",
    ),
]
