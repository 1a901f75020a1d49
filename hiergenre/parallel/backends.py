"""One parallel backend for every independent job: local processes, or a Dask cluster.

hiergenre's heavy work is embarrassingly parallel: decoding and LMFCC of each batch of clips,
training of each node model (the nodes of a tree do not depend on each other), and decoding of
each batch of files to predict. Every such job goes through a :class:`Backend`, which maps a
picklable function over items and yields results as they finish:

- :class:`LocalBackend` (the default): joblib's process pool (loky) on this machine, ``--jobs``
  processes, or threads where the work releases the GIL (prediction's decoding);
- :class:`hiergenre.parallel.dask_cluster.DaskBackend` (``--cluster``,
  chosen by :mod:`hiergenre.parallel.choose`): a ``dask.distributed`` cluster,
  ``local:N`` for a :class:`~distributed.LocalCluster` of N single-threaded worker processes, or
  ``tcp://host:8786`` for a running scheduler. dask is imported only on that path.

Results come back to the caller, and files are written by whoever computes them (workers write
node models and feature-cache entries into the workspace with atomic writes), so the workspace
and the data must be on a filesystem every worker sees; :meth:`Backend.check_visible` says which
path a worker cannot read before any work is sent.

Progress of long jobs (a node model's epochs) travels on an event *channel* the backend opens
(:meth:`Backend.progress`): a picklable object whose :meth:`EventChannel.open`, called inside
the worker, gives the job a :class:`~hiergenre.progress.Reporter` whose events are replayed on the
caller's reporter.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hiergenre.progress import ModelProgress, Reporter

T = TypeVar("T")
R = TypeVar("R")


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class EventChannel(Protocol):
    """The worker's end of a progress channel (picklable; opened once per job, inside the worker)."""

    def open(self) -> AbstractContextManager[Reporter]:
        """A reporter whose events reach the caller's reporter."""


class Backend:
    """Runs independent jobs somewhere and yields their results as they finish (see the module docstring)."""

    #: How many jobs run at once.
    workers = 1

    def map_unordered(self, function: Callable[[T], R], items: Sequence[T], *, threads: bool = False) -> Iterator[R]:
        """``function(item)`` for every item, yielded in the order they finish.

        ``threads`` allows threads instead of processes on the local backend (work that releases
        the GIL and needs no pickling). An exception in a job is raised here.
        """
        raise NotImplementedError

    def batch_size(self, n_items: int) -> int:
        """How many small items (clips, files) one job should take, so that per-job overhead stays small."""
        return 1

    def progress(self, reporter: Reporter) -> AbstractContextManager[EventChannel]:
        """A channel whose events are replayed on ``reporter`` until the block ends."""
        raise NotImplementedError

    def check_visible(self, paths: Mapping[str, Path], *, writable: Iterable[str] = ()) -> None:
        """Raise a clear error when a worker cannot read a path (or write one named in ``writable``)."""

    def describe(self) -> str:
        """Where the jobs run, in words (``2 local processes``, ``Dask cluster tcp://... (8 workers)``)."""
        return f"{self.workers} local process{'es' if self.workers != 1 else ''}"

    def close(self) -> None:
        """Release what the backend started (a local Dask cluster)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalBackend(Backend):
    """joblib's pool on this machine: ``jobs`` worker processes (or threads); one job runs in this process."""

    def __init__(self, jobs: int = 1) -> None:
        self.workers = max(1, jobs)

    def map_unordered(self, function: Callable[[T], R], items: Sequence[T], *, threads: bool = False) -> Iterator[R]:
        """See :meth:`Backend.map_unordered`."""
        workers = min(self.workers, len(items))
        if workers <= 1:
            return (function(item) for item in items)
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=workers, return_as="generator_unordered", prefer="threads" if threads else None)
        job = function if threads else WithoutLeakCheck(function)
        return parallel(delayed(job)(item) for item in items)

    @contextmanager
    def progress(self, reporter: Reporter) -> Iterator[EventChannel]:
        """In this process: the reporter itself; with worker processes: a local connection served by a thread."""
        if self.workers <= 1:
            yield DirectChannel(reporter)
            return
        authkey = secrets.token_bytes(16)
        with Listener(authkey=authkey) as listener:
            server = ProgressServer(listener, EventReplay(reporter), authkey)
            server.start()
            try:
                yield ListenerChannel(listener.address, authkey)
            except BaseException:
                server.stop(wait_for_events=False)  # an error or Ctrl-C: do not wait for workers being stopped
                raise
            server.stop()


