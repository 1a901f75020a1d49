"""The ``hiergenre`` command line: a thin layer over :mod:`hiergenre.api`.

Every expected failure becomes one line on stderr and exit code 1 (2 for an invalid command line);
Ctrl-C exits with 130. Help texts for presets, node models and routing policies come from their
registries, so they list exactly what exists.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hiergenre.cli import train, use  # noqa: F401 - registers the commands on ``app``
from hiergenre.cli.app import PIPE_WIDTH, app, console, errors
from hiergenre.errors import HierGenreError, InvalidValue

__all__ = ["app", "main", "run"]


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
