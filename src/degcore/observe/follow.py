"""``Observer``: follow a box's feed and check every entry as it arrives, in batches.

docs/integration.md §Following the feed. The published files (manifest, ceremony, signed setup:
:func:`load_published`) give the context, the issuer keys, the box key and its policy. Each
batch of new lines goes through the verifier's own log pass (:func:`degcore.verify.ballots.scan_log`,
continued from the state): position, link, hash, box signature, time order, the ballot's
credential, signature and proofs, opened challenges. The observer then applies, across batches,
the one-ballot-per-credential rule of the policy (V7), the challenge rule (V8) and the closing
entry's counts (V5). A bad entry is a :class:`~degcore.observe.state.Problem` and the observer
goes on.

Before each batch it re-reads the entry at its last checked position: if the feed no longer
holds that exact line, the box rewrote or truncated what was observed. The observer then finds
the first position where the feed and its mirror differ (:class:`~degcore.observe.forks.Divergence`),
writes an equivocation proof if the box signed both entries there, and stops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from degcore.ballot import ElectionContext
from degcore.board.cast import Policy
from degcore.encoding import JsonValue, from_rfc3339, to_rfc3339
from degcore.errors import InvalidInput
from degcore.observe.feeds import Feed
from degcore.observe.forks import Divergence, diverge
from degcore.observe.state import (
    MIRROR,
    ObserverState,
    Problem,
    append_mirror,
    last_line,
    load_state,
    mirror_entries,
    save_state,
)
from degcore.record import RecordWriter, layout, load_context
from degcore.verify.ballots import LogFacts, scan_log

__all__ = ["BATCH", "Observer", "Published", "load_published", "write_published"]

#: Most lines checked in one batch (the verifier's log pass splits it over the workers).
BATCH = 8192

Event = dict[str, object]


@dataclass(frozen=True, slots=True)
class Published:
    """What the observer needs from the files published before voting."""

    context: ElectionContext
    issuer_pems: dict[str, bytes]
    box_key: bytes
    policy: Policy


def load_published(folder: str | Path) -> Published:
    """The manifest, ceremony and signed setup of ``folder`` (the record's layout), each checked."""
    context = load_context(folder)
    setup = context.setup
    if setup is None:  # pragma: no cover - load_context always reads the setup
        raise InvalidInput(f"{folder}: no signed setup")
    if setup.box_policy not in {p.value for p in Policy}:
        raise InvalidInput(f"{folder}: unknown box policy {setup.box_policy!r}")
    pems = {style: pem.encode() for style, pem in setup.issuer_keys.items()}
    return Published(context, pems, setup.box_key, Policy(setup.box_policy))


def write_published(
    folder: str | Path, context: ElectionContext, announcement: Mapping[str, JsonValue] | None = None
) -> Path:
    """Publish, in the new folder ``folder``, what observers need before voting opens.

    The manifest, the ceremony (configuration, messages, result), the signed setup and, if given,
    the signed announcement, in the record's layout (docs/record.md) and bytes.
    """
    if context.setup is None:
        raise InvalidInput("the context has no signed setup: publish it after the authority signs it")
    writer = RecordWriter(folder)
    ceremony = context.ceremony
    config = ceremony.config
    writer.json(layout.MANIFEST, context.manifest.to_json())
    if announcement is not None:
        writer.json(layout.ANNOUNCEMENT, dict(announcement))
    writer.json(layout.CONFIG, config.to_json())
    writer.lines(layout.COMMITMENTS, (m.to_json(config) for m in ceremony.commitments))
    writer.lines(layout.COMPLAINTS, (c.to_json(config) for c in ceremony.complaints))
    writer.lines(layout.ANSWERS, (a.to_json(config) for a in ceremony.answers))
    writer.json(layout.DKG_RESULT, ceremony.to_json())
    writer.json(layout.SETUP, context.setup.to_json())
    return Path(folder)


class Observer:
    """One observer's run over ``feed`` with the state folder ``folder``.

    ``on_event`` receives every event (``start``, ``batch``, ``problem``, ``closed``,
    ``diverged``); ``checked`` counts the entries this run checked.
    """

    def __init__(
        self,
        published: Published,
        folder: str | Path,
        feed: Feed,
        *,
        executor: Executor | None = None,
        on_event: Callable[[Event], object] | None = None,
        batch: int = BATCH,
    ) -> None:
        if batch < 1:
            raise InvalidInput("the batch size must be positive")
        self.published, self.folder, self.feed = published, Path(folder), feed
        self.executor, self.batch = executor, batch
        self._emit = on_event or (lambda event: None)
        self.state: ObserverState = load_state(self.folder, published.context.base_hash, published.box_key)
        self.checked = 0
        self.diverged: Divergence | None = None
        self._head = last_line(self.folder / MIRROR) if self.state.position else b""
        self._audits = {"resumed": self.state.position > 0, "closed": self.state.closed is None}
        self._emit({"event": "start", "position": self.state.position, "head": self.state.hash.hex()})

    @property
    def closed(self) -> bool:
        """True once the closing entry has been checked."""
        return self.state.closed is not None

    def poll(self) -> int:
        """Check every entry the feed holds now; the number checked (stops at a divergence)."""
        done = 0
        if self._audits["resumed"]:  # a restart: the whole history seen so far, byte for byte
            self._audits["resumed"] = False
            self.audit()
        while self.diverged is None:
            lines = self._next_lines()
            if not lines:
                break
            self._check(lines)
            done += len(lines)
        if self.closed and self._audits["closed"]:  # once the box closed: everything, once more
            self._audits["closed"] = False
            self.audit()
        return done

    def _next_lines(self) -> list[bytes]:
        """The next batch, after confirming that the feed still holds the last checked line."""
        if not self.state.position:
            return list(self.feed.lines(1, self.batch))
        lines = list(self.feed.lines(self._head_position(), self.batch + 1))
        if not lines or lines[0] != self._head:
            self._locate()
            return []
        return lines[1:]

    def _head_position(self) -> int:
        for entry, _ in mirror_entries([self._head], MIRROR):
            if entry is not None:
                return entry.position
        return self.state.position

    def _check(self, lines: list[bytes]) -> None:
        state, published = self.state, self.published
        first = state.position + 1
        found: list[Problem] = []

        def problem(check_id: str, item: str, reason: str) -> None:
            number = item.rsplit(" ", 1)[-1]
            position = int(number) if number.isdigit() else first
            found.append(Problem(position, check_id, reason))

        facts = LogFacts(
            entries=state.position,
            closed=state.closed,
            last_at=from_rfc3339(state.last_at) if state.last_at else None,
        )
        was_closed = state.closed is not None
        scan_log(
            published.context,
            published.issuer_pems,
            published.box_key,
            lines,
            problem,
            executor=self.executor,
            facts=facts,
            prev=state.hash,
        )
        self._rules(facts, problem)
        head = next(iter(mirror_entries(lines[-1:], "feed")))[0]
        state.position = facts.entries
        state.hash = head.hash if head is not None else b""
        state.last_at = to_rfc3339(facts.last_at) if facts.last_at is not None else state.last_at
        state.closed = facts.closed  # type: ignore[assignment]
        if facts.closed is not None and not was_closed:
            self._close(facts, lines, problem)
        found.sort(key=lambda p: p.position)
        state.problems.extend(found)
        state.mirror_bytes += append_mirror(self.folder, lines)
        save_state(self.folder, state)
        self._head = lines[-1]
        self.checked += len(lines)
        for p in found:
            self._emit({"event": "problem", **p.to_json()})
        self._emit(
            {
                "event": "batch",
                "first": first,
                "last": state.position,
                "head": state.hash.hex(),
                "problems": len(state.problems),
            }
        )
        if state.closed is not None and not was_closed:
            self._emit({"event": "closed", "position": state.position})

    def _rules(self, facts: LogFacts, problem: Callable[[str, str, str], None]) -> None:
        """V7 (one ballot per credential under the policy) and V8 (a challenged ballot is never cast)."""
        state = self.state
        for position, credential, code, _ in facts.ballots:
            earlier = state.credentials.get(credential)
            if earlier is not None and self.published.policy is Policy.FIRST:
                problem("V7", f"entry {position}", f"credential already cast at entry {earlier}")
            else:
                state.credentials[credential] = position
            if code in state.challenged:
                problem(
                    "V8",
                    f"entry {position}",
                    f"casts the ballot challenged at entry {state.challenged[code]}",
                )
            state.cast[code] = position
        for code, position in facts.challenged.items():
            if code in state.cast:
                problem("V8", f"entry {state.cast[code]}", f"casts the ballot challenged at entry {position}")
            state.challenged[code] = position
        state.challenge_entries += facts.challenge_entries

    def _close(self, facts: LogFacts, lines: list[bytes], problem: Callable[[str, str, str], None]) -> None:
        """V5's closing entry: its counts are the log's, and it comes after voting ends."""
        summary, state = facts.closed, self.state
        closing = [line for line in lines if b'"kind":"close"' in line]
        entry = next(iter(mirror_entries(closing[:1], "feed")), (None, b""))[0]
        item = f"entry {entry.position if entry is not None else state.position}"
        if not isinstance(summary, dict) or set(summary) != {"type", "counted", "challenged"}:
            problem("V5", item, "the closing entry's payload must have exactly type, counted and challenged")
        elif (summary["counted"], summary["challenged"]) != (len(state.credentials), state.challenge_entries):
            problem("V5", item, "the closing entry's counts differ from the log's")
        if facts.closed_at is not None and facts.closed_at < self.published.context.manifest.voting_ends:
            problem("V5", item, "closes the box before voting ends")

    def audit(self) -> Divergence | None:
        """Re-read the feed up to the last checked position; compare it byte for byte with the mirror.

        Nothing is checked again: a line that differs is what a rewritten, reordered or truncated
        history looks like (also in the middle, where the head is unchanged). The first differing
        position is :attr:`diverged` (with an equivocation proof written if the box signed both).
        """
        if not self.state.position or self.diverged is not None:
            return self.diverged
        found: Divergence | None = None
        with (self.folder / MIRROR).open("rb") as mirror:
            theirs = self.feed.lines(1, self.state.position)
            for position, mine in enumerate(mirror, start=1):
                other = next(theirs, None)
                if other is None:
                    why = f"the feed ends before position {position}, which was observed"
                    found = Divergence(position, why, None)
                    break
                if mine != other:
                    (ours, _), (got, _) = (next(mirror_entries([line], "feed")) for line in (mine, other))
                    found = diverge(position, ours, got, self.published.box_key, "the feed")
                    break
        if found is not None:
            self._diverge(found)
        return found

    def _locate(self) -> None:
        """The feed no longer holds the last checked line: find where it and the mirror part."""
        if self.audit() is None:  # pragma: no cover - the head line differed, so some line does
            self._diverge(Divergence(self.state.position, "the feed changed its last observed entry", None))

    def _diverge(self, found: Divergence) -> None:
        self.diverged = found
        proof = None
        if found.proof is not None:
            proof = str(found.proof.write(self.folder / f"equivocation-{found.position}.json"))
        self._emit({"event": "diverged", "position": found.position, "reason": found.reason, "proof": proof})
