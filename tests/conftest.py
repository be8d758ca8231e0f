"""Shared fixtures: the group backends, the known-answer vectors (tests/vectors/) and the stores."""

from __future__ import annotations

import json
import multiprocessing.util
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from degcore.groups import Group, get_group
from degcore.groups._toy import TOY
from degcore.parallel import mp_context, shutdown_default_pool

settings.register_profile(
    "degcore", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=40
)
settings.load_profile("degcore")

#: Known-answer vectors from RFCs and public repositories, each file's source in its README.md.
VECTORS = Path(__file__).resolve().parent / "vectors"

#: Every backend; modp4096 is slow (ms per exponentiation), so property tests take fewer examples there.
ALL_GROUPS = ["ristretto255", "secp256k1", "modp4096", "toy"]
FAST_GROUPS = ["ristretto255", "secp256k1", "toy"]
#: Property tests over modp4096 run this many examples (each costs tens of exponentiations of 2 ms).
SLOW_EXAMPLES = 5


Check = Callable[[Group, st.DataObject], None]


def group_property(check: Check) -> tuple[Callable[..., None], Callable[..., None]]:
    """Two hypothesis tests of ``check``: the fast backends with full examples, modp4096 with few.

    Use as ``test_x, test_x_modp4096 = group_property(_check_x)``.
    """

    @pytest.mark.parametrize("name", FAST_GROUPS)
    @given(data=st.data())
    def fast(name: str, data: st.DataObject) -> None:
        check(group_by_name(name), data)

    @settings(max_examples=SLOW_EXAMPLES)
    @given(data=st.data())
    def slow(data: st.DataObject) -> None:
        check(get_group("modp4096"), data)

    return fast, slow


def group_by_name(name: str) -> Group:
    """The backend for a fixture parameter (the toy group is not registered in get_group)."""
    return TOY if name == "toy" else get_group(name)


@pytest.fixture(params=ALL_GROUPS)
def group(request: pytest.FixtureRequest) -> Group:
    """Each group backend in turn."""
    return group_by_name(request.param)


def load_vector(relative: str) -> Any:
    """Load a JSON file of tests/vectors/ (a missing file fails the test: vectors never skip)."""
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def race(target: Callable[..., object], argument_lists: list[tuple[object, ...]]) -> list[object]:
    """Start one process per argument tuple, released together by a barrier; their outcomes, sorted.

    ``target(*arguments, barrier, queue)`` must wait on ``barrier`` and put one outcome on ``queue``.
    The processes start fresh (degcore's start method, not a fork): ``target`` is a module-level
    function and everything it needs comes in ``arguments`` (picklable) or from its module.
    """
    context = mp_context()  # never fork() a test process that may hold threads
    barrier, queue = context.Barrier(len(argument_lists)), context.Queue()
    procs = [context.Process(target=target, args=(*args, barrier, queue)) for args in argument_lists]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    return sorted((queue.get(timeout=10) for _ in procs), key=str)


# --- stores: the same tests on SQLite and, where a server is reachable, PostgreSQL ---------------
# Set DEGCORE_POSTGRES_URL (.ci/run starts a server and sets it) to run the PostgreSQL half;
# without it those tests skip and say so. Each test gets its own PostgreSQL schema.
POSTGRES_URL = os.environ.get("DEGCORE_POSTGRES_URL", "")


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store location: a SQLite file, or a new schema in the PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
        return
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL not configured: set DEGCORE_POSTGRES_URL (.ci/run starts a server and sets it)"
        )
    psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield _with_schema(POSTGRES_URL, schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def execute(location: str, sql: str) -> None:
    """Run one statement on a box's store behind its back (tamper tests)."""
    if location.startswith("postgresql://"):
        import psycopg  # noqa: PLC0415 - only where PostgreSQL is configured

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute(sql)
    else:
        with sqlite3.connect(location) as conn:
            conn.execute(sql)


def query(location: str, sql: str) -> list[tuple[object, ...]]:
    """Read a store behind its owner's back (tamper tests)."""
    if location.startswith("postgresql://"):
        import psycopg  # noqa: PLC0415 - only where PostgreSQL is configured

        with psycopg.connect(location) as conn:
            return list(conn.execute(sql))
    with sqlite3.connect(location) as conn:
        return list(conn.execute(sql))


# Nothing a test runs may leave a file in the temporary folder (issue 27): the session gets a
# private one, inherited by every subprocess through TMPDIR, and fails naming whatever is left
# in it at the end (pytest's own tmp_path folders excepted: they are removed with it).
_TEMPORARY_FOLDER = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Point the temporary folder of this process and of its children at a fresh private one."""
    private = Path(tempfile.mkdtemp(prefix="degcore-tests-"))
    private.chmod(0o1777)  # as /tmp: the test's own PostgreSQL servers run as another user
    config.stash[_TEMPORARY_FOLDER] = private
    os.environ["TMPDIR"] = str(private)
    tempfile.tempdir = str(private)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run if anything but pytest's tmp_path folders is left in the temporary folder."""
    private = session.config.stash.get(_TEMPORARY_FOLDER, None)
    if private is None or not private.is_dir():
        return
    shutdown_default_pool()  # its fork server's socket folder goes with it
    # pymp-*: multiprocessing's own folder for its fork server, removed when this process exits.
    left = sorted(p.name for p in private.iterdir() if not p.name.startswith(("pytest-of-", "pymp-")))
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAIL: the tests left files in the temporary folder: {', '.join(left)}", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the private temporary folder once multiprocessing has removed its own from it."""
    private = config.stash.get(_TEMPORARY_FOLDER, None)
    if private is not None:
        # Its fork-server folder goes in a finaliser of priority -100 at exit: this one runs after.
        multiprocessing.util.Finalize(None, shutil.rmtree, args=(private, True), exitpriority=-101)
