"""A cold ``hiergenre predict`` in a fresh process: what it imports, and memory that does not grow with the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

#: Modules a prediction does not use: each costs a cold start tenths of a second (networkx alone 0.3 s).
NOT_FOR_PREDICTION = (
    "networkx",
    "scipy",
    "sklearn",
    "librosa",
    "tensorflow",
    "keras",
    "matplotlib",
    "dask",
    "distributed",
    "pandas",
    "hiergenre.cli.train",
    "hiergenre.training",
    "hiergenre.evaluation",
    "hiergenre.api",
)


def run_predict(arguments: list[str]) -> dict:
    """``hiergenre predict ARGUMENTS`` in a fresh process: its exit code, output, heavy modules and peak RSS."""
    script = (
        "import json, resource, sys\n"
        "from hiergenre.cli.main import run\n"
        f"code = run(['predict', *{arguments!r}])\n"
        f"heavy = {NOT_FOR_PREDICTION!r}\n"
        "loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') for p in heavy))\n"
        "print(json.dumps({'code': code, 'loaded': loaded, "
        "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return {**report, "stdout": result.stdout, "stderr": result.stderr}


@pytest.mark.parametrize("workspace", ["trained", "trained_musicnn"])
def test_predict_imports_only_what_it_uses(workspace, request, tiny_corpus):
    """Whichever front-end: LMFCC in numpy from stored matrices, or musicnn's log-mel in numpy, its net in LiteRT."""
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    report = run_predict([str(clip), "--workdir", str(request.getfixturevalue(workspace))])
    assert report["code"] == 0 and "jazz.00000.au: " in report["stdout"]
    assert report["loaded"] == []


def test_every_command_is_registered_by_the_module_main_names():
    """``hiergenre predict`` imports one command module: the table that says which must match the modules."""
    from hiergenre.cli.main import COMMAND_MODULES, app, register_commands

    register_commands([])
    registered = {command.name: command.callback.__module__ for command in app.registered_commands}
    assert registered == COMMAND_MODULES


def write_long_file(path: Path, seconds: float, rate: int = 22050) -> Path:
    """Tones and noise written 10 s at a time, so that the test itself never holds the file."""
    rng = np.random.default_rng(0)
    block = rate * 10
    with sf.SoundFile(str(path), "w", rate, 1, subtype="PCM_16") as handle:
        for start in range(0, int(seconds * rate), block):
            t = (start + np.arange(block)) / rate
            tone = 0.3 * np.sin(2 * np.pi * (220 + 30 * (start // block % 5)) * t)
            handle.write((tone + 0.05 * rng.standard_normal(block)).astype(np.float32)[: int(seconds * rate) - start])
    return path


def test_peak_memory_of_a_twelve_minute_file_stays_near_a_short_clips(trained, tmp_path):
    """README: "an hour-long mix costs no more memory than a song". Before, 10 min took ~6 times a clip's peak."""
    short = write_long_file(tmp_path / "short.wav", 30)
    long = write_long_file(tmp_path / "long.wav", 12 * 60)
    for extra in ([], ["--timeline"]):
        peaks = {}
        for path in (short, long):
            report = run_predict([str(path), *extra, "--workdir", str(trained)])
            assert report["code"] == 0 and f"{path.name}: " in report["stdout"], report["stderr"]
            peaks[path.name] = report["peak_mb"]
        assert peaks["long.wav"] <= 1.2 * peaks["short.wav"], (extra, peaks)
