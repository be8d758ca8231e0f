"""Benchmark fixtures: per-operation costs measured in this run, and the ratio report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from benchmarks._opcount import OPS, bound, count_ops, unit_costs
from degcore.groups import Group

_costs: dict[str, dict[str, float]] = {}
_rows: list[tuple[str, float, float, str]] = []


def costs_for(group: Group) -> dict[str, float]:
    """Per-operation costs of ``group``, measured once per run."""
    if group.name not in _costs:
        _costs[group.name] = unit_costs(group)
    return _costs[group.name]


@dataclass
class Reporter:
    """Runs a workload under pytest-benchmark and records its measured time against its operation bound."""

    benchmark: object

    def __call__(
        self,
        label: str,
        group: Group,
        workload: Callable[[], object],
        *,
        serial: Callable[[], object] | None = None,
        workers: int = 1,
        rounds: int | None = None,
    ) -> None:
        """Time ``workload``; its bound is the operations of ``serial`` (default: the workload) / ``workers``.

        A parallel workload is counted through its serial twin, because operations in worker
        processes escape the counters; the bound then assumes perfect scaling over ``workers`` cores.
        """
        with count_ops(group) as counts:
            (serial or workload)()  # untimed: counts the operations (and warms caches such as tables)
        costs = costs_for(group)
        expected = bound(counts, costs) / workers
        bench = self.benchmark
        bench.extra_info["operations"] = dict(counts)  # type: ignore[attr-defined]
        bench.extra_info["workers"] = workers  # type: ignore[attr-defined]
        if rounds is None:
            bench(workload)  # type: ignore[operator]
        else:
            bench.pedantic(workload, rounds=rounds, iterations=1)  # type: ignore[attr-defined]
        stats = getattr(bench, "stats", None)
        if stats is None:  # --benchmark-disable: ran once, nothing to compare
            return
        record_ratio(bench, label, expected, _describe(counts))


def record_ratio(benchmark: object, label: str, expected: float, description: str) -> None:
    """Record a benchmark's median against a bound measured separately in the same run."""
    stats = getattr(benchmark, "stats", None)
    if stats is None:
        return
    measured = stats.stats.median
    benchmark.extra_info["bound_seconds"] = expected  # type: ignore[attr-defined]
    benchmark.extra_info["ratio"] = measured / expected  # type: ignore[attr-defined]
    _rows.append((label, measured, expected, description))


_throughput: list[tuple[str, int, float, str]] = []


def record_throughput(benchmark: object, label: str, count: int, unit: str) -> None:
    """Record a throughput benchmark: ``count`` items of ``unit`` in the measured median."""
    stats = getattr(benchmark, "stats", None)
    if stats is None:
        return
    seconds = stats.stats.median
    benchmark.extra_info[f"{unit}_per_second"] = count / seconds  # type: ignore[attr-defined]
    _throughput.append((label, count, seconds, unit))


def _describe(counts: Counter[str]) -> str:
    return " ".join(f"{op}×{n}" for op, n in sorted(counts.items()))


@pytest.fixture
def report(benchmark: object) -> Reporter:
    """Benchmark a workload and report measured / operation bound."""
    return Reporter(benchmark)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print per-operation costs and every workload's ratio to its operation bound."""
    tr = terminalreporter
    if _throughput:
        tr.section("throughput")
        for label, count, seconds, unit in _throughput:
            tr.write_line(f"{label:<45}{seconds:>10.2f} s{count / seconds:>12,.0f} {unit}/s")
    if not _rows:
        return
    tr.section("per-operation cost (µs, median, measured in this run)")
    ops = OPS
    tr.write_line(f"{'group':<13}" + "".join(f"{op:>12}" for op in ops))
    for name, costs in _costs.items():
        tr.write_line(f"{name:<13}" + "".join(f"{costs[op] * 1e6:>12.1f}" for op in ops))
    tr.section("measured time / operation bound")
    tr.write_line(f"{'workload':<40}{'median ms':>11}{'bound ms':>10}{'ratio':>7}  operations")
    for label, measured, expected, ops_text in _rows:
        ratio = measured / expected
        tr.write_line(f"{label:<40}{measured * 1e3:>11.3f}{expected * 1e3:>10.3f}{ratio:>7.2f}  {ops_text}")
