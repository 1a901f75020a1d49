"""Out of the box: how long ``hiergenre predict song.mp3`` takes from an empty folder, with the bundled model.

A user's first command after ``pip install``: a fresh process, no workspace, a 30-s mp3. The song is
a 30-s excerpt of a real clip when ``--data`` is given (its first clip, re-encoded as mp3), else
synthetic music. The command runs ``--repeats`` times, each in a new empty folder, alternating with
the start-up floor (a process that imports the CLI and exits), so that both see the same machine
state; the report gives median, best and worst of both, against the 1.5-s target.

    python -m benchmarks.bundled_model --data ../shared/gtzan-mini/genres --out benchmarks/results/bundled-model
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from benchmarks.common import provenance, provenance_line, write_json

TARGET_SECONDS = 1.5
HIERGENRE = Path(sys.executable).parent / "hiergenre"


def song(folder: Path, data: Path | None) -> tuple[Path, str]:
    """A 30-s mp3 to classify, and what it is."""
    path = folder / "song.mp3"
    if data is not None:
        clip = sorted(p for p in Path(data).rglob("*.au"))[0]
        signal, rate = soundfile.read(clip, dtype="float32", frames=30 * 22050)
        what = f"{clip.name} (GTZAN), its first 30 s re-encoded as mp3"
    else:
        from hiergenre.data.synthetic.corpus import write_corpus

        clip = next(write_corpus(folder / "corpus", clips_per_genre=1, seconds=30.0, seed=3).rglob("*.au"))
        signal, rate = soundfile.read(clip, dtype="float32")
        what = f"synthetic {clip.parent.name} clip (generated, not music), 30 s as mp3"
    soundfile.write(path, signal, rate, format="MP3")
    return path, what


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of one process."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(data: Path | None, repeats: int) -> dict:
    """Cold predicts and start-up floors, alternated."""
    scratch = Path(tempfile.mkdtemp(prefix="hiergenre-cold-"))
    try:
        path, what = song(scratch, data)
        predict, floor, answers = [], [], set()
        for run in range(repeats):
            empty = scratch / f"empty-{run}"
            empty.mkdir()
            predict.append(timed([str(HIERGENRE), "predict", str(path)], empty))
            floor.append(timed([sys.executable, "-c", "import hiergenre.cli.main"], empty))
            answer = subprocess.run([str(HIERGENRE), "predict", str(path), "--json"], cwd=empty, capture_output=True)
            answers.add(json.loads(answer.stdout)[0]["genre"])
            if list(empty.iterdir()):
                raise SystemExit(f"predict wrote into the empty folder: {list(empty.iterdir())}")
        return {
            "song": what,
            "repeats": repeats,
            "predict_seconds": predict,
            "startup_floor_seconds": floor,
            "median": statistics.median(predict),
            "best": min(predict),
            "worst": max(predict),
            "floor_median": statistics.median(floor),
            "answers": sorted(answers),
            "target_seconds": TARGET_SECONDS,
            "within_target": bool(np.max(predict) <= TARGET_SECONDS),
            "provenance": provenance(),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report(result: dict) -> str:
    """The Markdown page."""
    return "\n".join(
        [
            "# Out of the box: cold `hiergenre predict song.mp3` with the bundled model",
            "",
            f"Song: {result['song']}. Each run: a fresh process in a new empty folder (no workspace: the bundled "
            f"model answers), {result['repeats']} runs alternated with the start-up floor (a process importing "
            "the CLI only).",
            "",
            "| | median | best | worst |",
            "|---|---|---|---|",
            f"| `hiergenre predict song.mp3` | {result['median']:.2f} s | {result['best']:.2f} s "
            f"| {result['worst']:.2f} s |",
            f"| start-up floor | {result['floor_median']:.2f} s | {min(result['startup_floor_seconds']):.2f} s "
            f"| {max(result['startup_floor_seconds']):.2f} s |",
            "",
            f"Target: at most {result['target_seconds']} s: "
            + ("met by every run." if result["within_target"] else "**missed** by at least one run.")
            + f" Answer: {', '.join(result['answers'])}.",
            "",
            f"Measured with {provenance_line(result['provenance'])}",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="GTZAN-style folder: its first clip is the song")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bundled-model"))
    args = parser.parse_args()
    result = measure(args.data, args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "cold-predict.json", result)
    (args.out / "report.md").write_text(report(result), encoding="utf-8")
    print(report(result))


if __name__ == "__main__":
    main()
