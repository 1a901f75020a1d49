"""Bad input to ``predict`` never crashes: messy files are reported one line each, damaged workspaces named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from hiergenre.data.audio import save_audio
from tests.commands import ROOT, model_dir
from tests.sounds import music


def bad_inputs(folder: Path) -> dict[str, str]:
    """Every kind of bad input, with the reason predict must give for it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "no-audio").mkdir()
    (folder / "no-audio" / "notes.txt").write_text("nothing to hear")
    (folder / "empty.au").write_bytes(b"")
    (folder / "random.wav").write_bytes(np.random.default_rng(0).bytes(5000))
    (folder / "random.mp3").write_bytes(np.random.default_rng(1).bytes(5000))
    sf.write(str(folder / "good.au"), music(), 22050, subtype="PCM_16")
    (folder / "truncated.au").write_bytes((folder / "good.au").read_bytes()[:14])
    sf.write(str(folder / "good.wav"), music(), 22050, subtype="PCM_16")
    (folder / "truncated.wav").write_bytes((folder / "good.wav").read_bytes()[:30])
    (folder / "good.wav").unlink()
    (folder / "lyrics.txt").write_text("la la la\n" * 100)
    (folder / "text.au").write_text("la la la\n" * 100)
    sf.write(str(folder / "short.wav"), music(0.5), 22050)
    sf.write(str(folder / "silence.wav"), np.zeros(22050 * 3), 22050)
    for name, value in (("nan.wav", np.nan), ("inf.wav", np.inf)):
        data = music().astype(np.float32)
        data[100] = value
        sf.write(str(folder / name), data, 22050, subtype="FLOAT")
    return {
        "missing.au": "no such file",
        "no-audio": "holds no audio files",
        "empty.au": "empty file",
        "random.wav": "not a readable audio file",
        "random.mp3": "not a readable audio file",
        "truncated.au": "not a readable audio file",
        "truncated.wav": "not a readable audio file",
        "lyrics.txt": "not a readable audio file",
        "text.au": "not a readable audio file",
        "short.wav": "too short",
        "silence.wav": "silent",
        "nan.wav": "NaN or infinite",
        "inf.wav": "NaN or infinite",
    }


def good_inputs(folder: Path) -> list[Path]:
    """Formats and layouts that must simply work."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [
        (folder / "stereo44.wav", music(4.0, 44100, 2), 44100),
        (folder / "rate48.flac", music(4.0, 48000, 1), 48000),
        (folder / "song.mp3", music(4.0, 44100, 2), 44100),
        (folder / "song.ogg", music(4.0, 22050, 1), 22050),
        (folder / "plain.au", music(4.0), 22050),
    ]
    for path, data, rate in files:
        sf.write(str(path), data.astype(np.float32), rate)
    return [path for path, _, _ in files]


def test_predict_reports_every_bad_input_and_classifies_the_rest(cli, trained, tmp_path):
    expected = bad_inputs(tmp_path / "bad")
    good = good_inputs(tmp_path / "good")
    paths = [tmp_path / "bad" / name for name in expected] + good
    result = cli("predict", *paths, "--json", workdir=trained)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(expected)  # one line per bad input, nothing else
    for name, reason in expected.items():
        line = next(line for line in lines if name in line)
        assert reason in line, line
    out = json.loads(result.stdout)
    classified = {Path(p["file"]).name for p in out if p["genre"]}
    assert classified == {p.name for p in good}


def test_predict_exits_non_zero_when_nothing_could_be_classified(cli, trained, tmp_path):
    expected = bad_inputs(tmp_path / "bad")
    result = cli("predict", *[tmp_path / "bad" / n for n in expected], workdir=trained, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == len(expected)


def test_workspace_errors_are_specific(cli, trained, trained_copy, tmp_path):
    clip = tmp_path / "c.au"
    save_audio(clip, music(2.0))
    other = trained_copy
    changed = tmp_path / "default.yaml"
    changed.write_text(
        "name: default\ntree: {a: [blues, jazz, classical, country], b: [disco, pop, hiphop, reggae, metal, rock]}\n"
    )
    cli("build-tree", changed, workdir=other)
    mismatch = cli("predict", clip, workdir=other, check=False)
    assert mismatch.returncode == 1 and "trained for another version of the tree" in mismatch.stderr
    assert "Traceback" not in mismatch.stderr
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=other)
    manifest = other / "models" / "default" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format_version": 1, "hiergenre_version": "0.1.0"}))
    old = cli("predict", clip, workdir=other, check=False)
    assert old.returncode == 1 and "incompatible hiergenre (0.1.0)" in old.stderr
    manifest.write_text(json.dumps(data))
    models, originals = model_dir(other, "default"), model_dir(trained, "default")
    (models / "rhythmic.json").unlink()
    broken = cli("predict", clip, workdir=other, check=False)
    assert broken.returncode == 1 and "rhythmic" in broken.stderr and "not found" in broken.stderr
    shutil.copy(originals / "rhythmic.json", models / "rhythmic.json")
    (models / "features.npz").write_bytes(b"junk")
    damaged = cli("predict", clip, workdir=other, check=False)
    assert damaged.returncode == 1 and "feature matrices are unreadable" in damaged.stderr
    assert "Traceback" not in damaged.stderr
    assert cli("predict", clip, "--backend", "keras", workdir=other).returncode == 0
