"""The local backend and the choice of backend, without a cluster (those tests are in tests/system)."""

from __future__ import annotations

import os

import pytest

from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.parallel.backends import LocalBackend, batches
from hiergenre.parallel.choose import open_backend, parse_cluster


def square(x: int) -> int:
    return x * x


def pid_of(_: int) -> int:
    return os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def test_batches_cover_the_items_in_order_with_at_most_size_each():
    assert batches(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert batches([], 3) == []
    assert batches([1, 2], 0) == [[1], [2]]  # a size below one still makes progress


@pytest.mark.parametrize("threads", [True, False])
def test_local_backend_maps_every_item_once(threads):
    backend = LocalBackend(2)
    assert sorted(backend.map_unordered(square, list(range(10)), threads=threads)) == [x * x for x in range(10)]


def test_one_worker_runs_in_this_process_and_processes_elsewhere():
    assert set(LocalBackend(1).map_unordered(pid_of, [1, 2, 3])) == {os.getpid()}
    assert os.getpid() not in set(LocalBackend(2).map_unordered(pid_of, [1, 2, 3, 4]))


def test_a_failing_job_raises_in_the_caller():
    with pytest.raises(ValueError, match="three"):
        list(LocalBackend(2).map_unordered(fail_on_three, [1, 2, 3, 4], threads=True))


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [(None, None), ("  ", None), ("local:3", ("local", 3)), ("tcp://host:8786", ("address", "tcp://host:8786"))],
)
def test_cluster_specs_parse(spec, parsed):
    assert parse_cluster(spec) == parsed


@pytest.mark.parametrize("spec", ["local:0", "local:x", "somewhere", "tcp://"])
def test_bad_cluster_specs_are_one_line_errors(spec):
    with pytest.raises(InvalidValue) as caught:
        parse_cluster(spec)
    assert "\n" not in str(caught.value) and repr(spec) in str(caught.value)


def test_no_cluster_opens_local_processes():
    backend = open_backend(None, 3)
    assert isinstance(backend, LocalBackend) and backend.workers == 3
    backend.close()


def test_a_cluster_without_dask_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.startswith(("dask", "distributed")) or name == "hiergenre.parallel.dask_cluster":
            raise ImportError(f"No module named {name!r}", name=name.split(".")[0])
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(HierGenreError, match=r"pip install 'hiergenre\[cluster\]'"):
        open_backend("local:2", 1)
