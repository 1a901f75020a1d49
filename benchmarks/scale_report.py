"""The report of :mod:`benchmarks.scale`: measured tables per data set, the targets, the projection."""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import provenance_line
from hiergenre.viz.reports import markdown_table


def write_report(results: dict, out: Path) -> Path:
    """``report.md`` in ``out``; returns its path."""
    text = [
        "# Scaling out: local processes and Dask clusters",
        "",
        f"Command: `{results['command']}`",
        "",
        f"- {provenance_line(results['provenance'])}; {results['cores']} usable cores.",
        "- Every row starts from a cold feature cache. *Start-up*: starting the backend and importing hiergenre "
        "and librosa in its workers (apart from the work). *Task overhead*: round trip of a job that does nothing "
        "(mean of 200). *Extraction*: decoding + LMFCC of every clip, workers warm. *train-all*: a whole run in a "
        "fresh workspace (features, every node model and the flat model; no 3-class baseline), epochs capped as "
        "stated; it starts its own cluster, start-up included.",
        "",
    ]
    for data_set in results["data_sets"]:
        rows = data_set["rows"]
        one = next(r for r in rows if r["backend"] == "dask local:1")
        table = [
            [
                r["backend"],
                r["workers"],
                f"{r['startup_seconds']:.1f}",
                f"{r['task_overhead_ms']:.2f}",
                f"{r['extraction_seconds']:.1f}",
                f"{r['clips_per_second']:.1f}",
                f"{one['extraction_seconds'] / r['extraction_seconds']:.2f}×",
                f"{r['train_all_seconds']:.1f}",
                f"{one['train_all_seconds'] / r['train_all_seconds']:.2f}×",
            ]
            for r in rows
        ]
        text += [
            f"## {data_set['name']}: {data_set['clips']} clips, train-all with at most {data_set['epochs']} epochs",
            "",
            markdown_table(
                [
                    "backend",
                    "workers",
                    "start-up s",
                    "task overhead ms",
                    "extraction s",
                    "clips/s",
                    "vs 1 worker",
                    "train-all s",
                    "vs 1 worker",
                ],
                table,
            ),
            "",
        ]
    gtzan = results["data_sets"][0]["rows"]
    one = next(r for r in gtzan if r["backend"] == "dask local:1")
    two = next(r for r in gtzan if r["backend"] == "dask local:2")
    ratio = one["extraction_seconds"] / two["extraction_seconds"]
    verdict = "met" if ratio >= 1.6 else "**not met**"
    text += [
        "## Target",
        "",
        f"Two Dask workers against one, feature extraction of {results['data_sets'][0]['name']} with a cold cache, "
        f"start-up excluded: **{ratio:.2f}×** (target ≥ 1.6×: {verdict}).",
        "",
    ]
    p = results["projection"]
    text += [
        "## Projection (a model from the numbers above, not a measurement)",
        "",
        f"Per clip, decoding + LMFCC of a 30-s clip: {p['per_clip_seconds'] * 1000:.0f} ms of one worker; per task "
        f"overhead {p['task_overhead_seconds'] * 1000:.1f} ms, 32 clips a task. Per node model: "
        f"{p['fixed_seconds_per_node']:.1f} s fixed (TensorFlow import, set-up, export) plus "
        f"{p['per_clip_member_epoch_seconds'] * 1000:.2f} ms per training clip and member-epoch (the flat model of "
        f"the train-all above), times {p['member_epochs']:.0f} member-epochs (what the default preset ran on "
        "gtzan-mini's 80 training clips; with more clips early stopping may come sooner or later). One job per "
        "decision node of FMA's 163-genre tree plus the flat model, each with the clips under its node (FMA's "
        "#tracks, scaled to the data set), scheduled largest first.",
        "",
        projection_table(p["rows"], hours_digits=1),
        "",
        "What limits it: the root and the flat model each see every clip, and a node model trains on one worker, "
        "so past a few workers the wall time is the largest job's, whatever the cluster's size. The caller also "
        "holds every clip's LMFCC (about 67 kB a clip: 1.7 GB for FMA medium, 7 GB for FMA large) and ships each "
        "node's share to its worker.",
        "",
    ]
    text += musicnn_section(results.get("musicnn_projection"))
    path = out / "report.md"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def musicnn_section(p: dict | None) -> list[str]:
    """The projection for musicnn features (:mod:`benchmarks.scale_musicnn`), when it was made."""
    if not p:
        return []
    return [
        "## Projection for musicnn features (`--features musicnn`, logistic-regression nodes)",
        "",
        f"Command: `{p['command']}`. Per clip, decoding + log-mel + musicnn's network on a 30-s clip: "
        f"{p['per_clip_seconds'] * 1000:.0f} ms of one worker (the front-end cost run); per node, a logistic "
        f"regression fitted in {p['fit_fixed_seconds']:.2f} s + {p['fit_seconds_per_window'] * 1000:.3f} ms per "
        "window (measured on 2,000 to 16,000 synthetic windows of 10 × 200 values of 16 overlapping classes, "
        "the faster of two fits, a line through them, "
        "extrapolated), one window per 30-s clip. Same tree, job sizes and scheduling as above.",
        "",
        projection_table(p["rows"], hours_digits=2),
        "",
        "Here extraction, not training, bounds the wall time, and it divides by the workers; the caller holds "
        "10 × 200 float32 values a 30-s clip (8 kB: 0.2 GB for FMA medium, 0.9 GB for FMA large).",
        "",
    ]


def projection_table(rows: list[dict], hours_digits: int) -> str:
    """The projected hours per data set and worker count, as a Markdown table."""
    header = ["data set", "clips", "workers", "node models", "extraction h", "training h", "largest job h", "total h"]
    hours = ("training_hours", "largest_job_hours", "total_hours")
    return markdown_table(
        header,
        [
            [r["data_set"], f"{r['clips']:,}", r["workers"], r["node_models"], f"{r['extraction_hours']:.2f}"]
            + [f"{r[key]:.{hours_digits}f}" for key in hours]
            for r in rows
        ],
    )
