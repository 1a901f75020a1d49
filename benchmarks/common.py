"""What every benchmark shares: paired statistics, the machine, and the code that was measured.

Every committed result records :func:`provenance` (hiergenre's version, the git commit of the
code measured and whether the tree had uncommitted changes, the date and the machine), so a
number can always be traced to the code that produced it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import hiergenre

ROOT = Path(__file__).resolve().parent.parent
#: Differences smaller than this count as ties (accuracies are multiples of 1/n_clips).
TIE = 1e-9


def paired(a: Any, b: Any) -> dict[str, Any]:
    """Per-run differences ``a − b`` of two paired series: mean, std, standard error, wins/ties/losses."""
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return {
        "per_run": diffs.tolist(),
        "mean": float(diffs.mean()),
        "std": float(diffs.std()),
        "sem": float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("nan"),
        "wins": int((diffs > TIE).sum()),
        "ties": int((abs(diffs) <= TIE).sum()),
        "losses": int((diffs < -TIE).sum()),
    }


def paired_text(d: dict[str, Any]) -> str:
    """``+2.3 ± 6.3 (7/5/3)``: mean ± std in points, wins/ties/losses."""
    return f"{100 * d['mean']:+.1f} ± {100 * d['std']:.1f} ({d['wins']}/{d['ties']}/{d['losses']})"


def mean_std_text(values: Any) -> str:
    """``77.0 ± 9.5``: mean ± std of accuracies, in percent."""
    values = np.asarray(values, dtype=float)
    return f"{100 * values.mean():.1f} ± {100 * values.std():.1f}"


def machine() -> str:
    """Processor architecture, cores, Python and system of this machine."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def git_commit() -> dict[str, Any]:
    """The commit of the code being measured, and whether the work tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "hiergenre", "benchmarks/*.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "uncommitted_changes": None}
    return {"commit": commit, "uncommitted_changes": bool(status)}


def provenance() -> dict[str, Any]:
    """Version, commit, date and machine: recorded in every benchmark result."""
    return {
        "hiergenre": hiergenre.__version__,
        **git_commit(),
        "date": str(datetime.now(UTC).date()),
        "machine": machine(),
    }


def provenance_line(p: dict[str, Any]) -> str:
    """One sentence of a report saying what code and machine produced it."""
    commit = p.get("commit", "not recorded")
    dirty = " plus uncommitted changes" if p.get("uncommitted_changes") else ""
    version, date, machine = p.get("hiergenre", "?"), p.get("date", "?"), p.get("machine", "?")
    return f"hiergenre {version} at commit `{commit[:12]}`{dirty}, {date}, {machine}."


def write_json(path: Path, data: Any) -> None:
    """Compact JSON (no indentation: committed results stay small)."""
    path.write_text(json.dumps(data, separators=(",", ":"), default=str), encoding="utf-8")


def output_and_scratch(out: str | Path, prefix: str) -> tuple[Path, Path]:
    """The results folder (created) and a fresh temporary folder for a benchmark's throw-away work."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out, Path(tempfile.mkdtemp(prefix=prefix))
