"""A file's genre values, read and written with mutagen so that nothing else in the file changes.

The genre lives in ID3v2 ``TCON`` (MP3, and the ID3 chunk of WAV and AIFF) or in the Vorbis comment
``GENRE`` (FLAC, Ogg Vorbis, Opus); both hold several values. A write sets exactly that field:

- the tag is loaded without translation (``translate=False``) and saved in the version it came in, so an
  ID3v2.3 file stays v2.3 with its frames as they were (no TYER -> TDRC round trip); several values are
  null-separated there too (``v23_sep=None``), which mutagen, foobar2000 and others read back as a list,
  where "/" would merge "Rock/Pop" into one value on reading and rewrite other null-separated frames;
- an MP3's ID3v1 tag (the last 128 bytes) is kept byte for byte: mutagen can only rewrite it from the v2
  tag or delete it, so it is deleted with the save and the old bytes are appended again;
- Vorbis comments keep their order and the key's spelling: the genre values replace the old ones in place;
- the work happens on a copy in the same folder that is renamed over the original only once complete, so a
  failure (a mutagen error, a full disk, Ctrl-C) leaves the file exactly as it was.

Re-serialising a tag can change its padding and the bytes of its unchanged frames (an encoding mutagen
normalises), never their values; the audio data is not touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import mutagen
import mutagen.aiff
import mutagen.id3
import mutagen.wave
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.id3 import TCON, Encoding, ID3v1SaveOptions

# Where ID3.save(v1=REMOVE) cuts the ID3v1 tag: the same function, so exactly those bytes are put back.
from mutagen.id3._id3v1 import find_id3v1
from mutagen.mp3 import MP3
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from hiergenre.errors import HierGenreError, InvalidValue

#: The file types whose genre hiergenre can write, by extension: where the genre goes.
TAGGABLE: dict[str, str] = {
    ".mp3": "ID3v2 TCON",
    ".wav": "ID3v2 TCON in the id3 chunk",
    ".aif": "ID3v2 TCON in the ID3 chunk",
    ".aiff": "ID3v2 TCON in the ID3 chunk",
    ".flac": "Vorbis comment GENRE",
    ".ogg": "Vorbis comment GENRE",
    ".opus": "Vorbis comment GENRE",
}
_ID3_FILE_TYPES: dict[str, type[mutagen.FileType]] = {".mp3": MP3, ".wav": WAVE, ".aif": AIFF, ".aiff": AIFF}
_OGG_FILE_TYPES = [OggVorbis, OggOpus, OggFLAC]
_VORBIS_GENRE = "GENRE"
#: What mutagen raises for unreadable, corrupt or unwritable files (it wraps most in MutagenError).
_FILE_ERRORS = (mutagen.MutagenError, OSError, EOFError, ValueError)


def read_genres(path: str | Path, *, as_stored: bool = False) -> list[str]:
    """The file's genre values, ``[]`` when it has none.

    ID3 may store genres as ID3v1 numbers ("17", "(17)Rock"); these are named as players show them ("Rock")
    unless ``as_stored``, which gives the strings exactly as the file holds them, for restoring them later.
    """
    path = Path(path)
    audio = _load(path)
    if not as_stored and _is_id3(path) and audio.tags is not None and "TCON" in audio.tags:
        return list(audio.tags["TCON"].genres)
    return _stored_genres(audio, path)


def has_tag_block(path: str | Path) -> bool:
    """Whether the file has a tag block at all (an ID3v2 tag or chunk, a FLAC Vorbis comment block).

    Ogg streams always have one (the comment header is part of the stream). Undo uses this to take away a
    block that a write added to a file that had none.
    """
    path = Path(path)
    return _load(path).tags is not None


def write_genres(path: str | Path, values: Sequence[str], *, remove_empty_tag_block: bool = False) -> None:
    """Set the file's genre field to exactly ``values`` (``[]`` removes it); nothing else changes.

    With ``remove_empty_tag_block`` and ``values`` empty, a tag block left with nothing in it is removed
    too (restoring a file that had no tags). A symbolic link is followed: its target is written and the
    link stays. Unsupported, missing, corrupt and read-only files are refused with a one-line
    :class:`HierGenreError` before anything is written; a write already equal to the file is skipped.
    """
    path = Path(path)
    values = _checked_values(values)
    target = path.resolve()
    audio = _load(target)
    _check_writable(target)
    drop_block = remove_empty_tag_block and not values and _holds_only_genre(audio, target)
    if _stored_genres(audio, target) == values and not drop_block:
        return
    try:
        with _replacing_copy(target) as copy:
            _write_copy(copy, values, drop_block=drop_block)
    except _FILE_ERRORS as exc:
        raise HierGenreError(f"cannot write the genre of {path} (the file is unchanged): {_one_line(exc)}") from None


def file_fingerprint(path: str | Path) -> str:
    """The SHA-256 of the file's bytes: tells whether a file changed since hiergenre wrote it."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise HierGenreError(f"cannot read {path}: {exc.strerror or exc}") from None


def _load(path: Path) -> Any:
    """The file opened by mutagen (tags and stream info), or a one-line error saying why it cannot be."""
    suffix = path.suffix.lower()
    if suffix not in TAGGABLE:
        raise HierGenreError(f"cannot hold tags: {path} (hiergenre tags {', '.join(TAGGABLE)} files)")
    if not path.is_file():
        raise HierGenreError(f"no such audio file: {path}")
    try:
        if suffix in _ID3_FILE_TYPES:
            # translate=False: frames as the file has them; load_v1=False: ID3v1 is not merged into the v2 tag
            return _ID3_FILE_TYPES[suffix](path, translate=False, load_v1=False)
        if suffix == ".flac":
            return FLAC(path)
        audio = mutagen.File(path, options=_OGG_FILE_TYPES)
    except _FILE_ERRORS as exc:
        raise HierGenreError(f"cannot read the tags of {path}: {_one_line(exc)}") from None
    if audio is None:
        raise HierGenreError(f"cannot read the tags of {path}: not an Ogg Vorbis, Opus or FLAC stream")
    return audio


