"""The ``hiergenre`` command line: a thin layer over :mod:`hiergenre.api`.

Every expected failure becomes one line on stderr and exit code 1 (2 for an invalid command line);
Ctrl-C exits with 130. Help texts for presets, node models and routing policies come from their
registries, so they list exactly what exists.

A command's module is imported only when that command runs: ``hiergenre predict`` never imports
the training commands and their options (nor what those import), so that a cold prediction costs
little more than the libraries it uses. ``--help``, a bare ``hiergenre`` or an unknown command
import them all, so that the list of commands (and click's "did you mean") stays complete.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from hiergenre.cli.app import PIPE_WIDTH, app, console, errors
from hiergenre.errors import HierGenreError, InvalidValue

__all__ = ["COMMAND_MODULES", "app", "main", "register_commands", "run"]

#: The module that registers each command on ``app`` (a test checks this against the modules).
COMMAND_MODULES = {
    "build-tree": "hiergenre.cli.train",
    "train-all": "hiergenre.cli.train",
    "predict": "hiergenre.cli.use",
    "evaluate": "hiergenre.cli.use",
    "make-corpus": "hiergenre.cli.use",
    "info": "hiergenre.cli.use",
    "tag": "hiergenre.cli.tag",
}


def register_commands(argv: Sequence[str]) -> None:
    """Import the module of the command ``argv`` names (its first word), or every command module.

    The application's own options (``--version``, ``--help``) take no value, so the first word
    that is not an option names the command.
    """
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    wanted = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else list(dict.fromkeys(COMMAND_MODULES.values()))
    for module in wanted:
        importlib.import_module(module)


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command in this process and return its exit code (what ``main`` and the tests use)."""
    args = list(sys.argv[1:] if argv is None else argv)
    register_commands(args)
    for target in (console, errors):
        target.width = None if target.is_terminal else PIPE_WIDTH
    try:
        app(args=args, prog_name="hiergenre", standalone_mode=True)
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
