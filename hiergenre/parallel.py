"""Node models trained in parallel worker processes, with progress streamed back to the caller.

The node models of a workspace do not depend on each other, so ``train-all --jobs N`` trains N at
a time in joblib's process pool (loky). Each worker runs TensorFlow on one thread
(:data:`hiergenre.network.TRAINING_THREADS`): on this tiny network and batches of 32 one thread is
as fast as two, and a fixed thread count makes the trained weights independent of ``--jobs``.
Workers write their models into the workspace themselves (atomic writes), so a run that is
interrupted keeps every finished node. Progress events travel through a manager queue and are
replayed on the caller's :class:`~hiergenre.progress.Reporter` by a thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from multiprocessing import Manager
from typing import Any

from hiergenre.progress import ModelProgress, Reporter, SilentReporter
from hiergenre.tree_training import NodeJob, NodeResult, run_node_job


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def run_node_jobs(jobs: Sequence[NodeJob], *, workers: int, reporter: Reporter | None = None) -> list[NodeResult]:
    """Run ``jobs`` (train or reuse each node model), ``workers`` at a time; results in the jobs' order.

    One worker runs them in this process, one after another. Otherwise the largest jobs start
    first, so that the last one to finish is a small one.
    """
    reporter = reporter or SilentReporter()
    workers = min(workers, len(jobs))
    if workers <= 1:
        return [run_node_job(job, reporter) for job in jobs]
    from joblib import Parallel, delayed

    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].size)
    results: dict[int, NodeResult] = {}
    with Manager() as manager:
        queue = manager.Queue()
        replay = threading.Thread(target=replay_progress, args=(queue, reporter), daemon=True)
        replay.start()
        try:
            parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
            for index, result in parallel(delayed(run_in_worker)(i, jobs[i], queue) for i in order):
                results[index] = result
        finally:
            queue.put(None)
            replay.join()
    return [results[i] for i in range(len(jobs))]


def run_in_worker(index: int, job: NodeJob, queue: Any) -> tuple[int, NodeResult]:
    """The worker's side: run one job with its progress sent to ``queue``."""
    return index, run_node_job(job, QueueReporter(queue))


class QueueReporter:
    """A reporter that forwards every event to a queue (inside a worker process)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def start(self, label: str, epochs: int) -> ModelProgress:
        """Announce a model; its epochs follow under the same label."""
        self.queue.put(("start", label, epochs))
        return QueueProgress(self.queue, label)


class QueueProgress:
    """One model's progress, forwarded to a queue."""

    def __init__(self, queue: Any, label: str) -> None:
        self.queue = queue
        self.label = label

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Forward the epoch's logs."""
        self.queue.put(("epoch", self.label, dict(logs)))

    def finish(self) -> None:
        """Forward the end of training."""
        self.queue.put(("finish", self.label, None))


def replay_progress(queue: Any, reporter: Reporter) -> None:
    """Replay the workers' events on ``reporter`` until a ``None`` arrives."""
    models: dict[str, ModelProgress] = {}
    while (event := queue.get()) is not None:
        kind, label, value = event
        if kind == "start":
            models[label] = reporter.start(label, value)
        elif kind == "epoch":
            models[label].epoch(value)
        else:
            models.pop(label).finish()
