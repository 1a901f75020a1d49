"""The Python API of tagging: genres written into files' own tags, and undone.

Part of :mod:`hiergenre.api`'s surface (re-exported by :mod:`hiergenre`). :func:`tag` plans (a dry
run) or writes each file's genre tag from the prediction of the workspace's trained tree (or the
bundled model); :func:`undo_tags` restores what a ``--write`` run replaced. The file side lives in
:mod:`hiergenre.tagging`.

>>> report = hiergenre.tag(["~/music/new"], write=True)                 # doctest: +SKIP
>>> hiergenre.undo_tags(report.undo_log)                                  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hiergenre.api_predict import load_predictor
from hiergenre.api_trees import at_least_one, built_tree_or_none
from hiergenre.errors import HierGenreError
from hiergenre.prediction.predictor import Predictor, expand_inputs
from hiergenre.tagging.choice import TagChange, labelled, planned_change
from hiergenre.tagging.files import read_genres
from hiergenre.tagging.undo import UndoLog, UndoOutcome, apply_write, default_undo_log_path, undo

__all__ = ["TagReport", "tag", "undo_tags"]


@dataclass
class TagReport:
    """What :func:`tag` planned or did, file by file, and where its undo log is."""

    changes: list[TagChange]
    written: bool
    #: The undo log of a ``write`` run that changed files (None for a dry run, or when nothing changed).
    undo_log: Path | None = None
    seconds: float = 0.0
    #: The model that chose the genres: a workspace's tree, or the bundled model.
    model: dict[str, Any] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """How many files have ``status`` (see :data:`hiergenre.tagging.choice.STATUSES`)."""
        return sum(change.status == status for change in self.changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "written": self.written,
            "undo_log": str(self.undo_log) if self.undo_log else None,
            "seconds": self.seconds,
            "model": self.model,
            "files": [change.as_dict() for change in self.changes],
        }


def tag(
    paths: Iterable[str | Path],
    *,
    write: bool = False,
    force: bool = False,
    with_parents: bool = False,
    workdir: str | Path | None = None,
    tree: str | None = None,
    routing: str = "greedy",
    min_confidence: float | None = None,
    decode: str | None = None,
    jobs: int = 1,
    undo_log: str | Path | None = None,
    predictor: Predictor | None = None,
    on_done: Callable[[], None] | None = None,
) -> TagReport:
    """Plan each file's genre tag from its prediction, and with ``write`` write it.

    Directories expand to their audio files. A file that already has a genre is kept unless
    ``force`` (it is not even classified). A file whose format holds no tags, or that cannot be
    read or written, gets one line and the others go on. ``min_confidence`` / ``decode="hf1"`` let
    a prediction stop at a group, which writes its ``labels:`` text from the tree file, or nothing.
    ``write`` records what it replaced in an undo log (``undo_log``, or a new file under the user's
    state folder), saved after every file, so an interrupted run can be undone too. The labels come
    from the built tree of ``workdir`` (or of the bundled model): a ``predictor`` given should be that
    workspace's.
    """
    at_least_one(jobs, "--jobs")
    started = time.perf_counter()
    inputs = list(dict(expand_inputs(paths)).items())  # each file once, in the order given
    changes: dict[str, TagChange] = {}
    candidates: list[tuple[str, list[str]]] = []
    for path, error in inputs:
        if error:
            changes[path] = TagChange(path, "error", reason=error)
            continue
        try:
            before = read_genres(path)
        except HierGenreError as exc:
            changes[path] = TagChange(path, "error", reason=str(exc))
            continue
        if before and not force:
            changes[path] = TagChange(path, "kept", before, before, "has a genre; --force replaces it")
        else:
            candidates.append((path, before))
    if predictor is None and candidates:
        predictor = load_predictor(
            workdir=workdir, tree=tree, routing=routing, decode=decode, min_confidence=min_confidence
        )
    if candidates:
        built = built_tree_or_none(workdir, serving=True)
        named = labelled(predictor.tree, built.labels if built is not None else {})
        predictions = predictor.predict_files([path for path, _ in candidates], jobs=jobs, on_done=on_done)
        for (path, before), prediction in zip(candidates, predictions, strict=True):
            changes[path] = planned_change(path, before, prediction, named, with_parents)
    ordered = [changes[path] for path, _ in inputs]
    report = TagReport(ordered, write, model=model_record(predictor) if predictor else {})
    if write:
        report.undo_log = write_changes(ordered, Path(undo_log) if undo_log else None)
    report.seconds = time.perf_counter() - started
    return report


def write_changes(changes: list[TagChange], log_path: Path | None) -> Path | None:
    """Write every planned change, saving the undo log after each file; a failed file becomes an error line."""
    pending = [change for change in changes if change.status == "write"]
    if not pending:
        return None
    log_path = log_path or default_undo_log_path()
    log = UndoLog([])
    for change in pending:
        try:
            log.entries.append(apply_write(change.file, change.after))
        except HierGenreError as exc:
            change.status, change.reason, change.after = "error", str(exc), change.before
            continue
        log.save(log_path)
    return log_path if log.entries else None


def undo_tags(log: str | Path) -> list[UndoOutcome]:
    """Restore the genre values a ``write`` run replaced, file by file; a file changed since is refused."""
    return undo(UndoLog.load(Path(log)))


def model_record(predictor: Predictor) -> dict[str, Any]:
    """Which model chose the genres: tree, decoder and whether it is the bundled model."""
    return {
        "tree": predictor.tree.name,
        "bundled": predictor.trained.bundled,
        "decoder": type(predictor.decoder).__name__,
    }
