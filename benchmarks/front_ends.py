"""Both feature front-ends on music the models never heard, and the default chosen by a rule written first.

Protocols on a GTZAN-layout folder (gtzan-mini): the artist-ordered halves (``--split halves:1``
and ``halves:2``: each genre's first half of clips by file name trains, the last of them
validating, the second half tests; then the reverse), × seeds; and stratified 5-fold × seeds 0–5.
Each (protocol, front-end) is one :mod:`benchmarks.flat_vs_hier` run folder: flat, the default
tree and a tree learned from that run's train+valid clips, each cascade under greedy, product and
blend routing. Front-ends (:data:`FRONT_ENDS`): the paper's LMFCC with the default preset's CNN,
musicnn with logistic-regression nodes, and their per-node ensemble (``musicnn+lmfcc``). Beside
them a zero-shot row: musicnn's own Million Song Dataset tags where their names are our genres.

The rule that picks ``train-all``'s default front-end is :data:`DEFAULT_RULE`, written in this file
before any run; :func:`choose_default` applies it to the halves and the report says what it chose.

    python -m benchmarks.front_ends ../shared/gtzan-mini/genres --out benchmarks/results/front-ends-gtzan-mini
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from benchmarks.flat_vs_hier_options import Options
from benchmarks.front_ends_options import FRONT_ENDS, ZERO_SHOT_TAGS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a GTZAN-layout folder (genre/genre.000NN.au)")
    parser.add_argument("--out", required=True, help="folder of the report and the run folders")
    parser.add_argument("--front-ends", nargs="+", default=list(FRONT_ENDS), help="front-ends run on the halves")
    parser.add_argument("--halves-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--kfold-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument(
        "--kfold-front-ends",
        nargs="*",
        default=["musicnn"],
        help="front-ends run on the 5-fold protocol here (the others' 30 runs are read from --kfold-from)",
    )
    parser.add_argument(
        "--kfold-from",
        nargs="*",
        default=["lmfcc=benchmarks/results/gtzan-mini-5fold-calibrated"],
        help="FRONT_END=FOLDER: committed flat_vs_hier results of the same 5-fold protocol to compare with",
    )
    parser.add_argument("--epochs", type=int, default=1000, help="epoch cap per network (as the committed runs)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-runs", action="store_true", help="only rebuild the report from existing folders")
    return parser.parse_args(argv)


def run_folder(out: Path, protocol: str, front_end: str) -> Path:
    """``<out>/<protocol>-<front-end>``: one flat_vs_hier run folder."""
    return out / f"{protocol}-{front_end.replace('+', '-')}"


def options_for(args: argparse.Namespace, protocol: str, front_end: str, command: str) -> Options:
    """The flat_vs_hier settings of one (protocol, front-end)."""
    seeds = args.halves_seeds if protocol == "halves" else args.kfold_seeds
    return Options(
        data=args.data,
        out=str(run_folder(Path(args.out), protocol, front_end)),
        protocol=protocol,
        folds=5,
        seeds=list(seeds),
        epochs=args.epochs,
        jobs=args.jobs,
        command=command,
        **FRONT_ENDS[front_end],
    )


def results_file(folder: Path) -> Path | None:
    """A flat_vs_hier folder's results (``results.json``; ``.json.gz`` in the committed runs of 0.3), or None."""
    return next((f for f in (folder / "results.json", folder / "results.json.gz") if f.is_file()), None)


def load_runs(folder: Path) -> list[dict]:
    """The runs of a flat_vs_hier results file."""
    path = results_file(folder)
    if path is None:
        raise SystemExit(f"no results in {folder}")
    with gzip.open(path, "rt") if path.suffix == ".gz" else open(path) as handle:
        return json.load(handle)["runs"]


def main(argv: list[str] | None = None) -> int:
    """Run what is missing, then write the report."""
    from benchmarks.flat_vs_hier import run as run_flat_vs_hier
    from benchmarks.front_ends_report import write_report

    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plan = [("halves", name) for name in args.front_ends] + [("kfold", name) for name in args.kfold_front_ends]
    if not args.skip_runs:
        for protocol, front_end in plan:
            folder = run_folder(out, protocol, front_end)
            if results_file(folder) is not None:
                print(f"{protocol} {front_end}: done earlier ({folder})", flush=True)
                continue
            command = f"python -m benchmarks.front_ends {' '.join(sys.argv[1:] if argv is None else argv)}"
            print(f"{protocol} {front_end}: running into {folder}", flush=True)
            run_flat_vs_hier(options_for(args, protocol, front_end, command))
            slim(folder)
    runs = {
        (protocol, front_end): load_runs(run_folder(out, protocol, front_end))
        for protocol, front_end in plan
        if results_file(run_folder(out, protocol, front_end)) is not None
    }
    for entry in args.kfold_from:
        front_end, folder = entry.split("=", 1)
        runs[("kfold", front_end)] = load_runs(Path(folder))
    zero_shot = zero_shot_scores(Path(args.data), out)
    write_report(out, runs, zero_shot, args)
    return 0


def slim(folder: Path) -> None:
    """Keep a run folder small (``benchmarks/results`` stays under 5 MB): its report, results gzipped, no images.

    The report holds the tables; the images of every model of every protocol would be a megabyte.
    """
    for png in folder.glob("*.png"):
        if png.name != "operating-curves-mean.png":
            png.unlink()
    results = folder / "results.json"
    if results.is_file():
        with gzip.open(folder / "results.json.gz", "wt") as handle:
            handle.write(results.read_text())
        results.unlink()


def zero_shot_scores(data: Path, out: Path) -> dict:
    """musicnn's own MSD tags as a classifier, no training: per clip, the matched genre of highest tag probability.

    Cached in ``<out>/zero-shot.json`` (clip → its genre and the matched genres' probabilities), so a
    report rebuild does not embed again. Genres without a matching tag are always wrong.
    """
    cache = out / "zero-shot.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    from hiergenre.config import MusicnnConfig
    from hiergenre.data.audio import load_audio
    from hiergenre.data.datasets import load_dataset, parse_split
    from hiergenre.features.musicnn import MSD_TAGS, msd_tags

    config = MusicnnConfig()
    dataset = load_dataset(str(data))
    clips = {}
    for clip in dataset.clips:
        tags = msd_tags(load_audio(clip.path, sample_rate=config.sample_rate), config).mean(axis=0)
        scores = {genre: max(float(tags[MSD_TAGS.index(t)]) for t in names) for genre, names in ZERO_SHOT_TAGS.items()}
        clips[Path(clip.path).name] = {"genre": clip.genre, "tags": scores}
    tests = {
        spec: [Path(c.path).name for c in parse_split(spec, dataset.clips).test] for spec in ("halves:1", "halves:2")
    }
    result = {"clips": clips, "tests": tests}
    cache.write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


if __name__ == "__main__":
    sys.exit(main())
