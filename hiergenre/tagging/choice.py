"""What a prediction writes into a file's genre tag, and what ``hiergenre tag`` plans for each file.

The value is the node the decoder chose (the genre, or with ``--min-confidence`` / ``--decode hf1`` a
group), as the tree's ``labels:`` name it (:meth:`~hiergenre.cascade.hierarchy.GenreTree.label`):
a genre its label or its name, a group only its label. A prediction that stops at a group without
a label, or at the root, writes nothing: a tag saying "acoustic" would be a guess dressed as a fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hiergenre.cascade.hierarchy import ROOT, GenreTree
from hiergenre.prediction.outcome import Prediction

#: What happens to a file: ``write`` (new values), ``same`` (already has them), ``kept`` (has a genre and
#: no --force), ``nothing`` (the prediction has no label to write), ``error`` (one line says why).
STATUSES = ("write", "same", "kept", "nothing", "error")


def labelled(tree: GenreTree, labels: dict[str, str]) -> GenreTree:
    """``tree`` (a trained tree: its manifest keeps no labels) with those of ``labels`` that name its nodes."""
    mine = {node: text for node, text in labels.items() if node in tree and node != ROOT}
    return GenreTree.from_spec(tree.to_spec(), tree.name).with_labels(mine)


def tag_values(prediction: Prediction, tree: GenreTree, *, with_parents: bool = False) -> tuple[list[str], str]:
    """The values a classified file gets (most specific first) and, when there are none, why.

    ``with_parents`` adds the labelled groups above the chosen node, nearest first, without repeats
    (metal under heavy labelled Rock: ``["Metal", "Rock"]``).
    """
    node = prediction.decoded.node if prediction.decoded is not None else prediction.genre
    if node is None:
        return [], prediction.error or "not classified"
    first = tree.label(node)
    if first is None:
        why = "not even a group is sure enough (the root)" if node == ROOT else f"group {node!r} has no label"
        return [], f"stopped at {why}; nothing to write"
    values = [first]
    if with_parents:
        for ancestor in reversed(tree.path_to(node)[:-1]):
            text = tree.label(ancestor)
            if text is not None and text not in values:
                values.append(text)
    return values, ""


@dataclass
class TagChange:
    """One file's plan (and, after ``--write``, outcome): its genre values before and after."""

    file: str
    status: str
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    #: Why nothing is written (``kept``, ``nothing``, ``error``), in one line.
    reason: str = ""
    #: The node the prediction chose and its probability (None when the file was not classified).
    node: str | None = None
    p: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "file": self.file,
            "status": self.status,
            "before": self.before,
            "after": self.after,
            "node": self.node,
            "p": self.p,
            "reason": self.reason,
        }


def planned_change(
    path: str, before: list[str], prediction: Prediction, tree: GenreTree, with_parents: bool
) -> TagChange:
    """What ``--write`` would do to one file whose genre may be replaced, from its prediction."""
    if prediction.route is None:
        return TagChange(path, "error", before, before, prediction.error or "not classified")
    decoded = prediction.decoded
    node, p = (decoded.node, decoded.p) if decoded is not None else (prediction.route.genre, prediction.route.p)
    values, why = tag_values(prediction, tree, with_parents=with_parents)
    if not values:
        return TagChange(path, "nothing", before, before, why, node, p)
    return TagChange(path, "same" if values == before else "write", before, values, "", node, p)
