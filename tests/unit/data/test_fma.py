"""FMA's real formats end to end: genres.csv and tracks.csv as published, audio as NNN/NNNNNN.mp3."""

import json

from hiergenre.data.fma import lowest_common_genre, read_tracks, track_labels
from hiergenre.data.taxonomy import read_fma_genres
from tests.fma_fixture import write_fma


def test_tracks_csv_is_read_as_fma_writes_it_and_labels_are_lowest_common_genres(tmp_path):
    _, tracks_csv, genres_csv = write_fma(tmp_path)
    tracks, genres = read_tracks(tracks_csv), read_fma_genres(genres_csv)
    assert len(tracks) == 47 and tracks[0].id == 2 and tracks[0].genres == (37,) and tracks[0].split == "training"
    assert lowest_common_genre((89, 109), genres) == 25  # Post-Punk and Hardcore: both Punk
    assert lowest_common_genre((25, 89), genres) == 25 and lowest_common_genre((12, 15), genres) is None
    labels, skipped = track_labels(tracks, genres)
    assert labels[2] == "Jazz-Vocal" and sorted(set(labels.values()))[:3] == ["Free-Jazz", "Hardcore", "House"]
    assert {labels[t.id] for t in tracks if t.genres in ((12,), (25,))} == {"Rock", "Punk"}  # partial labels
    assert sum(skipped.values()) == 1


def test_fma_round_trip_with_partial_labels(cli, tmp_path):
    audio, tracks_csv, genres_csv = write_fma(tmp_path)
    ws = tmp_path / "ws"
    cli("build-tree", tmp_path / "fma.yaml", "--from-fma", genres_csv, workdir=ws)
    data = ("--data", audio, "--metadata", tracks_csv)
    out = cli("train-all", *data, "--split", "fma", "--node-model", "stats", "--no-baseline3", workdir=ws).stdout
    text = " ".join(out.split())
    assert "FMA's own training/validation/test split" in text and "1 FMA tracks skipped" in text
    assert "1 FMA tracks have no audio" in text and "skipped 1 unreadable file" in text
    assert "2 clips are labelled with a group (partial labels)" in text
    first = sorted(audio.rglob("*.mp3"))[0]
    predicted = json.loads(cli("predict", first, "--json", "--routing", "product", workdir=ws).stdout)
    assert predicted[0]["genre"] in {"Jazz-Vocal", "Free-Jazz", "Metal", "Post-Punk", "Hardcore", "Techno", "House"}
    scores = json.loads(cli("evaluate", "--json", workdir=ws).stdout)["models"]
    assert scores["fma"]["partial"]["clips"] == 1 and scores["fma"]["n_clips"] == 14
    assert scores["fma"]["operating"]["points"] and scores["flat"]["partial"]["clips"] == 1
