"""hiergenre's beets plugin: ``beet hiergenre [QUERY]`` sets the matching items' ``genres`` from their audio.

Enable it with ``plugins: hiergenre`` once hiergenre is installed with its ``beets`` extra. This module is a
portion of the ``beetsplug`` namespace package (beets looks its plugins up there), so hiergenre ships it
without an ``__init__.py``. beets imports every enabled plugin on every ``beet`` command, so hiergenre itself
(numpy, LiteRT, the models) is imported only inside the functions that classify, never at module level.

The plugin classifies with one dry run of :func:`hiergenre.api_tag.tag` and never writes files itself: it
sets each item's ``genres`` (beets 2.7+, a list written as several GENRE values), stores it, and lets
beets write the tags as its other commands do (``import.write``, :func:`beets.ui.should_write`).

Configuration (``hiergenre:`` in beets' config.yaml)::

    auto: no             # classify items as they are imported
    workdir: null        # hiergenre's workspace (default: $HIERGENRE_WORKDIR or ./.hiergenre; the bundled
                         # model answers when nothing is trained there)
    tree: null           # which trained tree (default: the workspace's built tree)
    min_confidence: null # let a prediction stop at a labelled group when no genre is this sure
    with_parents: no     # add the labelled groups above the genre (Metal -> [Metal, Rock])
    force: no            # replace genres items already have (as lastgenre)
    album: no            # an album gets the genres most of its tracks get, on the album and every track
    jobs: 2              # decoding processes
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import confuse
from beets import ui
from beets.plugins import BeetsPlugin

if TYPE_CHECKING:  # beets.importer imports numpy (through lap): only for the type checker
    from optparse import Values

    from beets.importer import ImportSession, ImportTask
    from beets.library import Album, Item, Library

#: The plugin's configuration and its defaults (documented in the module docstring).
DEFAULTS: dict[str, Any] = {
    "auto": False,
    "workdir": None,
    "tree": None,
    "min_confidence": None,
    "with_parents": False,
    "force": False,
    "album": False,
    "jobs": 2,
}

#: The statuses of :class:`hiergenre.tagging.choice.TagChange` whose ``after`` holds the file's genres.
CLASSIFIED = ("write", "same")


def album_genres(track_genres: Iterable[Sequence[str]]) -> list[str]:
    """The genres most of an album's tracks got, given each track's genres in track order.

    The most common list wins (a track's genres are one vote, not one vote per value, so an album of
    ``[Metal, Rock]`` tracks stays ``[Metal, Rock]``); a tie goes to the list that came first in track
    order; tracks that got nothing do not vote. No votes at all: ``[]``.
    """
    votes = [tuple(genres) for genres in track_genres if genres]
    if not votes:
        return []
    counts = Counter(votes)
    most = max(counts.values())
    return list(next(vote for vote in votes if counts[vote] == most))


def in_track_order(items: Iterable[Item]) -> list[Item]:
    """An album's items by disc and track number (the order that breaks :func:`album_genres`' ties)."""
    return sorted(items, key=lambda item: (item.disc or 0, item.track or 0, item.id or 0))


class HierGenrePlugin(BeetsPlugin):
    """Set items' (and with ``album: yes`` albums') ``genres`` from hiergenre's classification of their audio."""

    def __init__(self) -> None:
        super().__init__()
        self.config.add(DEFAULTS)
        #: Items an import stage classified: their files are written once beets has put them in place.
        self._unwritten: set[int] = set()
        if self.config["auto"].get(bool):
            self.import_stages = [self.imported]
            self.register_listener("import_task_files", self.write_imported)

    def commands(self) -> list[ui.Subcommand]:
        """``beet hiergenre [-f] [QUERY]``."""
        command = ui.Subcommand(
            "hiergenre", help="set the genres of the matching items from hiergenre's classification of their audio"
        )
        command.parser.add_option(
            "-f",
            "--force",
            dest="force",
            action="store_true",
            default=None,
            help="replace genres the items already have (config: force)",
        )
        command.func = self.run_command
        return [command]

    def run_command(self, lib: Library, opts: Values, args: list[str]) -> None:
        """Classify the items matching ``args``; write their tags when beets would (``import.write``, ``-w``)."""
        self.config.set_args(vars(opts))  # -f given overrides the config; absent (None) leaves it
        self.classify(list(lib.items(args)), write=ui.should_write())

    def imported(self, session: ImportSession, task: ImportTask) -> None:
        """Import stage (``auto: yes``): classify the imported items, store them, write nothing yet.

        The stage runs before beets copies or moves the files; :meth:`write_imported` writes the tags
        afterwards, into the files the library keeps (an as-is import would not write them at all).
        """
        changed = self.classify(list(task.imported_items()), write=False)
        self._unwritten.update(item.id for item in changed)

    def write_imported(self, session: ImportSession, task: ImportTask) -> None:
        """``import_task_files``: write the genres :meth:`imported` set, when the import writes tags."""
        write = ui.should_write()
        for item in task.imported_items():
            if item.id in self._unwritten:
                self._unwritten.discard(item.id)
                if write:
                    item.try_sync(write=True, move=False)

    def classify(self, items: list[Item], *, write: bool) -> list[Item]:
        """Set the genres of ``items`` (or, with ``album: yes``, of their albums) and store them; return the changed.

        An item (an album) that has genres already is skipped unless ``force``. All the files that need
        a classification go to one :func:`~hiergenre.api_tag.tag` call.
        """
        force = self.config["force"].get(bool)
        singles, albums = self.units(items)
        singles = [item for item in singles if force or not item.genres]
        albums = [album for album in albums if force or not album.genres]
        album_items = {album.id: in_track_order(album.items()) for album in albums}
        everything = singles + [item for tracks in album_items.values() for item in tracks]
        skipped = len(items) - len(singles) - sum(len(tracks) for tracks in album_items.values())
        if skipped > 0:
            self._log.info("{} item(s) keep the genres they have (-f or force: yes replaces them)", skipped)
        predicted = self.predict(everything)
        changed: list[Item] = []
        for item in singles:
            genres = predicted.get(str(item.filepath))
            if genres:
                item.genres = genres
                ui.show_model_changes(item, fields=["genres"])
                item.try_sync(write=write, move=False)
                changed.append(item)
        for album in albums:
            tracks = album_items[album.id]
            genres = album_genres(predicted.get(str(item.filepath), []) for item in tracks)
            if genres:
                album.genres = genres
                ui.show_model_changes(album, fields=["genres"])
                album.try_sync(write=write, move=False)  # stores the album and its tracks, which inherit genres
                changed += tracks
        return changed

    def units(self, items: list[Item]) -> tuple[list[Item], list[Album]]:
        """What gets genres: each item, or with ``album: yes`` each album (once) and each singleton."""
        if not self.config["album"].get(bool):
            return items, []
        singles: list[Item] = []
        albums: dict[int, Album] = {}
        for item in items:
            album = item.get_album()
            if album is None:
                singles.append(item)
            else:
                albums.setdefault(album.id, album)
        return singles, list(albums.values())

    def min_confidence(self) -> float | None:
        """``min_confidence`` as a number (YAML's ``1`` is an int), or None; hiergenre checks its range."""
        value = self.config["min_confidence"].get(confuse.Optional(confuse.Number()))
        return None if value is None else float(value)

    def predict(self, items: list[Item]) -> dict[str, list[str]]:
        """Each classified file's genres (by path), from one dry run of :func:`hiergenre.api_tag.tag`.

        A file that could not be classified gets one logged line and no entry; a prediction that
        names nothing to write (a group without a label) gets no entry either.
        """
        if not items:
            return {}
        from hiergenre.api_tag import tag  # imported here: numpy, LiteRT and the models only when classifying
        from hiergenre.errors import HierGenreError

        try:
            report = tag(
                [str(item.filepath) for item in items],
                write=False,
                force=True,  # which items to skip is this plugin's choice (their genres field), not the files'
                workdir=self.config["workdir"].get(confuse.Optional(confuse.Filename())),
                tree=self.config["tree"].get(confuse.Optional(str)),
                min_confidence=self.min_confidence(),
                with_parents=self.config["with_parents"].get(bool),
                jobs=self.config["jobs"].get(int),
            )
        except HierGenreError as exc:
            raise ui.UserError(f"hiergenre: {exc}") from exc
        genres: dict[str, list[str]] = {}
        for change in report.changes:
            if change.status in CLASSIFIED:
                genres[change.file] = list(change.after)
            elif change.status == "error":
                reason = change.reason if change.reason.startswith(change.file) else f"{change.file}: {change.reason}"
                self._log.warning("{}", reason)
            else:
                self._log.info("{}: {}", change.file, change.reason)
        return genres
