"""``hiergenre tag``: a dry run by default, --write changes only the genre, --undo puts it back."""

from __future__ import annotations

import json
from pathlib import Path

from hiergenre.tagging.files import read_genres
from tests.unit.tagging.tagged_files import assert_same_but_genre, make_tagged, snapshot

CASES = ["mp3-v24-v1", "mp3-v23", "wav-bare", "aiff", "flac", "ogg", "opus"]
LABELS = {"Blues", "Classical", "Country", "Disco", "Hip-Hop", "Jazz", "Metal", "Pop", "Reggae", "Rock", "Roots"}


def library(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    files = {case: make_tagged(folder, case) for case in CASES}
    (folder / "old.au").write_bytes((folder / "song-wav-bare.wav").read_bytes()[:100])  # no tags there
    return files


def test_dry_run_write_and_undo_change_the_genre_and_nothing_else(cli, trained, tmp_path):
    files = library(tmp_path / "music")
    before = {case: snapshot(path) for case, path in files.items()}
    raw = {case: path.read_bytes() for case, path in files.items()}
    planned = json.loads(cli("tag", tmp_path / "music", "--json", "--force", workdir=trained).stdout)
    assert not planned["written"] and planned["undo_log"] is None
    assert all(path.read_bytes() == raw[case] for case, path in files.items()), "a dry run wrote"
    statuses = {Path(f["file"]).name: f["status"] for f in planned["files"]}
    assert statuses["old.au"] == "error" and set(statuses.values()) <= {"write", "same", "error"}

    log = tmp_path / "undo.json"
    written = cli("tag", tmp_path / "music", "--write", "--force", "--undo-log", log, workdir=trained)
    assert f"hiergenre tag --undo {log}" in written.stderr and "cannot hold tags" in written.stderr
    for case, path in files.items():
        genres = read_genres(path)
        assert len(genres) == 1 and genres[0] in LABELS, (case, genres)
        assert_same_but_genre(before[case], snapshot(path), tags_added=case == "wav-bare")

    cli("tag", "--undo", log, workdir=trained)
    for case, path in files.items():
        assert_same_but_genre(before[case], snapshot(path))
        assert read_genres(path, as_stored=True) == read_genres_before(raw[case], path, tmp_path)


def read_genres_before(content: bytes, path: Path, tmp_path: Path) -> list[str]:
    """The stored genre values of a file's earlier bytes."""
    copy = tmp_path / "before" / path.name
    copy.parent.mkdir(exist_ok=True)
    copy.write_bytes(content)
    return read_genres(copy, as_stored=True)


def test_a_genre_is_kept_without_force_and_groups_write_their_label_or_nothing(cli, trained, tmp_path):
    files = library(tmp_path / "music")
    kept = json.loads(cli("tag", files["flac"], files["ogg"], "--json", workdir=trained).stdout)["files"]
    assert [f["status"] for f in kept] == ["kept", "write"] and kept[0]["after"] == ["Blues"]
    cautious = cli("tag", files["ogg"], "--json", "--min-confidence", "0.999", "--with-parents", workdir=trained)
    (change,) = json.loads(cautious.stdout)["files"]
    if change["node"] in ("acoustic", "rhythmic", "root"):  # groups without a label (and the root) write nothing
        assert change["status"] == "nothing" and change["after"] == []
    else:
        assert change["status"] == "write" and set(change["after"]) <= LABELS


def test_bad_input_gets_one_line_each_and_a_non_zero_exit_when_nothing_could_be_tagged(cli, trained, tmp_path):
    (tmp_path / "broken.mp3").write_bytes(b"not audio")
    (tmp_path / "old.au").write_bytes(b"not audio either")
    result = cli(
        "tag", tmp_path / "broken.mp3", tmp_path / "old.au", tmp_path / "gone.flac", workdir=trained, check=False
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1 and len(lines) == 3 and "Traceback" not in result.stderr
    refused = cli("tag", "--undo", tmp_path / "no-log.json", workdir=trained, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    usage = cli("tag", tmp_path / "old.au", "--undo-log", tmp_path / "u.json", workdir=trained, check=False)
    assert usage.returncode == 2 and "--undo-log goes with --write" in usage.stderr
