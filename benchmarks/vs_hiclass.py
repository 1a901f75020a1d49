"""hiergenre against hiclass: the same local classifier per parent node, on the same folds.

hiclass (Miranda et al., JMLR 2023) is the reference library for local hierarchical classifiers.
Both libraries here get the same clips, folds, features (each clip's LMFCC statistics,
:func:`hiergenre.models.statistics.frame_statistics`, standardised on the training part) and the same
``LogisticRegression(max_iter=1000)`` at every parent node of the same tree:

1. **Parity.** hiclass's ``LocalClassifierPerParentNode.predict`` against
   :class:`~hiergenre.cascade.estimator.HierarchicalClassifier` with greedy routing, both fitted on
   train+valid: the same algorithm, so the genres should agree clip for clip; fit and predict time.
2. **Calibration.** hiclass's calibrators (``sigmoid``, ``isotonic``, ``beta``, ``ivap``, ``cvap``)
   need a calibration set apart from the training data: they are fitted on the train part and
   calibrated on the valid part. hiergenre is given train+valid and holds out its own calibration
   rows (``calibration_size``, 20%) for its temperatures (before 0.5: out-of-fold temperatures).
   Every variant's node probabilities are combined the same way (products along paths,
   :mod:`hiergenre.cascade.routing`), so only the calibration differs. hiclass's own combined
   ``predict_proba`` is not used: on a tree whose genres sit at different depths its last level is
   not a distribution over the genres, and it fills a level only below parents that some row of
   the batch was predicted to reach.
3. **Decoding.** hiclass predicts genres only; hiergenre's confidence decoder sweeps the operating
   curve (hierarchically right against specificity, :mod:`hiergenre.evaluation.operating`) on every variant's
   distributions, hiclass's included.

    python -m benchmarks.vs_hiclass ../shared/gtzan-mini/genres --seeds 0 1 2 3 4 5 \\
        --out benchmarks/results/vs-hiclass-gtzan-mini

DATA is a dataset folder, or ``synthetic`` for the embedded synthetic corpus. Needs the
``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.common import output_and_scratch, provenance, write_json
from benchmarks.vs_hiclass_report import write_report
from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.cascade.routing import decide, get_policy
from hiergenre.data.datasets import kfold_splits, load_dataset
from hiergenre.data.synthetic.corpus import write_corpus
from hiergenre.evaluation.operating import operating_curve
from hiergenre.features.extraction import FeatureCache, extract_many
from hiergenre.models.statistics import frame_statistics
from hiergenre.presets import get_preset

#: hiclass's calibration methods, each fitted on the train part and calibrated on the valid part.
HICLASS_METHODS = ("sigmoid", "isotonic", "beta", "ivap", "cvap")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="dataset folder, or 'synthetic'")
    parser.add_argument("--tree", default="hierarchies/default.yaml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--synthetic-clips", type=int, default=20, help="clips per genre for 'synthetic'")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    command = "python -m benchmarks.vs_hiclass " + " ".join(sys.argv[1:] if argv is None else argv)
    run(
        args.data, GenreTree.from_file(args.tree), args.folds, args.seeds, Path(args.out), args.synthetic_clips, command
    )
    return 0


def run(data: str, tree: GenreTree, folds: int, seeds: list[int], out: Path, clips: int, command: str) -> Path:
    """Every run, then ``results.json`` and ``report.md`` in ``out``."""
    out, scratch = output_and_scratch(out, "hiergenre-vs-hiclass-")
    if data == "synthetic":
        data = str(write_corpus(scratch / "corpus", clips_per_genre=clips, seed=0))
    dataset = load_dataset(data)
    clips_in_tree = [c for c in dataset.clips if c.genre in tree.leaves]
    features = get_preset("paper").features  # every preset shares the LMFCC settings
    frames, _ = extract_many([c.path for c in clips_in_tree], features, cache=FeatureCache(scratch / "cache"))
    statistics = {path: frame_statistics(matrix) for path, matrix in frames.items()}
    runs = []
    for seed in seeds:
        for fold, split in enumerate(
            kfold_splits([c for c in clips_in_tree if str(c.path) in frames], folds, seed=seed)
        ):
            print(f"run: seed {seed}, fold {fold + 1}", flush=True)
            runs.append({"seed": seed, "fold": fold + 1, **one_run(tree, split, statistics)})
    results = {
        "command": command,
        "provenance": provenance(),
        "data": data if "corpus" not in data else "synthetic",
        "clips": len(statistics),
        "folds": folds,
        "tree": tree.to_spec(),
        "runs": runs,
    }
    write_json(out / "results.json", results)
    return write_report(results, tree, out)


def one_run(tree: GenreTree, split, statistics: dict[str, np.ndarray]) -> dict:  # noqa: ANN001 - a Split
    """Parity, calibration and operating curves of every variant on one fold."""
    from sklearn.preprocessing import StandardScaler

    def part(*names: str) -> tuple[np.ndarray, list[str]]:
        clips = [c for name in names for c in split.part(name)]
        return np.stack([statistics[str(c.path)] for c in clips]), [c.genre for c in clips]

    x_train, y_train = part("train")
    x_valid, y_valid = part("valid")
    x_test, y_test = part("test")
    scaler = StandardScaler().fit(np.vstack([x_train, x_valid]))
    x_train, x_valid, x_test = (scaler.transform(x) for x in (x_train, x_valid, x_test))
    x_seen, y_seen = np.vstack([x_train, x_valid]), y_train + y_valid
    parity = compare_greedy(tree, x_seen, y_seen, x_test)
    leaves = {}
    for calibration in ("none", "temperature"):
        model = hiergenre_model(tree, "product", calibration).fit(x_seen, y_seen)
        order = [list(model.classes_).index(g) for g in tree.leaves]
        leaves[f"hiergenre {calibration}"] = model.predict_proba(x_test)[:, order]
    failures = {}
    for method in (None, *HICLASS_METHODS):
        try:
            model = fit_hiclass(tree, x_train, y_train, method, x_valid, y_valid)
        except Exception as exc:  # noqa: BLE001 - a method that fails in this hiclass/scikit-learn is reported
            failures[method] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        nodes = hiclass_node_scores(model, tree, x_test, calibrated=method is not None)
        leaves[f"hiclass {method or 'none'} (train only)"] = decide(tree, nodes, get_policy("product")).leaves
    variants = {name: measure(tree, p, y_test) for name, p in leaves.items()}
    return {"parity": parity, "variants": variants, "failures": failures}


def hiergenre_model(tree: GenreTree, routing: str, calibration: str):  # noqa: ANN201
    """The estimator with the shared local classifier."""
    from sklearn.linear_model import LogisticRegression

    from hiergenre.cascade.estimator import HierarchicalClassifier

    return HierarchicalClassifier(tree, LogisticRegression(max_iter=1000), routing=routing, calibration=calibration)


def compare_greedy(tree: GenreTree, x: np.ndarray, y: list[str], x_test: np.ndarray) -> dict:
    """Both libraries' greedy predictions of the test clips, and their fit and predict seconds."""
    started = time.perf_counter()
    ours = hiergenre_model(tree, "greedy", "none").fit(x, y)
    our_fit = time.perf_counter() - started
    started = time.perf_counter()
    our_pred = [str(g) for g in ours.predict(x_test)]
    our_predict = time.perf_counter() - started
    started = time.perf_counter()
    theirs = fit_hiclass(tree, x, y, None)
    their_fit = time.perf_counter() - started
    started = time.perf_counter()
    their_pred = [leaf_of_path(row) for row in theirs.predict(x_test)]
    their_predict = time.perf_counter() - started
    differ = [i for i, (a, b) in enumerate(zip(our_pred, their_pred, strict=True)) if a != b]
    return {
        "clips": len(our_pred),
        "agree": len(our_pred) - len(differ),
        "differences": [{"clip": i, "hiergenre": our_pred[i], "hiclass": their_pred[i]} for i in differ],
        "seconds": {
            "hiergenre_fit": our_fit,
            "hiergenre_predict": our_predict,
            "hiclass_fit": their_fit,
            "hiclass_predict": their_predict,
        },
    }


