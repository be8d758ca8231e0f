"""An observer following a box from a thread while it runs: what ``degcore demo --observe`` uses.

:class:`Watch` publishes the pre-voting files, then polls the box's store from a background thread
(its own read connection) until :meth:`Watch.finish`, which checks what is left and reports.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from degcore.ballot import ElectionContext
from degcore.encoding import JsonValue
from degcore.errors import DegcoreError, VerificationFailed
from degcore.observe.feeds import StoreFeed
from degcore.observe.follow import Observer, load_published, write_published
from degcore.observe.forks import check_observed
from degcore.parallel import SERIAL
from degcore.record import RecordReader, layout

__all__ = ["Watch"]


class Watch:
    """Publish ``context``'s pre-voting files under ``folder/published`` and follow ``box`` from a thread."""

    def __init__(
        self,
        folder: Path,
        box: str | Path,
        context: ElectionContext,
        announcement: Mapping[str, JsonValue] | None = None,
        *,
        interval: float = 0.2,
    ) -> None:
        self.state = folder / "observer"
        published = load_published(write_published(folder / "published", context, announcement))
        self._feed = StoreFeed(box, context)
        self.batches = 0
        self.observer = Observer(published, self.state, self._feed, executor=SERIAL, on_event=self._count)
        self._stop, self._interval = threading.Event(), interval
        self._error: DegcoreError | None = None
        self._thread = threading.Thread(target=self._run, name="degcore-observer", daemon=True)
        self._thread.start()

    def _count(self, event: dict[str, object]) -> None:
        if event["event"] == "batch":
            self.batches += 1

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and self.observer.diverged is None:
                self.observer.poll()
                self._stop.wait(self._interval)
        except DegcoreError as exc:
            self._error = exc

    def finish(self) -> str:
        """Stop following, check the rest of the log; a summary line (raises if anything was wrong)."""
        self._stop.set()
        self._thread.join()
        try:
            if self._error is not None:
                raise self._error
            during = self.observer.checked
            self.observer.poll()
        finally:
            self._feed.close()
        state = self.observer.state
        if self.observer.diverged is not None or state.problems:
            first = state.problems[0] if state.problems else None
            raise VerificationFailed(
                "observer",
                f"entry {first.position if first else self.observer.diverged.position}",  # type: ignore[union-attr]
                first.reason if first else self.observer.diverged.reason,  # type: ignore[union-attr]
            )
        return (
            f"observer: followed the box's feed while voting ran, {state.position} entries checked once each "
            f"({during} while the box was casting) in {self.batches} batches, no problem; "
            f"state in {self.state}"
        )

    def check_record(self, record: Path) -> str:
        """The record's log holds every entry the observer saw (``verify --observed``)."""
        reader = RecordReader(record)
        found = check_observed(reader.lines(layout.LOG), self.state, reader.setup().box_key)
        if found:
            raise VerificationFailed("observer", f"entry {found[0][0]}", found[0][1])
        return f"the record's log holds every entry the observer saw: degcore verify --observed {self.state}"
