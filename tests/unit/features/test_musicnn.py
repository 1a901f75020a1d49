"""The musicnn front-end: librosa 0.7's log-mel in numpy, the shipped LiteRT network, windows, cache, package.

musicnn's network only knows the input its authors computed with librosa 0.7, so the numpy
log-mel is compared with librosa itself (reflect padding, Slaney mel, periodic Hann), and the
network's output on a small synthetic signal is pinned: a change of either shows up here. The
signals are made in the tests; nothing is read from outside the repository.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import subprocess
import sys
import tomllib

import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from hiergenre.config import FeatureConfig, MusicnnConfig
from hiergenre.errors import HierGenreError
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.features.musicnn import hann_window, log_compress, mel_basis, mel_power, model_path, msd_tags
from hiergenre.features.musicnn_frontend import MusicnnFrontEnd
from hiergenre.features.registry import front_end_for, load_front_end
from tests.commands import ROOT

CONFIG = MusicnnConfig()
RATE = CONFIG.sample_rate
#: The two patches of :func:`fixture_signal` through the shipped network (LiteRT, one thread), measured once.
PINNED_FIRST_VALUES = [
    [-0.1772, -0.1270, -0.2848, -0.2751, -0.1559],
    [-0.1772, -0.1270, -0.2848, -0.2751, -0.3532],
]
#: Three values that differ most between the two patches (the first ones above are nearly constant).
PINNED_DIMS = [6, 64, 170]
PINNED_VARYING_VALUES = [[0.5975, 1.8277, 0.7561], [0.2438, 2.3243, 1.1356]]
PINNED_PATCH_MEANS = [0.2275, 0.2335]


def fixture_signal() -> np.ndarray:
    """7 s at 16 kHz (two patches): three tones under a slow swell, and seeded noise. float32 ``(112000,)``."""
    t = np.arange(7 * RATE) / RATE
    rng = np.random.default_rng(28)
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t)
    tones = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 330 * t) + 0.1 * np.sin(2 * np.pi * 1250 * t)
    return (swell * tones + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def rising_noise(seconds: float, rate: int) -> np.ndarray:
    """One second of seeded noise tiled, getting louder over time: every patch differs. Cheap for minutes."""
    second = np.random.default_rng(1).standard_normal(rate).astype(np.float32)
    tiled = np.tile(second, int(np.ceil(seconds)))[: int(seconds * rate)]
    return tiled * np.linspace(0.05, 0.5, tiled.size, dtype=np.float32)


def librosa_mel(y: np.ndarray, **options) -> np.ndarray:
    """librosa's mel power spectrogram with musicnn's settings, ``(n_frames, n_mels)``."""
    return librosa.feature.melspectrogram(y=y, sr=RATE, n_fft=512, hop_length=256, n_mels=96, **options).T


# --- the log-mel: librosa 0.7's, in numpy -------------------------------------------------------------------------


def test_the_mel_basis_is_librosas_slaney_bank_with_area_norm():
    expected = librosa.filters.mel(sr=16000, n_fft=512, n_mels=96)  # Slaney scale, norm="slaney", fmax = sr/2
    basis = mel_basis(CONFIG)
    assert basis.shape == (96, 257) and basis.dtype == np.float32
    np.testing.assert_allclose(basis, expected, rtol=1e-5, atol=1e-6 * expected.max())


def test_the_window_is_the_periodic_hann():
    assert np.array_equal(scipy.signal.get_window("hann", 512), librosa.filters.get_window("hann", 512))
    np.testing.assert_allclose(hann_window(512), scipy.signal.get_window("hann", 512), atol=1e-7)
    assert hann_window(512)[0] == 0 and hann_window(512)[-1] > 0  # periodic, not symmetric


@pytest.mark.parametrize("n_samples", [36817, 48000])
def test_the_mel_power_is_librosas_centred_reflect_padded_spectrogram(n_samples):
    y = fixture_signal()[:n_samples]
    mel = mel_power(y, CONFIG)
    expected = librosa_mel(y, pad_mode="reflect")
    assert mel.shape == expected.shape == (1 + n_samples // 256, 96) and mel.dtype == np.float32
    np.testing.assert_allclose(mel, expected, rtol=1e-4, atol=1e-6 * expected.max())


def test_reflect_padding_matters_at_the_edges():
    """librosa >= 0.10 pads with zeros by default: its first frame is not the one musicnn was trained on."""
    y = fixture_signal()[:48000]
    mel, zero_padded = mel_power(y, CONFIG), librosa_mel(y)  # librosa's default pad_mode="constant"
    assert mel.shape == zero_padded.shape
    first_frame_difference = np.abs(mel[0] - zero_padded[0]).max() / zero_padded[0].max()
    assert first_frame_difference > 0.1
    np.testing.assert_allclose(mel[2:-2], zero_padded[2:-2], rtol=1e-4, atol=1e-6 * zero_padded.max())


# --- the float32 log step -----------------------------------------------------------------------------------------


def test_the_log_step_stays_finite_where_musicnns_float16_overflows():
    loud = np.geomspace(1e1, 1e4, 61).astype(np.float32)
    with np.errstate(over="ignore"):
        float16_product = np.float16(10000) * loud.astype(np.float16)  # musicnn's own cast
    assert np.all(np.isinf(float16_product))
    compressed = log_compress(loud)
    assert compressed.dtype == np.float32 and np.all(np.isfinite(compressed))
    np.testing.assert_allclose(compressed, np.log10(10000 * loud.astype(np.float64) + 1), rtol=1e-6)
    # not an edge case: an ordinary signal's loudest mel bins are past float16's 65504 / 10000
    assert mel_power(fixture_signal(), CONFIG).max() > 65504 / 10000


# --- the network's output, pinned ---------------------------------------------------------------------------------


def test_the_embedding_of_the_fixture_is_pinned():
    frames = MusicnnFrontEnd().frames(fixture_signal())
    assert frames.shape == (2, 200) and frames.dtype == np.float32
    np.testing.assert_allclose(frames[:, :5], PINNED_FIRST_VALUES, atol=1e-3)
    np.testing.assert_allclose(frames[:, PINNED_DIMS], PINNED_VARYING_VALUES, atol=1e-3)
    np.testing.assert_allclose(frames.mean(axis=1), PINNED_PATCH_MEANS, atol=1e-3)


def test_the_msd_tags_are_one_probability_per_tag_and_patch():
    tags = msd_tags(fixture_signal(), CONFIG)
    assert tags.shape == (2, 50)
    assert np.all((tags >= 0) & (tags <= 1)) and tags.std() > 0


# --- windows ------------------------------------------------------------------------------------------------------


class CountingEmbedder:
    """Stands in for the network in the windows tests: per-patch statistics ``(n, 200)``, each call's size kept."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def embed(self, batch: np.ndarray) -> np.ndarray:
        self.batch_sizes.append(len(batch))
        return np.concatenate([batch.mean(axis=1), batch.std(axis=1), batch[:, :8, 0]], axis=1).astype(np.float32)


