"""A tiny data set in the Free Music Archive's real formats, for the FMA round trip.

- ``fma_metadata/genres.csv``: real rows of FMA's genre table (ids, parents and titles as published);
- ``fma_metadata/tracks.csv``: two header rows and an index-name row, as FMA's loader reads it with
  ``pandas.read_csv(path, index_col=0, header=[0, 1])``; list cells written as ``[25, 109]``;
- ``fma_small/NNN/NNNNNN.mp3``: synthetic tones per genre, written as MP3 by soundfile (libsndfile
  1.1 or later writes MP3), plus one file that is not audio, as FMA has several.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

#: Real rows of FMA's genres.csv: genre_id, #tracks, parent, title, top_level.
GENRES = [
    (4, 4126, 0, "Jazz", 4),
    (12, 32923, 0, "Rock", 12),
    (15, 34413, 0, "Electronic", 15),
    (25, 9261, 12, "Punk", 12),
    (31, 1498, 12, "Metal", 12),
    (37, 97, 4, "Jazz: Vocal", 4),
    (74, 1531, 4, "Free-Jazz", 4),
    (89, 1858, 25, "Post-Punk", 12),
    (109, 1419, 25, "Hardcore", 12),
    (181, 2140, 15, "Techno", 15),
    (182, 1482, 15, "House", 15),
]
#: Leaf genre ids and the tone that stands for each.
LEAVES = {37: 220.0, 74: 330.0, 31: 495.0, 89: 660.0, 109: 880.0, 181: 1175.0, 182: 1480.0}
TITLE = {g[0]: g[3] for g in GENRES}
TOP = {g[0]: TITLE[g[4]] for g in GENRES}


def tone(frequency: float, seed: int, seconds: float = 3.0, rate: int = 22050) -> np.ndarray:
    """A note with two harmonics and a little noise: one timbre per genre."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    wave = sum(np.sin(2 * np.pi * frequency * k * t) / k for k in (1, 2, 3))
    return (0.25 * wave + 0.02 * rng.normal(size=t.size)).astype(np.float32)


def write_fma(root: Path) -> tuple[Path, Path, Path]:
    """Write the fixture under ``root``; returns (audio folder, tracks.csv, genres.csv)."""
    import soundfile as sf

    metadata, audio = root / "fma_metadata", root / "fma_small"
    metadata.mkdir(parents=True)
    with open(metadata / "genres.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["genre_id", "#tracks", "parent", "title", "top_level"])
        writer.writerows(GENRES)
    rows = []  # (track id, genre_top, genres, split, has audio)
    track = 2
    for genre, frequency in LEAVES.items():
        for split in ("training", "training", "training", "validation", "test", "test"):
            rows.append((track, TOP[genre], [genre], split, frequency))
            track += 1
    rows += [
        (track, "Rock", [12], "test", 660.0),  # tagged only Rock: a partial label
        (track + 1, "Rock", [25], "training", 880.0),  # Punk: a partial label too
        (track + 2, "", [12, 15], "training", 330.0),  # two top genres, no genre_top: skipped
        (track + 3, "Jazz", [74], "training", None),  # no audio in this subset
        (track + 4, "Jazz", [74], "training", "broken"),  # an mp3 that does not decode
    ]
    with open(metadata / "tracks.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["", "album", "artist", "set", "set", "track", "track", "track", "track"])
        writer.writerow(["", "title", "name", "split", "subset", "genre_top", "genres", "genres_all", "title"])
        writer.writerow(["track_id", "", "", "", "", "", "", "", ""])
        for number, (track_id, top, genres, split, frequency) in enumerate(rows):
            writer.writerow(
                [track_id, "An Album", "Somebody", split, "small", top, str(genres), str(genres), f"Track {track_id}"]
            )
            name = f"{track_id:06d}"
            path = audio / name[:3] / f"{name}.mp3"
            if frequency is None:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if frequency == "broken":
                path.write_bytes(b"not an mp3 at all")
            else:
                sf.write(str(path), tone(frequency, seed=number), 22050, format="MP3")
    return audio, metadata / "tracks.csv", metadata / "genres.csv"
