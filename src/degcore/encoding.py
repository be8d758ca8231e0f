"""Canonical encodings: fixed-length lowercase hex and RFC 8785 canonical JSON (docs/record.md).

One value has one spelling. Writers emit it; readers reject every other spelling with
:class:`~degcore.errors.NonCanonical` (uppercase hex, wrong length, floats, ``null`` fields).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import rfc8785

from degcore.errors import InvalidInput, NonCanonical, UnsupportedFormat

__all__ = [
    "FORMAT",
    "JsonValue",
    "canonical_json",
    "from_hex",
    "from_rfc3339",
    "parse_canonical",
    "plain_canonical_json",
    "read_record",
    "record_header",
    "to_hex",
    "to_rfc3339",
]

#: The format every degcore record object carries in its ``"format"`` field.
FORMAT = "degcore/4"

JsonValue = str | int | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"]

_MAX_SAFE_INT = 2**53 - 1


def to_hex(data: bytes) -> str:
    """Lowercase hex of ``data``."""
    return data.hex()


def from_hex(text: object, length: int, what: str = "value") -> bytes:
    """Decode exactly ``length`` bytes from lowercase hex; anything else raises."""
    if not isinstance(text, str):
        raise InvalidInput(f"{what}: expected a hex string, got {type(text).__name__}")
    if len(text) != 2 * length:
        raise NonCanonical(f"{what}: expected {2 * length} hex digits, got {len(text)}")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise NonCanonical(f"{what}: not lowercase hex") from None
    # fromhex also reads upper case and skips spaces (then fewer bytes come out): both refused.
    if len(data) != length or text.lower() != text:
        raise NonCanonical(f"{what}: not lowercase hex")
    return data


def _problem(value: object, path: str) -> str | None:
    """Where and why ``value`` has no canonical form (slow; only called once something is wrong)."""
    if value is None:
        return f"{path}: null is not allowed; omit optional fields instead"
    if isinstance(value, float):
        return f"{path}: floats are not allowed in degcore records"
    if isinstance(value, bool | str):
        return None
    if isinstance(value, int):
        return (
            None
            if abs(value) <= _MAX_SAFE_INT
            else f"{path}: integer {value} outside ±(2^53−1); encode it as hex"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: object keys must be strings"
            found = _problem(item, f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _problem(item, f"{path}[{i}]")
            if found:
                return found
        return None
    return f"{path}: {type(value).__name__} has no canonical JSON form"


def _plain(value: object) -> bool:
    """True if ``value`` is valid and ``json.dumps`` writes exactly its RFC 8785 form; False otherwise.

    Python's encoder (sorted keys, no spaces, no ASCII escaping) and RFC 8785 agree on strings,
    integers and booleans; they differ only in key order for keys with characters above U+FFFF
    (RFC 8785 sorts by UTF-16 code units), and Python writes only real dicts.
    """
    if isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return abs(value) <= _MAX_SAFE_INT
    if type(value) is dict:
        return all(
            isinstance(k, str) and (k.isascii() or max(k) <= "\uffff") and _plain(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return False


def canonical_json(value: JsonValue) -> bytes:
    """RFC 8785 canonical bytes of ``value`` (no floats, no nulls, integers within ±(2^53−1)).

    The C JSON encoder writes the bytes when it provably agrees with RFC 8785 (see :func:`_plain`),
    which is 20× faster; anything else goes through the ``rfc8785`` package, the reference.
    """
    try:
        if _plain(value):
            return plain_canonical_json(value)
    except UnicodeEncodeError:
        raise InvalidInput("strings must be valid Unicode (no lone surrogates)") from None
    problem = _problem(value, "$")
    if problem:
        raise (NonCanonical if "null" in problem or "float" in problem else InvalidInput)(problem)
    return bytes(rfc8785.dumps(value))


def parse_canonical(data: bytes, what: str) -> object:
    """Parse bytes that must be exactly the canonical JSON of one object (one spelling per record).

    Malformed JSON, invalid UTF-8, nesting too deep for the parser, and any other spelling of a
    value (spaces, escapes, ``6.0`` for ``6``, duplicate keys, another key order) raise.
    """
    fast = _Plainness()
    try:
        obj = json.loads(data, parse_int=fast.integer, parse_float=fast.number, parse_constant=fast.number)
    except RecursionError:
        raise InvalidInput(f"{what}: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what}: not JSON ({exc})") from None
    if fast.holds(data):
        # Nothing that _plain refuses can be in it, so the C encoder's bytes are the RFC 8785 ones.
        try:
            again = plain_canonical_json(obj)
        except (RecursionError, UnicodeEncodeError):
            again = None  # the general path below says why
        if again is not None:
            if again != data:
                raise NonCanonical(f"{what}: not the canonical JSON bytes of its object (RFC 8785)")
            return obj
    try:
        again = canonical_json(obj)
    except RecursionError:
        raise InvalidInput(f"{what}: nested too deeply") from None
    except InvalidInput as exc:
        raise NonCanonical(f"{what}: {exc}") from None
    if again != data:
        raise NonCanonical(f"{what}: not the canonical JSON bytes of its object (RFC 8785)")
    return obj


class _Plainness:
    """Whether parsed bytes can hold only what ``json.dumps`` writes as RFC 8785 does (see _plain).

    The parser reports every float, NaN/Infinity and integer token to it (an integer of 16 digits
    or more may pass 2^53); the bytes tell the rest: ASCII only (so no key sorts differently in
    UTF-16 and no string is a lone surrogate once written) and no ``null`` anywhere. A string
    that merely contains ``null`` sends a line down the general path, which decides exactly.
    (A regular expression over the bytes for long integers cost more than the parse itself.)
    """

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False

    def number(self, text: str) -> float:
        """The parser's hook for a float or NaN/Infinity: noted, and parsed as the default does."""
        self.seen = True
        return float(text)

    def integer(self, text: str) -> int:
        """The parser's hook for an integer: a long one is noted, and parsed as the default does."""
        if len(text) >= 16:
            self.seen = True
        return int(text)

    def holds(self, data: bytes) -> bool:
        return not self.seen and data.isascii() and b"null" not in data


