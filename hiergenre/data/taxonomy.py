"""Real genre taxonomies as hiergenre trees: the Free Music Archive's 163-genre hierarchy.

FMA (Defferrard et al., ISMIR 2017) publishes its genres as a table, ``genres.csv``:
``genre_id,#tracks,parent,title,top_level``, ``parent`` 0 for its 16 top-level genres, up to four
levels below them. :func:`read_fma_genres` reads it with clear errors; :func:`fma_tree` turns it
into a :class:`~hiergenre.cascade.hierarchy.GenreTree` whose names are the titles made safe as names
(:func:`safe_name`: "Jazz: Vocal" → ``Jazz-Vocal``, "Drum & Bass" → ``Drum-and-Bass``).

A genre with children is a group of the tree. FMA's inner genres also carry tracks of their own
("Rock" alone): such a track is a *partial label*, a clip known to lie somewhere below the group.
``min_tracks`` folds rare genres into their parent (their tracks become partial labels of it):
a genre with fewer tracks than that is left out with everything below it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import HierGenreError
from hiergenre.storage import read_csv_rows

#: The columns FMA's genres.csv has.
FMA_COLUMNS = ("genre_id", "#tracks", "parent", "title", "top_level")


@dataclass(frozen=True)
class FmaGenre:
    """One row of FMA's genre table."""

    id: int
    tracks: int
    parent: int
    title: str


@dataclass
class FmaTree:
    """A tree made from FMA's table: the tree, the node name of each kept genre id, what was left out."""

    tree: GenreTree
    names: dict[int, str]
    folded: list[str] = field(default_factory=list)


def read_fma_genres(path: str | Path) -> dict[int, FmaGenre]:
    """FMA's ``genres.csv`` by genre id; every parent must be 0 or a genre of the table."""
    path = Path(path)
    rows = read_csv_rows(path, what="FMA genre table", as_dicts=True)
    missing = [c for c in FMA_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise HierGenreError(f"{path} is not FMA's genres.csv: it needs the columns {', '.join(FMA_COLUMNS)}")
    genres = {}
    for line, row in enumerate(rows, start=2):
        try:
            genre = FmaGenre(int(row["genre_id"]), int(row["#tracks"] or 0), int(row["parent"] or 0), row["title"])
        except (TypeError, ValueError):
            raise HierGenreError(f"{path}, line {line}: genre_id, #tracks and parent must be integers") from None
        genres[genre.id] = genre
    unknown = sorted({g.parent for g in genres.values()} - set(genres) - {0})
    if unknown:
        raise HierGenreError(f"{path}: parent ids not in the table: {', '.join(map(str, unknown[:10]))}")
    return genres


def safe_name(title: str) -> str:
    """A title as a tree name: '&' → 'and', runs of other characters and dashes → one '-' (never '---',
    the separator of path labels), no leading or trailing punctuation."""
    text = re.sub(r"[^A-Za-z0-9_.+]+", "-", title.replace("&", " and ")).strip("-.+_")
    return text or "genre"


def fma_tree(
    genres: Mapping[int, FmaGenre],
    *,
    name: str,
    min_tracks: int = 0,
    under: str | None = None,
    counts: Mapping[int, int] | None = None,
) -> FmaTree:
    """The taxonomy as a tree (children sorted by title), rare genres folded, optionally one top genre's subtree.

    ``counts`` replaces FMA's ``#tracks`` (the tracks of the user's own data); ``under`` is a
    top-level title or safe name whose children become the tree's top level.
    """
    count = dict(counts) if counts is not None else {g.id: g.tracks for g in genres.values()}
    children: dict[int, list[int]] = {}
    for genre in sorted(genres.values(), key=lambda g: g.title.lower()):
        children.setdefault(genre.parent, []).append(genre.id)
    names = unique_names(genres)
    top = 0
    if under is not None:
        matches = [g.id for g in genres.values() if g.parent == 0 and under in (g.title, names[g.id])]
        if not matches:
            tops = ", ".join(sorted(names[g.id] for g in genres.values() if g.parent == 0))
            raise HierGenreError(f"no top-level FMA genre {under!r}; choose one of: {tops}")
        top = matches[0]
    kept: dict[int, str] = {}
    folded: list[str] = []

    def spec(genre_id: int) -> list:
        items = []
        for child in children.get(genre_id, []):
            if count.get(child, 0) < min_tracks:
                folded.append(f"{names[child]} ({count.get(child, 0)})")
                continue
            kept[child] = names[child]
            below = spec(child)
            items.append({names[child]: below} if below else names[child])
        return items

    tree_spec = spec(top)
    try:
        tree = GenreTree.from_spec(tree_spec, name)
    except HierGenreError as exc:
        raise HierGenreError(f"the FMA taxonomy left by --min-tracks {min_tracks} is not a tree: {exc}") from None
    return FmaTree(tree, kept, folded)


def unique_names(genres: Mapping[int, FmaGenre]) -> dict[int, str]:
    """Each genre's safe name; a name two titles share gets the genre id appended to the later one."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for genre in sorted(genres.values(), key=lambda g: g.id):
        candidate = safe_name(genre.title)
        if candidate.lower() in taken or candidate == "root":
            candidate = f"{candidate}-{genre.id}"
        taken.add(candidate.lower())
        names[genre.id] = candidate
    return names


#: How a path label separates its levels: AcousticBrainz/Discogs style, or a file-system style path.
PATH_SEPARATORS = re.compile(r"---|/")


def label_path(text: str) -> list[str]:
    """A label as the path of names from its top-level genre down: ``Electronic---House`` or
    ``electronic/house`` → ``["Electronic", "House"]``; a plain label is a path of one. Each part is
    made safe as a name (:func:`safe_name`)."""
    parts = [part.strip() for part in PATH_SEPARATORS.split(text.strip())]
    if not all(parts):
        raise HierGenreError(f"label {text!r} has an empty level")
    return [safe_name(part) for part in parts]


def tree_from_label_paths(paths: Iterable[list[str]], name: str) -> GenreTree:
    """The tree the path labels imply: each name under the name before it, top-level names under the root.

    A name found under two different parents is an error: a tree gives each node one parent.
    """
    parent_of: dict[str, str] = {}
    order: dict[str, list[str]] = {}
    for path in paths:
        for parent, child in zip(["root", *path[:-1]], path, strict=True):
            if parent_of.setdefault(child, parent) != parent:
                raise HierGenreError(f"{child!r} appears under both {parent_of[child]!r} and {parent!r}")
            if child not in order.setdefault(parent, []):
                order[parent].append(child)

    def spec(node: str) -> list:
        return [{child: spec(child)} if child in order else child for child in sorted(order.get(node, []))]

    return GenreTree.from_spec(spec("root"), name)


def fma_yaml(made: FmaTree, source: str, min_tracks: int, under: str | None) -> str:
    """The tree as YAML, headed by comments on where it came from and what was folded."""
    lines = [
        f"# FMA genre hierarchy from {source}" + (f", the genres under {under}" if under else ""),
        f"# {len(made.tree.leaves)} genres without subgenres, {len(made.tree.groups)} groups; "
        "an inner genre's own tracks are partial labels of its group.",
    ]
    if min_tracks:
        shown = ", ".join(made.folded[:30]) + (" ..." if len(made.folded) > 30 else "")
        lines.append(f"# folded into their parent (fewer than {min_tracks} tracks): {shown or 'none'}")
    return "\n".join(lines) + "\n" + made.tree.to_yaml()
