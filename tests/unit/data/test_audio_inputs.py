"""Whatever bytes a file holds, the audio loader returns audio or its own one-line error, in bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiergenre.data.audio import load_audio
from hiergenre.errors import HierGenreError
from tests.sounds import music

EXTENSIONS = [".au", ".wav", ".flac", ".ogg", ".mp3", ".aiff"]


def test_long_files_are_read_in_bounded_memory(tmp_path):
    path = tmp_path / "long.wav"
    minutes = 4
    with sf.SoundFile(str(path), "w", samplerate=44100, channels=2, subtype="PCM_16") as out:
        block = (0.1 * music(10.0, 44100, 2)).astype(np.float32)
        for _ in range(minutes * 6):
            out.write(block)
    tracemalloc.start()
    signal = load_audio(path, max_seconds=20.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(signal) == 20 * 22050
    whole_file_as_float = minutes * 60 * 44100 * 2 * 4
    assert peak < 4_000_000 < whole_file_as_float / 10  # a few blocks, not the file


def assert_audio_or_own_error(path: Path) -> None:
    """The loader's contract: a finite mono float32 signal, or a HierGenreError naming the file."""
    try:
        signal = load_audio(path)
    except HierGenreError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
    else:
        assert signal.dtype == np.float32 and signal.ndim == 1 and signal.size and np.all(np.isfinite(signal))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=4096), extension=st.sampled_from(EXTENSIONS))
def test_audio_loader_returns_audio_or_its_own_error(tmp_path, content, extension):
    path = tmp_path / f"fuzz{extension}"
    path.write_bytes(content)
    assert_audio_or_own_error(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from([b".snd", b"RIFF", b"fLaC", b"OggS", b"ID3", b"FORM"]), body=st.binary(max_size=2048))
def test_audio_loader_survives_plausible_headers(tmp_path, header, body):
    path = tmp_path / "fuzz.wav"
    path.write_bytes(header + body)
    assert_audio_or_own_error(path)
