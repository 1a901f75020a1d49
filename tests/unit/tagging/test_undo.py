"""The undo log: writes recorded, old genres restored exactly, files changed since or gone refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from hiergenre.errors import HierGenreError
from hiergenre.tagging.files import file_fingerprint, has_tag_block, read_genres, write_genres
from hiergenre.tagging.undo import UndoEntry, UndoLog, apply_write, default_undo_log_path, undo
from tests.unit.tagging.tagged_files import (
    BARE_CASES,
    CASES,
    GENRE_BEFORE,
    assert_same_but_genre,
    make_tagged,
    snapshot,
)

NEW = ["Rock", "Jazz"]


@pytest.mark.parametrize("case", CASES)
def test_undo_restores_the_old_genre_and_tag_block(tmp_path, case):
    path = make_tagged(tmp_path, case)
    original, before = path.read_bytes(), snapshot(path)
    entry = apply_write(path, NEW)
    assert entry == UndoEntry(
        path=str(path.absolute()),
        before=GENRE_BEFORE.get(case, []),
        after=NEW,
        had_tags=case not in BARE_CASES,
        fingerprint_after=file_fingerprint(path),
    )
    log_file = tmp_path / "undo.json"
    UndoLog([entry]).save(log_file)
    outcomes = undo(UndoLog.load(log_file))
    assert [(outcome.path, outcome.restored, outcome.reason) for outcome in outcomes] == [(entry.path, True, "")]
    assert read_genres(path, as_stored=True) == GENRE_BEFORE.get(case, [])
    assert has_tag_block(path) == (case not in BARE_CASES)
    assert_same_but_genre(before, snapshot(path))
    if case in ("mp3-bare", "wav-bare", "aif-bare"):  # the ID3 block added and taken away again
        assert path.read_bytes() == original


def test_undo_refuses_a_file_changed_since_and_restores_the_others(tmp_path):
    first, second = make_tagged(tmp_path, "flac"), make_tagged(tmp_path, "mp3-v23")
    log = UndoLog([apply_write(first, NEW), apply_write(second, NEW)])
    write_genres(first, ["Metal"])  # someone else's later edit
    edited = first.read_bytes()
    outcomes = undo(log)
    assert [outcome.restored for outcome in outcomes] == [False, True]
    assert "changed after hiergenre wrote it" in outcomes[0].reason and "\n" not in outcomes[0].reason
    assert first.read_bytes() == edited and read_genres(first) == ["Metal"]
    assert read_genres(second) == ["Blues"]


def test_undo_refuses_a_missing_file(tmp_path):
    path = make_tagged(tmp_path, "ogg")
    log = UndoLog([apply_write(path, NEW)])
    path.unlink()
    [outcome] = undo(log)
    assert not outcome.restored and "the file is gone" in outcome.reason


def test_undo_reports_a_file_it_cannot_write(tmp_path):
    path = make_tagged(tmp_path, "opus")
    log = UndoLog([apply_write(path, NEW)])
    path.chmod(0o444)
    [outcome] = undo(log)
    assert not outcome.restored and "read-only file" in outcome.reason and read_genres(path) == NEW


def test_a_failed_write_records_nothing(tmp_path):
    path = make_tagged(tmp_path, "wav")
    path.chmod(0o444)
    with pytest.raises(HierGenreError, match="read-only"):
        apply_write(path, NEW)


def test_the_log_file_has_a_format_version_and_utc_time(tmp_path):
    path = make_tagged(tmp_path, "aiff")
    log = UndoLog([apply_write(path, NEW)])
    log.save(tmp_path / "logs" / "undo.json")
    saved = json.loads((tmp_path / "logs" / "undo.json").read_text())
    assert saved["format"] == "hiergenre-tag-undo" and saved["version"] == 1
    created = datetime.fromisoformat(saved["created_utc"])
    assert created.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert saved["entries"][0]["before"] == ["Folk"] and saved["entries"][0]["after"] == NEW
    assert UndoLog.load(tmp_path / "logs" / "undo.json") == log


def valid_entry() -> dict:
    return {"path": "/music/a.flac", "before": [], "after": ["Rock"], "had_tags": True, "fingerprint_after": "ab"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "tag undo log not found"),
        ("{not json", "tag undo log is unreadable"),
        (json.dumps({"entries": []}), "not a hiergenre tag undo log"),
        (json.dumps({"format": "hiergenre-tag-undo", "version": 9, "entries": []}), "has version 9"),
        (json.dumps({"format": "hiergenre-tag-undo", "version": 1, "entries": []}), "is damaged"),
        (json.dumps({"format": "hiergenre-tag-undo", "version": 1, "created_utc": "x", "entries": [{}]}), "damaged"),
        ({**valid_entry(), "before": "Rock"}, "is damaged"),
        ({**valid_entry(), "path": "relative.flac"}, "is damaged"),
        ({**valid_entry(), "had_tags": "yes"}, "is damaged"),
        ({**valid_entry(), "extra": 1}, "is damaged"),
    ],
)
def test_a_missing_or_damaged_log_is_one_line(tmp_path, content, message):
    log_file = tmp_path / "undo.json"
    if isinstance(content, dict):
        content = json.dumps({"format": "hiergenre-tag-undo", "version": 1, "created_utc": "x", "entries": [content]})
    if content is not None:
        log_file.write_text(content)
    with pytest.raises(HierGenreError) as error:
        UndoLog.load(log_file)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_valid_entry_loads(tmp_path):
    log_file = tmp_path / "undo.json"
    log_file.write_text(
        json.dumps({"format": "hiergenre-tag-undo", "version": 1, "created_utc": "x", "entries": [valid_entry()]})
    )
    assert UndoLog.load(log_file).entries == [UndoEntry(**valid_entry())]


def test_each_run_gets_its_own_log_under_the_xdg_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    moment = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert default_undo_log_path(moment) == tmp_path / "state/hiergenre/tag-undo/20240102T030405.000006Z.json"
    assert default_undo_log_path(moment + timedelta(microseconds=1)) != default_undo_log_path(moment)
    east = moment.astimezone(timezone(timedelta(hours=2)))
    assert default_undo_log_path(east) == default_undo_log_path(moment)  # named by UTC time
    assert default_undo_log_path().parent == tmp_path / "state/hiergenre/tag-undo"


@pytest.mark.parametrize("state_home", [None, "relative/state"])
def test_without_an_absolute_xdg_state_home_logs_go_under_the_home_folder(tmp_path, monkeypatch, state_home):
    monkeypatch.setenv("HOME", str(tmp_path))
    if state_home is None:
        monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_STATE_HOME", state_home)
    path = default_undo_log_path(datetime(2024, 1, 2, tzinfo=UTC))
    assert path == Path(tmp_path) / ".local/state/hiergenre/tag-undo/20240102T000000.000000Z.json"
