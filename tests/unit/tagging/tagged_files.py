"""Tagged audio files for the tagging tests, made here: one second of signal in every format hiergenre tags.

Each case carries other tags that a genre write must leave alone (title, artist, album, a COMM frame, a
TXXX frame, an ID3v1 tag, a v2.3-only TYER frame, libsndfile's own strings) and some an old genre;
the ``bare`` cases have no tag block at all, so undo must take away the one a write added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.id3 import COMM, ID3, TALB, TCON, TIT2, TPE1, TXXX, TYER
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from tests.sounds import music

RATE = 16000
#: suffix -> (soundfile format, subtype)
SOUNDFILE_FORMATS = {
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".wav": ("WAV", "PCM_16"),
    ".aiff": ("AIFF", "PCM_16"),
    ".aif": ("AIFF", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),
    ".au": ("AU", "PCM_16"),
}
CASES = ["mp3-v24-v1", "mp3-v23", "mp3-bare", "wav", "wav-bare", "aiff", "aif-bare", "flac", "flac-bare", "ogg", "opus"]
BARE_CASES = [case for case in CASES if case.endswith("-bare")]
ID3_SUFFIXES = (".mp3", ".wav", ".aif", ".aiff")
ID3_CLASSES = {".mp3": MP3, ".wav": WAVE, ".aif": AIFF, ".aiff": AIFF}
#: What each case's genre is before any write, as stored.
GENRE_BEFORE = {"mp3-v24-v1": ["(17)"], "mp3-v23": ["Blues"], "aiff": ["Folk"], "flac": ["Blues"], "opus": ["Pop"]}


def write_audio(path: Path, *, strings: bool = True) -> Path:
    """One second of music in the format of ``path``'s suffix, with libsndfile's strings where it can hold them."""
    file_format, subtype = SOUNDFILE_FORMATS[path.suffix]
    with sf.SoundFile(path, "w", RATE, 1, format=file_format, subtype=subtype) as out:
        if strings and path.suffix in (".wav", ".aiff", ".flac", ".ogg", ".opus"):
            out.title, out.artist, out.comment = "Sound title", "Sound artist", "sound comment"
        out.write(music(1.0, RATE).astype(np.float32))
    return path


def make_tagged(folder: Path, case: str) -> Path:
    """The file of ``case`` (see :data:`CASES`) in ``folder``."""
    base, _, variant = case.partition("-")
    path = write_audio(folder / f"song-{case}.{base}")
    if variant == "bare":
        if path.suffix == ".flac":
            FLAC(path).delete()
        return path
    if path.suffix in ID3_SUFFIXES:
        _add_id3(path, case)
    else:
        _add_vorbis(path, case)
    return path


def _add_id3(path: Path, case: str) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=3, text=["Song", "Subtitle"]))
    tags.add(TPE1(encoding=0, text="Artist"))
    tags.add(TALB(encoding=1, text="Albüm"))
    tags.add(COMM(encoding=3, lang="eng", desc="", text="a comment"))
    tags.add(TXXX(encoding=3, desc="MOOD", text="calm"))
    if case in GENRE_BEFORE:
        tags.add(TCON(encoding=0, text=GENRE_BEFORE[case]))
    version = 3 if case in ("mp3-v23", "aiff") else 4
    if version == 3:
        tags.update_to_v23()
        tags.add(TYER(encoding=0, text="1999"))  # a v2.3-only frame: a v2.4 round trip would turn it into TDRC
    if path.suffix == ".mp3":
        tags.save(path, v1=2 if case == "mp3-v24-v1" else 0, v2_version=version)
        return
    audio = ID3_CLASSES[path.suffix](path)
    audio.add_tags()
    audio.tags.update(tags)
    audio.save(v2_version=version)


def _add_vorbis(path: Path, case: str) -> None:
    audio = FLAC(path) if path.suffix == ".flac" else (OggOpus(path) if path.suffix == ".opus" else OggVorbis(path))
    comments = list(audio.tags)
    comments.insert(1, ("ALBUM", "Albüm"))
    if case == "flac":
        comments.insert(1, ("genre", "Blues"))  # lower-case key, between others: its place and spelling stay
    elif case in GENRE_BEFORE:
        comments.append(("GENRE", GENRE_BEFORE[case][0]))
    audio.tags.clear()
    audio.tags.extend(comments)
    audio.save()


def other_tags(path: Path) -> Any:
    """Everything in the tag block but the genre, exactly (frame reprs: values and encodings), or None."""
    if path.suffix in ID3_SUFFIXES:
        tags = ID3_CLASSES[path.suffix](path, translate=False, load_v1=False).tags
        if tags is None:
            return None
        frames = sorted((key, repr(frame)) for key, frame in tags.items() if key != "TCON")
        return tags.version, frames, tags.unknown_frames
    tags = (FLAC(path) if path.suffix == ".flac" else _ogg(path)).tags
    if tags is None:
        return None
    return tags.vendor, [(key, value) for key, value in tags if key.lower() != "genre"]


def _ogg(path: Path) -> Any:
    return OggOpus(path) if path.suffix == ".opus" else OggVorbis(path)


def id3v1_tail(path: Path) -> bytes | None:
    """An MP3's ID3v1 tag bytes (the last 128), or None."""
    tail = path.read_bytes()[-128:]
    return tail if tail.startswith(b"TAG") else None


def snapshot(path: Path) -> dict[str, Any]:
    """What a genre write must not change: decoded samples, other tags, libsndfile's strings, the ID3v1 tag."""
    samples, rate = sf.read(path, dtype="float32", always_2d=True)
    with sf.SoundFile(path) as sound:
        strings = {key: value for key, value in sound.copy_metadata().items() if key != "genre"}
    return {"samples": samples, "rate": rate, "others": other_tags(path), "strings": strings, "v1": id3v1_tail(path)}


def assert_same_but_genre(before: dict[str, Any], after: dict[str, Any], *, tags_added: bool = False) -> None:
    """The two snapshots agree on everything (the samples bit for bit); ``tags_added``: a bare file got a block."""
    assert before["rate"] == after["rate"]
    assert before["samples"].shape == after["samples"].shape
    assert np.array_equal(before["samples"], after["samples"])
    assert before["strings"] == after["strings"]
    assert before["v1"] == after["v1"]
    if tags_added:
        assert before["others"] is None and after["others"] is not None
    else:
        assert before["others"] == after["others"]
