"""The LMFCC front-end: a signal at any rate gives the windows its file would, bad signals one line each."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from hiergenre.config import FeatureConfig
from hiergenre.data.audio import load_audio
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.frontend import LmfccFrontEnd, resample_signal
from hiergenre.features.lmfcc import LmfccMatrices
from hiergenre.features.registry import load_front_end

CONFIG = FeatureConfig()


def chord(seconds: float, rate: int) -> np.ndarray:
    """Three sines and a little noise: not silent, not periodic in the window."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    y = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (220.0, 331.0, 494.0)) + 0.01 * rng.standard_normal(t.size)
    return y.astype(np.float32)


@pytest.mark.parametrize("rate", [44100, 22050, 16000])
def test_a_signal_gives_the_samples_and_windows_of_its_file(tmp_path, rate):
    """Resampled in the decoder's blocks: bit for bit what decoding the same samples from a file gives."""
    y = chord(4.0, rate)
    path = tmp_path / f"chord-{rate}.wav"
    sf.write(str(path), y, rate, subtype="FLOAT")
    front_end = LmfccFrontEnd(CONFIG, LmfccMatrices.from_librosa(CONFIG))
    decoded = load_audio(path, sample_rate=front_end.sample_rate, max_seconds=front_end.max_seconds)
    assert np.array_equal(resample_signal(y, rate, front_end.sample_rate, front_end.max_seconds), decoded)
    windows = front_end.windows(y, rate)
    assert windows.shape == (1, CONFIG.window_frames, CONFIG.n_mfcc)  # 4 s: one window, the clip repeated
    assert np.array_equal(windows, front_end.windows_at_rate(decoded))


def test_only_the_first_max_seconds_are_used():
    front_end = LmfccFrontEnd(FeatureConfig(max_seconds=2.0))
    y = chord(5.0, 8000)

    def resampled(signal):
        return resample_signal(signal, 8000, front_end.sample_rate, front_end.max_seconds)

    assert len(resampled(y)) == len(resampled(y[:16000])) == 2 * CONFIG.sample_rate


def test_the_lean_and_the_reference_paths_agree():
    y = chord(3.0, 22050)
    lean = LmfccFrontEnd(CONFIG, LmfccMatrices.from_librosa(CONFIG)).windows(y, 22050)
    reference = LmfccFrontEnd(CONFIG).windows(y, 22050)
    assert np.allclose(lean, reference, atol=1e-3 * np.abs(reference).max())


@pytest.mark.parametrize(
    ("y", "sr", "error", "message"),
    [
        (np.zeros((2, 22050), np.float32), 22050, InvalidValue, "shape (n_samples,), got shape (2, 22050)"),
        (chord(2.0, 22050), 0, InvalidValue, "sample rate must be a positive number of Hz, got 0"),
        (chord(2.0, 22050), float("nan"), InvalidValue, "sample rate must be a positive number"),
        (np.array(["a", "b"]), 22050, InvalidValue, "expected a numeric mono signal"),
        (np.zeros(0, np.float32), 22050, HierGenreError, "holds no samples"),
        (np.full(22050, np.nan, np.float32), 22050, HierGenreError, "NaN or infinite"),
        (np.zeros(44100, np.float32), 44100, HierGenreError, "silent"),
        (chord(0.5, 22050), 22050, HierGenreError, "too short"),
    ],
)
def test_bad_signals_are_one_line_errors(y, sr, error, message):
    with pytest.raises(error) as caught:
        LmfccFrontEnd(CONFIG).windows(y, sr)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_record_round_trips_and_the_lean_path_loads_its_stored_matrices(tmp_path):
    matrices = LmfccMatrices.from_librosa(CONFIG)
    stored = LmfccFrontEnd(CONFIG, matrices)
    matrices_file = tmp_path / "features.npz"
    stored.save(matrices_file)
    assert stored.record == {"kind": "lmfcc", "params": {**CONFIG.__dict__}}
    lean = load_front_end(stored.record, matrices_file, lean=True)
    assert lean.config == CONFIG and np.array_equal(lean.matrices.mel_basis, matrices.mel_basis)
    assert load_front_end(stored.record, tmp_path / "nowhere" / "features.npz", lean=False).matrices is None


def test_unknown_or_damaged_front_ends_are_refused(tmp_path):
    with pytest.raises(HierGenreError, match="front-end .vggish., which hiergenre .* does not know"):
        load_front_end({"kind": "vggish", "params": {}}, tmp_path / "features.npz", lean=False)
    with pytest.raises(HierGenreError, match="damaged front-end settings"):
        load_front_end({"kind": "lmfcc", "params": {"n_mfc": 13}}, tmp_path / "features.npz", lean=False)
    typed = [
        {"kind": "musicnn", "params": {"n_fft": "512"}},  # a hand-edited manifest: refused here, not in the FFT
        {"kind": "lmfcc", "params": {"n_mfcc": 13.5}},
        {"kind": "musicnn+lmfcc", "params": {"lmfcc": {}, "musicnn": {"fmax": "8k"}}},
    ]
    for record in typed:
        with pytest.raises(HierGenreError, match="damaged front-end settings .* must be "):
            load_front_end(record, tmp_path / "features.npz", lean=False)
    with pytest.raises(HierGenreError, match="feature matrices not found"):
        load_front_end({"kind": "lmfcc", "params": {}}, tmp_path / "features.npz", lean=True)
