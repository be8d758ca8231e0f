"""Where an observer reads the box's feed: the box's store (read only) or its HTTP endpoint.

Both give the same lines (:mod:`degcore.board.feed`): ``lines(start, limit)`` is every line from
position ``start`` on that exists now, at most ``limit`` of them.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from degcore.ballot import ElectionContext
from degcore.board.feed import PAGE_LIMIT, feed_lines
from degcore.board.reader import BoxReader
from degcore.errors import InvalidInput, StorageError
from degcore.storage import parse_location

__all__ = ["Feed", "HttpFeed", "StoreFeed", "open_feed"]

#: Longest single feed line accepted (a ballot of the largest manifest stays far below it).
MAX_LINE = 16 * 1024 * 1024


class Feed(Protocol):
    """A box's feed."""

    def lines(self, start: int, limit: int) -> Iterator[bytes]:
        """The lines from position ``start`` on, as they are now (at most ``limit``)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class StoreFeed:
    """The feed read from the box's store (a SQLite file or a PostgreSQL URL)."""

    def __init__(self, location: str | Path, context: ElectionContext) -> None:
        parsed = parse_location(location, "ballot box")
        if parsed.engine == "sqlite" and not Path(parsed.target).is_file():
            raise InvalidInput(f"{location}: no ballot box store there (an observer never creates one)")
        self._reader = BoxReader(location, context)

    def lines(self, start: int, limit: int) -> Iterator[bytes]:
        """The store's lines from ``start`` on (at most ``limit``)."""
        return feed_lines(self._reader, start, limit)

    def close(self) -> None:
        """Close the store."""
        self._reader.close()


class HttpFeed:
    """The feed served over HTTP (``degcore board serve`` or an integrator's mount of ``feed_app``)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.query or parsed.fragment:
            raise InvalidInput(f"feed URL {url!r}: expected http(s)://host[:port][/prefix]")
        self._base = url.rstrip("/")
        self._timeout = timeout

    def lines(self, start: int, limit: int) -> Iterator[bytes]:
        """GET ``/log?from=start&limit=…`` (pages of at most :data:`PAGE_LIMIT`)."""
        left = limit
        while left > 0:
            page = self._page(start, min(left, PAGE_LIMIT))
            yield from page
            if len(page) < min(left, PAGE_LIMIT):
                return
            start, left = _position(page[-1]) + 1, left - len(page)

    def _page(self, start: int, limit: int) -> list[bytes]:
        url = f"{self._base}/log?from={start}&limit={limit}"
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as answer:  # noqa: S310 - http(s) only
                if answer.status != 200:
                    raise StorageError(f"{url}: HTTP {answer.status}")
                body = answer.read(limit * MAX_LINE + 1)
        except urllib.error.HTTPError as exc:
            raise StorageError(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise StorageError(f"the feed at {self._base} cannot be read: {exc}") from None
        if body and not body.endswith(b"\n"):
            raise InvalidInput(f"{url}: the answer does not end with a complete line")
        lines: list[bytes] = bytes(body).splitlines(keepends=True)
        return lines

    def close(self) -> None:
        """Nothing held between requests."""


def _position(line: bytes) -> int:
    """The position a feed line names (the next page starts after it; the line is checked later)."""
    try:
        position = json.loads(line).get("position")
    except (ValueError, AttributeError):
        position = None
    if type(position) is not int or position < 1:
        raise InvalidInput("the feed's last line of a full page names no position")
    return position


def open_feed(location: str, context: ElectionContext) -> Feed:
    """An ``http(s)://`` URL → :class:`HttpFeed`; a store location → :class:`StoreFeed`."""
    if location.startswith(("http://", "https://")):
        return HttpFeed(location)
    return StoreFeed(location, context)
