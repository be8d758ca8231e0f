"""The lookup index: one small shard per tracking-code prefix, whatever the number of ballots."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from degcore.errors import InvalidInput
from degcore.site import LookupRow, prefix_length, write_lookup_index

#: What one lookup may load at most (issue 30).
LOOKUP_BUDGET = 1_000_000


def _rows(count: int) -> Iterator[LookupRow]:
    for i in range(count):
        code = hashlib.sha256(b"code%d" % i).hexdigest()
        entry = hashlib.sha256(b"entry%d" % i).hexdigest()
        payload = hashlib.sha256(b"payload%d" % i).hexdigest()
        yield LookupRow(code, i + 1, "x" if i % 97 == 0 else "c", entry, payload)


def test_the_prefix_grows_with_the_log() -> None:
    assert [prefix_length(n) for n in (0, 100, 8_192, 8_193, 100_000, 1_000_000, 10_000_000)] == [
        1, 1, 1, 2, 2, 3, 4,
    ]  # fmt: skip


def test_a_lookup_in_an_index_of_100000_ballots_loads_less_than_a_megabyte(tmp_path: Path) -> None:
    summary = write_lookup_index(_rows(100_000), tmp_path / "lookup", 100_000)
    shards = sorted((tmp_path / "lookup").glob("*.js"))
    assert summary.prefix_length == 2 and len(shards) == summary.shards == 256
    assert summary.rows == 100_000 and summary.challenged == 1031 and summary.counted == 100_000 - 1031
    sizes = [s.stat().st_size for s in shards]
    assert max(sizes) == summary.largest_shard_bytes
    script = resources.files("degcore.site").joinpath("assets", "lookup.js").read_bytes()
    # One lookup: the page's script, its configuration (under 1 kB) and one shard.
    assert len(script) + 1024 + max(sizes) < LOOKUP_BUDGET
    assert max(sizes) < 200_000  # about 390 rows of ~215 bytes each
    assert not list((tmp_path / "lookup").glob("*.part"))  # the batches were all folded in
    # Every row is in the shard of its prefix, exactly once.
    first = next(_rows(1))
    shard = (tmp_path / "lookup" / f"{first.tracking_code[:2]}.js").read_text()
    assert shard.startswith(f'degcoreShard("{first.tracking_code[:2]}",[\n')
    assert shard.count(first.tracking_code) == 1 and f'"{first.tracking_code}",1,"x"' in shard


def test_every_shard_of_the_range_is_written_even_empty(tmp_path: Path) -> None:
    summary = write_lookup_index(_rows(3), tmp_path, 3)
    assert summary.shards == 16 and len(list(tmp_path.glob("*.js"))) == 16
    empty = [p for p in tmp_path.glob("*.js") if p.read_text().endswith(",[\n]);\n")]
    assert len(empty) >= 13


@pytest.mark.parametrize(
    "row",
    [
        LookupRow("AB" * 32, 1, "c", "0" * 64, "0" * 64),  # not lowercase
        LookupRow("0" * 63, 1, "c", "0" * 64, "0" * 64),
        LookupRow("0" * 64, 1, "counted", "0" * 64, "0" * 64),
        LookupRow("0" * 64, 1, "c", '");alert(1);("' + "0" * 50, "0" * 64),
    ],
)
def test_a_row_that_is_not_hex_and_a_status_is_refused(tmp_path: Path, row: LookupRow) -> None:
    with pytest.raises(InvalidInput):
        write_lookup_index([row], tmp_path, 1)
