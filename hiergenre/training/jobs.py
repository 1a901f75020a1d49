"""Node models trained in parallel, on the backend of the run, with progress streamed back to the caller.

The node models of a workspace do not depend on each other, so ``train-all`` trains as many at
a time as its backend runs jobs (:mod:`hiergenre.parallel.backends`: ``--jobs`` local processes, or the
workers of a Dask cluster). Each worker runs TensorFlow on one thread
(:data:`hiergenre.models.network.TRAINING_THREADS`): on this tiny network and batches of 32 one thread is
as fast as two, and a fixed thread count makes the trained weights independent of where they
train. Workers write their models into the workspace themselves (atomic writes), so a run that
is interrupted keeps every finished node. Progress events travel back on the backend's channel
and are replayed on the caller's :class:`~hiergenre.progress.Reporter`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial

from hiergenre.parallel.backends import Backend, EventChannel, LocalBackend, usable_cores
from hiergenre.progress import Reporter, SilentReporter
from hiergenre.training.tree import NodeJob, NodeResult, run_node_job

__all__ = ["run_node_jobs", "usable_cores"]

#: One node model at a time per process: Keras's random state is global to a process, so two
#: models training side by side in threads of one Dask worker would not be reproducible.
_ONE_MODEL_AT_A_TIME = threading.Lock()


def run_node_jobs(
    jobs: Sequence[NodeJob],
    *,
    workers: int = 1,
    backend: Backend | None = None,
    reporter: Reporter | None = None,
) -> list[NodeResult]:
    """Run ``jobs`` (train or reuse each node model) on ``backend`` (default: ``workers`` local
    processes); results in the jobs' order.

    The largest jobs start first, so that the last one to finish is a small one.
    """
    backend = backend or LocalBackend(workers)
    reporter = reporter or SilentReporter()
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].size)
    results: dict[int, NodeResult] = {}
    with backend.progress(reporter) as channel:
        work = partial(run_in_worker, channel=channel)
        for index, result in backend.map_unordered(work, [(i, jobs[i]) for i in order]):
            results[index] = result
    return [results[i] for i in range(len(jobs))]


def run_in_worker(item: tuple[int, NodeJob], channel: EventChannel) -> tuple[int, NodeResult]:
    """The worker's side: run one job with its progress sent back over ``channel``."""
    index, job = item
    with _ONE_MODEL_AT_A_TIME, channel.open() as reporter:
        return index, run_node_job(job, reporter)
