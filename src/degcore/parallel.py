"""Chunked parallel map over an executor: a process pool by default (ARCHITECTURE.md §1).

Every heavy loop in degcore (partial decryptions, proof checks over ballots, shuffles) is a map
of a module-level function over a list. :func:`map_chunks` cuts the list into chunks, runs each
chunk through ``executor.submit`` and joins the results in order. ``executor`` is any
:class:`concurrent.futures.Executor`: ``None`` means the shared default process pool (one worker per
core), :data:`SERIAL` runs inline, and a Dask ``Client.get_executor()`` runs on a cluster.

Group elements cross process boundaries by reference to their group and their canonical bytes
(``degcore.groups.base``); a worker never re-checks membership of what its parent already holds.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from degcore.errors import InvalidInput

__all__ = [
    "SERIAL",
    "SerialExecutor",
    "dask_executor",
    "default_executor",
    "map_chunks",
    "per_chunk",
    "worker_count",
]

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items the default executor runs the work inline: a pool round trip costs more.
MIN_PARALLEL_ITEMS = 64


class SerialExecutor(Executor):
    """An executor that runs each task at once in the calling thread (tests, tiny inputs, one core)."""

    def submit(self, fn: Callable[..., R], /, *args: object, **kwargs: object) -> Future[R]:
        """Run ``fn`` now; its result or exception is in the returned future."""
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the future carries it to the caller, as a pool would
            future.set_exception(exc)
        return future


#: Run inline: ``map_chunks(fn, items, executor=SERIAL)``.
SERIAL = SerialExecutor()

_pool: list[ProcessPoolExecutor] = []  # at most one, created on first use
_pool_lock = threading.Lock()


def worker_count() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_executor() -> Executor:
    """The shared process pool (one worker per core), or :data:`SERIAL` on a single core."""
    if worker_count() < 2:
        return SERIAL
    with _pool_lock:
        if not _pool:
            _pool.append(ProcessPoolExecutor(max_workers=worker_count()))
            atexit.register(_pool[0].shutdown, cancel_futures=True)
        return _pool[0]


def _plan(items: Sequence[T], executor: Executor | None, chunk_size: int | None) -> tuple[Executor, int]:
    if executor is None:
        executor = SERIAL if len(items) < MIN_PARALLEL_ITEMS else default_executor()
    if chunk_size is None:
        # Four chunks per worker balance uneven workers without drowning in round trips.
        workers = 1 if isinstance(executor, SerialExecutor) else worker_count()
        chunk_size = max(1, -(-len(items) // (4 * workers)))
    return executor, chunk_size


def per_chunk(
    fn: Callable[[Sequence[T]], R],
    items: Sequence[T],
    *,
    executor: Executor | None = None,
    chunk_size: int | None = None,
) -> list[R]:
    """``fn`` over chunks of ``items`` on ``executor``: one result per chunk, in order (for reductions)."""
    if not items:
        return []
    executor, size = _plan(items, executor, chunk_size)
    futures = [executor.submit(fn, items[i : i + size]) for i in range(0, len(items), size)]
    return [future.result() for future in futures]


def map_chunks(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    *,
    executor: Executor | None = None,
    chunk_size: int | None = None,
) -> list[R]:
    """``fn`` over chunks of ``items`` on ``executor``; the concatenated results, in input order.

    ``fn`` must return one result per item of its chunk and, for a process pool, be picklable (a
    module-level function or a :func:`functools.partial` of one).
    """
    if not items:
        return []
    executor, size = _plan(items, executor, chunk_size)
    results: list[R] = []
    for start, chunk_result in zip(
        range(0, len(items), size), per_chunk(fn, items, executor=executor, chunk_size=size), strict=True
    ):
        expected = min(size, len(items) - start)
        if len(chunk_result) != expected:
            raise RuntimeError(f"{fn!r} returned {len(chunk_result)} results for {expected} items")
        results.extend(chunk_result)
    return results


@contextmanager
def dask_executor(address: str) -> Iterator[Executor]:
    """An executor on the Dask cluster whose scheduler is at ``address`` (the ``distributed`` extra)."""
    try:
        from distributed import Client  # noqa: PLC0415 - an optional extra, imported only when asked
    except ImportError:
        raise InvalidInput("a Dask cluster needs the extra: pip install 'degcore[distributed]'") from None
    client = Client(address)  # type: ignore[no-untyped-call]
    try:
        yield client.get_executor()  # type: ignore[no-untyped-call]
    finally:
        client.close()  # type: ignore[no-untyped-call]
