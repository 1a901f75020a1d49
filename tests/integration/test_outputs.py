"""The outputs music users expect (issue 18): --version, top-K genres, workspace info."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import hiergenre


def test_version(cli):
    assert cli("--version").stdout == f"hiergenre {hiergenre.__version__}\n"


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


def test_info_says_what_the_workspace_holds(cli, trained, tmp_path):
    info = json.loads(cli("info", "--json", workdir=trained).stdout)
    assert info["built_tree"]["name"] == "default" and info["built_tree"]["node_models"] == 5
    default = info["trained_trees"]["default"]
    assert default["node_kinds"] == {"cnn": 5} and default["preset"] == "improved-cv3-s1"
    assert not default["synthetic"] and default["clips"] == 30 and default["is_built_tree"]  # given as --data
    assert default["hiergenre_version"] == hiergenre.__version__ and default["bytes"] > 0
    assert set(info["trained_trees"]) == {"default", "flat", "baseline3"}
    assert info["bytes"]["total"] >= info["bytes"]["models"] > 0
    text = cli("info", workdir=trained).stdout
    assert "built tree 'default': 10 genres, 5 node model(s)" in text and "default *" in text
    empty = cli("info", workdir=tmp_path / "none", check=False)
    assert empty.returncode == 1 and "no workspace" in empty.stderr


def test_timeline_reads_the_whole_file_in_text_json_csv_and_a_plot(cli, trained, tiny_corpus, tmp_path):
    from hiergenre.data.audio import load_audio, save_audio

    clips = [load_audio(path) for path in sorted(tiny_corpus.glob("*/*.000*.au"))]
    song = np.tile(np.concatenate(clips), 8)[: 22050 * 660]  # 11 minutes: beyond predict's 10-minute cap
    mix = tmp_path / "mix.au"
    save_audio(mix, song)
    out = json.loads(cli("predict", mix, "--timeline", "--hop", "30", "--json", workdir=trained).stdout)[0]
    segments = out["timeline"]
    window = (2048 + 299 * 1024) / 22050
    assert len(segments) == int((660 - window) // 30) + 1 and segments[-1]["end"] > 600
    assert [s["start"] for s in segments] == [30.0 * i for i in range(len(segments))]
    assert all(s["end"] == pytest.approx(s["start"] + window, abs=1e-3) and 0 < s["p"] <= 1 for s in segments)
    table = tmp_path / "timeline.csv"
    png = tmp_path / "timeline.png"
    cli("predict", mix, "--timeline", "--hop", "30", "-o", table, "--plot", png, workdir=trained)
    rows = list(csv.DictReader(table.open()))
    assert [r["genre"] for r in rows] == [s["genre"] for s in segments]
    assert png.read_bytes()[:4] == b"\x89PNG"
    text = cli("predict", mix, "--timeline", "--hop", "30", workdir=trained).stdout.splitlines()
    assert text[2] == f"  0:00–0:14  {segments[0]['genre']} (p={segments[0]['p']:.2f})"
    refused = cli("predict", mix, "--hop", "30", workdir=trained, check=False)
    assert refused.returncode == 2 and "--hop and --plot go with --timeline" in refused.stderr


def test_confusion_group_lines_fall_between_top_level_groups():
    from hiergenre.cascade.hierarchy import GenreTree
    from hiergenre.viz.reports import group_edges

    tree = GenreTree.from_yaml_text("tree: {a: [x, y], b: [z], c: [u, v]}")
    assert group_edges(["x", "y", "z", "u", "v"], tree) == [1.5, 2.5]
    assert group_edges(["x", "u"], tree) == [0.5] and group_edges(["x", "y"], None) == []
