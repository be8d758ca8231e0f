"""Every ```python block of README.md and docs/*.md runs, each on its own in a temporary folder.

A block whose first line starts with ``# fragment`` shows calls in context (names defined
elsewhere, a server of yours) and is not run; README.md §Tests states the convention.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
FRAGMENT = "# fragment"


def _blocks() -> list[tuple[str, int, str]]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, match in enumerate(_BLOCK.finditer(path.read_text(encoding="utf-8")), 1):
            out.append((path.relative_to(ROOT).as_posix(), n, match.group(1)))
    return out


BLOCKS = [b for b in _blocks() if not b[2].startswith(FRAGMENT)]
FRAGMENTS = [b for b in _blocks() if b[2].startswith(FRAGMENT)]


def test_the_docs_have_blocks_to_run() -> None:
    assert len(BLOCKS) >= 3


def test_every_fragment_is_at_least_valid_python() -> None:
    for doc, number, code in FRAGMENTS:
        compile(code, f"{doc} (python block {number})", "exec")


@pytest.mark.parametrize(("doc", "number", "code"), BLOCKS, ids=[f"{d}#{n}" for d, n, _ in BLOCKS])
def test_a_documented_block_runs(
    doc: str, number: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{doc} (python block {number})", "exec"), {"__name__": "__docs__"})  # noqa: S102
