"""Flat versus hierarchical, under identical conditions, repeated over seeds or folds.

For every run (a seed, or a fold of k-fold cross-validation, or a clip-id split) the same
clips, split, feature settings, preset, epoch budget and seed train: the cascade of the given
tree, the flat model over the same genres, the 3-class baseline, and (unless ``--no-learned``) the
cascade of a tree learned from that run's training clips. Every cascade is scored under every
routing policy (greedy, product, blend) without retraining. Two non-deep bars are scored on the
same clips: LMFCC clip statistics (:func:`hiergenre.models.statistics.frame_statistics`) with an RBF SVM and
with logistic regression, each a flat :class:`~hiergenre.cascade.estimator.HierarchicalClassifier`,
trained on the train+valid parts (they need no validation data, so they get it as training data).

The report (:mod:`benchmarks.flat_vs_hier_report`) gives mean ± standard deviation over runs, the
paired per-run difference of every model against flat, pooled per-class tables and confusion
matrices, per-node decisions versus the flat model's own group accuracy, learning curves, and the
costs. ``--flat-only`` trains only the flat model (no cascade, no 3-class baseline): that is the
preset ablation (:mod:`benchmarks.ablation` calls :func:`run` directly).

    python -m benchmarks.flat_vs_hier DATA --protocol kfold --folds 5 --seeds 0 --epochs 200 \\
        --out benchmarks/results/gtzan-mini-5fold

DATA is a dataset folder (GTZAN layout or any folder per genre), or ``synthetic`` for the embedded
synthetic corpus.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import git_commit, write_json
from benchmarks.depth_report import compact_scores
from benchmarks.flat_vs_hier_options import Options
from benchmarks.pooling import aggregate
from hiergenre import api
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.data.datasets import Dataset, load_dataset
from hiergenre.data.synthetic.corpus import write_corpus
from hiergenre.evaluation.metrics import score
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.presets import DEFAULT_PRESET, get_preset, with_front_end
from hiergenre.workspace.layout import Workspace

POLICIES = ("greedy", "product", "blend")


def parse_args(argv: list[str] | None = None) -> Options:
    """Options from the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="dataset folder, or 'synthetic'")
    parser.add_argument("--tree", default="hierarchies/default.yaml", help="tree of the cascade")
    parser.add_argument(
        "--protocol",
        choices=["paper", "kfold", "ids", "halves"],
        default="paper",
        help="paper: per-genre 70/10/20 per seed; kfold: stratified k-fold; ids: clip-id lists; "
        "halves: the artist-ordered halves (halves:1 and halves:2) per seed",
    )
    parser.add_argument("--folds", type=int, default=5, help="k for --protocol kfold")
    parser.add_argument("--split-dir", default="gtzan-fault-filtered", help="clip-id lists for --protocol ids")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=200, help="epoch cap per model (same for every model)")
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="node preset of every network")
    parser.add_argument("--node-model", default=None, help="override the preset's node classifier kind")
    parser.add_argument("--features", default=None, help="feature front-end (lmfcc, musicnn, musicnn+lmfcc)")
    parser.add_argument("--groups", type=int, default=3, help="top-level groups of the learned tree")
    parser.add_argument("--no-learned", action="store_true", help="skip the learned tree")
    parser.add_argument("--flat-only", action="store_true", help="only the flat model and the bars (ablations)")
    parser.add_argument("--synthetic-clips", type=int, default=20, help="clips per genre for 'synthetic'")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", required=True, help="folder for report.md, results.json and plots")
    args = parser.parse_args(argv)
    arguments = sys.argv[1:] if argv is None else list(argv)
    return Options(**vars(args), command=f"python -m benchmarks.flat_vs_hier {' '.join(arguments)}")


def split_specs(options: Options) -> list[tuple[int, str]]:
    """(seed, --split value) for every run."""
    if options.protocol == "paper":
        return [(seed, "paper") for seed in options.seeds]
    if options.protocol == "kfold":
        return [(seed, f"kfold:{options.folds}:{i}") for seed in options.seeds for i in range(1, options.folds + 1)]
    if options.protocol == "halves":
        return [(seed, f"halves:{half}") for seed in options.seeds for half in (1, 2)]
    return [(seed, options.split_dir) for seed in options.seeds]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    run(parse_args(argv))
    return 0


