"""Writing predicted genres into audio files' own tags, safely and undoably.

The file side of ``hiergenre tag`` (and of a beets plugin): :mod:`hiergenre.tagging.files` reads and
sets exactly one field, the genre (ID3v2 ``TCON`` in MP3, WAV and AIFF, the Vorbis comment ``GENRE``
in FLAC, Ogg Vorbis and Opus), through a temporary copy renamed over the original, so a failure never
leaves a half-written file and no other tag or audio byte is touched; :mod:`hiergenre.tagging.undo`
records each write with a fingerprint of the result so that a later undo restores the old values, but
refuses a file someone has changed since. Nothing here predicts: it knows files, not models.
"""