def hiclass_paths(tree: GenreTree, genres: list[str]) -> np.ndarray:
    """hiclass's labels: each genre's path below the root, padded with empty strings to the deepest."""
    paths = [tree.path_to(g)[1:] for g in genres]
    depth = max(len(tree.path_to(g)) - 1 for g in tree.leaves)
    return np.array([p + [""] * (depth - len(p)) for p in paths], dtype=object)


def leaf_of_path(row: np.ndarray) -> str:
    """The deepest non-empty label of a hiclass prediction."""
    return [str(label) for label in row if str(label)][-1]


def fit_hiclass(tree: GenreTree, x: np.ndarray, y: list[str], method: str | None, x_cal=None, y_cal=None):  # noqa: ANN001, ANN201
    """hiclass's local classifier per parent node, calibrated on ``x_cal`` when ``method`` is set."""
    from hiclass import LocalClassifierPerParentNode
    from sklearn.linear_model import LogisticRegression

    model = LocalClassifierPerParentNode(local_classifier=LogisticRegression(max_iter=1000), calibration_method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, hiclass_paths(tree, y))
        if method is not None:
            model.calibrate(x_cal, hiclass_paths(tree, y_cal))
    return model


def hiclass_node_scores(model, tree: GenreTree, x: np.ndarray, *, calibrated: bool) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Each parent node's (calibrated) probabilities from hiclass's own node models, in ``tree.children`` order."""
    separator = model.separator_
    out = {}
    for node in tree.model_nodes:
        name = model.root_ if node == tree.preorder()[0] else separator.join(tree.path_to(node)[1:])
        attributes = model.hierarchy_.nodes[name]
        predictor = (attributes.get("calibrator") if calibrated else None) or attributes["classifier"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = np.asarray(predictor.predict_proba(x), dtype=float)
        classes = [str(c).split(separator)[-1] for c in predictor.classes_]
        columns = np.zeros((len(x), len(tree.children(node))))
        for j, child in enumerate(tree.children(node)):
            if child in classes:
                columns[:, j] = proba[:, classes.index(child)]
        out[node] = columns / np.clip(columns.sum(axis=1, keepdims=True), 1e-12, None)
    return out


def measure(tree: GenreTree, leaves: np.ndarray, genres: list[str]) -> dict:
    """Leaf accuracy, the calibration samples of the predicted genre, Brier, log loss, the operating curve."""
    labels = np.array([tree.leaves.index(g) for g in genres])
    predicted = leaves.argmax(axis=1)
    picked = np.clip(leaves[np.arange(len(labels)), labels], 1e-7, 1.0)
    curve = operating_curve(tree, leaves, genres)
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "samples": [[round(float(leaves[i, p]), 4), int(p == labels[i])] for i, p in enumerate(predicted)],
        "brier": float(np.mean(np.sum((leaves - np.eye(len(tree.leaves))[labels]) ** 2, axis=1))),
        "log_loss": float(-np.mean(np.log(picked))),
        "curve_area": curve.area,
        "specificity_at_90": curve.specificity_at["0.90"],
        "leaf_share_at_90": curve.leaf_share_at["0.90"],
    }


if __name__ == "__main__":
    sys.exit(main())
