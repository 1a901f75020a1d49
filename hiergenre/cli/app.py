"""The ``hiergenre`` application object and its two consoles (results on stdout, progress and errors on stderr).

The commands live in :mod:`hiergenre.cli.train` and :mod:`hiergenre.cli.use`; :mod:`hiergenre.cli`
registers them and runs the application.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from hiergenre.cli.options import EXIT_CODES_HELP, Group

app = typer.Typer(
    help="Hierarchical music-genre classification: a genre tree, one small model per node "
    "(a pretrained musicnn embedding and an LMFCC CNN), routed root to leaf.\n\n"
    "Right after install: predict song.mp3 (the bundled model answers; info shows its card). "
    "Your own: build-tree default (or a YAML tree file), then train-all --data DIR, then predict song.mp3.",
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


def show_version(value: bool) -> None:
    """``--version``: print hiergenre's version and stop."""
    if value:
        from hiergenre import __version__

        console.print(f"hiergenre {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def common_options(
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Options every command shares."""
