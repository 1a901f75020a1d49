"""The command line's terminal views, rendered from hand-made routes, predictions and training rows."""

from __future__ import annotations

import io

from rich.console import Console

from hiergenre.cascade.decoding import ConfidenceDecoder, Decoded, get_decoder
from hiergenre.cascade.routing import Route
from hiergenre.cli.render import (
    LineProgress,
    ProgressReporter,
    prediction_legend,
    prediction_text,
    progress_bars,
    route_text,
    training_table,
    tree_view,
)
from hiergenre.prediction.predictor import Prediction
from hiergenre.training.tree import NodeResult
from tests.unit.viz.samples import TREE, route

JAZZ = route("jazz", [("root", "soft", 0.8), ("soft", "jazz", 0.5)])


def rendered(renderable: object, width: int = 120) -> str:
    """What rich prints for ``renderable`` on a plain terminal ``width`` columns wide."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()


def result(node: str, **changes: object) -> NodeResult:
    row = dict(tree="small", node=node, classes=["a", "b"], train_accuracy=0.9, valid_accuracy=0.75, epochs=3)
    return NodeResult(**{**row, "seconds": 1.25, "parameters": 7818, **changes})


def test_route_and_prediction_lines():
    assert route_text(JAZZ) == "root → soft (0.80) → jazz (0.50)"
    line = prediction_text(Prediction("a.au", route=JAZZ), TREE)
    assert line == "a.au: [bold green]jazz[/] (p=0.40)  root → soft (0.80) → jazz (0.50)"
    stopped = Prediction("b.au", route=JAZZ, decoded=Decoded("calm", 0.7, 2, leaf=False))
    assert prediction_text(stopped, TREE).startswith("b.au: [bold yellow]calm[/] (classical, ambient) p 0.70  routing")


def test_a_confidence_stop_shows_the_probability_that_fell_short_and_calls_the_route_a_guess():
    mixed = Route("jazz", JAZZ.steps, {"jazz": 0.5, "classical": 0.3, "ambient": 0.1, "metal": 0.06, "rock": 0.04})
    decoder = ConfidenceDecoder(0.8)
    calm = prediction_text(Prediction("a.au", route=mixed, decoded=Decoded("soft", 0.9, 1, leaf=False)), TREE, decoder)
    assert calm == (
        "a.au: [bold yellow]soft[/] (jazz, classical, ambient) p 0.90; below it, the best, jazz, has 0.50 < 0.80"
        "  routing's guess: root → soft (0.80) → jazz (0.50)"
    )
    unsure = prediction_text(
        Prediction("b.au", route=mixed, decoded=Decoded("root", 1.0, 0, leaf=False)), TREE, decoder
    )
    assert unsure.startswith("b.au: [bold red]no answer[/] (root): no group or genre reached p 0.80; the best, soft,")
    assert "p 1.00" not in unsure and "routing's guess: root → soft" in unsure
    sure = prediction_text(Prediction("c.au", route=mixed, decoded=Decoded("jazz", 0.85, 2, leaf=True)), TREE, decoder)
    assert sure == "c.au: [bold green]jazz[/] (p=0.85)  root → soft (0.80) → jazz (0.50)"


def test_the_legend_names_the_tree_decoder_and_what_a_small_tree_cannot_say():
    legend = prediction_legend(TREE, "greedy", None)
    assert legend.startswith("tree 'small' (5 genres), greedy routing; p: probability of the whole path")
    assert "a group's p" not in prediction_legend(TREE, "greedy", None, get_decoder("leaf"))
    assert "(hf1: the node with" in prediction_legend(TREE, "greedy", None, get_decoder("hf1"))
    confident = prediction_legend(TREE, "greedy", None, ConfidenceDecoder(0.6))
    assert "min confidence 0.60: a genre or group (its p: the probability that the genre lies below it)" in confident
    bigger = TREE.from_yaml_text("tree: {heavy: [metal, rock], soft: [jazz, classical, ambient], misc: [pop, folk]}")
    assert "It knows only ambient, classical, jazz, metal, rock" in prediction_legend(TREE, "greedy", bigger)


def test_training_table_shows_one_row_per_model():
    text = rendered(training_table([result("root", member_epochs=[3, 2, 3]), result("heavy", reused=True)]))
    assert "kind" not in text and "valid*" not in text
    root = next(line for line in text.splitlines() if "small/root" in line).split()
    assert root == ["small/root", "2", "90%", "75%", "3+2+3", "1.2", "7,818"]
    heavy = next(line for line in text.splitlines() if "small/heavy" in line).split()
    assert heavy[4:6] == ["3", "reused"]  # no member epochs: the node's epochs


def test_training_table_shows_calibration_accuracy_and_other_kinds():
    rows = [result("root", held_out_accuracy=0.5), result("soft", kind="stats")]
    text = rendered(training_table(rows))
    root = next(line for line in text.splitlines() if "small/root" in line).split()
    assert root[:5] == ["small/root", "cnn", "2", "90%", "75%"]  # the validation clips, even when cross-fitted
    soft = next(line for line in text.splitlines() if "small/soft" in line).split()
    assert soft[:2] == ["small/soft", "stats"]
    assert "on the calibration clips, which no model trains" in " ".join(text.split())  # the caption, however wrapped


def test_tree_view_counts_each_models_classes():
    text = rendered(tree_view(TREE))
    assert text.splitlines()[0] == "small  (2-way model)"
    assert "calm  (2-way model)" in text and "ambient" in text


def test_without_a_terminal_progress_prints_one_line_per_finished_model():
    out = io.StringIO()
    progress = progress_bars(Console(file=out, force_terminal=False))
    assert isinstance(progress, LineProgress)
    with progress:
        bar = ProgressReporter(progress).start("small/root", epochs=3)
        bar.epoch({"loss": 0.5, "val_accuracy": 0.75})
        assert out.getvalue() == ""
        bar.epoch({"loss": 0.25})
        bar.finish()  # early stop after two of three epochs
    assert out.getvalue().startswith("small/root: 2/2 loss 0.250 in ")
    assert out.getvalue().endswith(" s\n") and out.getvalue().count("\n") == 1
