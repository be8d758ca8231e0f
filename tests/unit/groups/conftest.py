"""The two paths of ristretto255's public operations: the native extension and libsodium alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from degcore.groups.ristretto255 import RISTRETTO255, native_module

NATIVE = native_module()


@pytest.fixture(params=["native", "pure"])
def ristretto_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once on the native path and once on the pure (rbcl) path, then restore."""
    if request.param == "native" and NATIVE is None:
        pytest.skip("native extension not built or DEGCORE_NATIVE=0")
    saved = RISTRETTO255._native
    RISTRETTO255.use_native(NATIVE if request.param == "native" else None)
    try:
        yield request.param
    finally:
        RISTRETTO255.use_native(saved)
