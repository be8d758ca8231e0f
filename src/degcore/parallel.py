"""Chunked parallel map over an executor: a process pool by default (docs/architecture.md).

Every heavy loop in degcore (partial decryptions, proof checks over ballots, shuffles) is a map
of a module-level function over a list. :func:`map_chunks` cuts the list into chunks, runs each
chunk through ``executor.submit`` and joins the results in order. ``executor`` is any
:class:`concurrent.futures.Executor`: ``None`` means the shared default process pool (one worker per
usable CPU, see :func:`worker_count`), :data:`SERIAL` runs inline, and a Dask
``Client.get_executor()`` runs on a cluster.

Worker processes start with ``forkserver`` where the platform has it (and the temporary folder's
path is short enough for its socket), else ``spawn``, never a bare
``fork()`` of a caller that may hold threads and locks. They import the degcore modules their
parent had imported, so a group is found by name on either side (``degcore.groups.base`` pickles
an element as its group and canonical bytes; a worker never re-checks membership of what its
parent already holds). A group constructed at run time rather than at import is not found there.

As with any ``spawn``/``forkserver`` pool, each worker imports the caller's main module: a script
that starts parallel work at its top level must keep that code under ``if __name__ == "__main__":``
(a worker re-running such a script stops, saying so, where it asks for the default pool). The
default executor is :data:`SERIAL` inside a worker (one pool's workers do not start pools of their
own) and in a program read from standard input (which no worker could import).
"""

from __future__ import annotations

import atexit
import collections
import gc
import importlib
import math
import multiprocessing
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TypeVar

from degcore.errors import InvalidInput

__all__ = [
    "SERIAL",
    "WORKERS_ENV",
    "SerialExecutor",
    "dask_executor",
    "default_executor",
    "executor_workers",
    "fewer_collections",
    "is_serial",
    "map_chunks",
    "mp_context",
    "per_chunk",
    "per_chunk_streamed",
    "process_pool",
    "resolve_executor",
    "shutdown_default_pool",
    "start_workers",
    "worker_count",
]

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items the default executor runs the work inline: a pool round trip costs more.
MIN_PARALLEL_ITEMS = 64
#: Items per chunk when the executor runs chunks inline (map_chunks, per_chunk without a size).
SERIAL_CHUNK = 8192
#: The environment variable that sets the number of worker processes (a positive integer).
WORKERS_ENV = "DEGCORE_WORKERS"

# Where the kernel shows this process's CPU quota (module attributes so tests can point them elsewhere).
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_SELF_CGROUP = Path("/proc/self/cgroup")


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
_worker: list[bool] = []  # [True] in a worker of a degcore pool


def worker_count() -> int:
    """The worker processes to run: ``$DEGCORE_WORKERS``, else the CPUs this process may use."""
    override = os.environ.get(WORKERS_ENV, "").strip()
    if not override:
        return _usable_cpus()
    if not (override.isascii() and override.isdigit()) or int(override) < 1:
        raise InvalidInput(f"{WORKERS_ENV} must be a positive integer, got {override!r}")
    return int(override)


def _usable_cpus() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cpus, quota) if quota else cpus)


def _cgroup_cpu_quota() -> int | None:
    """The CPU quota of this process's cgroup, rounded up to whole CPUs; None where there is none."""
    limits: list[float] = []
    v2_path = next((line[3:] for line in _read(_SELF_CGROUP).splitlines() if line.startswith("0::")), None)
    if v2_path is not None and (_CGROUP_ROOT / "cgroup.controllers").exists():
        # cgroup v2: the cpu.max ("max 100000" or "150000 100000") of every ancestor caps the process.
        folder = _CGROUP_ROOT / v2_path.strip("/")
        while _CGROUP_ROOT in folder.parents or folder == _CGROUP_ROOT:
            limits.extend(_ratio(_read(folder / "cpu.max").split()))
            folder = folder.parent
    else:
        # cgroup v1 as a container sees it: the cpu controller mounted at its own root.
        v1 = _CGROUP_ROOT / "cpu"
        limits.extend(_ratio([_read(v1 / "cpu.cfs_quota_us"), _read(v1 / "cpu.cfs_period_us")]))
    return math.ceil(min(limits)) if limits else None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _ratio(fields: list[str]) -> list[float]:
    """quota / period from two fields, or nothing where unlimited ("max", -1) or unreadable."""
    try:
        quota, period = (int(field) for field in fields)
    except ValueError:
        return []
    return [quota / period] if quota > 0 and period > 0 else []


