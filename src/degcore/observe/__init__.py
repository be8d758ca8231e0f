"""Observers who check the ballot box while voting runs (docs/integration.md §Following the feed).

:class:`Observer` follows a box's feed (:mod:`degcore.board.feed`) with a state folder, checks
every new entry with the verifier's own log pass, and resumes from its state; :func:`check_proof`
re-checks an equivocation proof; :func:`compare_logs` compares two observers' copies and
:func:`check_observed` a record against what an observer saw.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from degcore.observe.feeds import Feed, HttpFeed, StoreFeed, open_feed
    from degcore.observe.follow import Observer, Published, load_published
    from degcore.observe.forks import Divergence, EquivocationProof, check_observed, check_proof, compare_logs
    from degcore.observe.state import ObserverState, Problem

# Imported on first use, so that `degcore.observe.cli` (whose parsers every command builds) costs
# nothing until an observer runs.
_HOMES = {
    "Feed": "feeds",
    "HttpFeed": "feeds",
    "StoreFeed": "feeds",
    "open_feed": "feeds",
    "Observer": "follow",
    "Published": "follow",
    "load_published": "follow",
    "Divergence": "forks",
    "EquivocationProof": "forks",
    "check_observed": "forks",
    "check_proof": "forks",
    "compare_logs": "forks",
    "ObserverState": "state",
    "Problem": "state",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'degcore.observe' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"degcore.observe.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Divergence",
    "EquivocationProof",
    "Feed",
    "HttpFeed",
    "Observer",
    "ObserverState",
    "Problem",
    "Published",
    "StoreFeed",
    "check_observed",
    "check_proof",
    "compare_logs",
    "load_published",
    "open_feed",
]
