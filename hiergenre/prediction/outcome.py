"""What prediction gives for one input: a :class:`Prediction` (a route, or why there is none)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hiergenre.cascade.decoding import Decoded
from hiergenre.cascade.routing import Route
from hiergenre.prediction.timeline import Segment

#: The ``file`` of a prediction made from a signal rather than a file.
SIGNAL = "<signal>"


@dataclass(frozen=True)
class Prediction:
    """The outcome for one input: a route, or the reason it could not be classified.

    ``file`` is the input file as the user spelled it, or :data:`SIGNAL` for a signal given to
    :meth:`hiergenre.prediction.predictor.Predictor.predict`.
    """

    file: str
    route: Route | None = None
    error: str | None = None
    #: With ``predict --timeline``: the whole file's segments, each routed (see :mod:`hiergenre.prediction.timeline`).
    timeline: list[Segment] | None = None
    #: With ``--min-confidence`` or ``--decode``: the node the evidence supports (:mod:`hiergenre.cascade.decoding`).
    decoded: Decoded | None = None
    #: With ``--sets``: nodes that together contain the true genre for the target share of clips.
    genre_set: list[str] | None = None

    @property
    def genre(self) -> str | None:
        """The predicted genre (None when the file failed)."""
        return self.route.genre if self.route else None

    def as_dict(self, top: int = 0) -> dict[str, Any]:
        """JSON-friendly form: file, genre, p, the path of steps from the root down, and the ``top`` genres."""
        if self.route is None:
            return {"file": self.file, "genre": None, "error": self.error}
        out = {
            "file": self.file,
            "genre": self.route.genre,
            "p": self.route.p,
            "path": [{"node": s.node, "choice": s.choice, "p": s.p} for s in self.route.steps],
        }
        if top:
            out["top"] = [{"genre": genre, "p": p} for genre, p in self.route.top(top)]
        if self.timeline is not None:
            out["timeline"] = [segment.as_dict() for segment in self.timeline]
        if self.decoded is not None:
            out["decoded"] = self.decoded.as_dict()
        if self.genre_set is not None:
            out["set"] = self.genre_set
        return out
