"""The benchmark runners on a tiny synthetic corpus (numbers are not checked, shapes are).

The flat-versus-hierarchical report is rendered from two recorded runs
(``tests/data/flat_vs_hier-runs.json.gz``); its runner trains for real in the ablation test. A
change to what a run records re-records them in the same commit, and says so:

    python -m tests.integration.test_benchmark
"""

import copy
import gzip
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import ablation, flat_vs_hier, predict_speed
from benchmarks.common import paired, paired_text
from benchmarks.flat_vs_hier_options import Options
from benchmarks.flat_vs_hier_report import write_outputs
from benchmarks.pooling import aggregate
from tests.commands import ROOT

RECORDING = ROOT / "tests" / "data" / "flat_vs_hier-runs.json.gz"
#: Four genres, three node models: the smallest tree with routing choices.
SMALL_TREE = "name: default\ntree: {loud: [metal, disco], calm: [classical, jazz]}\n"
#: The benchmark that made the recording (--tree and --out added).
RECORDED_OPTIONS = "synthetic --groups 2 --synthetic-clips 4 --seeds 0 1 --epochs 1 --preset improved --jobs 1"


def recorded_options(folder: Path, out: Path) -> Options:
    """The recorded benchmark's options, its tree written to ``folder``."""
    tree = folder / "default.yaml"
    tree.write_text(SMALL_TREE)
    return flat_vs_hier.parse_args([*RECORDED_OPTIONS.split(), "--tree", str(tree), "--out", str(out)])