# The fork server listens on an AF_UNIX socket at TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX; Linux
# takes at most 107 bytes of socket path, so a long TMPDIR would make every pool fail to start.
_SOCKET_PATH_MAX = 107
_FORKSERVER_SUFFIX = len("/pymp-xxxxxxxx/listener-xxxxxxxx")


def mp_context() -> BaseContext:
    """The multiprocessing context of degcore's pools: ``forkserver`` where it can run, else ``spawn``."""
    # fork() copies a parent's threads' locks mid-use (Python 3.12 warns, 3.14 stops defaulting to it).
    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    if forkserver and len(os.fsencode(tempfile.gettempdir())) + _FORKSERVER_SUFFIX > _SOCKET_PATH_MAX:
        forkserver = False  # spawn needs no socket: slower to start workers, but it works
    return multiprocessing.get_context("forkserver" if forkserver else "spawn")


#: The cyclic collector's first threshold while degcore works through a record or a log: a
#: verification allocates millions of short-lived objects and holds hundreds of thousands of live
#: ones, and at Python's default (700) the collector's passes over them took 14% of a 3,000-voter
#: verification. Reference counting still frees everything at once; cycles wait a little longer.
BULK_GC_THRESHOLD = 100_000
_gc_lock = threading.Lock()
_gc_saved: list[tuple[int, int, int]] = []  # one entry per open block, in any thread; the first is restored


def _raise_gc_threshold() -> None:
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, BULK_GC_THRESHOLD), second, third)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the cyclic GC's first threshold to :data:`BULK_GC_THRESHOLD` for the block (nestable)."""
    with _gc_lock:
        _gc_saved.append(gc.get_threshold())
        _raise_gc_threshold()
    try:
        yield
    finally:
        with _gc_lock:
            first = _gc_saved[0]
            _gc_saved.pop()
            if not _gc_saved:
                gc.set_threshold(*first)


def _start_worker(names: Sequence[str]) -> None:
    _worker.append(True)
    _raise_gc_threshold()  # a worker process only ever runs degcore's bulk tasks
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # a task that needs it fails with its own clear error
            continue


def _ready() -> None:
    """A task that does nothing: submitting it starts a worker process."""


def start_workers(pool: Executor) -> None:
    """Start a process pool's workers now, without waiting for them (a pool starts them on first use).

    A worker's start (the fork server importing degcore, then the fork) overlaps whatever the
    caller does before its first real task, instead of delaying that task.
    """
    if isinstance(pool, ProcessPoolExecutor):
        for _ in range(executor_workers(pool)):
            pool.submit(_ready)


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A new process pool (default: :func:`worker_count` workers) on :func:`mp_context`; shut it down."""
    context = mp_context()
    # Workers import what the parent imported: group backends register themselves at import, and
    # unpickling an element finds its group by name.
    modules = sorted(name for name in sys.modules if name == "degcore" or name.startswith("degcore."))
    if context.get_start_method() == "forkserver":
        # Imported once in the fork server, so each worker starts with them already loaded.
        context.set_forkserver_preload(modules)
    return ProcessPoolExecutor(
        max_workers=workers or worker_count(),
        mp_context=context,
        initializer=_start_worker,
        initargs=(modules,),
    )


_MAIN_GUARD = (
    "a degcore worker process is importing the main module, whose top-level code starts parallel "
    'work: put that code under `if __name__ == "__main__":`'
)


def _serial_only() -> bool:
    """True in a pool's worker, or where a new worker could not import the main module."""
    process = multiprocessing.current_process()
    # Set by multiprocessing while a new worker imports the parent's main module.
    if getattr(process, "_inheriting", False):
        raise RuntimeError(_MAIN_GUARD)
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    # A script read from standard input has the path "<stdin>": workers would fail to re-read it.
    unimportable = getattr(main, "__spec__", None) is None and path is not None and not os.path.isfile(path)
    return bool(_worker) or unimportable


