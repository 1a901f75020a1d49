"""Tagging a library and undoing it: ``hiergenre tag --write`` then ``--undo`` on synthetic files of every format.

Writes ``--files`` one-second synthetic files cycling through the tagging tests' cases (mp3 with
ID3v2.4 + ID3v1, mp3 with v2.3, wav/aiff with and without an ID3 chunk, FLAC, Ogg Vorbis, Opus;
each with other tags: title, artist, album, comments, a TXXX frame, some an old genre), snapshots
each file (decoded samples, every other tag, the ID3v1 bytes), runs ``hiergenre tag DIR --write
--force`` and ``hiergenre tag --undo LOG`` as a user would (fresh processes, the bundled model in an
empty workspace), and checks after the write that only the genre changed, and after the undo that
everything is as before. Reports seconds per file for both.

    python -m benchmarks.tag_roundtrip --files 200 --out benchmarks/results/tag-roundtrip
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import provenance, provenance_line, write_json
from hiergenre.tagging.files import read_genres
from tests.unit.tagging.tagged_files import CASES, assert_same_but_genre, make_tagged, snapshot

HIERGENRE = Path(sys.executable).parent / "hiergenre"


def timed(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds and result of one ``hiergenre`` process."""
    env = {k: v for k, v in os.environ.items() if k != "HIERGENRE_WORKDIR"}
    started = time.perf_counter()
    result = subprocess.run([str(HIERGENRE), *args], cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"hiergenre {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - started, result


def check(files: dict[Path, str], before: dict[Path, dict], *, after_write: bool, log: Path) -> int:
    """How many files pass: after the write only the genre changed (and the undo log records the file's write);
    after the undo, nothing did."""
    logged = {str(Path(entry["path"]).resolve()) for entry in json.loads(log.read_text())["entries"]}
    passed = 0
    for path, case in files.items():
        try:
            assert_same_but_genre(before[path], snapshot(path), tags_added=after_write and case.endswith("-bare"))
            assert not after_write or (read_genres(path) and str(path.resolve()) in logged), "not written"
        except AssertionError as failure:
            print(f"{path.name}: {failure}", file=sys.stderr)
            continue
        passed += 1
    return passed


def measure(count: int, jobs: int) -> dict:
    """Write, check, undo, check: the numbers of one run."""
    scratch = Path(tempfile.mkdtemp(prefix="hiergenre-tag-"))
    try:
        files = {}
        for i in range(count):
            folder = scratch / "music" / f"{i:03d}"
            folder.mkdir(parents=True)
            files[make_tagged(folder, CASES[i % len(CASES)])] = CASES[i % len(CASES)]
        before = {path: snapshot(path) for path in files}
        (scratch / "empty").mkdir()
        log = scratch / "undo.json"
        write_seconds, written = timed(
            ["tag", str(scratch / "music"), "--write", "--force", "--jobs", str(jobs), "--undo-log", str(log)],
            scratch / "empty",
        )
        write_ok = check(files, before, after_write=True, log=log)
        genres = Counter(read_genres(path)[0] for path in files if read_genres(path))
        undo_seconds, _ = timed(["tag", "--undo", str(log)], scratch / "empty")
        undo_ok = check(files, before, after_write=False, log=log)
        return {
            "files": count,
            "formats": dict(Counter(path.suffix for path in files)),
            "jobs": jobs,
            "write_seconds": write_seconds,
            "write_seconds_per_file": write_seconds / count,
            "undo_seconds": undo_seconds,
            "undo_seconds_per_file": undo_seconds / count,
            "only_genre_changed_after_write": write_ok,
            "identical_after_undo": undo_ok,
            "genres_written": dict(genres),
            "summary_line": written.stderr.strip().splitlines()[-1],
            "provenance": provenance(),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report(r: dict) -> str:
    """The Markdown page."""
    formats = ", ".join(f"{n} {suffix}" for suffix, n in sorted(r["formats"].items()))
    return "\n".join(
        [
            "# Tagging a library, then undoing it",
            "",
            f"{r['files']} synthetic one-second files ({formats}), each with other tags (title, artist, album, "
            "comments, a TXXX frame, an ID3v1 tag on some mp3s, old genres on some), in an empty workspace "
            "(the bundled model answers). Fresh processes, as a user types them:",
            "",
            "| step | seconds | per file | files checked |",
            "|---|---|---|---|",
            f"| `hiergenre tag DIR --write --force --jobs {r['jobs']}` | {r['write_seconds']:.1f} | "
            f"{r['write_seconds_per_file']:.3f} | {r['only_genre_changed_after_write']} of {r['files']}: samples "
            "bit-identical, every other tag identical, genre set |",
            f"| `hiergenre tag --undo LOG` | {r['undo_seconds']:.1f} | {r['undo_seconds_per_file']:.3f} | "
            f"{r['identical_after_undo']} of {r['files']}: samples, every tag and ID3v1 as before |",
            "",
            f"The write's own summary: `{r['summary_line']}`. Genres written: "
            + ", ".join(f"{g} {n}" for g, n in sorted(r["genres_written"].items()))
            + " (synthetic audio: the genres say nothing about accuracy).",
            "",
            f"Measured with {provenance_line(r['provenance'])}",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/tag-roundtrip"))
    args = parser.parse_args()
    result = measure(args.files, args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "roundtrip.json", result)
    (args.out / "report.md").write_text(report(result), encoding="utf-8")
    print(report(result))
    if result["identical_after_undo"] != result["files"] or result["only_genre_changed_after_write"] != result["files"]:
        raise SystemExit("some files changed beyond their genre: see above")


if __name__ == "__main__":
    main()
