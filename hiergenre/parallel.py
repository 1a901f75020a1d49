"""Node models trained in parallel worker processes, with progress streamed back to the caller.

The node models of a workspace do not depend on each other, so ``train-all --jobs N`` trains N at
a time in joblib's process pool (loky). Each worker runs TensorFlow on one thread
(:data:`hiergenre.network.TRAINING_THREADS`): on this tiny network and batches of 32 one thread is
as fast as two, and a fixed thread count makes the trained weights independent of ``--jobs``.
Workers write their models into the workspace themselves (atomic writes), so a run that is
interrupted keeps every finished node. Progress events travel back over a local connection (a
:class:`multiprocessing.connection.Listener` served by a thread of the caller, so no extra process
outlives a killed run) and are replayed on the caller's :class:`~hiergenre.progress.Reporter`.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Client, Connection, Listener
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
    authkey = secrets.token_bytes(16)
    with Listener(authkey=authkey) as listener:
        server = ProgressServer(listener, reporter, authkey)
        server.start()
        try:
            parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
            channel = (listener.address, authkey)
            for index, result in parallel(delayed(run_in_worker)(i, jobs[i], channel) for i in order):
                results[index] = result
        except BaseException:
            server.stop(wait_for_events=False)  # an error or Ctrl-C: do not wait for workers being stopped
            raise
        server.stop()
    return [results[i] for i in range(len(jobs))]


def run_in_worker(index: int, job: NodeJob, channel: tuple[Any, bytes]) -> tuple[int, NodeResult]:
    """The worker's side: run one job with its progress sent back over ``channel`` (address, key)."""
    exit_with_parent()
    address, authkey = channel
    with Client(address, authkey=authkey) as connection:
        return index, run_node_job(job, ConnectionReporter(connection))


_watched_parent: int | None = None


def exit_with_parent(poll_seconds: float = 0.5) -> None:
    """Make this worker exit as soon as the process that started it is gone (``kill -9`` of train-all).

    Without it a worker would finish its node model after the run was killed, using the cores a
    rerun needs. What it leaves is at worst a hidden temporary file, which the next run removes.
    """
    global _watched_parent
    if _watched_parent is not None:
        return
    _watched_parent = os.getppid()

    def watch() -> None:
        while os.getppid() == _watched_parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


class ConnectionReporter:
    """A reporter that forwards every event over a connection (inside a worker process)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def start(self, label: str, epochs: int) -> ModelProgress:
        """Announce a model; its epochs follow under the same label."""
        self.connection.send(("start", label, epochs))
        return ConnectionProgress(self.connection, label)


class ConnectionProgress:
    """One model's progress, forwarded over a connection."""

    def __init__(self, connection: Connection, label: str) -> None:
        self.connection = connection
        self.label = label

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Forward the epoch's logs."""
        self.connection.send(("epoch", self.label, dict(logs)))

    def finish(self) -> None:
        """Forward the end of training."""
        self.connection.send(("finish", self.label, None))


class ProgressServer(threading.Thread):
    """Accepts the workers' connections and replays their events on ``reporter``, one thread per job."""

    def __init__(self, listener: Listener, reporter: Reporter, authkey: bytes) -> None:
        super().__init__(daemon=True)
        self.listener = listener
        self.reporter = reporter
        self.authkey = authkey
        self.lock = threading.Lock()  # the reporter (rich's progress) sees one event at a time
        self.replays: list[threading.Thread] = []
        self.stopping = False

    def run(self) -> None:
        """Serve until :meth:`stop`."""
        while True:
            try:
                connection = self.listener.accept()
            except (OSError, EOFError):
                continue  # a connection that failed authentication
            if self.stopping:
                connection.close()
                return
            replay = threading.Thread(target=self.replay, args=(connection,), daemon=True)
            replay.start()
            self.replays.append(replay)

    def stop(self, *, wait_for_events: bool = True) -> None:
        """Wake the accepting thread with a last connection; then wait for every job's last events."""
        self.stopping = True
        Client(self.listener.address, authkey=self.authkey).close()
        self.join()
        for replay in self.replays if wait_for_events else ():
            replay.join()

    def replay(self, connection: Connection) -> None:
        """Replay one job's events until its worker closes the connection."""
        models: dict[str, ModelProgress] = {}
        with connection:
            while True:
                try:
                    kind, label, value = connection.recv()
                except (EOFError, OSError):
                    return
                with self.lock:
                    if kind == "start":
                        models[label] = self.reporter.start(label, value)
                    elif kind == "epoch":
                        models[label].epoch(value)
                    else:
                        models.pop(label).finish()