def test_a_30_second_clip_at_22050_hz_is_one_window():
    windows = MusicnnFrontEnd().windows(rising_noise(30.0, 22050), 22050)
    assert windows.shape == (1, 10, 200) and windows.dtype == np.float32 and np.all(np.isfinite(windows))


def test_a_long_song_embeds_only_the_patches_of_its_spread_windows(monkeypatch):
    """Four minutes: 80 patches, four windows from the first patch to the last, 40 patches embedded."""
    counting = CountingEmbedder()
    monkeypatch.setattr("hiergenre.features.musicnn_frontend.embedder", lambda config, threads=1: counting)
    front_end, song = MusicnnFrontEnd(), rising_noise(240.0, RATE)
    windows = front_end.windows(song, RATE)
    assert counting.batch_sizes == [40]
    every_patch = front_end.frames(song)
    assert every_patch.shape == (80, 200)
    assert windows.shape == (4, 10, 200)
    assert np.array_equal(windows, front_end.clip_windows(every_patch))
    assert np.array_equal(windows[0], every_patch[:10]) and np.array_equal(windows[-1], every_patch[-10:])
    assert len({w.tobytes() for w in windows}) == 4


def test_a_short_clip_is_repeated_a_too_short_or_silent_one_refused():
    front_end = MusicnnFrontEnd()
    windows = front_end.windows(rising_noise(1.5, 22050), 22050)
    assert windows.shape == (1, 10, 200) and np.all(np.isfinite(windows))
    assert np.array_equal(windows[0], np.repeat(windows[0, :1], 10, axis=0))  # one patch, repeated
    with pytest.raises(HierGenreError, match="too short"):
        front_end.windows(rising_noise(0.5, 22050), 22050)
    with pytest.raises(HierGenreError, match="silent"):
        front_end.windows(np.zeros(3 * 22050, np.float32), 22050)


