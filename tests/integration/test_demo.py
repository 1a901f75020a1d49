"""``make demo`` ends with a score and a next step, not with ten bare predictions (issue 27, item 11).

The test runs the demo's commands after training (``make -n`` lists them) on a copy of the shared
musicnn workspace (the demo trains the default front-end, musicnn+lmfcc, on a synthetic corpus).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands import ROOT

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_demo_ends_with_the_score_on_unseen_clips_and_the_command_for_real_music(
    trained_musicnn: Path, tmp_path: Path
):
    trained_copy = Path(shutil.copytree(trained_musicnn, tmp_path / "ws"))
    bin_dir = Path(sys.executable).parent
    listed = subprocess.run(
        ["make", "-s", "-n", "-C", str(ROOT), "demo", f"WORKDIR={trained_copy}", f"BIN={bin_dir}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    after_training = listed[next(i for i, line in enumerate(listed) if "train-all --features" in line) + 1 :]
    assert any(f"predict {trained_copy}/unseen/genres" in line for line in after_training)
    script = "set -e\n" + "\n".join(after_training)
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    *predicted, score, evaluate, synthetic, next_step = run.stdout.strip().splitlines()
    right = sum(f"/{genre}/{genre}.00000.au: {genre} (p=" in line for genre in GENRES for line in predicted)
    assert sum(": " in line and " → " in line for line in predicted) == 10  # the ten predictions, then the summary
    assert score == f"score on the 10 unseen SYNTHETIC clips (generated audio, not music): {right} of 10 right " + (
        f"({right / 10:.0%})"
    )
    assert f"hiergenre evaluate --data {trained_copy}/unseen/genres --workdir {trained_copy}" in evaluate
    assert "SYNTHETIC" in synthetic and "real music" in synthetic
    assert "hiergenre train-all --data DIR/genres" in next_step and "hiergenre predict song.mp3" in next_step