def run(options: Options) -> Path:
    """Every run, the aggregate and the report; returns the report's path."""
    from benchmarks.flat_vs_hier_report import write_outputs

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="hiergenre-bench-"))
    started = time.perf_counter()
    data = options.data
    if data == "synthetic":
        data = str(write_corpus(scratch / "corpus", clips_per_genre=options.synthetic_clips, seed=0))
    dataset = load_dataset(data)
    extraction = measure_extraction(dataset, options)
    runs = []
    finished = out / "finished-runs"  # each run as it ends: an interrupted benchmark resumes where it stopped
    for seed, spec in split_specs(options):
        record = finished / f"seed{seed}-{spec.replace(':', '-').replace('/', '-')}.json"
        if record.is_file() and json.loads(record.read_text()).get("options") == run_options(options):
            print(f"run: seed {seed}, split {spec} (finished earlier)", flush=True)
            runs.append(json.loads(record.read_text())["run"])
            continue
        print(f"run: seed {seed}, split {spec}", flush=True)
        runs.append(one_run(options, data, seed, spec, scratch))
        record.parent.mkdir(parents=True, exist_ok=True)
        write_json(record, {"options": run_options(options), "run": runs[-1]})
    report = aggregate(options, runs, extraction, dataset, time.perf_counter() - started)
    write_outputs(report, runs, out, options)
    shutil.rmtree(finished, ignore_errors=True)  # the results hold every run; the records were for resuming
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"report: {out / 'report.md'}")
    return out / "report.md"


def run_options(options: Options) -> dict:
    """What a run depends on, so that a record of another configuration is never reused."""
    fields = ("data", "tree", "protocol", "folds", "split_dir", "epochs", "preset", "node_model", "features", "groups")
    return {name: getattr(options, name) for name in fields} | {
        "flat_only": options.flat_only,
        "no_learned": options.no_learned,
        "commit": git_commit(),
    }