def test_the_analysis_window_of_window_samples_is_one_window():
    front_end = MusicnnFrontEnd()
    noise = 0.1 * np.random.default_rng(2).standard_normal(front_end.window_samples)
    assert front_end.analysis_window(np.zeros(front_end.window_samples) + noise).shape == (10, 200)


# --- the registry and the cache -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lean", [True, False])
def test_a_recorded_musicnn_front_end_loads_back_equal(tmp_path, lean):
    front_end = MusicnnFrontEnd(MusicnnConfig(max_seconds=120.0))
    loaded = load_front_end(front_end.record, tmp_path / "matrices.npz", lean=lean)
    assert isinstance(loaded, MusicnnFrontEnd) and loaded == front_end


def test_damaged_or_unknown_front_ends_are_one_line_errors(tmp_path):
    matrices = tmp_path / "matrices.npz"
    with pytest.raises(HierGenreError, match="damaged front-end settings") as damaged:
        load_front_end({"kind": "musicnn", "params": {"n_bands": 96}}, matrices, lean=True)
    with pytest.raises(HierGenreError, match="'wav2vec'") as unknown:
        load_front_end({"kind": "wav2vec", "params": {}}, matrices, lean=True)
    assert "\n" not in str(damaged.value) and "\n" not in str(unknown.value)


def test_musicnn_settings_give_the_musicnn_front_end():
    front_end = front_end_for(MusicnnConfig())
    assert isinstance(front_end, MusicnnFrontEnd) and front_end.config == MusicnnConfig()


def test_each_front_end_has_its_own_cache_entries(tmp_path, monkeypatch):
    clip = tmp_path / "clip.wav"
    sf.write(str(clip), rising_noise(3.0, 22050), 22050)
    cache = FeatureCache(tmp_path / "cache")
    lmfcc_features, lmfcc_failures = extract_many([clip], FeatureConfig(), cache=cache)
    musicnn_features, musicnn_failures = extract_many([clip], MusicnnConfig(), cache=cache)
    assert not lmfcc_failures and not musicnn_failures
    assert lmfcc_features[str(clip)].shape[1] == 13 and len(lmfcc_features[str(clip)]) > 1
    assert musicnn_features[str(clip)].shape == (1, 200)
    folders = sorted(p.name for p in cache.directory.iterdir())
    assert len(folders) == 2 and folders[0] != folders[1]
    assert all(len(list((cache.directory / f).glob("*.npy"))) == 1 for f in folders)

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran although the features are cached")

    monkeypatch.setattr("hiergenre.features.extraction.musicnn_frames", no_network)
    with pytest.raises(AssertionError, match="the network ran"):
        extract_many([clip], MusicnnConfig())  # no cache: the patch bites
    cached, failures = extract_many([clip], MusicnnConfig(), cache=cache)
    assert not failures and np.array_equal(cached[str(clip)], musicnn_features[str(clip)])


# --- the package --------------------------------------------------------------------------------------------------


def test_the_converted_model_ships_with_its_recorded_hash_and_licence():
    model = model_path(CONFIG)
    script = (ROOT / "scripts" / "convert_musicnn.py").read_text()  # not imported: it needs TensorFlow
    recorded = re.search(r'^EXPECTED_SHA256 = "([0-9a-f]{64})"$', script, re.MULTILINE)
    assert model.is_file() and recorded
    assert hashlib.sha256(model.read_bytes()).hexdigest() == recorded.group(1)
    licence = model.parent / "LICENSE-musicnn.md"
    assert licence == ROOT / "hiergenre" / "features" / "musicnn_model" / "LICENSE-musicnn.md"
    assert "Permission to use, copy, modify" in licence.read_text()
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["hiergenre"]
    for shipped in (model, licence):
        relative = shipped.relative_to(ROOT / "hiergenre").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_musicnn_windows_import_neither_librosa_nor_tensorflow():
    """What ``hiergenre predict`` runs on a musicnn tree, in a fresh process."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import hiergenre.features.musicnn_frontend, hiergenre.features.registry\n"
        "from hiergenre.features.musicnn_frontend import MusicnnFrontEnd\n"
        "y = np.random.default_rng(0).standard_normal(48000).astype('float32')\n"
        "print(MusicnnFrontEnd().windows(y, 16000).shape)\n"
        "print(sorted(name for name in ('librosa', 'tensorflow') if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["(1, 10, 200)", "[]"]
