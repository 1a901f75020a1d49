"""What train-all prints about its models: the table's footnotes, the progress line's accuracy, Ctrl-C's message.

All from hand-made rows and interruptions; nothing is trained.
"""

from __future__ import annotations

import io

from rich.console import Console

from hiergenre.cli.render import LineProgress, ProgressReporter, training_notes, training_table
from hiergenre.cli.summaries import interruption_text
from hiergenre.training.jobs import TrainingInterrupted
from hiergenre.training.tree import NodeResult


def row(node: str, **changes: object) -> NodeResult:
    """A trained CNN node of tree ``t``: 90% on its training clips, 75% on validation, 12 epochs."""
    values = dict(tree="t", node=node, classes=["a", "b"], train_accuracy=0.9, valid_accuracy=0.75, epochs=12)
    return NodeResult(**{**values, "seconds": 2.0, "parameters": 8227, **changes})


def caption(results: list[NodeResult]) -> str:
    """The table's caption as printed, its wrapping undone."""
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(training_table(results))
    return " ".join(console.file.getvalue().split())


def test_a_single_network_gets_no_ensemble_footnote():
    single = [row("root", member_epochs=[12]), row("heavy", member_epochs=[30], reused=True)]
    assert not any("ensemble" in note for note in training_notes(single))
    assert "ensemble" not in caption(single) and "valid*" not in caption(single)


def test_an_ensemble_footnote_counts_its_members():
    three = [row("root", member_epochs=[12, 9, 14], epochs=35)]
    assert "epochs: per member, a + b + c for an ensemble of 3" in training_notes(three)
    five = training_notes([row("root", member_epochs=[1, 2, 3, 4, 5])])
    assert "epochs: per member, a + b + c + d + e for an ensemble of 5" in five


def test_the_footnotes_say_why_valid_differs_from_the_progress_lines_last_epoch():
    notes = " ".join(training_notes([row("root", member_epochs=[12])]))
    assert "best epoch" in notes and "the progress lines show the last epoch" in notes
    assert "calibration clips, which no model trains or early-stops on" in notes


def test_statistics_nodes_have_no_epochs_to_explain():
    assert training_notes([row("root", kind="stats", epochs=0)]) == []


def test_a_models_line_names_its_accuracy_the_last_epochs_and_waits_for_the_model_to_be_saved():
    out = io.StringIO()
    progress = LineProgress(Console(file=out, force_terminal=False))
    bar = ProgressReporter(progress).start("t/root", epochs=2)
    bar.epoch({"loss": 0.7, "val_accuracy": 0.6})
    bar.epoch({"loss": 0.5, "val_accuracy": 0.5})
    assert out.getvalue() == ""  # every epoch ran, but Ctrl-C while it is saved would lose it
    bar.finish()
    assert out.getvalue().startswith("t/root: 2/2 loss 0.500 val acc 0.50 (last epoch) in ")


def test_ctrl_c_says_which_models_were_saved_and_that_rerunning_continues():
    saved = interruption_text(TrainingInterrupted(["t/root", "t/heavy"], ["t/soft"]))
    assert saved.startswith("interrupted: 2 of 3 node models were finished and saved (t/root, t/heavy)")
    assert "not finished, trained next time: t/soft" in saved
    assert saved.endswith("Run the same command again to continue: it reuses what was kept.")
    nothing = interruption_text(TrainingInterrupted([], ["t/root", "t/soft"]))
    assert nothing.startswith("interrupted before any of the 2 node models was finished: none was saved")
    many = interruption_text(TrainingInterrupted([f"t/n{i}" for i in range(10)], []))
    assert "(t/n0, t/n1, t/n2, t/n3, t/n4, t/n5, t/n6, t/n7 and 2 more)" in many
    early = interruption_text(KeyboardInterrupt())  # while features were extracted: no model was in hand
    assert "features extracted" in early and "Run the same command again to continue" in early