def _is_id3(path: Path) -> bool:
    return path.suffix.lower() in _ID3_FILE_TYPES


def _stored_genres(audio: Any, path: Path) -> list[str]:
    """The genre strings exactly as stored."""
    if audio.tags is None:
        return []
    if _is_id3(path):
        return [str(value) for value in audio.tags["TCON"].text] if "TCON" in audio.tags else []
    return [value for key, value in audio.tags if key.lower() == "genre"]


def _holds_only_genre(audio: Any, path: Path) -> bool:
    """Whether the file has a removable tag block holding nothing but the genre."""
    tags = audio.tags
    if tags is None or path.suffix.lower() in (".ogg", ".opus"):
        return False
    if _is_id3(path):
        return all(key == "TCON" for key in tags) and not tags.unknown_frames
    return all(key.lower() == "genre" for key, _ in tags)


def _checked_values(values: Sequence[str]) -> list[str]:
    if isinstance(values, str):
        raise InvalidValue(f"genre values must be a list of strings, not one string: {values!r}")
    checked = list(values)
    for value in checked:
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidValue(f"not a genre value: {value!r}")
    return checked


def _check_writable(path: Path) -> None:
    """Refuse a file without write permission (also for root, who could write it) or in a read-only folder."""
    if not os.access(path, os.W_OK) or not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise HierGenreError(f"read-only file, not tagged: {path}")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise HierGenreError(f"cannot write in the folder of {path} (a safe write needs a temporary copy there)")


@contextlib.contextmanager
def _replacing_copy(target: Path) -> Iterator[Path]:
    """A copy of ``target`` in its folder that replaces it when the block succeeds, and is removed otherwise.

    ``shutil.copy2`` keeps the permission bits, times and (Linux) extended attributes; the owner is kept
    where allowed (root). The modification time becomes that of the write, as for any edit.
    """
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}")
    os.close(handle)
    copy = Path(name)
    try:
        shutil.copy2(target, copy)
        status = target.stat()
        with contextlib.suppress(OSError):
            os.chown(copy, status.st_uid, status.st_gid)
        yield copy
        os.replace(copy, target)
    finally:
        copy.unlink(missing_ok=True)


def _write_copy(copy: Path, values: list[str], *, drop_block: bool) -> None:
    """Set the genre in ``copy`` (or remove its tag block), in place."""
    audio = _load(copy)
    if _is_id3(copy):
        _write_id3(audio, copy, values, drop_block=drop_block)
        return
    if drop_block:
        audio.delete(copy)
        return
    if audio.tags is None:
        audio.add_tags()
    _replace_vorbis_genres(audio.tags, values)
    audio.save(copy)


def _write_id3(audio: Any, copy: Path, values: list[str], *, drop_block: bool) -> None:
    suffix = copy.suffix.lower()
    if drop_block:
        if suffix == ".mp3":
            mutagen.id3.delete(copy, delete_v1=False, delete_v2=True)
        else:
            (mutagen.wave.delete if suffix == ".wav" else mutagen.aiff.delete)(copy)
        return
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if tags.version < (2, 3, 0):  # mutagen cannot write ID3v2.2: the nearest version it can write
        tags.update_to_v23()
    version = 3 if tags.version < (2, 4, 0) else 4
    old = tags.get("TCON")
    if values:
        tags.setall("TCON", [TCON(encoding=_text_encoding(values, old), text=values)])
    else:
        tags.delall("TCON")
    if suffix != ".mp3":
        tags.save(copy, v2_version=version, v23_sep=None)
        return
    with open(copy, "rb") as handle:
        _, offset = find_id3v1(handle)  # (None, 0) without one: an empty tail
        handle.seek(offset, os.SEEK_END)
        id3v1_bytes = handle.read()
    tags.save(copy, v1=ID3v1SaveOptions.REMOVE, v2_version=version, v23_sep=None)
    with open(copy, "ab") as handle:
        handle.write(id3v1_bytes)


def _text_encoding(values: list[str], old: Any) -> Encoding:
    """The old TCON's encoding where it can hold the values (restores keep it), else UTF-8 (UTF-16 in v2.3)."""
    if old is None:
        return Encoding.UTF8
    if old.encoding != Encoding.LATIN1:
        return old.encoding
    try:
        "".join(values).encode("latin-1")
    except UnicodeEncodeError:
        return Encoding.UTF8
    return Encoding.LATIN1


def _replace_vorbis_genres(comments: Any, values: list[str]) -> None:
    """Put ``values`` where the first genre comment was (or at the end), with its key's spelling."""
    pairs = list(comments)  # a list of (key, value); its dict-style indexing takes keys, not positions
    genre_at = [index for index, (key, _) in enumerate(pairs) if key.lower() == "genre"]
    key = pairs[genre_at[0]][0] if genre_at else _VORBIS_GENRE
    others = [(k, v) for k, v in pairs if k.lower() != "genre"]
    insert_at = genre_at[0] if genre_at else len(others)  # every comment before the first genre is another
    comments.clear()
    comments.extend(others[:insert_at] + [(key, value) for value in values] + others[insert_at:])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
