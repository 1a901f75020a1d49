"""The benchmark runner end to end on a tiny synthetic corpus (numbers are not checked, shapes are)."""

import importlib.util
import json
from pathlib import Path

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
    assert (
        runner.main(
            [
                "synthetic",
                "--synthetic-clips",
                "4",
                "--seeds",
                "0",
                "1",
                "--epochs",
                "1",
                "--jobs",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
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
