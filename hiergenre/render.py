"""How results look to a person: rich trees and tables in the terminal, PNG drawings on disk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from hiergenre.hierarchy import ROOT, GenreTree
from hiergenre.routing import Route
from hiergenre.storage import atomic_path

if TYPE_CHECKING:
    from hiergenre.tree_training import NodeResult


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


def draw_tree(tree: GenreTree, path: str | Path) -> Path:
    """Draw the tree top-down to a PNG (decision nodes boxed, genres plain), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = _layout(tree)
    width = max(6.0, 1.1 * len(tree.leaves))
    height = 1.2 + 1.1 * max(tree.depth(leaf) for leaf in tree.leaves)
    fig, ax = plt.subplots(figsize=(width, height))
    for parent, child in tree.graph.edges:
        (x0, y0), (x1, y1) = positions[parent], positions[child]
        ax.plot([x0, x1], [y0, y1], color="#888888", linewidth=1, zorder=1)
    for node, (x, y) in positions.items():
        leaf = tree.is_leaf(node)
        text = tree.name if node == ROOT else node
        box = dict(boxstyle="round", facecolor="#ffffff" if leaf else "#d8e6f5", edgecolor="#335577")
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=9,
            bbox=box,
            zorder=2,
            rotation=30 if leaf and len(tree.leaves) > 8 else 0,
        )
    ax.set_title(f"{tree.name}: {len(tree.leaves)} genres, {len(tree.model_nodes)} node models")
    ax.axis("off")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _layout(tree: GenreTree) -> dict[str, tuple[float, float]]:
    """Leaves evenly spaced on the x axis, each group centred over its leaves, depth downwards."""
    x_of = {leaf: float(i) for i, leaf in enumerate(tree.leaves)}
    positions = {}
    for node in tree.preorder():
        leaves = tree.leaves_under(node)
        x = sum(x_of[leaf] for leaf in leaves) / len(leaves)
        positions[node] = (x, -float(tree.depth(node)))
    return positions


def percent(value: float | None, digits: int = 1) -> str:
    """``81.2%``, or ``–`` for a missing (None or NaN) value."""
    if value is None or value != value:
        return "–"
    return f"{100 * value:.{digits}f}%"


def training_table(results: Sequence[NodeResult]) -> Table:
    """The train-all summary: one row per node model (a ``kind`` column when not all are CNNs)."""
    table = Table(title="Trained models (clip-level accuracy)", box=box.SIMPLE_HEAD)
    table.add_column("model", no_wrap=True)
    show_kind = any(r.kind != "cnn" for r in results)
    if show_kind:
        table.add_column("kind", no_wrap=True)
    for column in ("classes", "train", "valid", "epochs", "sec", "params"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in results:
        name = r.tree if r.node == ROOT else f"{r.tree}/{r.node}"
        cells = [name, *([r.kind] if show_kind else [])]
        cells += [
            str(len(r.classes)),
            percent(r.train_accuracy, 0),
            percent(r.valid_accuracy, 0),
            str(r.epochs),
            "[dim]reused[/]" if r.reused else f"{r.seconds:.1f}",
            f"{r.parameters:,}",
        ]
        table.add_row(*cells)
    return table


def route_text(route: Route, tree_name: str) -> str:
    """``default → rhythmic (0.81) → disco (0.64)``: each step with its probability."""
    parts = [f"[bold]{tree_name}[/]"]
    parts += [f"{s.choice} ({s.p:.2f})" for s in route.steps]
    return " → ".join(parts)


def progress_bars(console: Console) -> Progress:
    """The bars train-all shows: one for feature extraction, one per model (with its loss)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


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
