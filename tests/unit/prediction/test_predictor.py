"""The Predictor a Python user calls: a signal at any rate, its distribution, files; conflicting arguments refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

import hiergenre
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.prediction.outcome import SIGNAL


@pytest.fixture(scope="module")
def predictor(trained):
    return hiergenre.load_predictor(workdir=trained, routing="product")


def clip_of(corpus: Path, genre: str) -> Path:
    return sorted((corpus / genre).iterdir())[0]


@pytest.mark.parametrize("genre", ["jazz", "metal"])
def test_a_signal_at_44100_or_22050_hz_is_classified_as_its_file(predictor, tiny_corpus, tmp_path, genre):
    clip = clip_of(tiny_corpus, genre)
    y22, rate = sf.read(str(clip), dtype="float32")
    assert rate == 22050
    y44 = soxr.resample(y22, 22050, 44100, quality="HQ").astype(np.float32)
    file44 = tmp_path / f"{genre}-44100.wav"
    sf.write(str(file44), y44, 44100, subtype="FLOAT")
    from_files = predictor.predict_files([clip, file44])
    for (y, sr), from_file in zip([(y22, 22050), (y44, 44100)], from_files, strict=True):
        from_signal = predictor.predict(y, sr)
        assert from_signal.file == SIGNAL and from_signal.error is None
        assert from_signal.genre == from_file.genre
        assert from_signal.route.distribution == pytest.approx(from_file.route.distribution, abs=1e-6)
    assert from_files[0].genre == from_files[1].genre  # the same music at another rate


def test_predict_proba_is_the_routed_distribution_in_classes_order(predictor, tiny_corpus):
    y, sr = sf.read(str(clip_of(tiny_corpus, "disco")), dtype="float32")
    proba = predictor.predict_proba(y, sr)
    route = predictor.predict(y, sr).route
    assert list(predictor.classes_) == predictor.tree.leaves and proba.shape == (len(predictor.classes_),)
    assert proba.sum() == pytest.approx(1.0) and (proba >= 0).all()
    assert proba.tolist() == [route.distribution[genre] for genre in predictor.classes_]
    assert predictor.classes_[int(np.argmax(proba))] == route.genre  # product routing takes the most probable


def test_bad_signals_raise_one_line_errors(predictor):
    with pytest.raises(InvalidValue, match="downmix first"):
        predictor.predict(np.zeros((2, 44100), np.float32), 44100)
    with pytest.raises(HierGenreError, match="silent"):
        predictor.predict_proba(np.zeros(44100, np.float32), 44100)


def test_predict_refuses_what_a_given_predictor_already_fixes(predictor, trained, tiny_corpus):
    clip = clip_of(tiny_corpus, "jazz")
    for option, value in [("tree", "flat"), ("routing", "greedy"), ("runtime", "keras"), ("workdir", trained)]:
        with pytest.raises(InvalidValue, match=f"the predictor given already fixes {option}"):
            hiergenre.predict([clip], predictor=predictor, **{option: value})
    (alone,) = hiergenre.predict([clip], predictor=predictor, jobs=2)
    assert alone.route.distribution == predictor.predict_files([clip])[0].route.distribution


def test_runtime_is_checked_and_named_apart_from_parallel_jobs(predictor, trained, tiny_corpus):
    with pytest.raises(InvalidValue, match="unknown runtime 'tflite'; choose one of: litert, keras"):
        hiergenre.load_predictor(workdir=trained, runtime="tflite")
    with pytest.raises(InvalidValue, match="--jobs must be at least 1"):
        predictor.predict_files([tiny_corpus / "jazz"], jobs=0)
    assert predictor.trained.runtime == "litert"
    assert type(hiergenre.load_cascade(workdir=trained).classifiers["root"].network).__name__ == "LiteNetwork"


def test_the_cli_takes_runtime_and_still_the_old_backend_name(cli, trained, tiny_corpus):
    clip = clip_of(tiny_corpus, "jazz")
    runtime = cli("predict", clip, "--json", "--runtime", "litert", workdir=trained)
    backend = cli("predict", clip, "--json", "--backend", "litert", workdir=trained)
    assert runtime.stdout == backend.stdout and "--backend is now called --runtime" in backend.stderr
    assert "--runtime" in cli("predict", "--help", workdir=trained).stdout
    clash = cli("predict", clip, "--runtime", "keras", "--backend", "litert", workdir=trained, check=False)
    assert clash.returncode == 2 and "give --runtime only" in clash.stderr
