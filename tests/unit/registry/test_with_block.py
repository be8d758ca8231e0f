"""The registry is a context manager: its connections close at the end of the block."""

from __future__ import annotations

import pytest

from tests.unit.registry.conftest import NOW, VOTERS, open_registry


def test_the_registry_closes_at_the_end_of_a_with_block(store_location: str) -> None:
    with open_registry(store_location) as registry:
        registry.import_voters(VOTERS, now=NOW)
    with pytest.raises(Exception):  # noqa: B017 - the closed store's own error
        registry.import_voters(VOTERS, now=NOW)
    with open_registry(store_location) as again:  # what was committed is still there
        assert again.public_key == registry.public_key
