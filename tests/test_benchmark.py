"""The benchmark runner end to end on a tiny synthetic corpus (numbers are not checked, shapes are)."""

import importlib.util
import json
from pathlib import Path

from hiergenre.config import DEFAULT_PRESET

ROOT = Path(__file__).parent.parent


def load_runner():
    spec = importlib.util.spec_from_file_location("flat_vs_hier", ROOT / "benchmarks" / "flat_vs_hier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runner_writes_report_with_paired_differences(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = load_runner()
    out = tmp_path / "out"
    options = "synthetic --synthetic-clips 4 --seeds 0 1 --epochs 1 --jobs 1 --out"
    assert runner.main([*options.split(), str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(results["runs"]) == 2
    diff = results["report"]["paired_difference"]
    per_run = [
        r["models"]["default"]["scores"]["accuracy"] - r["models"]["flat"]["scores"]["accuracy"]
        for r in results["runs"]
    ]
    assert diff["per_run"] == per_run and diff["wins"] + diff["ties"] + diff["losses"] == 2
    models = set(results["runs"][0]["models"])
    cascades = {f"{t}{p}" for t in ("default", "learned") for p in ("", "+product", "+blend")}
    assert models == cascades | {"flat", "baseline3", "stats-svm", "stats-lr"}
    assert results["runs"][0]["learned_tree"] is not None
    text = (out / "report.md").read_text()
    assert "SYNTHETIC" in text and "Δ vs flat" in text and "clips/s" in text and "## Learned trees" in text
    assert "right top-level group" in text
    assert {p.name for p in out.glob("*.png")} == {
        "confusion-default.png",
        "confusion-learned.png",
        "confusion-flat.png",
        "confusion-baseline3.png",
        "learning-curves.png",
    }


def test_kfold_specs_cover_every_fold():
    runner = load_runner()
    args = runner.parse_args(["d", "--protocol", "kfold", "--folds", "4", "--seeds", "0", "1", "--out", "x"])
    assert runner.split_specs(args) == [(s, f"kfold:4:{i}") for s in (0, 1) for i in range(1, 5)]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ablation_summary_compares_each_step_with_the_previous(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    ablation = load_script("ablation")
    out = tmp_path / "ablation"
    options = "--protocol paper --seeds 0 1 --epochs 1 --jobs 1 --variants bn-crops improved --out"
    argv = [str(tiny_corpus), *options.split(), str(out)]
    assert ablation.main(argv) == 0
    text = (out / "summary.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["bn-crops", "improved", "stats-svm", "stats-lr"]
    assert "Δ vs step before" in text and "vs bn-crops" in text
    assert f"ablation.py {' '.join(argv)}`" in text  # the command that made it, not the caller's argv
    flat = json.loads((out / "improved" / "results.json").read_text())["runs"][0]["models"]
    assert set(flat) == {"flat", "stats-svm", "stats-lr"}  # --flat-only: no cascade, no baseline
    assert ablation.main(argv) == 0  # measured steps are reused, not retrained
    assert (out / "summary.md").read_text().count("bn-crops") >= 1


def test_ablation_node_model_variants_name_the_preset_they_build_on():
    ablation = load_script("ablation")
    assert ablation.describe("improved-cv3+ensemble").startswith("improved-cv3, every node the average")
    assert ablation.describe("improved+auto").startswith("improved, each node picks")
    assert all(previous is None or previous in ablation.PREVIOUS for previous in ablation.PREVIOUS.values())


def test_speed_benchmark_reports_both_backends(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    speed = load_script("predict_speed")
    out = tmp_path / "speed"
    assert speed.main([str(tiny_corpus), "--repeats", "1", "--epochs", "1", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(results["cold_seconds"]["litert"]) == len(results["cold_seconds"]["keras"]) == 1
    assert [b["jobs"] for b in results["batch"]] == [1, 2] and results["batch"][0]["classified"] == 30
    assert results["parity"]["max_relative"] < 1e-5
    assert results["agreement"]["same_genre"] == 30
    assert f"flat (preset {DEFAULT_PRESET}, at most 1 epochs)" in results["models"]
    assert "Speed-up" in (out / "report.md").read_text()
