"""How long-running work reports progress: the protocol the CLI's progress bars implement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Reporter(Protocol):
    """Receives progress while a model trains (the CLI draws progress bars from it)."""

    def start(self, label: str, epochs: int) -> None:
        """A model starts training for at most ``epochs`` epochs (all members together)."""

    def epoch(self, logs: Mapping[str, float]) -> None:
        """One epoch ended with these Keras logs (``loss``, ``val_accuracy``...)."""

    def finish(self) -> None:
        """The model is done (early stopping may end it before its epoch count)."""


class SilentReporter:
    """A reporter that reports nothing (the API default)."""

    def start(self, label: str, epochs: int) -> None:
        """Ignore."""

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""
