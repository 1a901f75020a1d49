"""The window reader streams a file: its memory does not grow with the file, its windows are the whole signal's."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hiergenre.config import FeatureConfig
from hiergenre.data.audio import load_audio
from hiergenre.errors import HierGenreError
from hiergenre.features.frontend import LmfccFrontEnd
from hiergenre.features.lmfcc import LmfccMatrices
from hiergenre.prediction.predictor import WindowReader

RATE = 22050


@pytest.fixture(scope="module")
def lean() -> LmfccFrontEnd:
    """The LiteRT runtime's front-end: LMFCC in numpy from stored matrices."""
    config = FeatureConfig()
    return LmfccFrontEnd(config, LmfccMatrices.from_librosa(config))


def write_long_file(path: Path, minutes: float, rate: int = RATE) -> Path:
    """A mono 16-bit file of ``minutes`` of tones and noise, written block by block (never whole in memory)."""
    rng = np.random.default_rng(0)
    block = rate * 10
    with sf.SoundFile(str(path), "w", rate, 1, subtype="PCM_16") as handle:
        for start in range(0, int(minutes * 60 * rate), block):
            t = (start + np.arange(block)) / rate
            tone = 0.3 * np.sin(2 * np.pi * (220 + 20 * (start // block % 7)) * t)
            handle.write((tone + 0.05 * rng.standard_normal(block)).astype(np.float32))
    return path


def test_a_ten_minute_file_is_read_in_bounded_memory(lean, tmp_path):
    """The reader never holds the decoded signal (10 min: 53 MB at 22.05 kHz); before, it held it several times."""
    path = write_long_file(tmp_path / "long.wav", minutes=10.5)
    tracemalloc.start()
    try:
        windows = WindowReader(lean).windows_or_reason(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(windows, np.ndarray) and windows.shape == (8, 300, 13)
    signal_bytes = 600 * RATE * 4  # the first max_seconds (600 s) as float32
    assert peak < signal_bytes / 3, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("block", [1000, 65536, 300_001])
@pytest.mark.parametrize("runtime", ["lean", "librosa"])
def test_streamed_frames_equal_the_whole_signals(lean, runtime, block):
    """Chunked LMFCC gives the frames of the joined signal, whatever the block sizes (both front-ends)."""
    front_end = lean if runtime == "lean" else LmfccFrontEnd(lean.config, None)
    rng = np.random.default_rng(1)
    signal = (0.2 * rng.standard_normal(RATE * 40 + 777)).astype(np.float32)
    signal[RATE * 5 : RATE * 6] *= 20  # a loud second: the 80 dB floor depends on the whole signal
    blocks = [signal[i : i + block] for i in range(0, len(signal), block)]
    streamed = front_end.stream_frames(iter(blocks))
    whole = front_end.frames(signal)
    assert streamed.shape == whole.shape == (1 + (len(signal) - 2048) // 1024, 13)
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-4 * float(np.abs(whole).max()))


def test_a_files_windows_are_those_of_its_decoded_signal(lean, tmp_path):
    """Streaming changes no prediction: the windows equal those of load_audio's signal (44.1 kHz stereo here)."""
    rng = np.random.default_rng(2)
    path = tmp_path / "song.wav"
    sf.write(str(path), (0.3 * rng.standard_normal((44100 * 50, 2))).astype(np.float32), 44100)
    signal = load_audio(path, sample_rate=lean.sample_rate, max_seconds=lean.max_seconds)
    np.testing.assert_array_equal(lean.file_windows(path), lean.windows_at_rate(signal))


@pytest.mark.parametrize(
    ("samples", "message"),
    [(np.zeros(RATE * 20), "silent (peak below -80 dBFS)"), (0.3 * np.ones(RATE // 2), "too short: 500 ms")],
)
def test_a_file_that_cannot_be_classified_gets_the_same_one_line_reason(lean, tmp_path, samples, message):
    path = tmp_path / "bad.wav"
    sf.write(str(path), samples.astype(np.float32), RATE)
    reason = WindowReader(lean).windows_or_reason(str(path))
    assert isinstance(reason, str) and message in reason and "\n" not in reason
    with pytest.raises(HierGenreError, match=re.escape(message.split(":")[0])):
        lean.file_windows(path)
