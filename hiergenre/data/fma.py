"""The Free Music Archive's own layout: ``tracks.csv`` and ``fma_<size>/NNN/NNNNNN.mp3``.

``tracks.csv`` has two header rows (FMA's loader reads it with
``pandas.read_csv(path, index_col=0, header=[0, 1])``: column names such as
``('track', 'genre_top')``, ``('track', 'genres')``, ``('set', 'split')``), then a row holding the
index name ``track_id``; list cells such as ``[21, 539]`` are Python literals. It is read here with
the csv module (no pandas), the lists with :func:`ast.literal_eval`.

A track's label is the deepest genre that is an ancestor-or-self of all its ``genres`` (their
lowest common ancestor in ``genres.csv``, found beside ``tracks.csv``), so "[Punk, Hardcore]" is
Punk and "[Rock]" is the partial label Rock; a track whose genres share no ancestor falls back to
``genre_top``, and without one it is skipped and counted. Tracks whose audio is not in the folder
(another subset) are left out; FMA's own training/validation/test split is kept for ``--split fma``.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hiergenre.data.datasets import Clip, Dataset, load_dataset
from hiergenre.data.taxonomy import FmaGenre, read_fma_genres, unique_names
from hiergenre.errors import HierGenreError
from hiergenre.storage import read_csv_rows

#: FMA's split names as hiergenre's parts.
FMA_PARTS = {"training": "train", "validation": "valid", "test": "test"}


@dataclass(frozen=True)
class FmaTrack:
    """What hiergenre reads of one row of ``tracks.csv``."""

    id: int
    genre_top: str
    genres: tuple[int, ...]
    split: str


def read_tracks(path: str | Path) -> list[FmaTrack]:
    """The tracks of FMA's ``tracks.csv`` (two header rows, then the index-name row)."""
    path = Path(path)
    rows = read_csv_rows(path, what="FMA metadata")
    if len(rows) < 3:
        raise HierGenreError(f"{path} is not FMA's tracks.csv: it needs two header rows and an index row")
    columns = list(zip(rows[0], rows[1], strict=False))
    wanted = {("track", "genre_top"), ("track", "genres"), ("set", "split")}
    missing = sorted(wanted - set(columns))
    if missing:
        shown = ", ".join(f"({a}, {b})" for a, b in missing)
        raise HierGenreError(f"{path} is not FMA's tracks.csv: no column {shown}")
    where = {name: columns.index(name) for name in wanted}
    tracks = []
    for line, row in enumerate(rows[3:], start=4):
        try:
            genres = ast.literal_eval(row[where[("track", "genres")]] or "[]")
            tracks.append(
                FmaTrack(
                    int(row[0]),
                    row[where[("track", "genre_top")]].strip(),
                    tuple(int(g) for g in genres),
                    row[where[("set", "split")]].strip(),
                )
            )
        except (ValueError, SyntaxError, TypeError, IndexError):
            raise HierGenreError(f"{path}, line {line}: cannot read the track id, its genres or its split") from None
    return tracks


def lowest_common_genre(ids: tuple[int, ...], genres: dict[int, FmaGenre]) -> int | None:
    """The deepest genre that is an ancestor-or-self of every id (None if they span top-level genres)."""
    if not ids or any(i not in genres for i in ids):
        return None

    def chain(genre_id: int) -> list[int]:
        out = [genre_id]
        while genres[out[-1]].parent:
            out.append(genres[out[-1]].parent)
        return out[::-1]

    chains = [chain(i) for i in ids]
    common = None
    for level in zip(*chains, strict=False):
        if len(set(level)) > 1:
            break
        common = level[0]
    return common


def track_labels(tracks: list[FmaTrack], genres: dict[int, FmaGenre]) -> tuple[dict[int, str], Counter[str]]:
    """Each labelled track's genre name (as :func:`~hiergenre.data.taxonomy.fma_tree` names it); skip reasons."""
    names = unique_names(genres)
    by_title = {g.title: g.id for g in genres.values()}
    labels, skipped = {}, Counter()
    for track in tracks:
        common = lowest_common_genre(track.genres, genres)
        if common is None and track.genre_top in by_title:
            common = by_title[track.genre_top]
        if common is None:
            skipped["genres span several top-level genres and no genre_top"] += 1
            continue
        labels[track.id] = names[common]
    return labels, skipped


def audio_path(folder: Path, track_id: int) -> Path:
    """``fma_<size>/NNN/NNNNNN.mp3``: the first three digits of the zero-padded id name the subfolder."""
    name = f"{track_id:06d}"
    return folder / name[:3] / f"{name}.mp3"


def load_fma(folder: Path, tracks_csv: Path) -> Dataset:
    """The tracks of ``tracks.csv`` whose audio is in ``folder`` (an ``fma_<size>`` folder), labelled.

    ``genres.csv`` is read from beside ``tracks.csv``.
    """
    genres_csv = tracks_csv.parent / "genres.csv"
    if not genres_csv.is_file():
        raise HierGenreError(f"FMA's genres.csv must be beside {tracks_csv} (its genre ids name the labels)")
    tracks = read_tracks(tracks_csv)
    labels, skipped = track_labels(tracks, read_fma_genres(genres_csv))
    clips, absent = [], 0
    for track in tracks:
        path = audio_path(folder, track.id)
        if track.id not in labels:
            continue
        if not path.is_file():
            absent += 1
            continue
        clips.append(Clip(path, labels[track.id], FMA_PARTS.get(track.split, "")))
    if not clips:
        raise HierGenreError(f"no track of {tracks_csv} has its audio in {folder} (expected {audio_path(folder, 2)})")
    notes = [f"{n} FMA tracks skipped: {why}" for why, n in skipped.items()]
    if absent:
        notes.append(f"{absent} FMA tracks have no audio in {folder} (another subset)")
    return Dataset(folder, tuple(clips), notes=tuple(notes))


def load_labelled(location: str | Path, metadata: str | Path | None = None) -> Dataset:
    """A folder per genre or a CSV manifest (:func:`~hiergenre.data.datasets.load_dataset`); with
    ``metadata`` (FMA's ``tracks.csv``), ``location`` is an FMA audio folder."""
    if metadata is None:
        return load_dataset(location)
    if not Path(location).exists():
        raise HierGenreError(f"data set not found: {location}")
    return load_fma(Path(location), Path(metadata))