def measure_extraction(dataset: Dataset, options: Options) -> dict[str, float]:
    """Clips per second of decoding + the front-end's features, without cache, on up to 50 clips (one process)."""
    clips = [c.path for c in dataset.clips][:: max(1, len(dataset.clips) // 50)][:50]
    start = time.perf_counter()
    extract_many(clips, with_front_end(get_preset(options.preset), options.features).features, cache=None, jobs=1)
    seconds = time.perf_counter() - start
    return {"clips": len(clips), "seconds": seconds, "clips_per_second": len(clips) / seconds}


def one_run(options: Options, data: str, seed: int, spec: str, scratch: Path) -> dict:
    """Train every model on one split and score them all on its test part."""
    workdir = scratch / f"seed{seed}-{spec.replace(':', '-').replace('/', '-')}"
    (scratch / "cache").mkdir(exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / "cache").exists():
        (workdir / "cache").symlink_to(scratch / "cache")  # all runs share one feature cache
    tree_file = options.tree
    if options.flat_only:
        tree_file = workdir / "flat.yaml"
        tree_file.write_text(GenreTree.flat(GenreTree.from_file(options.tree).leaves, "flat").to_yaml())
    reference = api.build_tree(tree_file, workdir=workdir, draw=False)
    kwargs = dict(
        data=data,
        split=spec,
        preset=options.preset,
        features=options.features,
        node_model=options.node_model,
        epochs=options.epochs,
        jobs=options.jobs,
        seed=seed,
    )
    training = api.train_all(workdir=workdir, baseline3=not options.flat_only, **kwargs)
    models = score_policies(workdir, None)
    learned_spec = None
    if not (options.flat_only or options.no_learned):
        learned = api.learn_tree(
            workdir / "learned.yaml",
            workdir=workdir,
            data=data,
            split=spec,
            groups=options.groups,
            seed=seed,
            jobs=options.jobs,
            features="musicnn" if options.features == "musicnn+lmfcc" else options.features,
        )
        learned_spec = learned.tree.to_spec()
        api.train_all(workdir=workdir, **kwargs)  # flat and baseline3 are reused, only the learned tree trains
        models |= score_policies(workdir, ["learned"])
    models |= statistics_bars(workdir, reference, options, seed)
    return {
        "seed": seed,
        "split": spec,
        "split_description": training.split,
        "reference": reference.name,
        "learned_tree": learned_spec,
        "models": models,
        "skipped": training.skipped_files,
    }


def score_policies(workdir: Path, trees: list[str] | None) -> dict[str, dict]:
    """Scores of the workspace's trees under every routing policy (one entry per cascade and policy)."""
    models = {}
    for policy in POLICIES:
        evaluation = api.evaluate(workdir=workdir, trees=trees, routing=policy, samples=True, target_accuracy=0.9)
        for name, s in evaluation.scores.items():
            single = len(s.per_node) <= 1
            if single and policy != "greedy":
                continue  # routing policies only matter for trees with several decision nodes
            if policy == "greedy":
                costs = {**model_costs(workdir, name), "predict_seconds_per_clip": predict_timing(workdir, name)}
                models[name] = {"scores": compact_scores(s.as_dict()), **costs}
            else:  # the same trained cascade: its costs are stored once, under the greedy entry
                models[f"{name}+{policy}"] = {"scores": compact_scores(s.as_dict()), "routing_of": name}
    return models


def model_costs(workdir: Path, name: str) -> dict:
    """Training seconds, parameters, epochs and the root's learning curve of one tree."""
    workspace = Workspace(workdir)
    manifest = workspace.manifest(name)
    metadata = list(workspace.node_metadata(name).values())
    return {
        "train_seconds": sum(m.get("seconds", 0.0) for m in metadata),
        "parameters": sum(m["parameters"] for m in metadata),
        "n_models": len(metadata),
        "node_kinds": [m.get("kind", "cnn") for m in metadata],
        "epochs_run": [m.get("epochs_run") for m in metadata],
        "root_history": metadata[0]["history"],
        "tree": manifest.tree,
    }


def statistics_bars(workdir: Path, reference: GenreTree, options: Options, seed: int) -> dict[str, dict]:
    """The non-deep bars: clip LMFCC statistics + RBF SVM / logistic regression, on train+valid."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from hiergenre.cascade.estimator import HierarchicalClassifier
    from hiergenre.models.statistics import frame_statistics

    split = Workspace(workdir).manifest("flat").test_split
    seen = [c for c in (*split.train, *split.valid) if c.genre in reference.leaves]
    test = [c for c in split.test if c.genre in reference.leaves]
    config = get_preset(options.preset).features
    frames, _ = extract_many([c.path for c in seen + test], config, cache=FeatureCache(workdir / "cache" / "features"))

    def stats(clips):  # noqa: ANN001, ANN202
        kept = [c for c in clips if str(c.path) in frames]
        return np.stack([frame_statistics(frames[str(c.path)]) for c in kept]), [c.genre for c in kept]

    x, y = stats(seen)
    x_test, y_test = stats(test)
    bars = {
        "stats-svm": SVC(C=10, gamma="scale"),  # no predict_proba: routes on its own decisions
        "stats-lr": LogisticRegression(max_iter=5000),
    }
    out = {}
    for name, classifier in bars.items():
        started = time.perf_counter()
        model = HierarchicalClassifier(estimator=make_pipeline(StandardScaler(), classifier)).fit(x, y)
        predicted = [str(p) for p in model.predict(x_test)]
        out[name] = {
            "scores": score(name, y_test, predicted, reference).as_dict(),
            "train_seconds": time.perf_counter() - started,
            "parameters": 0,
            "n_models": 1,
            "node_kinds": ["sklearn"],
            "epochs_run": [],
            "root_history": {},
            "predict_seconds_per_clip": None,
        }
    return out


def predict_timing(workdir: Path, name: str) -> float | None:
    """Seconds per clip for decoding, LMFCC and routing (LiteRT path, warm process, models loaded)."""
    predictor = api.load_predictor(workdir=workdir, tree=name)
    split = Workspace(workdir).manifest(name).test_split
    files = [c.path for c in split.test if c.genre in predictor.cascade.tree.leaves][:10]
    if not files:
        return None
    predictor.predict_files(files[:1])  # warm-up: first-call costs are not per clip
    start = time.perf_counter()
    predictor.predict_files(files)
    return (time.perf_counter() - start) / len(files)


if __name__ == "__main__":
    sys.exit(main())
