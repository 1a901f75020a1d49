"""``hiergenre predict --timeline``: one short file through every output format.

How segments are cut (boundaries, the last partial segment, silence, long files) is unit-tested in
``tests/unit/prediction/test_timeline_segments.py``; here the command's formats agree with each other.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from hiergenre.data.audio import load_audio, save_audio

RATE = 22050


def test_timeline_in_text_json_csv_and_a_plot(cli, trained, tiny_corpus, tmp_path):
    clips = [load_audio(path) for path in sorted(tiny_corpus.glob("*/*.0000[01].au"))]
    song = np.concatenate([np.concatenate(clips)[: 36 * RATE], np.zeros(20 * RATE)])  # 36 s of music, 20 s silent
    mix = tmp_path / "mix.au"
    save_audio(mix, song)
    table, png = tmp_path / "timeline.csv", tmp_path / "timeline.png"
    options = ["--timeline", "--hop", "10"]
    out = json.loads(cli("predict", mix, *options, "--json", "-o", table, "--plot", png, workdir=trained).stdout)[0]
    segments = out["timeline"]
    window = (2048 + 299 * 1024) / RATE
    assert len(segments) == int((56 - window) // 10) + 2 == 6  # one every 10 s, then one ending on the file's end
    assert [s["start"] for s in segments] == [0.0, 10.0, 20.0, 30.0, 40.0, round(56 - window, 3)]
    assert segments[-1]["end"] == 56.0  # the whole file: its last seconds are not left out
    assert all(s["end"] == pytest.approx(s["start"] + window, abs=1e-3) for s in segments)
    assert all(s["genre"] and 0 < s["p"] <= 1 for s in segments[:4])  # 30 s onwards: still 6 s of music
    assert all(s["genre"] is None and s["p"] is None for s in segments[4:])  # 40 s onwards: silence
    rows = list(csv.DictReader(table.open()))
    assert [r["genre"] for r in rows] == [s["genre"] or "" for s in segments]
    assert [float(r["start"]) for r in rows] == [s["start"] for s in segments]
    assert png.read_bytes()[:4] == b"\x89PNG"
    text = cli("predict", mix, *options, workdir=trained).stdout.splitlines()
    assert text[2] == f"  0:00–0:14  {segments[0]['genre']} (p={segments[0]['p']:.2f})"
    assert text[-2:] == ["  0:40–0:54  silent", "  0:42–0:56  silent"]
    refused = cli("predict", mix, "--hop", "30", workdir=trained, check=False)
    assert refused.returncode == 2 and "--hop and --plot go with --timeline" in refused.stderr
