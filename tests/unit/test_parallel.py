"""parallel: map_chunks (order, chunks, errors, elements in workers), start method, worker count."""

from __future__ import annotations

import concurrent.futures
import functools
import gc
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from degcore import parallel
from degcore.errors import InvalidInput, VerificationFailed
from degcore.groups import Element, Group
from degcore.parallel import (
    BULK_GC_THRESHOLD,
    SERIAL,
    WORKERS_ENV,
    default_executor,
    fewer_collections,
    map_chunks,
    per_chunk_streamed,
    process_pool,
    start_workers,
    worker_count,
)

#: Changed by a test at run time: a forked worker would see the change, a started one does not.
MARK = "as imported"


def _square_all(items: Sequence[int]) -> list[int]:
    return [i * i for i in items]


def _fail_on_seven(items: Sequence[int]) -> list[int]:
    if 7 in items:
        raise VerificationFailed("demo", "item 7", "refused")
    return list(items)


def _times_g(group: Group, items: Sequence[tuple[Element, int]]) -> list[Element]:
    g = group.generator()
    return [e * group.exp_g(k) * g for e, k in items]


def _drop_one(items: Sequence[int]) -> list[int]:
    return list(items[1:])


@pytest.mark.parametrize("chunk_size", [None, 1, 3, 1000])
def test_results_keep_input_order(chunk_size: int | None) -> None:
    items = list(range(200))
    assert map_chunks(_square_all, items, chunk_size=chunk_size) == [i * i for i in items]
    assert map_chunks(_square_all, items, executor=SERIAL, chunk_size=chunk_size) == [i * i for i in items]
    assert map_chunks(_square_all, []) == []


def test_worker_errors_reach_the_caller_with_their_payload() -> None:
    for executor in (SERIAL, default_executor()):
        with pytest.raises(VerificationFailed) as info:
            map_chunks(_fail_on_seven, list(range(100)), executor=executor, chunk_size=10)
        assert info.value.subject == "item 7"


def test_a_function_that_loses_results_is_a_bug_not_silence() -> None:
    with pytest.raises(RuntimeError, match="returned"):
        map_chunks(_drop_one, list(range(10)), executor=SERIAL)


def test_elements_cross_process_boundaries_on_every_group(group: Group) -> None:
    items = [(group.exp_g(k + 1), k) for k in range(20)]
    with process_pool(2) as pool:
        remote = map_chunks(functools.partial(_times_g, group), items, executor=pool, chunk_size=5)
    local = _times_g(group, items)
    assert remote == local
    assert all(e.group is group for e in remote)


def _marks(items: Sequence[int]) -> list[str]:
    return [MARK for _ in items]


def _parent_pids(items: Sequence[int]) -> list[int]:
    return [os.getppid() for _ in items]


def test_workers_start_fresh_not_as_a_fork_of_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parallel.mp_context().get_start_method() in {"forkserver", "spawn"}
    monkeypatch.setattr(f"{__name__}.MARK", "changed in the parent")
    with process_pool(2) as pool:
        assert map_chunks(_marks, [1, 2], executor=pool, chunk_size=1) == ["as imported"] * 2
        if parallel.mp_context().get_start_method() == "forkserver":
            assert os.getpid() not in map_chunks(_parent_pids, [1, 2], executor=pool, chunk_size=1)


def test_a_pool_started_beside_threads_raises_no_fork_warning() -> None:
    # Python 3.12+ warns when fork() runs in a process with threads; a pool must not fork at all.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            with process_pool(2) as pool:
                assert map_chunks(_square_all, list(range(8)), executor=pool, chunk_size=2) == [
                    i * i for i in range(8)
                ]
    finally:
        stop.set()
        thread.join()


# --- how many workers ---------------------------------------------------------------------------


@pytest.fixture
def no_quota(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty cgroup tree (no quota anywhere), returned for tests to write limits into."""
    monkeypatch.setattr(parallel, "_CGROUP_ROOT", tmp_path / "cgroup")
    monkeypatch.setattr(parallel, "_SELF_CGROUP", tmp_path / "self-cgroup")
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    (tmp_path / "cgroup").mkdir()
    return tmp_path


@pytest.fixture
def three_cpus(monkeypatch: pytest.MonkeyPatch, no_quota: Path) -> Iterator[Path]:
    """This process may run on three CPUs, of the machine's many."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5, 7}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    yield no_quota


def test_worker_count_follows_cpu_affinity_not_the_machine(three_cpus: Path) -> None:
    assert worker_count() == 3


def test_environment_overrides_the_worker_count(three_cpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "5")
    assert worker_count() == 5
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert default_executor() is SERIAL


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "٣", "3 cores"])
def test_a_bad_worker_count_is_refused_by_name(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, value)
    with pytest.raises(InvalidInput, match=WORKERS_ENV):
        worker_count()


def _v2(root: Path, path: str, limits: dict[str, str]) -> None:
    (root / "self-cgroup").write_text(f"0::{path}\n")
    (root / "cgroup" / "cgroup.controllers").write_text("cpu io memory\n")
    for folder, value in limits.items():
        (root / "cgroup" / folder).mkdir(parents=True, exist_ok=True)
        (root / "cgroup" / folder / "cpu.max").write_text(value + "\n")


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"": "max 100000", "svc": "max 100000"}, 3),  # no quota: the affinity
        ({"": "max 100000", "svc": "150000 100000"}, 2),  # 1.5 CPUs of time: two workers
        ({"": "50000 100000", "svc": "max 100000"}, 1),  # an ancestor's quota caps the service
        ({"svc": "800000 100000"}, 3),  # a quota above the affinity changes nothing
        ({"svc": "garbage"}, 3),
    ],
)
def test_cgroup_v2_cpu_quota_caps_the_worker_count(
    three_cpus: Path, limits: dict[str, str], expected: int
) -> None:
    _v2(three_cpus, "/svc", limits)
    assert worker_count() == expected


