"""Running the command line as a user types it: in a fresh process (``hiergenre``) or in this one (``cli``)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Result:
    """Exit code and output of one command."""

    returncode: int
    stdout: str
    stderr: str


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


def model_dir(workdir: Path, tree: str) -> Path:
    """The folder of a trained tree's published node models (the one its manifest names)."""
    import json

    folder = workdir / "models" / tree
    return folder / json.loads((folder / "manifest.json").read_text()).get("models", "")


def train_tree(*args, **kwargs):
    """Every node model of one tree, trained in this process (``plan_tree``'s arguments)."""
    from hiergenre.training.jobs import run_node_jobs
    from hiergenre.training.tree import plan_tree

    return run_node_jobs(plan_tree(*args, **kwargs), workers=1)
