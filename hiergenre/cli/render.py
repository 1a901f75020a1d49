"""The command line's views: rich trees, tables, prediction lines and progress bars in the terminal.

The PNG drawings are in :mod:`hiergenre.viz`; this module only prints (it imports no matplotlib).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.cascade.routing import Route
from hiergenre.viz.formatting import percent

if TYPE_CHECKING:
    from hiergenre.cascade.decoding import Decoder
    from hiergenre.prediction.predictor import Prediction
    from hiergenre.training.tree import NodeResult


def tree_view(tree: GenreTree) -> Tree:
    """The genre tree as a rich Tree; decision nodes show their number of classes."""

    def label(node: str) -> str:
        if tree.is_leaf(node):
            return node
        count = len(tree.children(node))
        shown = tree.name if node == ROOT else node
        return (
            f"[bold]{shown}[/]  [dim]({count}-way model)[/]"
            if count > 1
            else f"[bold]{shown}[/] [dim](pass-through)[/]"
        )

    def grow(branch: Tree, node: str) -> None:
        for child in tree.children(node):
            grow(branch.add(label(child)), child)

    view = Tree(label(ROOT))
    grow(view, ROOT)
    return view


def training_table(results: Sequence[NodeResult]) -> Table:
    """The train-all summary: one row per node model (a ``kind`` column when not all are CNNs).

    Models are named ``tree/node`` as in the progress bars. ``epochs`` lists each member's epochs
    (members early-stop separately). A cross-fitted network trained on every validation clip, so
    its ``valid`` is the members' accuracy on the clips each did not train on, marked ``*``.
    """
    cross_fitted = any(r.held_out_accuracy is not None for r in results)
    caption = ["epochs: per member, a + b + c for an ensemble of three"]
    if cross_fitted:
        caption.append("valid*: cross-fitted, each member scored on the clips it did not train on")
    table = Table(title="Trained models (clip-level accuracy)", box=box.SIMPLE_HEAD, caption="; ".join(caption))
    table.add_column("model", no_wrap=True)
    show_kind = any(r.kind != "cnn" for r in results)
    if show_kind:
        table.add_column("kind", no_wrap=True)
    for column in ("classes", "train", "valid", "epochs", "sec", "params"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in results:
        cells = [r.label, *([r.kind] if show_kind else [])]
        valid = percent(r.valid_accuracy, 0)
        if r.held_out_accuracy is not None:
            valid = f"{percent(r.held_out_accuracy, 0)}*"
        cells += [
            str(len(r.classes)),
            percent(r.train_accuracy, 0),
            valid,
            "+".join(map(str, r.member_epochs)) or str(r.epochs),
            "[dim]reused[/]" if r.reused else f"{r.seconds:.1f}",
            f"{r.parameters:,}",
        ]
        table.add_row(*cells)
    return table


def route_text(route: Route) -> str:
    """``root → rhythmic (0.81) → disco (0.64)``: each step with its probability, named as in JSON."""
    return " → ".join([ROOT, *(f"{s.choice} ({s.p:.2f})" for s in route.steps)])


def prediction_text(prediction: Prediction, tree: GenreTree) -> str:
    """One file's line: its genre and path probability, or the group it stopped at, then the route."""
    route = prediction.route
    decoded = prediction.decoded
    if decoded is not None and not decoded.leaf:
        genres = ", ".join(tree.leaves_under(decoded.node))
        answer = f"[bold yellow]{decoded.node}[/] ({genres}) p {decoded.p:.2f}"
    else:
        answer = f"[bold green]{route.genre}[/] (p={route.p:.2f})"
    return f"{prediction.file}: {answer}  {route_text(route)}"


def prediction_legend(tree: GenreTree, routing: str, built: GenreTree | None, decoder: Decoder | None = None) -> str:
    """The line above predict's results: which tree, routing and decoder, what ``p`` means, what the tree cannot say."""
    legend = (
        f"tree {tree.name!r} ({len(tree.leaves)} genres), {routing} routing; "
        "p: probability of the whole path, the product of its steps"
    )
    if decoder is not None and decoder.name != "leaf":
        legend += f"; a group's p: the probability that the genre lies below it ({decoder.name}: {decoder.help})"
    if built is not None and len(tree.leaves) < len(built.leaves):
        legend += f". It knows only {', '.join(sorted(tree.leaves))}: any other music is given one of these"
    return legend


def progress_bars(console: Console) -> Progress | LineProgress:
    """The progress train-all shows: one bar for feature extraction, one per model (with its loss).

    Bars need a terminal; to a file or a pipe, one line per finished stage or model is printed
    (and flushed) instead, so a log shows progress while the run goes on.
    """
    if not console.is_terminal:
        return LineProgress(console)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@dataclass
class LineTask:
    """A stage or model followed by :class:`LineProgress`."""

    description: str
    total: float | None
    status: str
    started: float
    completed: float = 0
    done: bool = False


class LineProgress:
    """The part of rich's :class:`~rich.progress.Progress` that hiergenre uses, printing one line per finished task."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tasks: list[LineTask] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: float | None = None, status: str = "") -> TaskID:
        """A new task; its line is printed when it completes."""
        self.tasks.append(LineTask(description, total, status, time.perf_counter()))
        return TaskID(len(self.tasks) - 1)

    def advance(self, task: TaskID, advance: float = 1) -> None:
        """Count ``advance`` more steps done."""
        self.update(task, advance=advance)

    def update(
        self, task: TaskID, *, total: float | None = None, advance: float = 0, status: str | None = None
    ) -> None:
        """Change a task; print its line once its steps reach its total."""
        line = self.tasks[task]
        line.completed += advance
        line.total = line.total if total is None else total
        line.status = line.status if status is None else status
        if not line.done and line.total is not None and line.completed >= line.total:
            line.done = True
            seconds = time.perf_counter() - line.started
            status = f" {line.status}" if line.status else ""
            self.console.print(
                f"{line.description}: {line.completed:g}/{line.total:g}{status} in {seconds:.1f} s",
                highlight=False,
                soft_wrap=True,
            )
            self.console.file.flush()


class ProgressReporter:
    """A :class:`~hiergenre.progress.Reporter` drawing one progress bar per model being trained."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def start(self, label: str, epochs: int) -> ProgressBar:
        """A new bar."""
        return ProgressBar(self.progress, self.progress.add_task(label, total=epochs, status=""))


class ProgressBar:
    """The bar of one model (a :class:`~hiergenre.progress.ModelProgress`)."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Advance, showing the loss (and the validation accuracy when there is one)."""
        status = f"loss {logs.get('loss', float('nan')):.3f}"
        if "val_accuracy" in logs:
            status += f" val acc {logs['val_accuracy']:.2f}"
        self.progress.update(self.task, advance=1, status=status)

    def finish(self) -> None:
        """Close the bar where training stopped."""
        task = self.progress.tasks[self.task]
        self.progress.update(self.task, total=task.completed)
