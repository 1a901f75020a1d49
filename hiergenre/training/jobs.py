"""Node models trained in parallel, on the backend of the run, with progress streamed back to the caller.

The node models of a workspace do not depend on each other, so ``train-all`` trains as many at
a time as its backend runs jobs (:mod:`hiergenre.parallel.backends`: ``--jobs`` local processes, or the
workers of a Dask cluster). Each worker runs TensorFlow on one thread
(:data:`hiergenre.models.network.TRAINING_THREADS`): on this tiny network and batches of 32 one thread is
as fast as two, and a fixed thread count makes the trained weights independent of where they
train. Workers write their models into the workspace themselves (atomic writes), so a run that
is interrupted keeps every finished node: Ctrl-C raises :class:`TrainingInterrupted`, which names
the node models that were saved (the next run with the same settings reuses them) and those that
were not. Progress events travel back on the backend's channel and are replayed on the caller's
:class:`~hiergenre.progress.Reporter`; a model's ``finish`` is reported only once it is saved, so a
model cut short by Ctrl-C never looks finished.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import partial

from hiergenre.errors import HierGenreError
from hiergenre.models.nodes import node_file
from hiergenre.parallel.backends import Backend, EventChannel, LocalBackend, usable_cores
from hiergenre.progress import ModelProgress, Reporter, SilentReporter
from hiergenre.storage import read_json
from hiergenre.training.tree import NodeJob, NodeResult, run_node_job

__all__ = ["TrainingInterrupted", "run_node_jobs", "usable_cores"]

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
    try:
        with backend.progress(reporter) as channel:
            work = partial(run_in_worker, channel=channel)
            for index, result in backend.map_unordered(work, [(i, jobs[i]) for i in order]):
                results[index] = result
    except KeyboardInterrupt as interrupt:
        saved = [job.label for job in jobs if is_saved(job)]
        raise TrainingInterrupted(saved, [job.label for job in jobs if job.label not in saved]) from interrupt
    return [results[i] for i in range(len(jobs))]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C while node models trained: which models were saved (and will be reused) and which were not.

    A :class:`KeyboardInterrupt`, so that it ends a program as Ctrl-C does (exit 130 on the command line).
    """

    def __init__(self, saved: Sequence[str], unfinished: Sequence[str]) -> None:
        super().__init__(f"{len(saved)} node model(s) saved, {len(unfinished)} not finished")
        #: ``tree/node`` of every model on disk with this run's training key: the next run reuses them.
        self.saved = list(saved)
        #: ``tree/node`` of the models in progress or not started: the next run trains them.
        self.unfinished = list(unfinished)


def is_saved(job: NodeJob) -> bool:
    """Whether ``job``'s model is complete in its folder with the job's training key (its JSON is written last)."""
    try:
        metadata = read_json(node_file(job.out_dir, job.node), what="node metadata")
    except HierGenreError:
        return False
    return isinstance(metadata, Mapping) and metadata.get("training_key") == job.key


def run_in_worker(item: tuple[int, NodeJob], channel: EventChannel) -> tuple[int, NodeResult]:
    """The worker's side: run one job with its progress sent back over ``channel``.

    The model's ``finish`` is sent once the job has returned (the model is saved), not when its
    epochs end: a job stopped by Ctrl-C sends none, so its progress line never reads as done.
    """
    index, job = item
    with _ONE_MODEL_AT_A_TIME, channel.open() as reporter:
        deferred = FinishWhenDone(reporter)
        result = run_node_job(job, deferred)
        deferred.finish_all()
        return index, result


class FinishWhenDone:
    """A reporter that passes epochs on at once but holds each model's ``finish`` until :meth:`finish_all`."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.started: list[ModelProgress] = []

    def start(self, label: str, epochs: int) -> ModelProgress:
        """Start the model on the real reporter; its ``finish`` waits."""
        progress = self.reporter.start(label, epochs)
        self.started.append(progress)
        return EpochsOnly(progress)

    def finish_all(self) -> None:
        """The job has returned: report every model it started as finished."""
        for progress in self.started:
            progress.finish()
        self.started.clear()


class EpochsOnly:
    """A model's progress whose ``finish`` is left to :class:`FinishWhenDone`."""

    def __init__(self, progress: ModelProgress) -> None:
        self.progress = progress

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Pass the epoch on."""
        self.progress.epoch(logs)

    def finish(self) -> None:
        """Wait for the job to return."""