class WithoutLeakCheck:
    """``function``, run in a loky worker that does not take TensorFlow's import for a memory leak.

    After a worker's first job, loky notes its memory; once it has grown by 300 MB, loky calls it
    a leak, stops the worker, starts another and warns ("A worker stopped while some jobs were
    given to the executor... memory leak"). In ``train-all`` a worker's first job extracts
    features (light), and its first node model imports TensorFlow (about 0.5 GB, once per
    process, never freed): every worker was replaced after its first model, importing TensorFlow
    again, and the warning reached the user. hiergenre's workers live for one command and their
    jobs do not leak, so the check is switched off in each worker (loky then only runs the
    garbage collector between jobs).
    """

    def __init__(self, function: Callable[[T], R]) -> None:
        self.function = function

    def __call__(self, item: T) -> R:
        from joblib.externals.loky import process_executor

        process_executor._USE_PSUTIL = False  # read by the worker's loop after every job
        return self.function(item)


class DirectChannel:
    """Events straight to the reporter: jobs run in this process, nothing to pickle."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    @contextmanager
    def open(self) -> Iterator[Reporter]:
        """The caller's reporter itself."""
        yield self.reporter


class ListenerChannel:
    """A local connection back to the caller (address and key of its listener), for loky workers."""

    def __init__(self, address: Any, authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey
        self.owner = os.getpid()

    @contextmanager
    def open(self) -> Iterator[Reporter]:
        """Connect, and make a worker exit with its parent (a killed ``train-all`` leaves no worker training)."""
        if os.getpid() != self.owner:  # a single job runs in the caller's own process
            exit_with_parent()
        with Client(self.address, authkey=self.authkey) as connection:
            yield SendingReporter(connection.send)


class SendingReporter:
    """A reporter that turns every event into a ``(kind, label, value)`` message for ``send``."""

    def __init__(self, send: Callable[[tuple[str, str, Any]], None]) -> None:
        self.send = send

    def start(self, label: str, epochs: int) -> ModelProgress:
        """Announce a model; its epochs follow under the same label."""
        self.send(("start", label, epochs))
        return SendingProgress(self.send, label)


class SendingProgress:
    """One model's progress, sent as messages."""

    def __init__(self, send: Callable[[tuple[str, str, Any]], None], label: str) -> None:
        self.send = send
        self.label = label

    def epoch(self, logs: Mapping[str, float]) -> None:
        """Forward the epoch's logs."""
        self.send(("epoch", self.label, {k: float(v) for k, v in logs.items()}))

    def finish(self) -> None:
        """Forward the end of training."""
        self.send(("finish", self.label, None))


class EventReplay:
    """Replays ``(kind, label, value)`` messages on a reporter, one at a time, from any thread.

    A job that is run again (a Dask worker was lost and the task rescheduled) starts its label
    again: its bar goes on rather than a second one appearing.
    """

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.lock = threading.Lock()  # the reporter (rich's progress) sees one event at a time
        self.active: dict[str, ModelProgress] = {}

    def __call__(self, message: tuple[str, str, Any]) -> None:
        kind, label, value = message
        with self.lock:
            if kind == "start":
                if label not in self.active:
                    self.active[label] = self.reporter.start(label, value)
            elif kind == "epoch" and label in self.active:
                self.active[label].epoch(value)
            elif kind == "finish" and label in self.active:
                self.active.pop(label).finish()

    def wait_idle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until every started model has finished."""
        deadline = time.monotonic() + timeout
        while self.active and time.monotonic() < deadline:
            time.sleep(0.02)


class ProgressServer(threading.Thread):
    """Accepts the workers' connections and replays their events, one thread per job."""

    def __init__(self, listener: Listener, replay: EventReplay, authkey: bytes) -> None:
        super().__init__(daemon=True)
        self.listener = listener
        self.replay = replay
        self.authkey = authkey
        self.readers: list[threading.Thread] = []
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
            reader = threading.Thread(target=self.read, args=(connection,), daemon=True)
            reader.start()
            self.readers.append(reader)

    def stop(self, *, wait_for_events: bool = True) -> None:
        """Wake the accepting thread with a last connection; then wait for every job's last events."""
        self.stopping = True
        Client(self.listener.address, authkey=self.authkey).close()
        self.join()
        for reader in self.readers if wait_for_events else ():
            reader.join()

    def read(self, connection: Connection) -> None:
        """Replay one job's events until its worker closes the connection."""
        with connection:
            while True:
                try:
                    message = connection.recv()
                except (EOFError, OSError):
                    return
                self.replay(message)


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


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of at most ``size``."""
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
