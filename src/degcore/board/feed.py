"""The box's live feed: its signed log entries from position N on, as the record will publish them.

docs/integration.md §Publishing the feed. Each line is the canonical JSON of one ``log-entry``
object followed by ``\\n``, byte for byte the line ``box/log.jsonl`` of the record will hold
(:func:`degcore.chain.entry_line`). What is published before voting — the manifest, the ceremony
and the signed setup (box key, issuer keys, policy) — is enough to check every line.

:func:`feed_lines` reads a :class:`~degcore.board.BoxReader` page by page; :func:`feed_app` is a
WSGI application (PEP 3333) an integrator mounts behind any WSGI server, and :func:`serve` runs it
on ``waitress`` (the ``degcore[feed]`` extra). Routes (GET only):

- ``/log?from=N`` — the lines of positions N, N+1, … (N ≥ 1, default 1), at most ``limit``
  (default and most :data:`PAGE_LIMIT`) per answer; an empty body means there is nothing at N yet;
- ``/head`` — ``{"position": n, "hash": hex}`` of the last entry (0 and 64 zeros if none).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

from degcore.board.log import LogEntry
from degcore.board.reader import BoxReader
from degcore.chain import entry_line
from degcore.encoding import canonical_json
from degcore.errors import InvalidInput

__all__ = ["PAGE", "PAGE_LIMIT", "feed_app", "feed_lines", "line_of", "make_server", "serve"]

#: Rows read from the store at a time.
PAGE = 1000
#: Most lines one HTTP answer carries (an observer asks again from the next position).
PAGE_LIMIT = 2_000

StartResponse = Callable[[str, list[tuple[str, str]]], object]
Environ = dict[str, object]


def line_of(entry: LogEntry) -> bytes:
    """The feed's (and the record's) line of one entry: canonical JSON and ``\\n``."""
    return canonical_json(entry_line("log-entry", entry)) + b"\n"


def feed_lines(reader: BoxReader, start: int = 1, limit: int | None = None) -> Iterator[bytes]:
    """The lines of positions ``start``, ``start + 1``, … as they are now (at most ``limit``)."""
    if start < 1:
        raise InvalidInput(f"the feed starts at position 1, not {start}")
    left = limit
    while left is None or left > 0:
        page = reader.entries(start, PAGE if left is None else min(PAGE, left))
        for entry in page:
            yield line_of(entry)
        if len(page) < PAGE:
            return
        start = page[-1].position + 1  # positions may skip (a box that deleted rows): no line twice
        left = None if left is None else left - len(page)


def feed_app(reader: BoxReader) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """The WSGI application serving ``reader``'s log (routes in the module docstring)."""
    lock = threading.Lock()  # one store connection, answered one page at a time

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"}:
            return _answer(start_response, "405 Method Not Allowed", b"GET only\n", "text/plain")
        path = str(environ.get("PATH_INFO") or "/")
        query = parse_qs(str(environ.get("QUERY_STRING") or ""), strict_parsing=False)
        try:
            if path == "/head":
                with lock:
                    position, head = reader.head_position()
                body = canonical_json({"position": position, "hash": head.hex()})
                return _answer(start_response, "200 OK", body, "application/json")
            if path == "/log":
                start = _number(query, "from", 1, 1 << 62)
                limit = _number(query, "limit", PAGE_LIMIT, PAGE_LIMIT)
                with lock:
                    body = b"".join(feed_lines(reader, start, limit))
                return _answer(start_response, "200 OK", body, "application/jsonl")
        except InvalidInput as exc:
            return _answer(start_response, "400 Bad Request", f"{exc}\n".encode(), "text/plain")
        return _answer(start_response, "404 Not Found", b"routes: /log?from=N, /head\n", "text/plain")

    return app


def _number(query: dict[str, list[str]], name: str, default: int, most: int) -> int:
    values = query.get(name)
    if not values:
        return default
    text = values[-1]
    if len(values) != 1 or not text.isascii() or not text.isdigit() or text != str(int(text)):
        raise InvalidInput(f"{name} must be one decimal number without leading zeros")
    value = int(text)
    if not 1 <= value <= most:
        raise InvalidInput(f"{name} must be between 1 and {most}")
    return value


def _answer(start_response: StartResponse, status: str, body: bytes, kind: str) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", kind), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")],
    )
    return [body]


def make_server(reader: BoxReader, host: str, port: int) -> Any:
    """A waitress server of :func:`feed_app` bound to ``host:port`` (0: any free port), not yet running.

    ``server.effective_port`` is the port; ``server.run()`` serves until ``server.close()``.
    """
    try:
        from waitress.server import create_server  # type: ignore[import-untyped]  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InvalidInput("serving the feed needs waitress: pip install 'degcore[feed]'") from exc
    return create_server(feed_app(reader), host=host, port=port, threads=4, ident="degcore")


def serve(reader: BoxReader, host: str, port: int, *, ready: Callable[[int], object] | None = None) -> None:
    """Serve :func:`feed_app` with waitress until interrupted; ``ready(port)`` once it listens."""
    server = make_server(reader, host, port)
    if ready is not None:
        ready(int(server.effective_port))
    try:
        server.run()
    finally:
        server.close()
