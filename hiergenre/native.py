"""Keeping native libraries' stderr chatter away from users.

TensorFlow, the LiteRT runtime and libmpg123 write log lines straight to file descriptor 2
(oneDNN notices, "Created TensorFlow Lite XNNPACK delegate", "Cannot read next header"). They
ignore Python's logging and would bury the one-line messages users need. One mechanism handles
them: file descriptor 2 is pointed at ``/dev/null`` while Python's own ``sys.stderr`` keeps
writing to a duplicate of the real stream, so our messages, progress bars and tracebacks are
unaffected.

- :func:`silence_native_stderr` does it for the whole process (the command line, at start-up);
- :func:`native_stderr_muted` does it for one block (library users: around TensorFlow's import
  and the LiteRT runtime's first allocation). Inside a process already silenced it does nothing.

``HIERGENRE_NATIVE_STDERR=1`` shows the native output when debugging.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

_process_silenced = False


def _showing_native_output() -> bool:
    return bool(os.environ.get("HIERGENRE_NATIVE_STDERR"))


def silence_native_stderr() -> None:
    """Send descriptor 2 to /dev/null for the rest of the process; ``sys.stderr`` keeps the real stream."""
    global _process_silenced
    if _process_silenced or _showing_native_output():
        return
    sys.stderr.flush()
    real_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = open(real_stderr, "w", buffering=1, encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
    _process_silenced = True


@contextlib.contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Silence descriptor 2 for the duration of the block (Python exceptions still propagate)."""
    if _process_silenced or _showing_native_output():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
