"""Workspace.open: one manifest read, one version folder, everything loaded, whatever is published later."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import hiergenre
from hiergenre.cascade.routing import get_policy
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.prediction.predictor import Predictor
from hiergenre.presets import get_preset
from hiergenre.workspace.layout import Workspace
from hiergenre.workspace.validation import cascade_validation, load_validation, stored_validation


def clip_of(corpus: Path, genre: str = "jazz") -> Path:
    return sorted((corpus / genre).iterdir())[0]


def test_open_reads_one_manifest_and_everything_from_the_folder_it_names(trained, monkeypatch):
    workspace = Workspace(trained)
    reads = []
    real = Workspace.manifest
    monkeypatch.setattr(Workspace, "manifest", lambda self, name: reads.append(name) or real(self, name))
    opened = workspace.open("default", runtime="litert")
    assert reads == ["default"]
    published = json.loads((trained / "models" / "default" / "manifest.json").read_text())["models"]
    assert opened.folder.path == trained / "models" / "default" / published
    assert set(opened.models) == set(opened.tree.model_nodes) == set(opened.node_records)
    for node, record in opened.node_records.items():
        assert record == json.loads((opened.folder.path / f"{node}.json").read_text())
    assert opened.validation == (opened.folder.path / "validation.npz").read_bytes()
    assert opened.front_end.matrices is not None  # the lean path's matrices, loaded with the models


def test_feature_settings_come_from_the_manifest_with_the_first_node_as_fallback(trained_copy):
    workspace = Workspace(trained_copy)
    manifest = workspace.manifest("default")
    assert manifest.front_end == {"kind": "lmfcc", "params": get_preset(manifest.preset).features.__dict__}
    path = workspace.tree_folder("default").manifest_file
    older = {k: v for k, v in json.loads(path.read_text()).items() if k != "front_end"}
    path.write_text(json.dumps({**older, "format_version": 3}))  # as hiergenre 0.3/0.4 wrote it
    opened = workspace.open("default", runtime=None)
    assert opened.front_end.record == manifest.front_end
    path.write_text(json.dumps({**older, "front_end": {"kind": "lmfcc", "params": {"n_mfcc": 20}}}))
    assert workspace.open("default", runtime=None).front_end.config.n_mfcc == 20  # the manifest wins over nodes


def test_records_only_and_wrong_runtimes(trained, monkeypatch):
    monkeypatch.setattr("hiergenre.workspace.trained.load_node", lambda *a, **k: pytest.fail("a model was loaded"))
    records = Workspace(trained).open("flat", runtime=None)
    assert records.models == {} and records.front_end.matrices is None and list(records.node_records) == ["root"]
    with pytest.raises(HierGenreError, match="opened without its models"):
        _ = records.cascade
    with pytest.raises(InvalidValue, match="unknown runtime 'tflite'; choose one of: litert, keras"):
        Workspace(trained).open("flat", runtime="tflite")


def test_blend_opens_the_flat_model_alongside(trained):
    opened = Workspace(trained).open(runtime="litert", with_flat=True)
    assert opened.name == "default" and opened.flat is not None and opened.flat.name == "flat"
    assert opened.cascade.flat is opened.flat.models["root"]
    assert Workspace(trained).open("baseline3", runtime="litert", with_flat=True).flat is None  # one node


def test_an_opened_tree_ignores_a_manifest_rewritten_after_it(trained_copy, tiny_corpus):
    workspace = Workspace(trained_copy)
    predictor = Predictor(workspace.open("default"))
    before = predictor.predict_files([clip_of(tiny_corpus)])[0].route.distribution
    path = workspace.tree_folder("default").manifest_file
    path.write_text(json.dumps({**json.loads(path.read_text()), "models": "v-gone"}))
    shutil.rmtree(predictor.trained.folder.path)  # nothing is read from it any more
    assert predictor.predict_files([clip_of(tiny_corpus)])[0].route.distribution == before
    with pytest.raises(HierGenreError, match="not found"):
        workspace.open("default")


def test_a_reader_keeps_its_version_while_two_newer_ones_are_published(trained_copy, tiny_corpus):
    """A version folder survives one publish only: the reader must hold everything it needs in memory."""
    workspace = Workspace(trained_copy)
    reader = workspace.open("default", runtime="litert")
    predictor = Predictor(reader)
    clips = [clip_of(tiny_corpus, genre) for genre in ("jazz", "metal", "disco")]
    before = [p.route.distribution for p in predictor.predict_files(clips)]
    old_ids, old_genres, old_scores = load_validation(reader.folder.path / "validation.npz")
    for seed in (1, 2):  # publish through train-all itself, with statistics models (seconds)
        hiergenre.train_all(
            workdir=trained_copy, data=tiny_corpus, node_model="stats", seed=seed, jobs=1, baseline3=False
        )
    newest = workspace.open("default", runtime="litert")
    assert not reader.folder.path.exists() and newest.folder != reader.folder
    assert {r["kind"] for r in newest.node_records.values()} == {"stats"}
    assert "stats" not in {model.kind for model in reader.models.values()}
    assert [p.route.distribution for p in predictor.predict_files(clips)] == before  # old models, old matrices
    ids, genres, scores = stored_validation(reader)
    assert (ids, genres) == (old_ids, old_genres)
    assert all(np.array_equal(scores.nodes[node], old_scores.nodes[node]) for node in old_scores.nodes)
    newest_scores = stored_validation(newest)[2]
    assert any(
        newest_scores.nodes[n].shape != p.shape or not np.allclose(newest_scores.nodes[n], p)
        for n, p in scores.nodes.items()
    )
    genres_seen, distributions, routed = cascade_validation(reader, get_policy("greedy"))  # what thresholds use
    assert genres_seen == old_genres and distributions.shape == (len(old_ids), 10) and old_ids
    assert set(routed) <= set(reader.tree.leaves) and len(routed) == len(old_ids)


def test_missing_or_damaged_validation_scores_are_one_line_errors_when_asked_for(trained_copy):
    workspace = Workspace(trained_copy)
    scores = workspace.tree_folder("baseline3").version(workspace.manifest("baseline3").models).validation_file
    scores.unlink()
    with pytest.raises(HierGenreError, match="no validation scores .* run 'hiergenre train-all' again"):
        stored_validation(workspace.open("baseline3", runtime=None))
    scores.write_bytes(b"junk")
    opened = workspace.open("baseline3", runtime=None)  # opening does not need them
    with pytest.raises(HierGenreError, match="validation scores of tree 'baseline3' are unreadable"):
        stored_validation(opened)


def test_a_tree_calibrated_on_clips_it_trained_on_gets_no_guarantee(trained_copy):
    workspace = Workspace(trained_copy)
    assert cascade_validation(workspace.open("flat", runtime="litert"), get_policy("greedy"))[1].shape == (10, 10)
    record = workspace.tree_folder("flat").version(workspace.manifest("flat").models).path / "root.json"
    meta = json.loads(record.read_text())
    record.write_text(json.dumps({**meta, "calibration": {**meta["calibration"], "source": "out-of-fold predictions"}}))
    with pytest.raises(HierGenreError, match="trained by an older hiergenre.* run 'hiergenre train-all' again"):
        cascade_validation(workspace.open("flat", runtime="litert"), get_policy("greedy"))
