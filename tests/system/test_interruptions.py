"""A training process killed or interrupted: no half-written file, a resumable run, on Ctrl-C exit 130 and a word."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.commands import ROOT, model_dir


def test_killed_training_resumes_without_half_written_files(cli, tiny_corpus, tmp_path):
    import hiergenre

    workdir = tmp_path / "ws"
    hiergenre.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir, draw=False)
    env = {**os.environ, "HIERGENRE_WORKDIR": str(workdir)}
    options = ["--data", str(tiny_corpus), "--epochs", "10", "--preset", "improved", "--no-baseline3"]
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


def test_ctrl_c_exits_130_and_says_what_was_kept(tiny_corpus, tmp_path):
    import hiergenre

    workdir = tmp_path / "ws"
    hiergenre.build_tree(ROOT / "hierarchies" / "default.yaml", workdir=workdir, draw=False)
    env = {**os.environ, "HIERGENRE_WORKDIR": str(workdir)}
    # seven node models of 400 epochs on 2 processes: some are saved while others still train when Ctrl-C comes
    options = ["--data", str(tiny_corpus), "--preset", "improved", "--epochs", "400"]
    process = subprocess.Popen(
        [sys.executable, "-m", "hiergenre.cli", "train-all", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which Ctrl-C signals whole, workers included
        # a test run started in the background (`cmd &` in a script) ignores SIGINT, and children inherit
        # that; give the child the default disposition a terminal's foreground job has
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300

    def saved_models() -> set[str]:
        """``tree/node`` of every node JSON in place (not the hidden temporary file it is written to first)."""
        found = (workdir / "models").glob("*/v-*/*.json")
        return {f"{p.parent.parent.name}/{p.stem}" for p in found if not p.name.startswith(".")}

    while not saved_models() and time.monotonic() < deadline:
        time.sleep(0.05)
    saved_before = saved_models()
    assert process.poll() is None and saved_before, "train-all ended before the signal"
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr, stdout + stderr
    saved_after = saved_models()
    message = stderr.strip().splitlines()[-1]
    assert message.startswith("interrupted: ") and " of 7 node models were finished and saved (" in message, stderr
    named = set(message.split(" saved (", 1)[1].split(")", 1)[0].split(", "))
    assert saved_before <= named <= saved_after, (saved_before, saved_after, stderr)  # named: on disk, complete
    assert message.endswith("Run the same command again to continue: it reuses what was kept."), stderr
    progress_lines = [line.split(":")[0] for line in stderr.splitlines() if "/" in line.split(":")[0]]
    assert set(progress_lines) <= saved_after, stderr  # no progress line reads as a model that was not kept
