"""``hiergenre predict`` on the shared trained workspace: text, JSON, CSV, top-K, routing, both runtimes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest


def test_predict_prints_route_and_json(cli, trained, tiny_corpus):
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    text = cli("predict", clip, workdir=trained).stdout
    legend, line = text.splitlines()
    assert legend.startswith("tree 'default' (10 genres), greedy routing; p: probability of the whole path")
    genre, p = line.split(": ")[1].split("  ")[0].split(" (p=")
    steps = [float(step.split("(")[1].rstrip(")")) for step in line.split(" → ")[1:]]
    assert line.split("  ")[1].startswith("root → ") and float(p.rstrip(")")) == pytest.approx(np.prod(steps), abs=0.01)
    out = json.loads(cli("predict", clip, tiny_corpus / "rock", "--json", workdir=trained).stdout)
    assert len(out) == 4
    first = out[0]
    assert first["file"].endswith("jazz.00000.au")
    assert first["path"][0]["node"] == "root" and first["path"][-1]["choice"] == first["genre"]
    assert all(0 <= step["p"] <= 1 for step in first["path"])
    flat = json.loads(cli("predict", clip, "--tree", "flat", "--json", workdir=trained).stdout)
    assert len(flat[0]["path"]) == 1


def test_predict_errors_are_one_line_and_non_zero(cli, trained, tmp_path):
    missing = cli("predict", tmp_path / "nope.au", workdir=trained, check=False)
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    unknown = cli("predict", tmp_path / "nope.au", "--tree", "other", workdir=trained, check=False)
    assert unknown.returncode == 1 and "not trained" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_predict_output_is_quiet_and_routing_must_apply(cli, trained, tiny_corpus):
    many = cli("predict", tiny_corpus / "jazz", tiny_corpus / "rock", workdir=trained)
    assert many.stderr == "" and len(many.stdout.splitlines()) == 7  # the legend and six clips
    for tree in ("flat", "baseline3"):
        options = ["--tree", tree, "--routing", "blend"]
        refused = cli("predict", tiny_corpus / "jazz", *options, workdir=trained, check=False)
        assert refused.returncode == 2 and f"has no effect on tree {tree!r}" in refused.stderr
    legend = cli("predict", tiny_corpus / "blues", "--tree", "baseline3", workdir=trained).stdout.splitlines()[0]
    assert "It knows only classical, disco, metal: any other music is given one of these" in legend


def test_routing_policies_through_predict_and_evaluate(cli, trained, tiny_corpus):
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    for policy in ("product", "blend"):
        out = json.loads(cli("predict", clip, "--routing", policy, "--json", workdir=trained).stdout)[0]
        assert out["path"][0]["node"] == "root" and out["path"][-1]["choice"] == out["genre"]
        product = 1.0
        for step in out["path"]:
            product *= step["p"]
        assert out["p"] == pytest.approx(product)
    scores = json.loads(cli("evaluate", "--routing", "blend", "--json", workdir=trained).stdout)["models"]
    assert scores["default"]["n_clips"] == 10
    bad = cli("predict", clip, "--routing", "best", workdir=trained, check=False)
    assert bad.returncode == 2 and "unknown routing policy 'best'" in bad.stderr


def test_top_k_in_text_json_and_csv(cli, trained, tiny_corpus, tmp_path):
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    out = json.loads(cli("predict", clip, "--top", "3", "--json", workdir=trained).stdout)[0]
    top = out["top"]
    assert len(top) == 3 and [t["p"] for t in top] == sorted((t["p"] for t in top), reverse=True)
    everything = json.loads(cli("predict", clip, "--top", "10", "--json", workdir=trained).stdout)[0]["top"]
    chosen = next(t["p"] for t in everything if t["genre"] == out["genre"])  # greedy may not pick the top genre
    assert chosen == pytest.approx(np.prod([step["p"] for step in out["path"]]))  # a genre's p: its whole path
    text = cli("predict", clip, "--top", "2", workdir=trained).stdout.splitlines()
    assert text[2] == f"  top 2: {top[0]['genre']} {top[0]['p']:.2f}, {top[1]['genre']} {top[1]['p']:.2f}"
    table = tmp_path / "top.csv"
    cli("predict", clip, tiny_corpus / "nothing.au", "--top", "2", "-o", table, workdir=trained)
    rows = list(csv.DictReader(table.open()))
    assert rows[0]["genre_1"] == top[0]["genre"] and float(rows[0]["p_2"]) == pytest.approx(top[1]["p"], abs=1e-6)
    assert rows[1]["error"] and rows[1]["genre_1"] == ""
    refused = cli("predict", clip, "--top", "-1", workdir=trained, check=False)
    assert refused.returncode == 2 and "--top" in refused.stderr


def test_litert_and_keras_backends_agree(cli, trained, tiny_corpus):
    models = (
        trained
        / "models"
        / "default"
        / json.loads((trained / "models" / "default" / "manifest.json").read_text())["models"]
    )
    assert {p.suffix for p in models.iterdir()} >= {".keras", ".tflite", ".json", ".npz"}
    lean = json.loads(cli("predict", tiny_corpus, "--json", workdir=trained).stdout)
    reference = json.loads(cli("predict", tiny_corpus, "--json", "--backend", "keras", workdir=trained).stdout)
    assert len(lean) == len(reference) == 30
    for a, b in zip(lean, reference, strict=True):
        assert a["file"] == b["file"] and a["genre"] == b["genre"]
        assert a["p"] == pytest.approx(b["p"], abs=1e-4)
        assert [s["choice"] for s in a["path"]] == [s["choice"] for s in b["path"]]


def test_batch_predict_survives_bad_files_and_writes_csv_and_json(cli, trained, tiny_corpus, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    for genre in ("rock", "pop"):
        (batch / f"{genre}.au").write_bytes((tiny_corpus / genre / f"{genre}.00001.au").read_bytes())
    (batch / "broken.wav").write_bytes(b"RIFF....garbage")
    (batch / "empty.au").write_bytes(b"")
    out_csv = tmp_path / "out" / "genres.csv"
    result = cli("predict", batch, tmp_path / "missing.au", "--output", out_csv, "--jobs", "2", workdir=trained)
    assert "broken.wav" in result.stderr and "empty.au" in result.stderr and "missing.au" in result.stderr
    assert "Traceback" not in result.stderr and "wrote 5 predictions (2 classified)" in result.stderr
    rows = list(csv.DictReader(out_csv.open()))
    assert [Path(r["file"]).name for r in rows] == ["broken.wav", "empty.au", "pop.au", "rock.au", "missing.au"]
    good = [r for r in rows if r["genre"]]
    assert len(good) == 2 and all(r["path"].endswith(r["genre"]) and not r["error"] for r in good)
    assert all(r["error"] for r in rows if not r["genre"])
    out_json = tmp_path / "genres.json"
    cli("predict", batch, "-o", out_json, workdir=trained)
    assert [bool(p["genre"]) for p in json.loads(out_json.read_text())] == [False, False, True, True]
    bad = cli("predict", batch, "-o", tmp_path / "genres.txt", workdir=trained, check=False)
    assert bad.returncode == 2 and "use a .csv or .json" in bad.stderr
    nothing = cli("predict", batch / "broken.wav", workdir=trained, check=False)
    assert nothing.returncode == 1 and "broken.wav" in nothing.stderr
