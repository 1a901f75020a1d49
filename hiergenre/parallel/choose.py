"""Which backend runs a command's jobs: ``--cluster`` (a Dask cluster) or ``--jobs`` local processes.

Kept apart from :mod:`hiergenre.parallel.backends` so that the Dask backend, which builds on that
module, is imported only here and only when a cluster is asked for.
"""

from __future__ import annotations

from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.parallel.backends import Backend, LocalBackend

#: The environment variable ``--cluster`` falls back to.
CLUSTER_ENV = "HIERGENRE_CLUSTER"


def parse_cluster(spec: str | None) -> tuple[str, int | str] | None:
    """``local:N`` → ``("local", N)``, ``tcp://host:port`` → ``("address", spec)``, None → None.

    Checked before any work starts, so a typo exits 2 at once.
    """
    if spec is None or not spec.strip():
        return None
    spec = spec.strip()
    if spec.startswith("local:"):
        count = spec.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise InvalidValue(f"--cluster local:N needs a number of workers of at least 1, got {spec!r}")
        return "local", int(count)
    if "://" in spec and spec.split("://", 1)[1]:
        return "address", spec
    raise InvalidValue(
        f"--cluster takes local:N (a local Dask cluster of N worker processes) or a scheduler address "
        f"such as tcp://host:8786, got {spec!r}"
    )


def open_backend(cluster: str | None = None, jobs: int = 1) -> Backend:
    """The backend for ``--cluster`` (a Dask cluster), or ``jobs`` local processes without it."""
    parsed = parse_cluster(cluster)
    if parsed is None:
        return LocalBackend(jobs)
    try:
        from hiergenre.parallel.dask_cluster import DaskBackend
    except ImportError as exc:
        raise HierGenreError(
            f"--cluster needs dask and distributed ({exc.name} is not installed): pip install 'hiergenre[cluster]'"
        ) from exc
    return DaskBackend.start(*parsed)
