import numpy as np
import pytest

from hiergenre.data.audio import load_audio, save_audio
from hiergenre.errors import HierGenreError


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "au", "mp3"])
def test_formats_read_as_mono_22050(tone, ext):
    path = tone(f"x.{ext}", seconds=1.0, rate=22050)
    signal = load_audio(path)
    assert signal.dtype == np.float32 and signal.ndim == 1
    assert abs(len(signal) - 22050) < 2500  # lossy codecs add padding


def test_stereo_44k_is_downmixed_and_resampled(tone):
    signal = load_audio(tone("s.wav", seconds=2.0, rate=44100, channels=2, freq=1000.0))
    assert len(signal) == 44100
    spectrum = np.abs(np.fft.rfft(signal))
    peak_hz = np.argmax(spectrum) * 22050 / len(signal)
    assert abs(peak_hz - 1000) < 5


def test_max_seconds_limits_what_is_read(tone):
    assert len(load_audio(tone("long.wav", seconds=3.0), max_seconds=1.0)) == 22050


def test_round_trip_au(tmp_path):
    data = np.linspace(-0.5, 0.5, 1000).astype(np.float32)
    save_audio(tmp_path / "a.au", data)
    assert np.allclose(load_audio(tmp_path / "a.au"), data, atol=1e-4)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"hello, this is text\n" * 50, "not a readable audio file")],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "bad.au"
    path.write_bytes(content)
    with pytest.raises(HierGenreError, match=message):
        load_audio(path)


def test_missing_and_directory(tmp_path):
    with pytest.raises(HierGenreError, match="no such file"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(HierGenreError, match="is a directory"):
        load_audio(tmp_path)


def test_non_finite_samples_are_refused(tmp_path):
    import soundfile as sf

    data = np.zeros(1000, dtype=np.float32)
    data[10] = np.nan
    sf.write(str(tmp_path / "nan.wav"), data, 22050, subtype="FLOAT")
    with pytest.raises(HierGenreError, match="NaN or infinite"):
        load_audio(tmp_path / "nan.wav")
