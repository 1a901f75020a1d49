"""Bad input never crashes and never loses work: messy files, damaged workspaces, killed training."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.data.audio import load_audio, save_audio
from hiergenre.errors import HierGenreError
from tests.commands import ROOT, model_dir

EXTENSIONS = [".au", ".wav", ".flac", ".ogg", ".mp3", ".aiff"]


def music(seconds=3.0, rate=22050, channels=1, seed=0):
    """A few notes with a beat: enough signal for every stage."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    mono += 0.02 * rng.standard_normal(len(t))
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


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


def test_bad_files_in_a_training_set_are_skipped_and_listed(cli, tiny_corpus, tmp_path):
    data = tmp_path / "data"
    for genre_dir in tiny_corpus.iterdir():
        (data / genre_dir.name).mkdir(parents=True)
        for clip in genre_dir.iterdir():
            (data / genre_dir.name / clip.name).write_bytes(clip.read_bytes())
    sf.write(str(data / "jazz" / "jazz.00090.wav"), np.zeros(22050 * 2), 22050)
    (data / "rock" / "rock.00091.au").write_bytes(b"\x2esnd" + b"\x00" * 10)
    workdir = tmp_path / "ws"
    tree = tmp_path / "t.yaml"
    tree.write_text("tree: [jazz, rock, metal]\n")
    cli("build-tree", tree, workdir=workdir)
    result = cli(
        "train-all", "--data", data, "--epochs", "1", "--preset", "improved", "--no-baseline3", workdir=workdir
    )
    assert "skipped 2 unreadable file(s)" in result.stdout
    assert "jazz.00090.wav: silent" in result.stdout and "rock.00091.au" in result.stdout
    manifest = json.loads((workdir / "models" / "t" / "manifest.json").read_text())
    assert len(manifest["skipped_files"]) == 2