@pytest.mark.parametrize(("quota", "expected"), [("-1", 3), ("100000", 1), ("200000", 2), ("", 3)])
def test_cgroup_v1_cpu_quota_caps_the_worker_count(three_cpus: Path, quota: str, expected: int) -> None:
    (three_cpus / "self-cgroup").write_text("4:cpu,cpuacct:/\n")
    folder = three_cpus / "cgroup" / "cpu"
    folder.mkdir()
    (folder / "cpu.cfs_quota_us").write_text(quota + "\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    assert worker_count() == expected


def _default_is_serial(items: Sequence[int]) -> list[bool]:
    return [default_executor() is SERIAL for _ in items]


def test_inside_a_worker_the_default_executor_is_serial() -> None:
    with process_pool(2) as pool:
        assert map_chunks(_default_is_serial, [1, 2], executor=pool, chunk_size=1) == [True, True]


_UNGUARDED = """
from degcore.parallel import map_chunks
from tests.unit.test_parallel import _square_all
print(sum(map_chunks(_square_all, list(range(200)))))
"""


def test_a_script_without_a_main_guard_is_told_what_to_do(tmp_path: Path) -> None:
    # Workers import the main module; its top-level map must not run again in each of them.
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED)
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), WORKERS_ENV: "2"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode != 0
    assert '__name__ == "__main__"' in done.stderr
    guarded = tmp_path / "guarded.py"
    body = "".join(f"    {line}\n" for line in _UNGUARDED.strip().splitlines())
    guarded.write_text(f'if __name__ == "__main__":\n{body}')
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(guarded)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.stdout.split() == [str(sum(i * i for i in range(200)))], done.stderr


def test_a_program_read_from_standard_input_runs_serially() -> None:
    # Its main module is "<stdin>", which no worker could import again.
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), WORKERS_ENV: "2"}
    done = subprocess.run(
        [sys.executable, "-"],
        input=_UNGUARDED,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.stdout.split() == [str(sum(i * i for i in range(200)))], done.stderr


def test_a_long_temporary_folder_path_still_runs_a_pool(tmp_path: Path) -> None:
    # The fork server's socket would not fit in AF_UNIX's 107 bytes under this folder.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    guarded = tmp_path / "guarded.py"
    body = "".join(f"    {line}\n" for line in _UNGUARDED.strip().splitlines())
    guarded.write_text(f'if __name__ == "__main__":\n{body}')
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), WORKERS_ENV: "2", "TMPDIR": str(deep)}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(guarded)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.stdout.split() == [str(sum(i * i for i in range(200)))], done.stderr
    assert list(deep.iterdir()) == []  # and nothing left there


def test_fewer_collections_raises_the_threshold_and_restores_it_after_nested_blocks() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (BULK_GC_THRESHOLD, 10, 10)
            with fewer_collections():
                assert gc.get_threshold()[0] == BULK_GC_THRESHOLD
            assert gc.get_threshold()[0] == BULK_GC_THRESHOLD  # the outer block is still open
        assert gc.get_threshold() == (700, 10, 10)
        with pytest.raises(RuntimeError), fewer_collections():
            raise RuntimeError("restored on the way out too")
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


class _CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    """A real thread pool that records how many submitted tasks were not yet taken back."""

    def __init__(self) -> None:
        super().__init__(2)
        self.in_flight = self.most = 0
        self.lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        return super().submit(fn, *args, **kwargs)


def test_streamed_chunks_come_back_in_order_with_a_bounded_number_in_flight() -> None:
    """Chunks read lazily: results in input order, never more than ``ahead`` submitted and unread."""
    pool = _CountingExecutor()
    read: list[int] = []

    def chunks() -> Iterator[list[int]]:
        for start in range(0, 100, 10):
            read.append(start)
            yield list(range(start, start + 10))

    try:
        out = []
        for result in per_chunk_streamed(_square_all, chunks(), executor=pool, ahead=3):
            with pool.lock:
                pool.in_flight -= 1
            out += result
            assert len(read) <= len(out) // 10 + 3  # the input is read only as far as needed
        assert out == [i * i for i in range(100)]
        assert pool.most <= 3
    finally:
        pool.shutdown()
    assert list(per_chunk_streamed(_square_all, iter([]), executor=SERIAL, ahead=2)) == []


def test_a_streamed_failure_reaches_the_caller_and_cancels_what_was_waiting() -> None:
    """The first failing chunk raises in order; chunks not yet started are cancelled, not run."""
    started: list[int] = []

    def slow(items: Sequence[int]) -> list[int]:
        started.append(items[0])
        return _fail_on_seven(items)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        chunks = ([i] for i in range(20))
        with pytest.raises(VerificationFailed, match="item 7"):
            list(per_chunk_streamed(slow, chunks, executor=pool, ahead=4))
    assert 7 in started and max(started) <= 7 + 4


def test_workers_started_ahead_are_running_before_the_first_task() -> None:
    """start_workers spawns every worker of a process pool at once; other executors are left alone."""
    with process_pool(2) as pool:
        start_workers(pool)
        processes = dict(pool._processes)  # type: ignore[attr-defined]
        assert len(processes) == 2
        assert map_chunks(_square_all, list(range(10)), executor=pool) == [i * i for i in range(10)]
        assert set(pool._processes) == set(processes)  # type: ignore[attr-defined] # the same two served it
    start_workers(SERIAL)  # nothing to start
