"""The docs run as written.

Every ```python block of README.md and docs/*.md runs on its own in a temporary folder, except
those of docs/integration.md: there each block is one service's program, and they run in order,
each as its own ``python`` process, in one shared folder, followed by the page's closing shell
commands (``degcore verify`` of the record they wrote must exit 0). A block whose first line
starts with ``# fragment`` shows calls in context and is only compiled (README.md §Tests).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
FRAGMENT = "# fragment"
INTEGRATION = "docs/integration.md"
_SCRIPT_NAME = re.compile(r"# ([a-z_]+\.py): ")


def _blocks(kind: str = "python") -> list[tuple[str, int, str]]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        found = [m for m in _BLOCK.finditer(path.read_text(encoding="utf-8")) if m.group(1) == kind]
        for n, match in enumerate(found, 1):
            out.append((path.relative_to(ROOT).as_posix(), n, match.group(2)))
    return out


BLOCKS = [b for b in _blocks() if not b[2].startswith(FRAGMENT) and b[0] != INTEGRATION]
FRAGMENTS = [b for b in _blocks() if b[2].startswith(FRAGMENT)]
SERVICES = [code for doc, _, code in _blocks() if doc == INTEGRATION]


def test_the_docs_have_blocks_to_run() -> None:
    assert len(BLOCKS) >= 3
    assert len(SERVICES) >= 10


def test_every_fragment_is_at_least_valid_python() -> None:
    for doc, number, code in FRAGMENTS:
        compile(code, f"{doc} (python block {number})", "exec")


@pytest.mark.parametrize(("doc", "number", "code"), BLOCKS, ids=[f"{d}#{n}" for d, n, _ in BLOCKS])
def test_a_documented_block_runs(
    doc: str, number: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{doc} (python block {number})", "exec"), {"__name__": "__docs__"})  # noqa: S102


def test_every_integration_block_is_a_named_script_with_no_fragment() -> None:
    names = []
    for code in SERVICES:
        match = _SCRIPT_NAME.match(code)
        assert match, f"an integration.md block does not start with '# NAME.py: ': {code[:60]!r}"
        names.append(match.group(1))
    assert len(set(names)) == len(names), "two integration.md blocks have the same file name"


def _runs(command: list[str], cwd: Path, env: dict[str, str], what: str) -> None:
    """Run one of the page's programs or commands as a reader would; it must exit 0."""
    done = subprocess.run(  # noqa: S603 - our interpreter, the doc's scripts and commands, our CLI
        command, cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{what}:\n{done.stdout}\n{done.stderr}"


def _environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DEGCORE_PASSPHRASE"] = "the walk-through's passphrase"  # noqa: S105 - a test's
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # `degcore` as installed
    env.pop("PYTHONPATH", None)  # only what `pip install` put in the environment
    return env


@pytest.mark.slow
def test_the_integration_services_run_role_by_role_each_in_its_own_process(tmp_path: Path) -> None:
    work, scripts = tmp_path / "election", tmp_path / "scripts"
    work.mkdir()
    scripts.mkdir()
    env = _environment(tmp_path)
    for code in SERVICES:
        match = _SCRIPT_NAME.match(code)
        assert match
        script = scripts / match.group(1)
        script.write_text(code, encoding="utf-8")
        _runs([sys.executable, str(script)], work, env, f"{script.name} failed")
    assert (work / "record" / "record.json").is_file()
    # The page's closing commands, as a reader types them: each must exit 0.
    closing = [code for doc, _, code in _blocks("sh") if doc == INTEGRATION][-1]
    for line in closing.splitlines():
        command = line.split("  #")[0].strip()
        if not command:
            continue
        _runs(["/bin/bash", "-c", command], work, env, command)
    _runs([str(Path(sys.executable).parent / "degcore"), "verify", "record"], work, env, "degcore verify")
