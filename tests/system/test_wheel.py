"""The built wheel stands alone: it holds the trees, the musicnn model and the bundled model, and once
installed answers ``hiergenre predict`` from an empty folder.

The wheel is built offline from a copy of the package's sources (``pip wheel --no-build-isolation``,
the dev extra pins the setuptools it needs), installed without its dependencies into a fresh
environment that reuses this one's installed packages through a ``.pth`` file (so nothing is
downloaded and the source tree is not on the path), and run from an empty folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from hiergenre.workspace.bundled import BUNDLED_MODEL
from tests.commands import ROOT
from tests.sounds import music

#: Package data every installation needs, besides the bundled model (all of whose files are checked).
NEEDED = (
    "hiergenre/hierarchies/default.yaml",
    "hiergenre/hierarchies/flat.yaml",
    "hiergenre/hierarchies/baseline3.yaml",
    "hiergenre/features/musicnn_model/msd_musicnn.tflite",
    "hiergenre/features/musicnn_model/LICENSE-musicnn.md",
    "hiergenre/splits/README.md",
    "beetsplug/hiergenre.py",  # the beets plugin, a portion of beets' namespace package (no __init__.py)
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (building in place would leave build/ in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("hiergenre", "beetsplug"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out, source]
    subprocess.run(list(map(str, command)), check=True, capture_output=True, timeout=300)
    (built,) = out.glob("hiergenre-*.whl")
    return built


def test_the_wheel_holds_the_trees_the_musicnn_model_and_the_whole_bundled_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p.relative_to(BUNDLED_MODEL) for p in BUNDLED_MODEL.rglob("*") if p.is_file()]
    bundled = {f"hiergenre/bundled_model/{path}" for path in shipped}
    assert {"hiergenre/bundled_model/card.json", "hiergenre/bundled_model/MODEL_CARD.md"} <= bundled
    assert bundled <= names, sorted(bundled - names)
    assert set(NEEDED) <= names, sorted(set(NEEDED) - names)
    assert not [n for n in names if n.endswith((".keras", ".au", ".wav")) or n.startswith(("tests/", "benchmarks/"))]
    assert "beetsplug/__init__.py" not in names  # it would hide beets' own plugins


def test_the_installed_wheel_predicts_from_an_empty_folder(wheel, tmp_path):
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    python = env / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
    ).stdout.strip()
    # this environment's packages, for the dependencies; its .pth files (the editable hiergenre) are not run
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "dependencies.pth").write_text("\n".join(sorted(here)) + "\n")
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel]
    subprocess.run(list(map(str, install)), check=True, capture_output=True, timeout=300)
    song = tmp_path / "song.mp3"
    import soundfile

    soundfile.write(song, music(10.0, seed=5), 22050, format="MP3")
    empty = tmp_path / "empty"
    empty.mkdir()
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HIERGENRE_WORKDIR")}
    which = [python, "-c", "import hiergenre; print(hiergenre.__file__)"]
    where = subprocess.run(which, capture_output=True, text=True, cwd=empty, env=clean)
    assert Path(where.stdout.strip()).is_relative_to(env), where.stdout + where.stderr
    result = subprocess.run(
        [env / "bin" / "hiergenre", "predict", song], capture_output=True, text=True, cwd=empty, env=clean, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "song.mp3:" in result.stdout and "the bundled model" in result.stderr
    assert list(empty.iterdir()) == []  # nothing written where it ran
