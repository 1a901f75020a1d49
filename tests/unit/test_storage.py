"""``hiergenre.storage``: a reader never sees a half-written file, and damage is one line."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from hiergenre.errors import HierGenreError
from hiergenre.storage import atomic_file, atomic_path, current_umask, read_json, write_json_atomic


class Interrupted(Exception):
    """Stands for a crash in the middle of a write."""


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files in ``folder`` (what an interrupted write could leave)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path):
    target = tmp_path / "manifest.json"
    target.write_text('{"version": 1}', encoding="utf-8")
    with pytest.raises(Interrupted), atomic_file(target) as out:
        out.write('{"version": 2, "half')
        raise Interrupted
    assert target.read_text(encoding="utf-8") == '{"version": 1}'
    assert leftovers(tmp_path) == []


def test_a_failed_write_of_a_new_file_creates_nothing(tmp_path):
    target = tmp_path / "sub" / "model.keras"
    with pytest.raises(Interrupted), atomic_path(target) as tmp:
        tmp.write_bytes(b"half a model")
        raise Interrupted
    assert not target.exists() and leftovers(target.parent) == []


def test_the_temporary_path_sits_beside_the_target_with_its_suffix_until_renamed(tmp_path):
    target = tmp_path / "node.tflite"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".tflite" and tmp.name.startswith(".node.")
        tmp.write_bytes(b"complete")
        assert not target.exists()  # readers see nothing until the block succeeds
    assert target.read_bytes() == b"complete" and not tmp.exists()


def test_a_successful_write_replaces_the_old_content(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with atomic_file(target) as out:
        out.write("genre,p\r\njazz,0.5\n")  # newline="": what the caller writes is what lands on disk
    assert target.read_bytes() == b"genre,p\r\njazz,0.5\n"
    with atomic_file(target, "wb") as out:
        out.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_permissions_are_those_of_a_plain_open(tmp_path, umask):
    previous = os.umask(umask)
    try:
        assert current_umask() == umask
        with open(tmp_path / "plain.txt", "w") as out:
            out.write("x")
        write_json_atomic(tmp_path / "atomic.json", {"a": 1})
        with atomic_path(tmp_path / "atomic.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(previous)
    plain = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert plain == 0o666 & ~umask  # not mkstemp's 0600
    for name in ("atomic.json", "atomic.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == plain, name


def test_json_round_trips_through_the_atomic_writer(tmp_path):
    data = {"genres": ["jazz", "blues"], "p": 0.25, "nested": {"n": None}}
    write_json_atomic(tmp_path / "x.json", data)
    assert read_json(tmp_path / "x.json", what="node metadata") == data
    assert json.loads((tmp_path / "x.json").read_text(encoding="utf-8")) == data


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "node metadata not found: {path}"),
        (b"", "node metadata is unreadable ({path}): Expecting value"),
        (b'{"half": ', "node metadata is unreadable ({path}): Expecting value"),
        (b"\xff\xfe not utf-8", "node metadata is unreadable ({path}): 'utf-8' codec can't decode"),
    ],
    ids=["missing", "empty", "truncated", "not-utf8"],
)
def test_json_read_errors_are_one_line_naming_what_and_where(tmp_path, content, message):
    path = tmp_path / "root.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(HierGenreError) as raised:
        read_json(path, what="node metadata")
    text = str(raised.value)
    assert text.startswith(message.format(path=path)) and "\n" not in text
    assert raised.value.__suppress_context__  # no chained traceback of the JSON or OS error


def test_a_folder_where_json_is_expected_is_one_line_too(tmp_path):
    (tmp_path / "manifest.json").mkdir()
    with pytest.raises(HierGenreError, match=r"^manifest is unreadable \(.*manifest\.json\): ") as raised:
        read_json(tmp_path / "manifest.json", what="manifest")
    assert "\n" not in str(raised.value)
