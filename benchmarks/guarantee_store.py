"""How :mod:`benchmarks.guarantee` keeps its raw scores: one compressed ``.npz`` per stage and front-end.

Arrays are named ``<run>/<what>`` (``seed3/genres``, ``seed3/node/root``, ``seed3/flat``...; the halves
add ``/cal`` and ``/test``), beside ``tree`` (the default tree's YAML) and ``leaves`` (its genre
order, the flat model's columns). A stage reads the file, adds a run and writes it back whole,
so an interrupted stage loses at most the run it was on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.guarantee_analysis import Run
from hiergenre.cascade.hierarchy import GenreTree


def load_store(path: Path) -> dict[str, np.ndarray]:
    """Every array of ``path`` by ``<run>/<what>`` name (empty when it does not exist yet)."""
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        packed = {key: data[key] for key in data.files}
    return unpack(packed)


def save_store(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write all ``arrays`` packed and compressed, atomically (a temporary file renamed over the old one)."""
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **pack(arrays))
    os.replace(tmp, path)


def pack(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One array per ``<what>``, stacked over the runs (``runs`` names them), probabilities as float32.

    Few large arrays compress far better than hundreds of small ones, and float32 keeps 7 digits
    of a probability: the committed scores stay small, and the report is rebuilt from exactly them.
    """
    runs = sorted({key.split("/", 1)[0] for key in arrays if "/" in key})
    fields = sorted({key.split("/", 1)[1] for key in arrays if "/" in key})
    out = {key: value for key, value in arrays.items() if "/" not in key}
    out["runs"] = np.array(runs)
    for field in fields:
        values = [arrays[f"{run}/{field}"] for run in runs]
        if len({np.shape(v) for v in values}) > 1:  # runs of different sizes: kept apart
            out.update({f"{run}/{field}": v for run, v in zip(runs, values, strict=True)})
            continue
        stacked = np.stack(values)
        out[f"stack:{field}"] = stacked.astype(np.float32) if stacked.dtype == np.float64 else stacked
    return out


def unpack(packed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack` (float32 probabilities come back as float64 of the same values)."""
    if "runs" not in packed:
        return packed
    out = {key: value for key, value in packed.items() if key != "runs" and not key.startswith("stack:")}
    for key, stacked in packed.items():
        if key.startswith("stack:"):
            field = key.removeprefix("stack:")
            for run, value in zip(packed["runs"], stacked, strict=True):
                out[f"{run}/{field}"] = value.astype(np.float64) if value.dtype == np.float32 else value
    return out


def append_command(out: Path, command: str, seconds: float) -> None:
    """Record a stage's command line and wall seconds in ``<out>/commands.json``."""
    path = out / "commands.json"
    done = json.loads(path.read_text()) if path.is_file() else []
    done.append({"command": command, "wall_seconds": round(seconds, 1)})
    path.write_text(json.dumps(done, indent=1))


def read_commands(out: Path) -> list[dict[str, Any]]:
    """The recorded stages, oldest first."""
    path = out / "commands.json"
    return json.loads(path.read_text()) if path.is_file() else []


def store_tree(store: dict[str, np.ndarray]) -> GenreTree:
    """The default tree the runs were trained with."""
    return GenreTree.from_yaml_text(str(store["tree"]), "default")


def run_names(store: dict[str, np.ndarray], suffix: str = "/genres") -> list[str]:
    """The runs of a store (``seed0``, ``seed1``... or ``seed0-half1/cal``...), in seed order."""
    names = [key.removesuffix(suffix) for key in store if key.endswith(suffix)]
    return sorted(names, key=lambda name: [int(t) if t.isdigit() else t for t in name.replace("-", "/").split("/")])


def read_run(store: dict[str, np.ndarray], prefix: str) -> Run:
    """The :class:`Run` stored under ``prefix``."""
    nodes = {
        key.removeprefix(f"{prefix}/node/"): value for key, value in store.items() if key.startswith(f"{prefix}/node/")
    }
    return Run(prefix, [str(g) for g in store[f"{prefix}/genres"]], nodes, store[f"{prefix}/flat"])


def train_seconds(store: dict[str, np.ndarray]) -> list[float]:
    """Each run's training wall seconds, in run order."""
    names = [key.removesuffix("/train_seconds") for key in store if key.endswith("/train_seconds")]
    return [float(store[f"{name}/train_seconds"]) for name in sorted(names, key=lambda n: int(n[4:].split("-")[0]))]
