"""Genre values read and written in every taggable format, with nothing else in the file changing.

Every case is a real file (libsndfile writes the audio, mutagen the other tags); after a write the samples
decode bit for bit the same, every other frame or comment is identical, an ID3v2.3 tag stays v2.3, an MP3's
ID3v1 bytes stay as they were, and a failed or refused write leaves the file byte-identical.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import mutagen
import mutagen.flac
import mutagen.id3
import mutagen.ogg
import mutagen.wave
import pytest
from mutagen import _iff
from mutagen.id3 import ID3

from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.tagging.files import TAGGABLE, file_fingerprint, has_tag_block, read_genres, write_genres
from tests.unit.tagging.tagged_files import (
    BARE_CASES,
    CASES,
    GENRE_BEFORE,
    ID3_CLASSES,
    assert_same_but_genre,
    id3v1_tail,
    make_tagged,
    snapshot,
    write_audio,
)

NEW = ["Rock", "Jazz"]


def one_line_error(call, *args, match: str, **kwargs) -> str:
    with pytest.raises(HierGenreError) as error:
        call(*args, **kwargs)
    message = str(error.value)
    assert "\n" not in message and match in message, message
    return message


@pytest.mark.parametrize("case", CASES)
def test_a_write_sets_the_genre_and_changes_nothing_else(tmp_path, case):
    path = make_tagged(tmp_path, case)
    assert read_genres(path) != NEW and has_tag_block(path) == (case not in BARE_CASES)
    before = snapshot(path)
    write_genres(path, NEW)
    assert read_genres(path) == NEW and read_genres(path, as_stored=True) == NEW
    assert has_tag_block(path)
    assert_same_but_genre(before, snapshot(path), tags_added=case in BARE_CASES)


@pytest.mark.parametrize("case", [case for case in CASES if case in GENRE_BEFORE])
def test_an_empty_list_removes_the_genre_only(tmp_path, case):
    path = make_tagged(tmp_path, case)
    before = snapshot(path)
    write_genres(path, [])
    assert read_genres(path) == []
    assert_same_but_genre(before, snapshot(path))


@pytest.mark.parametrize("case", ["mp3-v23", "aiff"])
def test_an_id3v23_tag_stays_v23_with_its_values_apart(tmp_path, case):
    path = make_tagged(tmp_path, case)
    write_genres(path, ["Hip-Hop/Rap", "Jazz"])
    tags = ID3_CLASSES[path.suffix](path, translate=False).tags
    assert tags.version == (2, 3, 0)
    assert tags["TCON"].text == ["Hip-Hop/Rap", "Jazz"]  # null-separated: "/" inside a value survives
    assert tags["TYER"].text == ["1999"] and "TDRC" not in tags  # no v2.4 round trip of the other frames


@pytest.mark.parametrize("case", ["mp3-bare", "wav-bare", "aif-bare"])
def test_a_file_without_id3_gets_v24(tmp_path, case):
    path = make_tagged(tmp_path, case)
    write_genres(path, NEW)
    assert ID3_CLASSES[path.suffix](path).tags.version == (2, 4, 0)


def test_the_id3v1_tag_keeps_its_bytes(tmp_path):
    path = make_tagged(tmp_path, "mp3-v24-v1")
    v1 = id3v1_tail(path)
    assert v1 is not None and b"Song" in v1
    for values in (NEW, ["Electronic"] * 40, []):  # a growing tag moves the audio; the tail must follow
        write_genres(path, values)
        assert id3v1_tail(path) == v1 and path.read_bytes().count(b"TAG") == 1


def test_id3v1_numbers_are_named_unless_as_stored(tmp_path):
    path = make_tagged(tmp_path, "mp3-v24-v1")
    assert read_genres(path) == ["Rock"] and read_genres(path, as_stored=True) == ["(17)"]


def test_vorbis_genres_keep_their_place_and_key_spelling(tmp_path):
    path = make_tagged(tmp_path, "flac")
    write_genres(path, NEW)
    comments = list(mutagen.flac.FLAC(path).tags)
    assert comments[:4] == [("title", "Sound title"), ("genre", "Rock"), ("genre", "Jazz"), ("ALBUM", "Albüm")]
    write_genres(path, ["Blues"])
    assert list(mutagen.flac.FLAC(path).tags)[1] == ("genre", "Blues")


def test_the_same_values_do_not_rewrite_the_file(tmp_path):
    path = make_tagged(tmp_path, "flac")
    identity = path.stat().st_ino, path.stat().st_mtime_ns
    write_genres(path, ["Blues"])
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == identity


def test_a_write_keeps_permissions_and_follows_a_link(tmp_path):
    path = make_tagged(tmp_path, "opus")
    path.chmod(0o640)
    link = tmp_path / "link.opus"
    link.symlink_to(path.name)
    write_genres(link, NEW)
    assert link.is_symlink() and read_genres(path) == NEW
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def broken_save(self, filething=None, *args, **kwargs):
    """A save that gets half way: it spoils the file it writes, then fails."""
    Path(filething or self.filename).write_bytes(b"half written")
    raise mutagen.MutagenError("simulated: no space left on device")


@pytest.mark.parametrize("case", CASES)
def test_a_failed_save_leaves_the_file_byte_identical(tmp_path, case, monkeypatch):
    path = make_tagged(tmp_path, case)
    for owner in (mutagen.id3.ID3, mutagen.wave._WaveID3, _iff.IffID3, mutagen.flac.FLAC, mutagen.ogg.OggFileType):
        monkeypatch.setattr(owner, "save", broken_save)
    content, listing = path.read_bytes(), sorted(os.listdir(tmp_path))
    one_line_error(write_genres, path, NEW, match="no space left on device")
    assert path.read_bytes() == content and sorted(os.listdir(tmp_path)) == listing  # no temporary file left


def test_a_failed_tag_removal_leaves_the_file_byte_identical(tmp_path, monkeypatch):
    path = make_tagged(tmp_path, "mp3-bare")
    write_genres(path, NEW)
    content = path.read_bytes()
    monkeypatch.setattr(mutagen.id3, "delete", lambda *args, **kwargs: broken_save(None, args[0]))
    one_line_error(write_genres, path, [], remove_empty_tag_block=True, match="the file is unchanged")
    assert path.read_bytes() == content and sorted(os.listdir(tmp_path)) == [path.name]


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    path = make_tagged(tmp_path, "flac")
    monkeypatch.setattr(mutagen.flac.FLAC, "save", interrupted)
    content = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        write_genres(path, NEW)
    assert path.read_bytes() == content and os.listdir(tmp_path) == [path.name]


def test_a_read_only_file_is_refused(tmp_path):
    path = make_tagged(tmp_path, "mp3-v23")
    path.chmod(0o444)
    content = path.read_bytes()
    one_line_error(write_genres, path, NEW, match="read-only file")
    assert path.read_bytes() == content and read_genres(path) == ["Blues"]


def test_a_format_without_tags_is_refused(tmp_path):
    path = write_audio(tmp_path / "sound.au")
    assert ".au" not in TAGGABLE
    for call in (read_genres, has_tag_block):
        one_line_error(call, path, match="cannot hold tags")
    one_line_error(write_genres, path, NEW, match="cannot hold tags")


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".aiff", ".flac", ".ogg", ".opus"])
def test_a_corrupt_file_is_refused_untouched(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"this is no audio at all\n" * 40)
    one_line_error(read_genres, path, match="cannot read the tags of")
    one_line_error(write_genres, path, NEW, match="cannot read the tags of")
    assert path.read_bytes() == b"this is no audio at all\n" * 40


def test_a_missing_file_and_bad_values_are_one_line_errors(tmp_path):
    one_line_error(read_genres, tmp_path / "gone.flac", match="no such audio file")
    path = make_tagged(tmp_path, "ogg")
    with pytest.raises(InvalidValue, match="not one string"):
        write_genres(path, "Rock")
    with pytest.raises(InvalidValue, match="not a genre value"):
        write_genres(path, ["Rock", 7])
    with pytest.raises(InvalidValue, match="not a genre value"):
        write_genres(path, ["Ro\x00ck"])


def test_the_fingerprint_follows_the_content(tmp_path):
    path = make_tagged(tmp_path, "wav")
    first = file_fingerprint(path)
    assert file_fingerprint(path) == first and len(first) == 64
    write_genres(path, NEW)
    assert file_fingerprint(path) != first
    one_line_error(file_fingerprint, tmp_path / "gone.wav", match="cannot read")


def test_id3_reading_ignores_the_id3v1_tag(tmp_path):
    """The genre is the v2 field: an ID3v1-only MP3 reads as no genre, and a write leaves its v1 tag alone."""
    path = make_tagged(tmp_path, "mp3-bare")
    tags = ID3()
    tags.add(mutagen.id3.TCON(encoding=0, text="Blues"))
    tags.save(path, v1=2)
    mutagen.id3.delete(path, delete_v1=False, delete_v2=True)
    v1 = id3v1_tail(path)
    assert v1 is not None and read_genres(path) == [] and not has_tag_block(path)
    write_genres(path, NEW)
    assert read_genres(path) == NEW and id3v1_tail(path) == v1