def test_long_files_are_read_in_bounded_memory(tmp_path):
    path = tmp_path / "long.wav"
    minutes = 4
    with sf.SoundFile(str(path), "w", samplerate=44100, channels=2, subtype="PCM_16") as out:
        block = (0.1 * music(10.0, 44100, 2)).astype(np.float32)
        for _ in range(minutes * 6):
            out.write(block)
    tracemalloc.start()
    signal = load_audio(path, max_seconds=20.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(signal) == 20 * 22050
    whole_file_as_float = minutes * 60 * 44100 * 2 * 4
    assert peak < 4_000_000 < whole_file_as_float / 10  # a few blocks, not the file


def test_workspace_errors_are_specific(cli, trained, trained_copy, tmp_path):
    clip = tmp_path / "c.au"
    save_audio(clip, music(2.0))
    fresh = cli("predict", clip, workdir=tmp_path / "fresh", check=False)
    assert fresh.returncode == 1 and "no tree built" in fresh.stderr
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


def test_killed_training_resumes_without_half_written_files(cli, tiny_corpus, tmp_path):
    import hiergenre

    workdir = tmp_path / "ws"
    hiergenre.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir, draw=False)
    env = {**os.environ, "HIERGENRE_WORKDIR": str(workdir)}
    options = ["--data", str(tiny_corpus), "--epochs", "30", "--preset", "improved", "--no-baseline3"]
    command = [sys.executable, "-m", "hiergenre.cli", "train-all", *options]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tree_dir = workdir / "models" / "default"
    deadline = time.monotonic() + 300
    while len(list(tree_dir.glob("v-*/*.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    (models,) = tree_dir.glob("v-*")  # the folder the run was writing
    finished = {p.stem for p in models.glob("*.json")}
    assert len(finished) >= 2 and not (tree_dir / "manifest.json").exists()  # not published
    for node in finished:  # every node that looks complete is complete
        assert (models / f"{node}.keras").stat().st_size > 0 and (models / f"{node}.tflite").stat().st_size > 0
    again = cli("train-all", *options, workdir=workdir)
    assert again.stdout.count("reused") >= len(finished)
    assert not [p for p in models.iterdir() if p.name.startswith(".")]  # leftovers of the kill are gone
    assert model_dir(workdir, "default") == models


def test_ctrl_c_exits_130_without_traceback(tiny_corpus, tmp_path):
    import hiergenre

    workdir = tmp_path / "ws"
    hiergenre.build_tree(ROOT / "hierarchies" / "baseline3.yaml", workdir=workdir, draw=False)
    env = {**os.environ, "HIERGENRE_WORKDIR": str(workdir)}
    # the paper preset: 1000 epochs without early stopping, so it is still training when the signal comes
    command = [sys.executable, "-m", "hiergenre.cli", "train-all", "--data", str(tiny_corpus), "--preset", "paper"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a test run started in the background (`cmd &` in a script) ignores SIGINT, and children inherit
        # that; give the child the default disposition a terminal's foreground job has
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    clips = 9  # three clips of each of the three genres
    while len(list((workdir / "cache").rglob("*.npy"))) < clips and time.monotonic() < deadline:
        time.sleep(0.05)  # the command is running (its features are extracted); training has at most begun
    assert process.poll() is None, "train-all ended before the signal"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    # exit status 130, or death by SIGINT, which a shell also reports as 130 (a signal that lands while
    # TensorFlow initialises, under load, can end the process before Python sees it)
    assert process.returncode in (130, -signal.SIGINT) and "Traceback" not in stderr, stdout + stderr


def test_single_class_node_gets_a_constant_model(tmp_path):
    from hiergenre.config import FeatureConfig, Preset, TrainConfig
    from hiergenre.data.datasets import Clip
    from hiergenre.models.nodes import ConstantNode, load_node
    from tests.commands import train_tree

    tree = GenreTree.from_yaml_text("tree: {soft: [jazz, blues], heavy: [metal, rock]}")
    rng = np.random.default_rng(0)
    clips = [Clip(Path(f"/x/{g}{i}.au"), g) for g in ("jazz", "metal", "rock") for i in range(3)]
    frames = {str(c.path): rng.normal(size=(40, 13)).astype(np.float32) for c in clips}
    preset = Preset("t", "t", features=FeatureConfig(window_frames=20), train=TrainConfig(epochs=1))
    results = train_tree(
        tree, (clips, []), frames, preset, tmp_path, epochs=1, seed=0, data_fingerprint="d", split_key="s"
    )
    soft = next(r for r in results if r.node == "soft")
    assert soft.kind == "constant" and soft.parameters == 0
    model = load_node(tmp_path, "soft", backend="litert")
    assert isinstance(model, ConstantNode)
    assert np.allclose(model.predict_proba(np.zeros((2, 20, 13))), [[1.0, 0.0]] * 2)  # jazz: the only class seen
    assert "single class (jazz)" in model.metadata["note"]


def assert_audio_or_own_error(path: Path) -> None:
    """The loader's contract: a finite mono float32 signal, or a HierGenreError naming the file."""
    try:
        signal = load_audio(path)
    except HierGenreError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert signal.dtype == np.float32 and signal.ndim == 1 and signal.size and np.all(np.isfinite(signal))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=4096), extension=st.sampled_from(EXTENSIONS))
def test_audio_loader_returns_audio_or_its_own_error(tmp_path, content, extension):
    path = tmp_path / f"fuzz{extension}"
    path.write_bytes(content)
    assert_audio_or_own_error(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from([b".snd", b"RIFF", b"fLaC", b"OggS", b"ID3", b"FORM"]), body=st.binary(max_size=2048))
def test_audio_loader_survives_plausible_headers(tmp_path, header, body):
    path = tmp_path / "fuzz.wav"
    path.write_bytes(header + body)
    assert_audio_or_own_error(path)


names = st.text(alphabet="abcxyz-_.0123456789 :", min_size=0, max_size=6)
yaml_values = st.recursive(
    st.one_of(names, st.integers(), st.none(), st.booleans()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(names, children, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_yaml_parser_accepts_or_raises_its_own_error_on_any_text(text):
    try:
        tree = GenreTree.from_yaml_text(text)
    except HierGenreError:
        return
    assert len(tree.leaves) >= 2


@settings(max_examples=200, deadline=None)
@given(spec=yaml_values, name=names)
def test_yaml_parser_on_random_structures(spec, name):
    import yaml

    text = yaml.safe_dump({"name": name, "tree": spec})
    try:
        tree = GenreTree.from_yaml_text(text)
    except HierGenreError:
        return
    assert len(set(tree.leaves)) == len(tree.leaves) >= 2
    assert GenreTree.from_yaml_text(tree.to_yaml()) == tree
