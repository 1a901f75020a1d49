"""What a bigger tree costs: training time, disk, peak memory and cold prediction, against its genres.

For each size (10, 30, 60 and 160 genres by default) the synthetic deep taxonomy is made with that
many variants (:func:`hiergenre.data.synthetic.deep.spread_variants`: families → genres → variants),
``--clips`` clips per genre of ``--seconds`` seconds are rendered, and, each in a fresh process and
workspace: ``build-tree``, ``train-all`` (epochs capped by ``--epochs``, default preset, paper
split, ``--jobs`` workers, no 3-class baseline), the size of the trained models on disk, and a cold
single-clip ``predict`` with greedy and with product routing (median of ``--repeats`` runs, LiteRT).
Peak memory is the largest resident set of any process of the command (``ru_maxrss`` of the
children), so for ``train-all`` it is one worker or the parent, whichever was larger.

    python -m benchmarks.tree_cost --out benchmarks/results/tree-cost

Generated audio, not music: these are costs, not accuracies.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import output_and_scratch, provenance, provenance_line, write_json
from hiergenre.data.synthetic.corpus import write_corpus
from hiergenre.data.synthetic.deep import FAMILIES, deep_styles, deep_tree, spread_variants
from hiergenre.viz.reports import markdown_table

#: Runs a command and reports the largest resident set among its processes: a fresh parent per
#: command, so that ``RUSAGE_CHILDREN`` holds that command's processes only.
PEAK_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(f'maxrss={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr); sys.exit(code)"
)


def timed(args: list[str], workdir: Path) -> tuple[float, float, str]:
    """Seconds, peak resident megabytes of the command's largest process, and its output."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, sys.executable, "-m", "hiergenre.cli", *args],
        env={**os.environ, "HIERGENRE_WORKDIR": str(workdir)},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"hiergenre {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    peak_kb = int(result.stderr.rsplit("maxrss=", 1)[1].split()[0])
    return seconds, peak_kb / 1024, result.stdout


def measure(genres: int, options: argparse.Namespace, scratch: Path) -> dict:
    """Every cost of one tree size."""
    per_genre = max(1, genres // sum(len(g) for g in FAMILIES.values()))
    variants = spread_variants(per_genre)
    tree = deep_tree(variants, name=f"deep{genres}")
    corpus = write_corpus(
        scratch / f"corpus{genres}",
        clips_per_genre=options.clips,
        seconds=options.seconds,
        styles=deep_styles(variants),
    )
    tree_file = scratch / f"deep{genres}.yaml"
    tree_file.write_text(tree.to_yaml())
    workdir = scratch / f"ws{genres}"
    timed(["build-tree", str(tree_file)], workdir)
    train = ["train-all", "--data", str(corpus), "--epochs", str(options.epochs), "--jobs", str(options.jobs)]
    train_seconds, train_peak, _ = timed([*train, "--no-baseline3"], workdir)
    disk = sum(f.stat().st_size for f in (workdir / "models").rglob("*") if f.is_file())
    clip = next(iter(sorted(corpus.rglob("*.au"))))
    predict = {}
    for routing in ("greedy", "product"):
        runs = [timed(["predict", str(clip), "--routing", routing], workdir) for _ in range(options.repeats)]
        predict[routing] = {"seconds": statistics.median(r[0] for r in runs), "peak_mb": max(r[1] for r in runs)}
    return {
        "genres": len(tree.leaves),
        "node_models": len(tree.model_nodes),
        "clips": options.clips * len(tree.leaves),
        "train_seconds": train_seconds,
        "train_peak_mb": train_peak,
        "models_mb": disk / 1e6,
        "predict": predict,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 30, 60, 160])
    parser.add_argument("--clips", type=int, default=3, help="clips per genre")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each clip")
    parser.add_argument("--epochs", type=int, default=5, help="epoch cap of every network")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="cold predictions per routing (median)")
    parser.add_argument("--out", required=True)
    options = parser.parse_args(argv)
    out, scratch = output_and_scratch(options.out, "hiergenre-tree-cost-")
    rows = []
    for size in options.sizes:
        print(f"tree of {size} genres", flush=True)
        rows.append(measure(size, options, scratch))
    command = "python -m benchmarks.tree_cost " + " ".join(sys.argv[1:] if argv is None else argv)
    results = {"command": command, "provenance": provenance(), "options": vars(options), "sizes": rows}
    write_json(out / "results.json", results)
    table = [
        [
            r["genres"],
            r["node_models"],
            r["clips"],
            f"{r['train_seconds']:.0f}",
            f"{r['train_peak_mb']:.0f}",
            f"{r['models_mb']:.1f}",
            f"{r['predict']['greedy']['seconds']:.2f}",
            f"{r['predict']['product']['seconds']:.2f}",
            f"{r['predict']['product']['peak_mb']:.0f}",
        ]
        for r in rows
    ]
    text = [
        "# What a bigger tree costs (synthetic deep taxonomy)",
        "",
        f"Command: `{command}`",
        "",
        f"- {provenance_line(results['provenance'])}",
        f"- {options.clips} clips of {options.seconds:g} s per genre, default preset with at most {options.epochs} "
        f"epochs per network, paper split, {options.jobs} workers; cold `predict` of one clip on LiteRT, median of "
        f"{options.repeats}. Peak memory: the largest process. Generated audio: costs, not accuracies.",
        "",
        markdown_table(
            [
                "genres",
                "node models",
                "clips",
                "train-all s",
                "train-all peak MB",
                "models MB",
                "predict greedy s",
                "predict product s",
                "predict peak MB",
            ],
            table,
        ),
        "",
    ]
    (out / "report.md").write_text("\n".join(text), encoding="utf-8")
    print(out / "report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
