"""Writing files so that a reader never sees a half-written one.

Everything hiergenre leaves on disk (models, LiteRT files, feature cache entries, manifests,
trees, prediction outputs, reports) is written to a temporary name in the same folder and renamed
over the target only once complete. A crash, Ctrl-C or ``kill -9`` mid-write leaves at worst a
stray hidden temporary file, never a truncated file under the real name.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hiergenre.errors import HierGenreError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path (same folder, same suffix) that replaces ``path`` when the block succeeds.

    For writers that want a file name rather than a handle (Keras ``save``/``export``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp's 0600 is for the temporary file only
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def current_umask() -> int:
    """The process's umask, read without changing it where the platform allows (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (briefly process-wide)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """An open file (text UTF-8 unless ``mode`` has ``b``) whose content replaces ``path`` on success."""
    with atomic_path(path) as tmp:
        options = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with open(tmp, mode, **options) as out:
            yield out


def write_json_atomic(path: str | Path, data: Any, *, compact: bool = False) -> None:
    """Write JSON through a temporary file and a rename: never a half-written file.

    ``compact`` writes no indentation or spaces (for records of thousands of numbers, such as a node's
    coefficients: a third smaller, which matters for the model shipped in the package).
    """
    with atomic_file(path) as out:
        if compact:
            json.dump(data, out, separators=(",", ":"))
        else:
            json.dump(data, out, indent=2)


def read_json(path: str | Path, *, what: str) -> Any:
    """Read a JSON file, turning absence or corruption into a one-line error naming ``what``."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HierGenreError(f"{what} not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise HierGenreError(f"{what} is unreadable ({path}): {exc}") from None


def read_csv_rows(path: str | Path, *, what: str, as_dicts: bool = False) -> list[Any]:
    """Every row of a UTF-8 CSV file (lists, or dicts keyed by the header with ``as_dicts``).

    A missing or unreadable file is one line naming ``what`` it should have been
    ("FMA genre table not found: ..."), never a traceback.
    """
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle) if as_dicts else csv.reader(handle))
    except FileNotFoundError:
        raise HierGenreError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HierGenreError(f"cannot read {what} {path}: {exc}") from None
