"""Writing predictions to a file: CSV (one row per file, or per timeline segment) or JSON, atomically."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from hiergenre.cascade.decoding import Decoded
from hiergenre.errors import InvalidValue
from hiergenre.prediction.outcome import Prediction
from hiergenre.storage import atomic_file

OUTPUT_FORMATS = (".csv", ".json")


def output_format(path: str | Path) -> str:
    """``.csv`` or ``.json``, from the file name; anything else is refused (before any work is done)."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise InvalidValue(f"--output {path}: use a .csv or .json file name")
    return suffix


def write_predictions(predictions: Sequence[Prediction], path: str | Path, *, top: int = 0) -> Path:
    """Write predictions as CSV or JSON (by the file's suffix), atomically.

    CSV columns: file, genre, p, path (``group>genre``), path_p (each step's probability), error,
    then ``genre_1, p_1 ... genre_K, p_K`` for ``top`` K.
    """
    path = Path(path)
    suffix = output_format(path)
    if suffix == ".json":
        text = json.dumps([p.as_dict(top) for p in predictions], indent=2)
    elif any(p.timeline is not None for p in predictions):
        text = timeline_csv(predictions)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        ranks = [f"{name}_{rank}" for rank in range(1, top + 1) for name in ("genre", "p")]
        decoded = ["node", "node_p", "depth", "leaf"] if any(p.decoded for p in predictions) else []
        sets = ["set"] if any(p.genre_set is not None for p in predictions) else []
        writer.writerow(["file", "genre", "p", "path", "path_p", "error", *ranks, *decoded, *sets])
        for p in predictions:
            steps = p.route.steps if p.route else []
            ranked = p.route.top(top) if p.route else []
            cells = [cell for genre, prob in ranked for cell in (genre, f"{prob:.6f}")]
            writer.writerow(
                [
                    p.file,
                    p.genre or "",
                    f"{p.route.p:.6f}" if p.route else "",
                    ">".join(s.choice for s in steps),
                    " ".join(f"{s.p:.4f}" for s in steps),
                    p.error or "",
                    *cells,
                    *[""] * (len(ranks) - len(cells)),
                    *(decoded_cells(p.decoded) if decoded else []),
                    *(["|".join(p.genre_set or [])] if sets else []),
                ]
            )
        text = buffer.getvalue()
    with atomic_file(path) as out:
        out.write(text)
    return path


def timeline_csv(predictions: Sequence[Prediction]) -> str:
    """One row per segment: file, start, end, genre, p, error (a failed file: one row with its error)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "start", "end", "genre", "p", "error"])
    for p in predictions:
        if p.timeline is None:
            writer.writerow([p.file, "", "", "", "", p.error or ""])
        for segment in p.timeline or []:
            row = segment.as_dict()
            writer.writerow([p.file, row["start"], row["end"], row["genre"] or "", row["p"] or "", ""])
    return buffer.getvalue()


def decoded_cells(decoded: Decoded | None) -> list[str]:
    """CSV cells node, node_p, depth, leaf (empty for a failed file)."""
    if decoded is None:
        return ["", "", "", ""]
    return [decoded.node, f"{decoded.p:.6f}", str(decoded.depth), str(decoded.leaf).lower()]
