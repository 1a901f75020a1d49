import numpy as np
import pytest

from hiergenre.config import FeatureConfig
from hiergenre.errors import HierGenreError
from hiergenre.features import extraction as features
from hiergenre.features.extraction import FeatureCache, clip_features, extract_many
from hiergenre.features.lmfcc import lmfcc
from hiergenre.features.windows import Normalizer, window_starts, windows

CFG = FeatureConfig()


def noise(seconds=2.0, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * 22050))).astype(np.float32)


def test_lmfcc_shape_follows_frame_and_hop():
    frames = lmfcc(noise(2.0), CFG)
    expected = 1 + (int(2.0 * 22050) - CFG.frame_length) // CFG.hop_length
    assert frames.shape == (expected, 13)
    assert frames.dtype == np.float32


def test_liftering_scales_coefficients_by_the_sinusoidal_lifter():
    plain = lmfcc(noise(), FeatureConfig(lifter=0))
    liftered = lmfcc(noise(), CFG)
    n = np.arange(1, 14)
    lifter = 1 + (22 / 2) * np.sin(np.pi * n / 22)
    assert np.allclose(liftered, plain * lifter, rtol=1e-4, atol=1e-3)


def test_clips_shorter_than_a_second_are_refused_longer_ones_analysed():
    assert lmfcc(noise(1.0), CFG).shape == (1 + (22050 - 2048) // 1024, 13)
    for seconds in (0.0, 0.5, 0.99):
        with pytest.raises(HierGenreError, match="too short: .* at least 1 s"):
            lmfcc(noise(seconds), CFG)


def test_window_policies():
    assert window_starts(645, 300, mode="first") == [0]
    assert window_starts(645, 300, mode="all", hop=150) == [0, 150, 300]
    spread = window_starts(3000, 300, mode="spread", max_windows=4)
    assert spread[0] == 0 and spread[-1] == 2700 and len(spread) == 4
    assert window_starts(100, 300, mode="all") == [0]
    with pytest.raises(HierGenreError):
        window_starts(645, 300, mode="bogus")


def test_short_clips_are_tiled_to_a_full_window():
    frames = np.arange(26, dtype=np.float32).reshape(2, 13)
    stack = windows(frames, 5, mode="first")
    assert stack.shape == (1, 5, 13)
    assert np.array_equal(stack[0, 2], frames[0])


def test_normalizer_fits_per_coefficient_and_round_trips():
    data = np.random.default_rng(0).normal([1.0, -5.0, 10.0], [2.0, 0.5, 0.0], size=(4, 50, 3))
    norm = Normalizer.fit(data)
    out = norm.transform(data).reshape(-1, 3)
    assert np.allclose(out[:, :2].mean(0), 0, atol=1e-6) and np.allclose(out[:, :2].std(0), 1, atol=1e-6)
    assert np.all(np.isfinite(out))  # constant coefficient does not divide by zero
    again = Normalizer.from_dict(norm.to_dict())
    assert np.allclose(again.transform(data), norm.transform(data))


def test_cache_serves_second_call_and_keys_on_parameters(tmp_path, tone, monkeypatch):
    path = tone("a.wav")
    cache = FeatureCache(tmp_path / "cache")
    calls = []
    original = features.lmfcc
    monkeypatch.setattr(features, "lmfcc", lambda s, c: calls.append(1) or original(s, c))
    first = clip_features(path, CFG, cache)
    second = clip_features(path, CFG, cache)
    assert len(calls) == 1 and np.array_equal(first, second)
    clip_features(path, FeatureConfig(n_mfcc=20), cache)
    assert len(calls) == 2
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(path.read_bytes())
    clip_features(copy, CFG, cache)
    assert len(calls) == 2  # keyed by content, not by name


def test_corrupted_cache_entry_is_recomputed(tmp_path, tone):
    path = tone("a.wav")
    cache = FeatureCache(tmp_path / "cache")
    good = clip_features(path, CFG, cache)
    entry = cache.entry(path, CFG)
    entry.write_bytes(b"garbage")
    assert np.array_equal(clip_features(path, CFG, cache), good)
    assert np.array_equal(np.load(entry), good)


@pytest.mark.parametrize("jobs", [1, 2])
def test_extract_many_reports_failures_without_raising(tmp_path, tone, jobs):
    good = tone("good.wav")
    bad = tmp_path / "bad.au"
    bad.write_bytes(b"\x00" * 10)
    done = []
    found, failures = extract_many(
        [good, bad], CFG, cache=FeatureCache(tmp_path / "c"), jobs=jobs, on_done=lambda: done.append(1)
    )
    assert list(found) == [str(good)]
    assert list(failures) == [str(bad)] and "bad.au" in failures[str(bad)]
    assert len(done) == 2


@pytest.mark.parametrize("lifter", [22, 0])
def test_lean_lmfcc_matches_librosa_on_synthetic_music(tiny_corpus, lifter):
    from hiergenre.data.audio import load_audio
    from hiergenre.features.lmfcc import LmfccMatrices, lmfcc_numpy

    config = FeatureConfig(lifter=lifter)
    matrices = LmfccMatrices.from_librosa(config)
    for genre in ("classical", "metal", "hiphop"):
        signal = load_audio(tiny_corpus / genre / f"{genre}.00000.au")
        reference, lean = lmfcc(signal, config), lmfcc_numpy(signal, config, matrices)
        assert lean.shape == reference.shape and lean.dtype == np.float32
        scale = np.abs(reference).max()
        assert np.abs(lean - reference).max() <= 1e-5 * scale  # float rounding only


def test_lean_lmfcc_matches_librosa_on_short_stereo_and_quiet_input(tone):
    from hiergenre.data.audio import load_audio
    from hiergenre.features.lmfcc import LmfccMatrices, lmfcc_numpy

    config = FeatureConfig()
    matrices = LmfccMatrices.from_librosa(config)
    for path in (tone("s.wav", seconds=1.0), tone("st.flac", seconds=1.5, rate=44100, channels=2)):
        signal = load_audio(path)
        assert np.allclose(lmfcc_numpy(signal, config, matrices), lmfcc(signal, config), atol=1e-5 * 1000)
    silence = np.zeros(30000, np.float32)  # the 80 dB floor makes silence a constant, not -inf
    assert np.allclose(lmfcc_numpy(silence, config, matrices), lmfcc(silence, config), atol=1e-3)


def test_feature_matrices_round_trip_and_damage_is_one_line(tmp_path):
    from hiergenre.features.lmfcc import LmfccMatrices

    matrices = LmfccMatrices.from_librosa(FeatureConfig())
    assert matrices.mel_basis.shape == (40, 1025) and matrices.dct_lifter.shape == (13, 40)
    matrices.save(tmp_path / "features.npz")
    again = LmfccMatrices.load(tmp_path / "features.npz")
    assert np.array_equal(again.mel_basis, matrices.mel_basis) and np.array_equal(again.window, matrices.window)
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(HierGenreError, match="unreadable"):
        LmfccMatrices.load(tmp_path / "bad.npz")
    with pytest.raises(HierGenreError, match="not found"):
        LmfccMatrices.load(tmp_path / "missing.npz")


def test_features_do_not_depend_on_the_number_of_extraction_jobs(tiny_corpus):
    # joblib workers run their BLAS single-threaded; float32 products would round differently
    # there, and every network trained on the features would then depend on --jobs
    paths = sorted(tiny_corpus.rglob("*.au"))[:8]
    config = FeatureConfig()
    serial, _ = extract_many(paths, config, jobs=1)
    parallel, _ = extract_many(paths, config, jobs=2)
    assert serial.keys() == parallel.keys()
    for path, frames in serial.items():
        assert np.array_equal(frames, parallel[path])