def default_executor() -> Executor:
    """The shared process pool (:func:`worker_count` workers), or :data:`SERIAL` for one worker."""
    workers = worker_count()
    if workers < 2 or _serial_only():
        return SERIAL
    with _pool_lock:
        if not _pool:
            _pool.append(process_pool(workers))
            atexit.register(_pool[0].shutdown, cancel_futures=True)
        return _pool[0]


def resolve_executor(executor: Executor | None, items: int) -> Executor:
    """``executor``; for ``None``, the default one, or :data:`SERIAL` for work of fewer items than pays."""
    if executor is not None:
        return executor
    return SERIAL if items < MIN_PARALLEL_ITEMS else default_executor()


def is_serial(executor: Executor) -> bool:
    """True when ``executor`` runs its tasks inline (nothing gained by splitting work for it)."""
    return isinstance(executor, SerialExecutor)


def executor_workers(executor: Executor) -> int:
    """How many tasks ``executor`` runs at once: 1 inline, a pool's size, else :func:`worker_count`."""
    if is_serial(executor):
        return 1
    return int(getattr(executor, "_max_workers", 0) or worker_count())


def shutdown_default_pool() -> None:
    """Stop the shared pool's workers now (the next parallel map starts a new pool)."""
    with _pool_lock:
        pools = list(_pool)
        _pool.clear()
    for pool in pools:
        pool.shutdown(cancel_futures=True)


def _broken(executor: Executor, exc: BrokenProcessPool) -> BrokenProcessPool:
    with _pool_lock:
        if executor in _pool:  # the next call starts a fresh pool instead of failing forever
            _pool.remove(executor)
    return BrokenProcessPool(f"{exc} (if a worker failed importing the main module: {_MAIN_GUARD})")


def _plan(items: Sequence[T], executor: Executor | None, chunk_size: int | None) -> tuple[Executor, int]:
    executor = resolve_executor(executor, len(items))
    if chunk_size is None and is_serial(executor):
        # Inline, chunks only bound memory: a batch of proofs costs less per item the larger it is.
        chunk_size = SERIAL_CHUNK
    elif chunk_size is None:
        # Four chunks per worker balance uneven workers without drowning in round trips.
        workers = executor_workers(executor)
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
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    return list(per_chunk_streamed(fn, chunks, executor=executor, ahead=len(chunks)))  # all at once


def per_chunk_streamed(
    fn: Callable[[Sequence[T]], R],
    chunks: Iterable[Sequence[T]],
    *,
    executor: Executor,
    ahead: int,
) -> Iterator[R]:
    """``fn`` over each chunk on ``executor``, results in order, with at most ``ahead`` chunks in flight.

    Chunks are submitted as they are read, so the first task starts before the input is all read
    and the workers never drain between batches; the bound keeps memory flat for any input.
    """
    pending: collections.deque[Future[R]] = collections.deque()
    try:
        for chunk in chunks:
            pending.append(executor.submit(fn, chunk))
            if len(pending) >= max(1, ahead):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool as exc:
        raise _broken(executor, exc) from exc
    finally:
        for future in pending:  # the consumer stopped early (an error): nothing is left running for it
            future.cancel()


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
        # pure=False: a task's key is a fresh id, not a hash of its arguments. Hashing them
        # (dask.base.tokenize walks every element of every row) was a third of the parent's time
        # on a 3,000-voter record, more than the tasks saved; no task here is ever resubmitted.
        yield client.get_executor(pure=False)  # type: ignore[no-untyped-call]
    finally:
        client.close()  # type: ignore[no-untyped-call]
