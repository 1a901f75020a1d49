"""The beets plugin (``beetsplug/hiergenre.py``) in a real beets library: ``beet import``, then ``beet hiergenre``.

Every ``beet`` command runs in a fresh process, as a user types it, against a library in a temporary
folder (``BEETSDIR``) of synthetic mp3, FLAC and Ogg files, with an empty hiergenre workspace so the
bundled model answers. The checks read the library database through beets' Python API and the files'
own genre tags through mutagen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import mutagen
import pytest
import soundfile
import yaml

from tests.commands import ROOT
from tests.sounds import music

beets_library = pytest.importorskip("beets.library")  # the beets extra: pip install hiergenre[beets]

#: What the bundled model may write: the labels of the default tree (its genres, and the groups that have one).
LABELS = set(yaml.safe_load((ROOT / "hiergenre" / "hierarchies" / "default.yaml").read_text())["labels"].values())

#: Singletons, one per format: (file name, soundfile format, title, the genre tag it has before the import).
SINGLES = (
    ("alpha.mp3", "MP3", "Alpha", None),
    ("beta.flac", "FLAC", "Beta", None),
    ("gamma.ogg", "OGG", "Gamma", None),
    ("delta.ogg", "OGG", "Delta", "Ambient"),
)


def write_song(path: Path, kind: str, seed: int, **tags: str) -> None:
    """A 4 s synthetic song with the given tags (title, artist, album, tracknumber, genre)."""
    soundfile.write(path, music(4.0, seed=seed), 22050, format=kind)
    song = mutagen.File(path, easy=True)
    if song.tags is None:
        song.add_tags()
    for key, value in tags.items():
        song[key] = value
    song.save()


def file_genres(path: str | Path) -> list[str]:
    """The genre values in a file's own tags (ID3 TCON, Vorbis GENRE comments)."""
    return list(mutagen.File(path, easy=True).get("genre", []))


class Beets:
    """A beets library in a folder: ``beet`` commands in fresh processes, and its database read back."""

    def __init__(self, root: Path, **plugin_config: object) -> None:
        self.root = root
        self.config_dir = root / "config"
        self.config_dir.mkdir(parents=True)
        self.database = root / "library.db"
        self.workdir = root / "hiergenre-workdir"  # empty: the bundled model answers
        self.workdir.mkdir()
        config = {
            "plugins": "hiergenre",
            "directory": str(root / "library"),
            "library": str(self.database),
            "import": {"copy": False, "write": True, "autotag": False, "resume": False, "log": None},
            "hiergenre": {"jobs": 1, **plugin_config},
        }
        (self.config_dir / "config.yaml").write_text(yaml.safe_dump(config))

    def run(self, *args: object) -> subprocess.CompletedProcess:
        """``beet ARGS`` in a fresh process; fails the test with its output if it fails."""
        env = {**os.environ, "BEETSDIR": str(self.config_dir), "HIERGENRE_WORKDIR": str(self.workdir)}
        command = [sys.executable, "-m", "beets", *map(str, args)]
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=self.root, timeout=120)
        assert result.returncode == 0, f"beet {args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    def genres(self) -> dict[str, list[str]]:
        """Each item's genres in the database, by title."""
        library = beets_library.Library(str(self.database))
        try:
            return {item.title: list(item.genres) for item in library.items()}
        finally:
            library._close()

    def items(self) -> list:
        """The library's items (title, genres, path, track), read fresh from the database."""
        library = beets_library.Library(str(self.database))
        try:
            return list(library.items())
        finally:
            library._close()

    def album_genres(self, name: str) -> list[str]:
        """The genres of the album named ``name`` in the database."""
        library = beets_library.Library(str(self.database))
        try:
            (album,) = library.albums(f"album:{name}")
            return list(album.genres)
        finally:
            library._close()


def test_importing_the_plugin_loads_neither_numpy_nor_litert():
    """beets imports every enabled plugin on every command: hiergenre's weight waits until it classifies."""
    script = (
        "import sys, beetsplug.hiergenre as plugin; "
        "print(plugin.HierGenrePlugin.__name__, *sorted(m for m in ('numpy', 'ai_edge_litert') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["HierGenrePlugin"], result.stdout + result.stderr


def test_an_album_gets_the_genres_most_of_its_tracks_got():
    from beetsplug.hiergenre import album_genres

    assert album_genres([["Rock"], ["Metal", "Rock"], ["Metal", "Rock"]]) == ["Metal", "Rock"]
    assert album_genres([["Jazz"], ["Blues"], [], ["Blues"], ["Jazz"]]) == ["Jazz"]  # a tie: the first in track order
    assert album_genres([[], []]) == []


def test_beet_hiergenre_sets_genres_in_the_library_and_the_files(tmp_path):
    songs = tmp_path / "songs"
    (songs / "singles").mkdir(parents=True)
    (songs / "trio").mkdir()
    for seed, (name, kind, title, genre) in enumerate(SINGLES):
        tags = {"title": title, "artist": "Solo"} | ({"genre": genre} if genre else {})
        write_song(songs / "singles" / name, kind, seed, **tags)
    for track in (1, 2, 3):
        tags = {"title": f"Trio {track}", "artist": "Band", "album": "Trio", "tracknumber": str(track)}
        write_song(songs / "trio" / f"{track}.flac", "FLAC", 10 + track, **tags)
    beets = Beets(tmp_path / "beets")
    beets.run("import", "-A", "-q", "-s", songs / "singles")
    beets.run("import", "-A", "-q", songs / "trio")
    assert beets.genres()["Delta"] == ["Ambient"]  # beets read the tag the file came with

    beets.run("hiergenre")
    items = beets.items()
    assert len(items) == 7
    for item in items:
        assert file_genres(item.filepath) == list(item.genres), item.title  # beets wrote what it stored
        if item.title == "Delta":
            assert list(item.genres) == ["Ambient"]  # it had genres, and force is off
        else:
            assert item.genres and set(item.genres) <= LABELS, (item.title, item.genres)
    assert beets.album_genres("Trio") == []  # album: no sets the tracks only

    beets.run("hiergenre", "-f", "title:Delta")
    (delta,) = [item for item in beets.items() if item.title == "Delta"]
    assert delta.genres and set(delta.genres) <= LABELS and file_genres(delta.filepath) == list(delta.genres)

    tracks = sorted((item for item in items if item.album == "Trio"), key=lambda item: item.track)
    votes = Counter(tuple(item.genres) for item in tracks)
    expected = next(list(item.genres) for item in tracks if votes[tuple(item.genres)] == max(votes.values()))
    beets.run("modify", "-y", "album:Trio", "genres=Ambient; Drone")  # the tracks' genres (not the album's)
    (tmp_path / "album.yaml").write_text("hiergenre: {album: yes}\n")
    beets.run("-c", tmp_path / "album.yaml", "hiergenre", "album:Trio")
    assert beets.album_genres("Trio") == expected
    for item in beets.items():
        if item.album == "Trio":
            assert list(item.genres) == expected and file_genres(item.filepath) == expected, item.title


def test_auto_classifies_items_as_they_are_imported_and_writes_their_tags(tmp_path):
    song = tmp_path / "songs" / "new.mp3"
    song.parent.mkdir()
    write_song(song, "MP3", 7, title="New", artist="Someone")
    beets = Beets(tmp_path / "beets", auto=True)
    beets.run("import", "-A", "-q", "-s", song.parent)
    (item,) = beets.items()
    assert item.genres and set(item.genres) <= LABELS, item.genres
    assert file_genres(song) == list(item.genres)  # an as-is import writes nothing itself: the plugin did
