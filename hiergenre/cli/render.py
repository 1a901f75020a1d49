"""The command line's views: rich trees, tables, prediction lines and progress bars in the terminal.

The PNG drawings are in :mod:`hiergenre.viz`; this module only prints (it imports no matplotlib).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    its ``valid`` is the members' accuracy on the clips each did not train on, marked ``*``. The
    caption (:func:`training_notes`) says what the columns measure.
    """
    table = Table(
        title="Trained models (clip-level accuracy)",
        box=box.SIMPLE_HEAD,
        caption="\n".join(training_notes(results)) or None,
        caption_justify="left",
    )
    table.add_column("model", no_wrap=True)
    show_kind = any(r.kind != "cnn" for r in results)
    if show_kind:
        table.add_column("kind", no_wrap=True)
    for column in ("classes", "train", "valid", "epochs", "sec", "params"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in results:
        cells = [r.label, *([r.kind] if show_kind else [])]
        cells += [
            str(len(r.classes)),
            percent(r.train_accuracy, 0),
            percent(r.valid_accuracy, 0),
            "+".join(map(str, r.member_epochs)) or str(r.epochs),
            "[dim]reused[/]" if r.reused else f"{r.seconds:.1f}",
            f"{r.parameters:,}",
        ]
        table.add_row(*cells)
    return table


def training_notes(results: Sequence[NodeResult]) -> list[str]:
    """The training table's footnotes, each only where it applies to ``results``.

    The progress lines show a network's accuracy on the clips it early-stops on, at its last epoch
    (the last member's, for an ensemble); the table shows the model that was kept (its best epoch's
    weights, members averaged) on the validation clips, which no model trains or early-stops on:
    they calibrate it. The notes name that difference, so that ``val acc 0.50`` above and ``72%``
    below do not read as a contradiction.
    """
    networks = [r for r in results if r.kind != "stats" and (r.epochs or r.member_epochs)]
    notes = []
    if networks and any(r.valid_accuracy is not None for r in networks):
        notes.append(
            "valid: the model as kept (best epoch, members averaged) on the calibration clips, which no model "
            "trains or early-stops on; the progress lines show the last epoch on the clips a member stops on"
        )
    members = max((len(r.member_epochs) for r in results), default=0)
    if members > 1:
        example = " + ".join("abcdefghij"[:members]) if members <= 10 else "a + b + ..."
        notes.append(f"epochs: per member, {example} for an ensemble of {members}")
    return notes


def route_text(route: Route) -> str:
    """``root → rhythmic (0.81) → disco (0.64)``: each step with its probability, named as in JSON."""
    return " → ".join([ROOT, *(f"{s.choice} ({s.p:.2f})" for s in route.steps)])


def prediction_text(prediction: Prediction, tree: GenreTree, decoder: Decoder | None = None) -> str:
    """One file's line: its genre and path probability, or the node the decoder stopped at, then the route.

    A decoded node is printed with the probability that decided it (``decoded.p``, as in JSON and
    CSV). Where it stopped above the genres under ``--min-confidence``, the line also gives the
    best node below it and that node's whole-path probability, the number that fell short, and
    calls the route what it is then: the routing's guess, not an answer.
    """
    route = prediction.route
    decoded = prediction.decoded
    if prediction.genre_set is not None:
        named = ", ".join(group_text(tree, node) for node in prediction.genre_set)
        return f"{prediction.file}: one of [bold yellow]{named}[/]  routing's guess: {route_text(route)}"
    if decoded is None or decoded.leaf:
        genre, p = (decoded.node, decoded.p) if decoded is not None else (route.genre, route.p)
        return f"{prediction.file}: [bold green]{genre}[/] (p={p:.2f})  {route_text(route)}"
    threshold = getattr(decoder, "min_confidence", None)
    below = best_child(tree, decoded.node, route.distribution or {route.genre: 1.0})
    if decoded.node == ROOT:
        answer = "[bold red]no answer[/] (root)"
        if threshold is not None and below is not None:
            best, p = below
            answer += f": no group or genre reached p {level(threshold)}; the best, {best}, has {short(p, threshold)}"
    else:
        genres = ", ".join(tree.leaves_under(decoded.node))
        answer = f"[bold yellow]{decoded.node}[/] ({genres}) p {decoded.p:.2f}"
        if threshold is not None and below is not None:
            answer += f"; below it, the best, {below[0]}, has {short(below[1], threshold)} < {level(threshold)}"
    return f"{prediction.file}: {answer}  routing's guess: {route_text(route)}"


def group_text(tree: GenreTree, node: str) -> str:
    """A genre as it is, a group with its genres: ``roots (blues, country)``."""
    return node if tree.is_leaf(node) else f"{node} ({', '.join(tree.leaves_under(node))})"


def best_child(tree: GenreTree, node: str, distribution: Mapping[str, float]) -> tuple[str, float] | None:
    """The most probable child of ``node`` and its whole-path probability (its genres' summed share), if any."""
    children = tree.children(node)
    if not children:
        return None
    shares = {child: sum(distribution.get(g, 0.0) for g in tree.leaves_under(child)) for child in children}
    best = max(children, key=shares.__getitem__)
    return best, shares[best]


def level(threshold: float) -> str:
    """A minimum confidence as given: ``0.80``, or every digit it needs (``0.999`` is not ``1.00``)."""
    return f"{threshold:.2f}" if abs(threshold - round(threshold, 2)) < 1e-12 else f"{threshold:g}"


def short(p: float, threshold: float) -> str:
    """A probability below ``threshold`` with the digits that show it is below (``0.795``, not ``0.80``)."""
    for digits in (2, 3, 4):
        if round(p, digits) < threshold:
            return f"{p:.{digits}f}"
    return f"{p:.6f}"


def prediction_legend(tree: GenreTree, routing: str, built: GenreTree | None, decoder: Decoder | None = None) -> str:
    """The line above predict's results: which tree, routing and decoder, what ``p`` means, what the tree cannot say."""
    legend = (
        f"tree {tree.name!r} ({len(tree.leaves)} genres), {routing} routing; "
        "p: probability of the whole path, the product of its steps (the numbers in the route)"
    )
    threshold = getattr(decoder, "min_confidence", None)
    if threshold is not None:
        legend += (
            f"; min confidence {level(threshold)}: a genre or group (its p: the probability that the genre lies "
            "below it) is named only when its p reaches it, whatever one step says; else the group above"
        )
    elif decoder is not None and decoder.name != "leaf":
        legend += f"; a group's p: the probability that the genre lies below it ({decoder.name}: {decoder.help})"
    if built is not None and len(tree.leaves) < len(built.leaves):
        legend += f". It knows only {', '.join(sorted(tree.leaves))}: any other music is given one of these"
    return legend


@contextmanager
def files_progress(console: Console, *, show: bool = True) -> Iterator[Callable[[], None] | None]:
    """A bar counting classified files on a terminal; yields the callback that advances it, or None.

    No Progress at all off a terminal (or when ``show`` is false): a disabled one still wrote a
    newline to stderr (rich < 13.9).
    """
    if not (show and console.is_terminal):
        yield None
        return
    columns = (TextColumn("classifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("classifying", total=None)
        yield lambda: progress.advance(task)


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
    #: A model: its line waits for its ``finish`` (saved), not for its last epoch (it may still be lost to Ctrl-C).
    until_finished: bool = False


class LineProgress:
    """The part of rich's :class:`~rich.progress.Progress` that hiergenre uses, printing one line per finished task."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tasks: list[LineTask] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(
        self, description: str, total: float | None = None, status: str = "", until_finished: bool = False
    ) -> TaskID:
        """A new task; its line is printed when it completes (with ``until_finished``, when its total is set last)."""
        self.tasks.append(LineTask(description, total, status, time.perf_counter(), until_finished=until_finished))
        return TaskID(len(self.tasks) - 1)

    def advance(self, task: TaskID, advance: float = 1) -> None:
        """Count ``advance`` more steps done."""
        self.update(task, advance=advance)

    def update(
        self, task: TaskID, *, total: float | None = None, advance: float = 0, status: str | None = None
    ) -> None:
        """Change a task; print its line once its steps reach its total (for a model, once it is finished)."""
        line = self.tasks[task]
        line.completed += advance
        line.total = line.total if total is None else total
        line.status = line.status if status is None else status
        closed = total is not None or not line.until_finished
        if not line.done and line.total is not None and line.completed >= line.total and closed:
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
        """A new bar; without a terminal, its line is printed when the model is finished and saved."""
        return ProgressBar(self.progress, self.progress.add_task(label, total=epochs, status="", until_finished=True))


class ProgressBar:
    """The bar of one model (a :class:`~hiergenre.progress.ModelProgress`)."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Advance, showing the loss (and the validation accuracy when there is one).

        The accuracy is this epoch's, named so: the summary table shows the kept (best) epoch's.
        """
        status = f"loss {logs.get('loss', float('nan')):.3f}"
        if "val_accuracy" in logs:
            status += f" val acc {logs['val_accuracy']:.2f} (last epoch)"
        self.progress.update(self.task, advance=1, status=status)

    def finish(self) -> None:
        """Close the bar where training stopped, once the model is saved (see ``training.jobs.run_in_worker``)."""
        task = self.progress.tasks[self.task]
        self.progress.update(self.task, total=task.completed)