def read_recording() -> dict:
    """The recorded runs (as ``one_run`` returned them), the extraction timing, the corpus size and wall time."""
    with gzip.open(RECORDING, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def record(folder: Path) -> None:
    """Run the benchmark once (a few minutes) and store what its report is made from in :data:`RECORDING`."""
    captured = {}

    def capture(options, runs, extraction, dataset, seconds):  # noqa: ANN001, ANN202
        captured.update(runs=copy.deepcopy(runs), extraction=extraction, clips=len(dataset.clips), wall_seconds=seconds)
        return aggregate(options, runs, extraction, dataset, seconds)

    flat_vs_hier.aggregate = capture
    flat_vs_hier.run(recorded_options(folder, folder / "out"))
    with open(RECORDING, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        packed.write(json.dumps(captured, separators=(",", ":")).encode("utf-8"))


def test_paired_statistics_count_wins_ties_and_losses():
    d = paired([0.8, 0.7, 0.5, 0.9], [0.7, 0.7, 0.6, 0.6])
    assert (d["wins"], d["ties"], d["losses"]) == (2, 1, 1)
    assert d["mean"] == pytest.approx(0.075) and paired_text(d) == "+7.5 ± 14.8 (2/1/1)"


def test_report_of_recorded_runs_gives_paired_differences(tmp_path):
    """The report of two recorded runs: aggregation, paired differences, Markdown, compact JSON, PNGs.

    The runs were recorded from ``flat_vs_hier`` on the synthetic corpus (see :func:`record`), so
    only what comes after the training is run here.
    """
    recorded = read_recording()
    runs = recorded["runs"]
    per_run = [r["models"]["default"]["scores"]["accuracy"] - r["models"]["flat"]["scores"]["accuracy"] for r in runs]
    out = tmp_path / "out"
    out.mkdir()
    options = recorded_options(tmp_path, out)
    corpus = SimpleNamespace(root=Path("synthetic"), clips=[None] * recorded["clips"])
    report = aggregate(options, runs, recorded["extraction"], corpus, recorded["wall_seconds"])
    write_outputs(report, runs, out, options)
    results = json.loads((out / "results.json").read_text())
    assert len(results["runs"]) == 2
    diff = results["report"]["paired_difference"]
    assert diff["per_run"] == pytest.approx(per_run) and diff["mean"] == pytest.approx(sum(per_run) / 2)
    assert diff["wins"] + diff["ties"] + diff["losses"] == 2
    assert (diff["wins"], diff["ties"], diff["losses"]) == tuple(
        sum(test(d) for d in per_run) for test in (lambda d: d > 1e-9, lambda d: abs(d) <= 1e-9, lambda d: d < -1e-9)
    )
    models = set(results["runs"][0]["models"])
    cascades = {f"{t}{p}" for t in ("default", "learned") for p in ("", "+product", "+blend")}
    assert models == cascades | {"flat", "baseline3", "stats-svm", "stats-lr"}
    assert results["runs"][0]["learned_tree"] is not None
    assert len(results["report"]["provenance"]["commit"]) == 40  # the code measured is recorded
    curves = results["report"]["learning_curves"]  # stored once, not per run
    assert set(curves) >= {"default", "flat"} and "root_history" not in results["runs"][0]["models"]["flat"]
    assert "\n" not in (out / "results.json").read_text().strip()  # compact JSON
    text = (out / "report.md").read_text()
    assert "SYNTHETIC" in text and "Δ vs flat" in text and "clips/s" in text and "## Learned trees" in text
    assert "right top-level group" in text and "at commit `" in text
    flat_row = next(line for line in text.splitlines() if line.startswith("| default |"))
    assert paired_text(diff) in flat_row  # the table shows the paired difference computed above
    assert {p.name for p in out.glob("*.png")} == {
        "confusion-default.png",
        "confusion-learned.png",
        "confusion-flat.png",
        "confusion-baseline3.png",
        "learning-curves.png",
    }
    from benchmarks.depth_report import write_depth_report

    depth = write_depth_report(out, primary="default+blend").read_text()  # the run's own tree among the models
    assert "`default+product`, `default+blend`" in depth and "judged against flat: `default+blend`" in depth
    assert "summed up the built tree `default`" in depth and (out / "operating-curves-mean.png").is_file()


def test_kfold_specs_cover_every_fold():
    options = flat_vs_hier.parse_args(["d", "--protocol", "kfold", "--folds", "4", "--seeds", "0", "1", "--out", "x"])
    assert flat_vs_hier.split_specs(options) == [(s, f"kfold:4:{i}") for s in (0, 1) for i in range(1, 5)]


def test_ablation_summary_compares_each_step_with_the_previous(tiny_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "ablation"
    options = "--protocol paper --seeds 0 --epochs 1 --jobs 1 --variants bn-crops improved --out"
    argv = [str(tiny_corpus), *options.split(), str(out)]
    assert ablation.main(argv) == 0
    text = (out / "summary.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["bn-crops", "improved", "stats-svm", "stats-lr"]
    assert "Δ vs step before" in text and "vs bn-crops" in text
    assert f"ablation {' '.join(argv)}`" in text  # the command that made it, not the caller's argv
    flat = json.loads((out / "improved" / "results.json").read_text())["runs"][0]["models"]
    assert set(flat) == {"flat", "stats-svm", "stats-lr"}  # flat only: no cascade, no baseline
    measured = {label: (out / label / "results.json").stat().st_mtime_ns for label in ("bn-crops", "improved")}
    capsys.readouterr()
    assert ablation.main(argv) == 0
    assert "bn-crops: already measured" in capsys.readouterr().out
    assert {label: (out / label / "results.json").stat().st_mtime_ns for label in measured} == measured  # not re-run


def test_ablation_node_model_variants_name_the_preset_they_build_on():
    assert ablation.describe("improved-cv3+ensemble").startswith("improved-cv3, every node the average")
    assert ablation.describe("improved+auto").startswith("improved, each node picks")
    assert all(previous is None or previous in ablation.PREVIOUS for previous in ablation.PREVIOUS.values())


def test_speed_benchmark_reports_both_backends(trained, tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "speed"
    assert (
        predict_speed.main(
            [str(tiny_corpus), "--workdir", str(trained), "--repeats", "1", "--long-minutes", "1", "--out", str(out)]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert len(results["cold_seconds"]["litert"]) == len(results["cold_seconds"]["keras"]) == 1
    assert [b["jobs"] for b in results["batch"]] == [1, 2] and results["batch"][0]["classified"] == 30
    assert results["parity"]["max_relative"] < 1e-5
    assert results["agreement"]["same_genre"] == 30
    assert "flat (preset improved-cv3-s1, at most 2 epochs)" in results["models"]
    assert "Speed-up" in (out / "report.md").read_text() and results["provenance"]["commit"]


def test_train_speed_parts_count_what_the_loop_did(trained, tmp_path):
    import subprocess

    from benchmarks import train_speed
    from hiergenre.models.network import build_cnn
    from hiergenre.presets import get_preset

    records = train_speed.node_records(trained)
    assert len(records) == 7 and all(r["windows_trained"] > 0 and r["steps_seconds"] > 0 for r in records)
    # FLOP per window from the Keras layers' own shapes: 2 per multiply-accumulate, training = 3 forward passes
    preset = get_preset("improved-cv3-s1")
    net = build_cnn(10, preset.model, preset.features)
    macs = 0
    for name in ("conv1", "conv2", "conv3"):
        layer = net.get_layer(name)
        out = layer.output.shape
        macs += out[1] * out[2] * out[3] * layer.kernel.shape[0] * layer.kernel.shape[1] * layer.kernel.shape[2]
    assert train_speed.flops_per_training_window() == 2 * macs * 3
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    code = train_speed.checkout(head, tmp_path / "code")
    assert (code / "hiergenre" / "cli" / "main.py").is_file() and (code / "hierarchies" / "default.yaml").is_file()


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        record(Path(scratch))
    print(f"recorded {RECORDING}")
