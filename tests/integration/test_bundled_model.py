"""The bundled model answers where nothing is trained: predict, load_predictor, evaluate --data, info."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hiergenre
from hiergenre.data.audio import save_audio
from hiergenre.errors import HierGenreError
from hiergenre.workspace.bundled import BUNDLED_MODEL
from tests.sounds import music


def bundle_state() -> dict[str, int]:
    return {str(p.relative_to(BUNDLED_MODEL)): p.stat().st_mtime_ns for p in BUNDLED_MODEL.rglob("*")}


def test_predict_in_an_empty_folder_answers_and_says_once_which_model_did(cli, tmp_path):
    before = bundle_state()
    clip = tmp_path / "song.wav"
    save_audio(clip, music(8.0, seed=3))
    result = cli("predict", clip, "--json", workdir=tmp_path / "fresh")
    (answer,) = json.loads(result.stdout)
    assert answer["genre"] in hiergenre.load_predictor(workdir=tmp_path / "fresh").tree.leaves
    assert result.stderr.count("the bundled model") == 1 and "hiergenre info" in result.stderr
    assert bundle_state() == before and not (tmp_path / "fresh").exists()  # predict wrote nothing anywhere


def test_load_predictor_and_evaluate_work_with_the_bundled_model(tiny_corpus, tmp_path):
    predictor = hiergenre.load_predictor(workdir=tmp_path / "ws", tree="baseline3")
    assert predictor.trained.bundled and predictor.predict(music(5.0), 22050).genre in {"metal", "classical", "disco"}
    with pytest.raises(HierGenreError, match="held-out clips of the bundled model .* --data DIR"):
        hiergenre.evaluate(workdir=tmp_path / "ws")
    data = tmp_path / "data"
    for genre in ("metal", "classical"):
        (data / genre).mkdir(parents=True)
        first = sorted((tiny_corpus / genre).iterdir())[0]
        (data / genre / first.name).symlink_to(first)
    report = hiergenre.evaluate(workdir=tmp_path / "ws", data=data, trees=["baseline3"])
    assert report.scores["baseline3"].n_clips == 2 and any("bundled model" in note for note in report.notes)
    assert list((tmp_path / "ws" / "cache").rglob("*")), "the features are cached in the user's workspace"


def test_info_in_an_empty_folder_shows_the_model_card(cli, tmp_path):
    text = cli("info", workdir=tmp_path / "none").stdout
    assert "BUNDLED MODEL answers predict" in text and "known to fail" in text and "ISC" in text
    found = json.loads(cli("info", "--json", workdir=tmp_path / "none").stdout)
    card = found["bundled_model"]["card"]
    assert found["bundled_model"]["answers_predict"] and card["training_data"]["clips"] == 70
    assert Path(found["bundled_model"]["card_page"]).is_file()
