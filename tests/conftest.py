"""Shared fixtures: every test makes its own audio; nothing is read from outside the repo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hiergenre.audio import save_audio
from hiergenre.synthetic import write_corpus


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All ten genres, three 3-second synthetic clips each, in GTZAN layout."""
    root = tmp_path_factory.mktemp("corpus")
    return write_corpus(root, clips_per_genre=3, seconds=3.0, seed=1)


@pytest.fixture
def tone(tmp_path: Path):
    """Factory writing a sine tone file: tone(name, seconds=2, rate=22050, channels=1)."""

    def make(
        name: str = "tone.wav", seconds: float = 2.0, rate: int = 22050, channels: int = 1, freq: float = 440.0
    ) -> Path:
        t = np.arange(int(seconds * rate)) / rate
        mono = 0.5 * np.sin(2 * np.pi * freq * t)
        data = np.stack([mono] * channels, axis=1) if channels > 1 else mono
        path = tmp_path / name
        import soundfile as sf

        sf.write(str(path), data.astype(np.float32), rate)
        return path

    return make


@pytest.fixture
def folder_dataset(tmp_path: Path) -> Path:
    """Folder-per-genre data set of 4 genres x 5 one-second clips, plus one unreadable file."""
    rng = np.random.default_rng(0)
    for genre in ("blues", "jazz", "metal", "pop"):
        for i in range(5):
            save_audio(tmp_path / "data" / genre / f"{genre}.{i:05d}.wav", 0.1 * rng.standard_normal(22050))
    (tmp_path / "data" / "pop" / "broken.00099.au").write_bytes(b"not audio at all")
    return tmp_path / "data"
