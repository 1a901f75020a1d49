"""The undo log of ``hiergenre tag --write``: what each file's genre was, and how the file looked after.

Every write is recorded as an :class:`UndoEntry` (the values before and after, whether the file had a tag
block at all, and a fingerprint of the file as written). :func:`undo` puts the old values back, and takes
away a tag block the write added, but only to files that are still exactly as hiergenre left them: a file
edited since (by a tagger, a player, a second run) or gone is refused with a one-line reason, so an undo
never overwrites someone else's later change. Each run gets its own log under the XDG state folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hiergenre.errors import HierGenreError
from hiergenre.storage import read_json, write_json_atomic
from hiergenre.tagging.files import file_fingerprint, has_tag_block, read_genres, write_genres

UNDO_LOG_FORMAT = "hiergenre-tag-undo"
UNDO_LOG_VERSION = 1


@dataclass(frozen=True)
class UndoEntry:
    """One genre write: enough to put the file's genre back, and to see whether it changed since."""

    path: str  #: absolute
    before: list[str]  #: the genre strings exactly as stored before the write
    after: list[str]
    had_tags: bool  #: False: the write added the file's tag block, which undo removes again
    fingerprint_after: str  #: :func:`hiergenre.tagging.files.file_fingerprint` right after the write


@dataclass(frozen=True)
class UndoOutcome:
    """What undo did with one file: ``restored``, or refused/failed with a one-line ``reason``."""

    path: str
    restored: bool
    reason: str = ""
    #: The genre values the file has again (its values before the write), when restored.
    values: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"file": self.path, "restored": self.restored, "values": self.values, "reason": self.reason}


@dataclass
class UndoLog:
    """The writes of one run, saved as JSON with a format version and the UTC time it was created."""

    entries: list[UndoEntry] = field(default_factory=list)
    created_utc: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def save(self, path: str | Path) -> None:
        """Write the log atomically (a crash leaves the previous version, never half a log)."""
        write_json_atomic(
            path,
            {
                "format": UNDO_LOG_FORMAT,
                "version": UNDO_LOG_VERSION,
                "created_utc": self.created_utc,
                "entries": [asdict(entry) for entry in self.entries],
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> UndoLog:
        """Read a log written by :meth:`save`; a missing, damaged or foreign file is a one-line error."""
        data = read_json(path, what="tag undo log")
        if not isinstance(data, dict) or data.get("format") != UNDO_LOG_FORMAT:
            raise HierGenreError(f"not a hiergenre tag undo log: {path}")
        if data.get("version") != UNDO_LOG_VERSION:
            raise HierGenreError(f"tag undo log {path} has version {data.get('version')!r}; this hiergenre reads 1")
        try:
            entries = [_entry_from_json(item) for item in data["entries"]]
            return cls(entries=entries, created_utc=str(data["created_utc"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise HierGenreError(f"tag undo log {path} is damaged: {_one_line(exc)}") from None


def apply_write(path: str | Path, values: Sequence[str]) -> UndoEntry:
    """Write ``values`` as the file's genre and return what undoing it needs (the caller adds it to a log)."""
    absolute = Path(path).absolute()
    before = read_genres(absolute, as_stored=True)
    had_tags = has_tag_block(absolute)
    write_genres(absolute, values)
    return UndoEntry(
        path=str(absolute),
        before=before,
        after=list(values),
        had_tags=had_tags,
        fingerprint_after=file_fingerprint(absolute),
    )


def undo(log: UndoLog) -> list[UndoOutcome]:
    """Restore every logged file's old genre, newest write first; refuse files changed since or gone.

    A refused or failed file is left untouched and the others go on; the outcomes come in log order.
    """
    outcomes = [_undo_one(entry) for entry in reversed(log.entries)]
    return outcomes[::-1]


def default_undo_log_path(now: datetime | None = None) -> Path:
    """Where a ``--write`` run started at ``now`` (default: this moment) keeps its log, named by the UTC time.

    ``$XDG_STATE_HOME/hiergenre/tag-undo/`` (``~/.local/state/...`` when unset or relative, as the XDG
    spec says); microseconds in the name keep two runs in the same second apart, so each run has its own
    log. A naive ``now`` is taken as local time.
    """
    now = now or datetime.now(UTC)
    state_home = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state_home) if os.path.isabs(state_home) else Path.home() / ".local" / "state"
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return base / "hiergenre" / "tag-undo" / f"{stamp}.json"


def _undo_one(entry: UndoEntry) -> UndoOutcome:
    path = Path(entry.path)
    if not path.is_file():
        return UndoOutcome(entry.path, False, f"{path}: not restored, the file is gone")
    try:
        if file_fingerprint(path) != entry.fingerprint_after:
            if read_genres(path, as_stored=True) == entry.before:  # undone before: nothing left to do
                return UndoOutcome(entry.path, True, "already had its old genre", values=list(entry.before))
            return UndoOutcome(entry.path, False, f"{path}: not restored, the file changed after hiergenre wrote it")
        write_genres(path, entry.before, remove_empty_tag_block=not entry.had_tags)
    except HierGenreError as exc:
        return UndoOutcome(entry.path, False, f"not restored: {exc}")
    return UndoOutcome(entry.path, True, values=list(entry.before))


def _entry_from_json(item: Any) -> UndoEntry:
    """An entry from its JSON object, with its types checked: a damaged log must not write nonsense into files."""
    entry = UndoEntry(**item)
    lists_ok = all(
        isinstance(values, list) and all(isinstance(value, str) for value in values)
        for values in (entry.before, entry.after)
    )
    path_ok = isinstance(entry.path, str) and os.path.isabs(entry.path)
    if not (lists_ok and path_ok and isinstance(entry.had_tags, bool) and isinstance(entry.fingerprint_after, str)):
        raise ValueError("an entry has a wrong type")
    return entry


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
