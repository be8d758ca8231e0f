"""``python -m degcore`` and the one version source."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import degcore


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "degcore", "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == f"degcore {degcore.__version__}"


def test_the_installed_metadata_carries_the_package_version() -> None:
    assert version("degcore") == degcore.__version__
