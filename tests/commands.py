"""Running the installed command line as a user types it, from the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def hiergenre(*args: object, workdir: Path, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """``hiergenre ARGS`` in a fresh process with ``HIERGENRE_WORKDIR=workdir``; raises on failure if ``check``."""
    env = {**os.environ, "HIERGENRE_WORKDIR": str(workdir)}
    result = subprocess.run(
        [sys.executable, "-m", "hiergenre.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(workdir).parent,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result
