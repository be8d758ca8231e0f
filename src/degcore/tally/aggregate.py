"""Homomorphic aggregation: the product of each option's ciphertexts over all counted ballots."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from itertools import islice

from degcore.ballot import ElectionContext, EncryptedBallot
from degcore.elgamal import Ciphertext
from degcore.elgamal._codec import json_list
from degcore.encoding import JsonValue, from_hex, read_record, record_header
from degcore.errors import InvalidInput
from degcore.groups import Element, Group
from degcore.parallel import per_chunk

__all__ = ["Columns", "EncryptedTally", "TallyKey", "aggregate", "multiply_into"]

#: (ballot style, contest): ballots of different styles are tallied apart, so that a district
#: with its own style gets its own result.
TallyKey = tuple[str, str]
#: Ballots per chunk: big enough that the pool's round trip is noise, small enough to stream.
CHUNK = 4096


@dataclass(frozen=True, slots=True)
class EncryptedTally:
    """Per (style, contest): the product of each option's ciphertexts and how many ballots went in."""

    totals: dict[TallyKey, tuple[Ciphertext, ...]]
    ballots: dict[str, int]  # per style

    def order(self) -> list[TallyKey]:
        """The tallied (style, contest) pairs in a fixed order."""
        return sorted(self.totals)

    def ciphertexts(self) -> list[Ciphertext]:
        """Every option total in :meth:`order`, options in manifest order: what trustees decrypt."""
        return [ct for key in self.order() for ct in self.totals[key]]

    def to_json(self) -> dict[str, JsonValue]:
        """The canonical JSON object (``tally/encrypted_tally.json`` in the record)."""
        return {
            **record_header("encrypted-tally"),
            "ballots": dict(sorted(self.ballots.items())),
            "totals": [
                {
                    "style": style,
                    "contest": contest,
                    "ciphertexts": [bytes(ct).hex() for ct in self.totals[(style, contest)]],
                }
                for style, contest in self.order()
            ],
        }

    @classmethod
    def from_json(cls, context: ElectionContext, obj: object) -> EncryptedTally:
        """Parse ``tally/encrypted_tally.json`` strictly (the same as :func:`tally_from_json`)."""
        return tally_from_json(context, obj)


#: What aggregation needs of a ballot (proofs stay behind: they were checked at casting).
_Columns = tuple[str, tuple[tuple[str, tuple[Ciphertext, ...]], ...]]


def _columns(ballot: EncryptedBallot, homomorphic: frozenset[str]) -> _Columns:
    return ballot.style_id, tuple(
        (c.contest_id, c.ciphertexts) for c in ballot.contests if c.contest_id in homomorphic
    )


class Columns:
    """Rows of elements per tally key, multiplied column by column once all are in.

    One ``group.product`` per column instead of one multiplication per row: natively on
    ristretto255 that is a decode and an addition per element, against a libsodium addition
    that decodes two points and encodes one.
    """

    def __init__(self) -> None:
        self._slots: dict[TallyKey, list[list[Element]]] = {}

    def add(self, key: TallyKey, elements: Sequence[Element]) -> None:
        """One more row under ``key`` (every row of a key has the same length)."""
        slots = self._slots.setdefault(key, [[] for _ in elements])
        if len(slots) != len(elements):
            raise InvalidInput(f"tally {key}: a row of {len(elements)} elements, expected {len(slots)}")
        for slot, element in zip(slots, elements, strict=True):
            slot.append(element)

    def products(self, group: Group) -> dict[TallyKey, list[Element]]:
        """Per key, the product of each column."""
        return {key: [group.product(slot) for slot in slots] for key, slots in self._slots.items()}


def _partial(
    group: Group, ballots: Sequence[_Columns]
) -> tuple[dict[TallyKey, list[Element]], dict[str, int]]:
    """One chunk's products: per key, [a_1, b_1, a_2, b_2, …] over the chunk; ballots per style."""
    columns = Columns()
    counts: dict[str, int] = {}
    for style, contests in ballots:
        counts[style] = counts.get(style, 0) + 1
        for contest_id, cts in contests:
            columns.add((style, contest_id), [e for ct in cts for e in (ct.a, ct.b)])
    return columns.products(group), counts


def tally_from_json(context: ElectionContext, obj: object) -> EncryptedTally:
    """Parse ``tally/encrypted_tally.json`` strictly (elements decoded with membership checks)."""
    f = read_record(obj, "encrypted-tally", {"ballots", "totals"})
    group = context.group
    ballots = f["ballots"]
    if not isinstance(ballots, dict) or not all(type(n) is int and n >= 0 for n in ballots.values()):
        raise InvalidInput("encrypted-tally: ballots must map styles to counts")
    totals: dict[TallyKey, tuple[Ciphertext, ...]] = {}
    for i, item in enumerate(json_list(f["totals"], "totals")):
        if not isinstance(item, dict) or set(item) != {"style", "contest", "ciphertexts"}:
            raise InvalidInput(f"encrypted-tally: totals[{i}] needs style, contest, ciphertexts")
        cts = tuple(
            Ciphertext.decode(group, from_hex(c, 2 * group.element_bytes, f"totals[{i}]"))
            for c in json_list(item["ciphertexts"], f"totals[{i}].ciphertexts")
        )
        totals[(str(item["style"]), str(item["contest"]))] = cts
    return EncryptedTally(totals, {str(k): int(v) for k, v in ballots.items()})


def multiply_into(
    group: Group, products: dict[TallyKey, list[Element]], key: TallyKey, values: list[Element]
) -> None:
    """products[key] ← products[key] · values, element-wise (values alone if key is new)."""
    current = products.get(key)
    products[key] = (
        values if current is None else [group.mul(x, y) for x, y in zip(current, values, strict=True)]
    )


def aggregate(
    context: ElectionContext, ballots: Iterable[EncryptedBallot], *, executor: Executor | None = None
) -> EncryptedTally:
    """Multiply every option's ciphertexts over ``ballots`` (streamed in chunks, in parallel)."""
    group = context.group
    manifest = context.manifest
    acc: dict[TallyKey, list[Element]] = {}
    counts: dict[str, int] = {}
    iterator = iter(ballots)
    work = functools.partial(_partial, group)
    homomorphic = frozenset(c.contest_id for c in manifest.contests if c.tally == "homomorphic")
    while batch := [_columns(b, homomorphic) for b in islice(iterator, CHUNK * 8)]:
        for products, chunk_counts in per_chunk(work, batch, executor=executor, chunk_size=CHUNK):
            for style, n in chunk_counts.items():
                counts[style] = counts.get(style, 0) + n
            for key, values in products.items():
                multiply_into(group, acc, key, values)
    totals: dict[TallyKey, tuple[Ciphertext, ...]] = {}
    for ballot_style in manifest.styles:  # every contest gets a total, also with no ballots (Enc(0; 0))
        for contest_id in (c for c in ballot_style.contests if c in homomorphic):
            options = len(manifest.contest(contest_id).options)
            key = (ballot_style.style_id, contest_id)
            values = acc.get(key) or [group.identity()] * (2 * options)
            totals[key] = tuple(Ciphertext(values[2 * i], values[2 * i + 1]) for i in range(options))
        counts.setdefault(ballot_style.style_id, 0)
    return EncryptedTally(totals, counts)
