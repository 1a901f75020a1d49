"""The Dask backend of ``--cluster``: independent jobs as futures of a ``dask.distributed`` cluster.

Imported only when ``--cluster`` (or ``HIERGENRE_CLUSTER``) is given. ``local:N`` starts a
:class:`~distributed.LocalCluster` of N worker processes of one thread each (so that N jobs run
at once, one TensorFlow thread each, as with ``--jobs N``); an address connects to a running
scheduler, whose workers should be started with ``--nthreads 1`` (one node model trains per
process at a time in any case: Keras's random state is global to a process).

A job that a lost worker was running is rescheduled by Dask on another worker; node models and
feature-cache entries are written atomically, so a job run twice, or a worker killed while
writing, leaves nothing half-written. Progress events of node models travel as Dask events
(``log_event`` on the worker, ``subscribe_topic`` here), through the scheduler.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from distributed import CancelledError, Client, KilledWorker, LocalCluster, as_completed, get_worker

from hiergenre.errors import HierGenreError
from hiergenre.parallel.backends import Backend, EventReplay, SendingReporter
from hiergenre.progress import Reporter

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a scheduler at an address before giving up with a clear error.
CONNECT_TIMEOUT = 15


class DaskBackend(Backend):
    """Jobs as futures of a Dask client (see the module docstring)."""

    def __init__(self, client: Client, cluster: LocalCluster | None, address: str) -> None:
        self.client = client
        self.cluster = cluster
        self.address = address
        self.workers = max(1, sum(client.nthreads().values()))

    @classmethod
    def start(cls, kind: str, value: int | str) -> DaskBackend:
        """``("local", N)``: a LocalCluster of N single-threaded processes; ``("address", url)``: connect."""
        if kind == "local":
            cluster = LocalCluster(
                n_workers=int(value),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: two clusters on one machine do not collide
                silence_logs=logging.CRITICAL,  # a lost worker is retried, or reported as our own one-line error
            )
            client = Client(cluster)
            return cls(client, cluster, f"local:{value}")
        try:
            client = Client(str(value), timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise HierGenreError(f"cannot reach the Dask scheduler at {value}: {exc}") from exc
        if not client.nthreads():
            client.close()
            raise HierGenreError(f"the Dask scheduler at {value} has no workers")
        return cls(client, None, str(value))

    def map_unordered(self, function: Callable[[T], R], items: Sequence[T], *, threads: bool = False) -> Iterator[R]:
        """See :meth:`hiergenre.parallel.backends.Backend.map_unordered` (``threads`` does not apply)."""
        if not items:
            return iter(())
        # Each item travels inside its task, not scattered beforehand: data scattered to a worker
        # dies with it, while a task the scheduler holds whole can run again on another worker.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Large object", category=UserWarning)
            futures = self.client.map(function, list(items), pure=False)
        return self._results(futures)

    def _results(self, futures: list) -> Iterator[Any]:
        try:
            for future in as_completed(futures):
                yield future.result()
                future.release()
        except (KilledWorker, CancelledError) as exc:
            raise HierGenreError(
                f"the Dask cluster {self.address} lost a job ({type(exc).__name__}: its workers died); what "
                "finished is kept in the workspace: run the command again to do the rest"
            ) from exc
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def batch_size(self, n_items: int) -> int:
        """About four batches per worker, of at most 32 items: each future costs milliseconds."""
        return max(1, min(32, math.ceil(n_items / (4 * self.workers))))

    @contextmanager
    def progress(self, reporter: Reporter) -> Iterator[TopicChannel]:
        """Events published by the workers under a fresh topic, replayed here."""
        replay = EventReplay(reporter)
        topic = f"hiergenre-progress-{secrets.token_hex(8)}"
        self.client.subscribe_topic(topic, lambda event: replay(event[1]))
        try:
            yield TopicChannel(topic)
            replay.wait_idle(5.0)  # the last events pass through the scheduler after the results
        finally:
            self.client.unsubscribe_topic(topic)

    def check_visible(self, paths: Mapping[str, Path], *, writable: Iterable[str] = ()) -> None:
        """Ask every worker whether it can read each path (and write those named in ``writable``)."""
        answers = self.client.run(probe_paths, {name: str(p.absolute()) for name, p in paths.items()}, sorted(writable))
        for worker, problems in sorted(answers.items()):
            if problems:
                raise HierGenreError(
                    f"Dask worker {worker} {problems[0]}: the workspace and the data must be on a filesystem "
                    "every worker sees, at the same path"
                )

    def describe(self) -> str:
        """``Dask cluster local:2 (2 workers)``."""
        return f"Dask cluster {self.address} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def close(self) -> None:
        """Disconnect; a local cluster is shut down."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def probe_paths(paths: Mapping[str, str], writable: Sequence[str]) -> list[str]:
    """On a worker: what is wrong with each path, as ``cannot read the workspace /x`` phrases."""
    problems = []
    for name, path in paths.items():
        if not os.path.exists(path):
            problems.append(f"cannot see the {name} {path}")
        elif not os.access(path, os.R_OK):
            problems.append(f"cannot read the {name} {path}")
        elif name in writable and not os.access(path, os.W_OK):
            problems.append(f"cannot write to the {name} {path}")
    return problems


class TopicChannel:
    """The worker's end: events logged on the worker under ``topic`` (picklable)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic

    @contextmanager
    def open(self) -> Iterator[Reporter]:
        """A reporter that logs each event on this worker, for the client subscribed to the topic."""
        worker = get_worker()
        yield SendingReporter(lambda message: worker.log_event(self.topic, message))