def plain_canonical_json(value: JsonValue) -> bytes:
    """:func:`canonical_json` without its check, for a value known to pass it: only the C encoder runs.

    Known means: a part of what :func:`parse_canonical` returned (a part of a canonical document
    is canonical as it stands), or an object written from fixed ASCII keys, hex, ids and small
    integers (a ballot's or a credential's own ``to_json``). Anything else: :func:`canonical_json`.
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def member_bytes(document: bytes, key: str, next_key: str) -> bytes:
    """The canonical bytes of member ``key`` of a canonical JSON object, cut out of ``document``.

    The same bytes as :func:`plain_canonical_json` of that member's value, without writing them
    again. In canonical bytes every quote inside a string is escaped, so ``,"name":`` occurs only
    where an object member ``name`` begins (a first member begins ``{"name":``). The caller must
    know, from a strict parse of ``document``, that ``key`` is a top-level member whose earlier
    members hold only strings and numbers, and that ``next_key`` is the member after it and no
    object from there on holds a member ``next_key`` (so its last occurrence is the top-level one).
    """
    first, later = f'{{"{key}":'.encode(), f',"{key}":'.encode()  # the same length
    if document.startswith(first):
        start = len(first)
    else:
        start = document.find(later)
        if start < 0:
            raise InvalidInput(f"no member {key!r} in the document")
        start += len(later)
    end = document.rfind(f',"{next_key}":'.encode())
    if end < start:
        raise InvalidInput(f"no member {next_key!r} after {key!r} in the document")
    return document[start:end]


def record_header(record_type: str) -> dict[str, str]:
    """The two fields every record object starts with: ``format`` and ``type``."""
    return {"format": FORMAT, "type": record_type}


def read_record(obj: object, record_type: str, keys: set[str]) -> dict[str, object]:
    """Check ``obj`` is a ``degcore/4`` ``record_type`` object with exactly ``keys`` besides the header."""
    if not isinstance(obj, Mapping):
        raise InvalidInput(f"{record_type}: expected a JSON object, got {type(obj).__name__}")
    if obj.get("format") != FORMAT:
        raise UnsupportedFormat(f"{record_type}: format {obj.get('format')!r} is not {FORMAT!r}")
    if obj.get("type") != record_type:
        raise InvalidInput(f"expected a {record_type!r} object, got type {obj.get('type')!r}")
    expected = keys | {"format", "type"}
    missing, unknown = expected - obj.keys(), obj.keys() - expected
    if missing or unknown:
        raise InvalidInput(
            f"{record_type}: missing fields {sorted(missing)}, unknown fields {sorted(unknown)}"
        )
    return dict(obj)


_RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z", re.ASCII)


def to_rfc3339(moment: datetime) -> str:
    """An aware datetime as RFC 3339 UTC: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("times in records must be timezone-aware")
    utc = moment.astimezone(UTC)
    # Not strftime: its %Y does not pad a year below 1000 to the four digits RFC 3339 requires.
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    return f"{text}.{utc.microsecond:06d}Z" if utc.microsecond else f"{text}Z"


def _not_rfc3339(text: object) -> str:
    return f"expected RFC 3339 UTC like 2026-09-18T05:00:00Z, got {text!r}"


@functools.lru_cache(maxsize=256)
def _read_time(text: str) -> datetime | tuple[type[InvalidInput], str]:
    """The instant ``text`` spells canonically, or why it is refused (the error and its reason).

    Cached: a log line's time is read by the entry's parser, the scan and the window check.
    """
    if not _RFC3339_UTC.fullmatch(text):
        return NonCanonical, _not_rfc3339(text)
    try:
        moment = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        return InvalidInput, f"{text!r} is not a real time"
    if to_rfc3339(moment) != text:
        return NonCanonical, f"{text!r} is not the canonical spelling"
    return moment


def from_rfc3339(text: object, what: str = "time") -> datetime:
    """Parse :func:`to_rfc3339` output strictly (UTC, ``Z``, one spelling per instant)."""
    if not isinstance(text, str):
        raise NonCanonical(f"{what}: {_not_rfc3339(text)}")
    read = _read_time(text)
    if isinstance(read, datetime):
        return read
    error, reason = read
    raise error(f"{what}: {reason}")
