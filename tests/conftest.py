"""Shared fixtures: every test makes its own audio; nothing is read from outside the repo.

The expensive one, ``trained``, is a workspace built and trained once per test run through the
Python API: the default tree, the flat model and the 3-class baseline on a tiny synthetic corpus.
With pytest-xdist the first worker that needs it builds it and the others wait for it and reuse it
(a file lock in the run's shared temporary folder). Tests that only read it share it; tests that
change a workspace take ``trained_copy``.

Every test under ``tests/system`` (fresh processes, killed processes, Dask clusters) is marked
``system``: ``pytest -m "not system"`` runs the rest.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hiergenre.data.audio import save_audio
from hiergenre.data.synthetic.corpus import write_corpus
from tests.commands import ROOT

SYSTEM_TESTS = Path(__file__).parent / "system"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests under ``tests/system`` as ``system`` tests."""
    for item in items:
        if SYSTEM_TESTS in item.path.parents:
            item.add_marker(pytest.mark.system)


def pytest_configure(config: pytest.Config) -> None:
    """Pin TensorFlow's threads as a training process does, before any test module starts TensorFlow.

    Tests train in this process after others have predicted with Keras; without this, TensorFlow
    would already run with its default threads and those trainings would warn and could differ
    from a fresh ``train-all`` (:func:`hiergenre.models.network.pin_training_threads`). The xdist
    controller runs no test, so it does not import TensorFlow.
    """
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        from hiergenre.models.network import pin_training_threads

        pin_training_threads()


def shared(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]) -> Path:
    """``build(folder)`` once per test run, whichever xdist worker asks first; the others wait and reuse it."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            done.write_text(str(build(folder)))
    return Path(done.read_text())


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All ten genres, three 3-second synthetic clips each, in GTZAN layout."""
    return shared(tmp_path_factory, "corpus", lambda root: write_corpus(root, clips_per_genre=3, seconds=3.0, seed=1))


@pytest.fixture(scope="session")
def trained(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the default tree, flat and baseline3 models trained (2 epochs) on ``tiny_corpus``.

    One clip a genre trains, one calibrates (so --target-accuracy can be set), one tests.
    """
    import hiergenre

    def build(folder: Path) -> Path:
        workdir = folder / "ws"
        hiergenre.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir)
        hiergenre.train_all(workdir=workdir, data=tiny_corpus, epochs=2, split="34/33/33", jobs=2)
        return workdir

    return shared(tmp_path_factory, "trained", build)


@pytest.fixture(scope="session")
def trained_musicnn(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the default tree, flat and baseline3 trained on musicnn features (logistic regressions).

    One clip a genre trains, one validates (so thresholds can be chosen), one tests.
    """
    import hiergenre

    def build(folder: Path) -> Path:
        workdir = folder / "ws"
        hiergenre.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir)
        hiergenre.train_all(workdir=workdir, data=tiny_corpus, features="musicnn", split="34/33/33", jobs=2)
        return workdir

    return shared(tmp_path_factory, "trained-musicnn", build)


@pytest.fixture
def trained_copy(trained: Path, tmp_path: Path) -> Path:
    """A private copy of the shared trained workspace, for tests that change it."""
    return Path(shutil.copytree(trained, tmp_path / "ws"))


@pytest.fixture
def tone(tmp_path: Path):
    """Factory writing a sine tone file: tone(name, seconds=2, rate=22050, channels=1)."""

    def make(
        name: str = "tone.wav", seconds: float = 2.0, rate: int = 22050, channels: int = 1, freq: float = 440.0
    ) -> Path:
        t = np.arange(int(seconds * rate)) / rate
        mono = 0.5 * np.sin(2 * np.pi * freq * t)
        data = np.stack([mono] * channels, axis=1) if channels > 1 else mono
        path = tmp_path / name
        import soundfile as sf

        sf.write(str(path), data.astype(np.float32), rate)
        return path

    return make


@pytest.fixture
def folder_dataset(tmp_path: Path) -> Path:
    """Folder-per-genre data set of 4 genres x 5 one-second clips, plus one unreadable file."""
    rng = np.random.default_rng(0)
    for genre in ("blues", "jazz", "metal", "pop"):
        for i in range(5):
            save_audio(tmp_path / "data" / genre / f"{genre}.{i:05d}.wav", 0.1 * rng.standard_normal(22050))
    (tmp_path / "data" / "pop" / "broken.00099.au").write_bytes(b"not audio at all")
    return tmp_path / "data"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``hiergenre ARGS`` in this process, as the command line would: cli(*args, workdir=...) -> result."""
    from tests.commands import Result

    def run(*args: object, workdir: Path | None = None, check: bool = True) -> Result:
        from hiergenre.cli.main import run as run_cli

        if workdir is not None:
            monkeypatch.setenv("HIERGENRE_WORKDIR", str(workdir))
        capsys.readouterr()
        code = run_cli([str(a) for a in args])
        out, err = capsys.readouterr()
        result = Result(code, out, err)
        if check and code != 0:
            raise AssertionError(f"exit {code}\n{out}\n{err}")
        return result

    return run
