"""How long-running work reports progress: the protocol the CLI's progress bars implement, and phase timings."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol


class ModelProgress(Protocol):
    """Progress of one model being trained (what :meth:`Reporter.start` returns)."""

    def epoch(self, logs: Mapping[str, float]) -> None:
        """One epoch ended with these Keras logs (``loss``, ``val_accuracy``...)."""

    def finish(self) -> None:
        """The model is done (early stopping may end it before its epoch count)."""


class Reporter(Protocol):
    """Receives progress while models train (the CLI draws progress bars from it).

    Models may train in parallel (``train-all --jobs``), so each one gets its own
    :class:`ModelProgress` rather than sharing the reporter's state.
    """

    def start(self, label: str, epochs: int) -> ModelProgress:
        """A model starts training for at most ``epochs`` epochs (all members together)."""


class SilentProgress:
    """Progress that reports nothing."""

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""


class SilentReporter:
    """A reporter that reports nothing (the API default)."""

    def start(self, label: str, epochs: int) -> ModelProgress:
        """A progress that ignores everything."""
        return SilentProgress()


class PhaseTimer:
    """Wall seconds spent in each named phase of a long job (``with timer.phase("draw"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        #: Counts that go with the phases (``windows`` trained, for a rate).
        self.counts: dict[str, int] = {}

    def count(self, name: str, amount: int) -> None:
        """Add ``amount`` to the count ``name``."""
        self.counts[name] = self.counts.get(name, 0) + amount

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the block's wall time to phase ``name``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def add(self, other: Mapping[str, float]) -> None:
        """Add another timer's seconds to these."""
        for name, value in other.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + value
