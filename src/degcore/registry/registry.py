"""The registry: voter list, applications for remote voting, confirmation codes, audit, retention.

docs/architecture.md §2 step 3, REQUIREMENTS.md §1–§2 (R1–R22, R25), docs/registry.md. Every public
method is one transaction that also appends its audit entry; a refused action is rolled back and
then recorded as refused. ``now`` is always a parameter (aware datetime). Status changes are
reported to the ``on_event`` callback after their commit; the registry sends nothing itself.
One voter, one channel (:mod:`degcore.registry.channel`): confirmation puts the voter on the
remote list, a credential claim is recorded with its checks, and after it the voter can neither
withdraw nor vote on paper.

Voter keys (docs/registry.md "Voter keys"): the application carries the Ed25519 public key the
voter's device made; the one-time code confirms it with the application, and confirmation enrolls
it under a pseudonymous voter reference (:func:`degcore.issuance.log.voter_reference`, salt drawn
here) with a signed :class:`~degcore.issuance.enrollment.EnrollmentReceipt`. A key is enrolled for
one voter only; a lost device is replaced only through a new code (:meth:`Registry.request_key_change`,
:meth:`Registry.confirm_key_change`), before the freeze and before any credential claim. Every
change is audited.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from nacl.signing import SigningKey

from degcore.errors import (
    DegcoreError,
    Ineligible,
    IneligibleReason,
    InvalidInput,
    Rule,
    RuleViolation,
    StorageError,
    VerificationFailed,
    reason_code,
)
from degcore.ids import check_id
from degcore.issuance.enrollment import Enrollment, EnrollmentReceipt, check_voter_key
from degcore.issuance.log import SALT_BYTES, voter_reference
from degcore.registry import audit, channel, codes, fields, voters
from degcore.registry.model import (
    CONSENT_KINDS,
    FORM_OPTIONAL,
    FORM_REQUIRED,
    Application,
    ElectionSettings,
    StatusChanged,
    Transition,
    reasons_of,
)
from degcore.registry.publish import Publishing
from degcore.registry.schedule import require_aware
from degcore.registry.status import TRANSITIONS, RejectionReason, Status
from degcore.registry.store import ACTIVE_SQL, open_store
from degcore.storage import PostgresOptions, SqliteOptions, StoreService, Transaction

__all__ = ["CONSENT_KINDS", "Application", "ElectionSettings", "Registry", "StatusChanged", "Transition"]

T = TypeVar("T")
_log = logging.getLogger("degcore.registry")


@dataclass(frozen=True, slots=True)
class _Refused:
    """A refusal whose side effects must still be committed (a wrong one-time code)."""

    error: DegcoreError
    outcome: str


def _describe(exc: DegcoreError) -> str:
    code = getattr(exc, "rule", None) or getattr(exc, "reason", None) or getattr(exc, "check", None)
    return f"{type(exc).__name__}({code})" if code else type(exc).__name__


class Registry(Publishing, StoreService):
    """The registration service's model over one store (a SQLite file or a PostgreSQL schema).

    ``code_key`` (≥ 32 random bytes) keys the one-time codes; ``signing_key`` (Ed25519) is the
    registry's own: it signs the audit head, the frozen remote list and its counts, and its
    public half (:attr:`public_key`) is published. Both live outside the database.
    ``postgres`` and ``sqlite`` are the store engine's options (time bounds; docs/deployment.md):
    a process importing a large voter list in one operation passes a larger ``operation_timeout``.
    """

    def __init__(
        self,
        path: str | Path,
        settings: ElectionSettings,
        *,
        code_key: bytes,
        signing_key: SigningKey,
        on_event: Callable[[StatusChanged], None] | None = None,
        postgres: PostgresOptions | None = None,
        sqlite: SqliteOptions | None = None,
    ) -> None:
        codes.code_mac(code_key, "", "")  # checks the key length
        if not isinstance(signing_key, SigningKey):
            raise InvalidInput("the registry's signing_key must be a nacl.signing.SigningKey (Ed25519)")
        self.settings = settings
        self._code_key = code_key
        self._signing_key = signing_key
        self._on_event = on_event
        self._events: list[StatusChanged] = []
        self._store = open_store(path, postgres=postgres, sqlite=sqlite)

    # --- plumbing -------------------------------------------------------------------------
    def _run(
        self, now: datetime, actor: str, action: str, subject: str, work: Callable[[Transaction], T]
    ) -> T:
        """One transaction with its audit entry; a refusal is rolled back, then audited as refused.

        ``work`` may instead return :class:`_Refused`: its changes (a failure counter) are kept,
        the audit entry records the outcome, and its error is raised after the commit.
        """
        require_aware(now)
        events: list[StatusChanged] = []
        self._events = events
        try:
            with self._store.write() as conn:
                result = work(conn)
                outcome = result.outcome if isinstance(result, _Refused) else "ok"
                audit.append(conn, now, actor=actor, action=action, subject=subject, result=outcome)
        except StorageError:
            # The store failed (a full disk, a lost server): nothing was refused and nothing was
            # written, so no "refused" entry either; a second write on a failing store would only
            # fail again or, where one page still had room, audit a refusal that never happened
            # (tests/integration/test_disk_full.py). The caller retries the identical request.
            raise
        except DegcoreError as exc:
            with self._store.write() as conn:
                refused = f"refused: {_describe(exc)}"
                audit.append(conn, now, actor=actor, action=action, subject=subject, result=refused)
            _log.info("registry %s refused: %s", action, reason_code(exc))
            raise
        if isinstance(result, _Refused):
            _log.info("registry %s refused: %s", action, reason_code(result.error))
            raise result.error
        for event in events:
            _log.info("application %s: %s -> %s", event.number, event.old or "new", event.new)
            if self._on_event is not None:
                self._on_event(event)
        return result

    def _move(
        self,
        conn: Transaction,
        app: Application,
        to: Status,
        *,
        now: datetime,
        actor: str,
        reasons: Sequence[RejectionReason] = (),
    ) -> Application:
        if to not in TRANSITIONS[app.status]:
            raise RuleViolation(
                Rule.ILLEGAL_TRANSITION,
                f"application {app.number}: {app.status.display_ru} → {to.display_ru} is not allowed",
            )
        text = ",".join(sorted({str(r) for r in reasons}))
        stamp = now.isoformat()
        conn.execute(
            "UPDATE applications SET status = ?, reasons = ?, updated_at = ? WHERE number = ?",
            (str(to), text, stamp, app.number),
        )
        conn.execute(
            "INSERT INTO transitions (number, from_status, to_status, at, actor, reasons)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (app.number, str(app.status), str(to), stamp, actor, text),
        )
        self._events.append(StatusChanged(app.number, app.voter_id, app.status, to, now, reasons_of(text)))
        return Application(
            app.number, app.voter_id, app.district, to, reasons_of(text), app.previous, app.created_at, now
        )

    def _load(self, conn: Transaction, number: str) -> Application:
        row = conn.execute(
            "SELECT number, voter_id, district, status, reasons, previous, created_at, updated_at"
            " FROM applications WHERE number = ?",
            (number,),
        ).fetchone()
        if row is None:
            raise InvalidInput(f"no application numbered {number!r}")
        return Application(
            row[0], row[1], row[2], Status(row[3]), reasons_of(row[4]), row[5],
            datetime.fromisoformat(row[6]), datetime.fromisoformat(row[7]),
        )  # fmt: skip

    def _voter(self, conn: Transaction, voter_id: str) -> voters.VoterRecord | None:
        row = conn.execute(voters.SELECT_VOTER, (voter_id,)).fetchone()
        return None if row is None else voters.VoterRecord.from_row(row)

    def _voter_now(self, voter_id: str) -> voters.VoterRecord | None:
        with self._store.reading() as conn:
            return self._voter(conn, voter_id)

    def _set_channel(self, conn: Transaction, voter_id: str, to: str) -> None:
        try:
            conn.execute("UPDATE voters SET channel = ? WHERE voter_id = ?", (to, voter_id))
        except self._store.integrity_errors as exc:  # the schema's CHECK: a claim keeps the voter remote
            raise RuleViolation(Rule.ALREADY_ISSUED, f"voter {voter_id!r} received a credential") from exc

    def _refuse_if_frozen(self, conn: Transaction, now: datetime) -> None:
        """The remote list changes only before registration closes and before it is frozen (C17)."""
        if not now < self.settings.schedule.closes or channel.frozen(conn):
            raise RuleViolation(
                Rule.OUTSIDE_WINDOW, "the list of remote voters is frozen: registration has closed"
            )

    def _refuse_if_voted_on_paper(self, conn: Transaction, voter_id: str) -> None:
        record = self._voter(conn, voter_id)
        if record is not None and record.voted_on_paper:
            raise RuleViolation(Rule.VOTED_ON_PAPER, f"voter {voter_id!r} has voted on paper")

    # --- the voter list -------------------------------------------------------------------
    def import_voters(self, source: str | Iterable[str], *, now: datetime, actor: str = "system") -> int:
        """Load a register extract (CSV, see :mod:`degcore.registry.voters`); all rows or none."""
        rows = voters.parse_rows(source)
        return self._run(
            now, actor, "import_voters", f"{len(rows)} rows", lambda c: voters.import_rows(c, rows)
        )

    def voter(self, voter_id: str) -> voters.VoterRecord:
        """One voter's entry; InvalidInput if not on the list."""
        record = self._voter_now(voter_id)
        if record is None:
            raise InvalidInput(f"voter {voter_id!r} is not on the list")
        return record

    def mark_voted_on_paper(self, voter_id: str, *, now: datetime, actor: str) -> None:
        """A polling station records a paper vote; refused on the remote list or with a credential (R4)."""

        def work(conn: Transaction) -> None:
            record = self._voter(conn, voter_id)
            if record is None:
                raise Ineligible(IneligibleReason.NOT_ON_LIST, f"voter {voter_id!r} is not on the list")
            channel.refuse_if_claimed(conn, voter_id, "she cannot vote on paper")
            if record.channel != "paper":
                raise RuleViolation(Rule.WRONG_CHANNEL, f"voter {voter_id!r} is on the remote list")
            conn.execute("UPDATE voters SET voted_on_paper = 1 WHERE voter_id = ?", (voter_id,))

        self._run(now, actor, "mark_voted_on_paper", voter_id, work)

    # --- eligibility ----------------------------------------------------------------------
    def assess(
        self, voter_id: str, district: str, now: datetime | None = None
    ) -> tuple[IneligibleReason, ...]:
        """Every eligibility rule the voter fails for remote voting in ``district`` (empty: eligible)."""
        s = self.settings
        record = self._voter_now(voter_id)
        return voters.assess(
            record, district=district, schedule=s.schedule, remote_districts=s.remote_districts, now=now
        )

    def check_credential_eligibility(
        self, voter_id: str, election_id: str, ballot_style: str, now: datetime
    ) -> Enrollment:
        """The issuer's question (``EligibilityOracle``), answered by recording the voter's claim.

        In one transaction: the issuance window (RuleViolation(outside_window)), every eligibility
        rule, a confirmed application (the remote list), the district's ballot style, then the
        claim itself. Asking again for the same voter and style succeeds (an issuer's retry).
        Returns her enrollment: the reference the issuer logs and the key that signs her request.
        """
        require_aware(now)
        s = self.settings
        if election_id != s.election_id:
            raise Ineligible(IneligibleReason.NOT_ON_LIST, f"this registry serves {s.election_id}")
        opens, closes = s.issuance_window

        def work(conn: Transaction) -> Enrollment:
            if not opens <= now < closes:
                raise RuleViolation(
                    Rule.OUTSIDE_WINDOW,
                    f"credentials are issued from {opens.isoformat()} until {closes.isoformat()}",
                )
            record = self._voter(conn, voter_id)
            district = record.district if record else ""
            assessed = voters.assess(
                record, district=district, schedule=s.schedule, remote_districts=s.remote_districts
            )
            failed = list(assessed)
            channel.claim(
                conn, voter_id=voter_id, ballot_style=ballot_style, styles=s.ballot_styles, record=record,
                failed=failed, now=now,
            )  # fmt: skip
            enrolled = channel.enrollment_of(conn, voter_id)
            if enrolled is None:  # pragma: no cover - confirmation enrolls, withdrawal un-enrolls
                raise Ineligible(
                    IneligibleReason.NOT_REMOTE_CHANNEL, f"voter {voter_id!r} has no enrolled key"
                )
            return enrolled

        return self._run(now, "issuer", f"claim_credential:{ballot_style}", voter_id, work)

    # --- applications ---------------------------------------------------------------------
    def create(
        self,
        voter_id: str,
        form: Mapping[str, object],
        *,
        now: datetime,
        previous: str | None = None,
        actor: str = "voter",
    ) -> Application:
        """File a draft. Field errors: InvalidInput listing all of them. Duplicates: RuleViolation."""
        require_aware(now)
        local_today = self.settings.schedule.local(now).date()
        data = fields.validate(
            form, {**FORM_REQUIRED, "birth_date": lambda v: fields.birth_date(v, local_today)}, FORM_OPTIONAL
        )
        check_id(voter_id, "voter_id")

        def work(conn: Transaction) -> Application:
            if self._voter(conn, voter_id) is None:
                raise Ineligible(IneligibleReason.NOT_ON_LIST, f"voter {voter_id!r} is not on the list")
            if previous is not None:
                earlier = self._load(conn, previous)
                if earlier.voter_id != voter_id or earlier.status is not Status.REJECTED:
                    raise RuleViolation(
                        Rule.ILLEGAL_TRANSITION,
                        "only a rejected application of the same voter can be followed up",
                    )
            owner = conn.execute("SELECT voter_id FROM phones WHERE phone = ?", (data["phone"],)).fetchone()
            if owner is not None and owner[0] != voter_id:
                raise RuleViolation(
                    Rule.DUPLICATE_APPLICATION, "this phone number belongs to another applicant"
                )
            self._refuse_key_in_use(conn, str(data["voter_key"]), voter_id)
            conn.execute("INSERT INTO phones VALUES (?, ?) ON CONFLICT DO NOTHING", (data["phone"], voter_id))
            number = f"{now.year}-{secrets.randbelow(10**12):012d}"
            stamp = now.isoformat()
            try:
                conn.execute(
                    "INSERT INTO applications (number, voter_id, status, previous, full_name, birth_date,"
                    " passport, passport_issued, passport_issuer, division_code, snils, inn, phone, email,"
                    " district, address, voter_key, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        number, voter_id, str(Status.DRAFT), previous, data["full_name"],
                        _iso(data["birth_date"]), f"{data['passport_series']}{data['passport_number']}",
                        _iso(data["passport_issued"]), data["passport_issuer"], data.get("division_code"),
                        data["snils"], data.get("inn"), data["phone"], data.get("email"), data["district"],
                        data["address"], data["voter_key"], stamp, stamp,
                    ),
                )  # fmt: skip
            except self._store.integrity_errors as exc:
                raise RuleViolation(
                    Rule.DUPLICATE_APPLICATION,
                    "an active application already exists for this voter, СНИЛС, passport or voter key",
                ) from exc
            conn.execute(
                "INSERT INTO transitions (number, from_status, to_status, at, actor)"
                " VALUES (?, NULL, ?, ?, ?)",
                (number, str(Status.DRAFT), stamp, actor),
            )
            self._events.append(StatusChanged(number, voter_id, None, Status.DRAFT, now))
            return self._load(conn, number)

        return self._run(now, actor, "create", voter_id, work)

    def consent(self, number: str, kind: str, version: str, *, now: datetime, actor: str = "voter") -> None:
        """Record the voter's consent of ``kind`` at ``version`` (R17); a newer one replaces it."""
        if kind not in CONSENT_KINDS:
            raise InvalidInput(f"consent kind must be one of {CONSENT_KINDS}")
        text = fields.text(version, 32)

        def work(conn: Transaction) -> None:
            if self._load(conn, number).status is not Status.DRAFT:
                raise RuleViolation(Rule.ILLEGAL_TRANSITION, "consent is given on a draft")
            conn.execute(
                "INSERT INTO consents VALUES (?, ?, ?, ?) ON CONFLICT (number, kind)"
                " DO UPDATE SET version = excluded.version, given_at = excluded.given_at",
                (number, kind, text, now.isoformat()),
            )

        self._run(now, actor, f"consent:{kind}", number, work)

    def attach(self, number: str, kind: str, data: bytes, *, now: datetime, actor: str = "voter") -> str:
        """Check an upload (PDF/JPEG/PNG by content, ≤ 5 MiB) and record its digest; returns its MIME type."""
        try:
            mime = fields.upload_type(data)
        except fields.BadField as bad:
            raise InvalidInput(f"upload {kind!r} refused", [fields.field_error(kind, bad.code)]) from None
        check_id(kind, "upload kind")
        digest = hashlib.sha256(data).hexdigest()

        def work(conn: Transaction) -> None:
            if self._load(conn, number).status not in (Status.DRAFT, Status.NEEDS_CLARIFICATION):
                raise RuleViolation(
                    Rule.ILLEGAL_TRANSITION, "documents are attached to a draft or on request"
                )
            conn.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (number, kind) DO UPDATE SET"
                " mime = excluded.mime, size = excluded.size, sha256 = excluded.sha256,"
                " uploaded_at = excluded.uploaded_at",
                (number, kind, mime, len(data), digest, now.isoformat()),
            )

        self._run(now, actor, f"attach:{kind}", number, work)
        return mime

    def submit(self, number: str, *, now: datetime, actor: str = "voter") -> Application:
        """Submit a draft. Late, ineligible or mismatching applications are rejected with their reasons."""

        def work(conn: Transaction) -> Application:
            app = self._load(conn, number)
            if app.status is not Status.DRAFT:
                raise RuleViolation(Rule.ILLEGAL_TRANSITION, f"application {number} is not a draft")
            given = dict(
                conn.execute("SELECT kind, version FROM consents WHERE number = ?", (number,)).fetchall()
            )
            if given != dict(self.settings.consent_versions):
                raise RuleViolation(
                    Rule.CONSENT_REQUIRED, "both consents, at their current versions, are required"
                )
            reasons = self._autoreasons_of(conn, app, now)
            if reasons:
                return self._move(conn, app, Status.REJECTED, now=now, actor="system", reasons=reasons)
            return self._move(conn, app, Status.SUBMITTED, now=now, actor=actor)

        return self._run(now, actor, "submit", number, work)

    def _autoreasons_of(self, conn: Transaction, app: Application, now: datetime) -> list[RejectionReason]:
        s = self.settings
        if not now < s.schedule.closes:
            return [RejectionReason.LATE]
        record = self._voter(conn, app.voter_id)
        failed = voters.assess(
            record, district=app.district, schedule=s.schedule, remote_districts=s.remote_districts, now=now
        )
        reasons = []
        if IneligibleReason.REMOTE_NOT_OFFERED in failed:
            reasons.append(RejectionReason.REGION_UNAVAILABLE)
        if IneligibleReason.OUTSIDE_REGISTRATION_WINDOW in failed:
            reasons.append(RejectionReason.LATE)
        if set(failed) - {IneligibleReason.REMOTE_NOT_OFFERED, IneligibleReason.OUTSIDE_REGISTRATION_WINDOW}:
            reasons.append(RejectionReason.INELIGIBLE)
        name, born = conn.execute(
            "SELECT full_name, birth_date FROM applications WHERE number = ?", (app.number,)
        ).fetchone()
        if record is not None and (_fold(name), born) != (_fold(record.full_name), str(record.birth_date)):
            reasons.append(RejectionReason.REGISTER_MISMATCH)
        return reasons

    def _step(
        self,
        number: str,
        to: Status,
        *,
        now: datetime,
        actor: str,
        reasons: Sequence[RejectionReason] = (),
    ) -> Application:
        def work(conn: Transaction) -> Application:
            app = self._load(conn, number)
            if to is Status.WITHDRAWN:
                channel.refuse_if_claimed(conn, app.voter_id, "the application can no longer be withdrawn")
            if to in (Status.APPROVED, Status.WITHDRAWN):
                self._refuse_if_frozen(conn, now)
            if to is Status.APPROVED:
                self._refuse_if_voted_on_paper(conn, app.voter_id)
            moved = self._move(conn, app, to, now=now, actor=actor, reasons=reasons)
            if app.status is Status.CONFIRMED:  # the only move out of confirmed is withdrawal
                self._set_channel(conn, app.voter_id, "paper")
                conn.execute("DELETE FROM enrollments WHERE number = ?", (app.number,))
            return moved

        return self._run(now, actor, str(to), number, work)

    def start_review(self, number: str, *, now: datetime, actor: str) -> Application:
        """Получено → На проверке."""
        return self._step(number, Status.UNDER_REVIEW, now=now, actor=actor)

    def request_clarification(self, number: str, *, now: datetime, actor: str) -> Application:
        """На проверке → Требуется уточнение."""
        return self._step(number, Status.NEEDS_CLARIFICATION, now=now, actor=actor)

    def resume_review(self, number: str, *, now: datetime, actor: str) -> Application:
        """Требуется уточнение → На проверке (the voter answered)."""
        return self._step(number, Status.UNDER_REVIEW, now=now, actor=actor)

    def approve(self, number: str, *, now: datetime, actor: str) -> Application:
        """На проверке → Одобрено; the voter then confirms with a one-time code to join the remote list."""
        return self._step(number, Status.APPROVED, now=now, actor=actor)

    def reject(
        self, number: str, reasons: Sequence[RejectionReason], *, now: datetime, actor: str
    ) -> Application:
        """→ Отказано with one or more reasons (final; a new application may follow it)."""
        if not reasons:
            raise InvalidInput("a rejection needs at least one reason")
        checked = [RejectionReason(r) for r in reasons]
        return self._step(number, Status.REJECTED, now=now, actor=actor, reasons=checked)

    def withdraw(self, number: str, *, now: datetime, actor: str = "voter") -> Application:
        """→ Отозвано, until registration closes and unless a credential was claimed; back to paper (C17)."""
        return self._step(number, Status.WITHDRAWN, now=now, actor=actor)

    # --- confirmation by one-time code ----------------------------------------------------
    def issue_code(self, number: str, *, now: datetime, actor: str = "system") -> str:
        """A fresh 6-digit code for confirming an approved application; deliver it, do not keep it."""
        code = codes.new_code()
        mac = codes.code_mac(self._code_key, number, code)

        def work(conn: Transaction) -> None:
            if self._load(conn, number).status is not Status.APPROVED:
                raise RuleViolation(Rule.ILLEGAL_TRANSITION, "codes confirm approved applications")
            conn.execute(
                "INSERT INTO codes (number, mac, issued_at) VALUES (?, ?, ?) ON CONFLICT (number) DO UPDATE"
                " SET mac = excluded.mac, issued_at = excluded.issued_at, used = 0, new_key = NULL",
                (number, mac, now.isoformat()),
            )

        self._run(now, actor, "issue_code", number, work)
        return code

    def _check_code(self, conn: Transaction, number: str, mac: bytes, now: datetime) -> _Refused | None:
        """Spend the application's one-time code if ``mac`` matches it; a wrong code counts (5 lock)."""
        row = conn.execute(
            "SELECT mac, issued_at, failures, used FROM codes WHERE number = ?", (number,)
        ).fetchone()
        if row is None or row[3]:
            raise RuleViolation(Rule.CODE_INVALID, "no unused code was issued for this application")
        if row[2] >= codes.MAX_FAILURES:
            raise RuleViolation(Rule.CODE_LOCKED, f"{codes.MAX_FAILURES} wrong codes: confirmation is locked")
        if now - datetime.fromisoformat(row[1]) > codes.CODE_LIFETIME:
            raise RuleViolation(Rule.CODE_EXPIRED, "the code has expired; request a new one")
        if not secrets.compare_digest(bytes(row[0]), mac):
            failures = row[2] + 1
            conn.execute("UPDATE codes SET failures = ? WHERE number = ?", (failures, number))
            left = codes.MAX_FAILURES - failures
            error = VerificationFailed("one-time-code", number, f"wrong code ({left} tries left)")
            return _Refused(error, "refused: wrong code")
        conn.execute("UPDATE codes SET used = 1 WHERE number = ?", (number,))
        return None

    def confirm(self, number: str, code: str, *, now: datetime, actor: str = "voter") -> Application:
        """Одобрено → Подтверждено with the code, before registration closes: the voter joins the remote list.

        The code confirms the application *with its voter key*: confirmation enrolls the key under
        a fresh voter reference (:meth:`enrollment_receipt` gives the voter her signed receipt).
        Wrong codes count, the 5th locks confirmation.
        """
        mac = codes.code_mac(self._code_key, number, str(code))

        def work(conn: Transaction) -> Application | _Refused:
            app = self._load(conn, number)
            if app.status is Status.APPROVED:
                self._refuse_if_frozen(conn, now)
                self._refuse_if_voted_on_paper(conn, app.voter_id)
            pending = conn.execute("SELECT new_key FROM codes WHERE number = ?", (number,)).fetchone()
            if pending is not None and pending[0] is not None:
                raise RuleViolation(
                    Rule.CODE_INVALID, "this code confirms a key change: use confirm_key_change"
                )
            refused = self._check_code(conn, number, mac, now)
            if refused is not None:
                return refused
            moved = self._move(conn, app, Status.CONFIRMED, now=now, actor=actor)
            self._set_channel(conn, app.voter_id, "remote")
            self._enroll(conn, app, now)
            return moved

        result = self._run(now, actor, "confirm", number, work)
        if not isinstance(result, Application):  # pragma: no cover - _run raises a _Refused's error
            raise TypeError("confirm: unexpected refusal")
        return result

    # --- voter keys -----------------------------------------------------------------------
    def _refuse_key_in_use(self, conn: Transaction, key_hex: str, voter_id: str) -> None:
        """RuleViolation(KEY_IN_USE) if another voter applied with or enrolled this key."""
        row = conn.execute(
            "SELECT voter_id FROM enrollments WHERE voter_key = ? AND voter_id != ?"  # noqa: S608 - constants
            " UNION SELECT voter_id FROM applications WHERE voter_key = ? AND voter_id != ?"
            f" AND status IN ({ACTIVE_SQL})",
            (bytes.fromhex(key_hex), voter_id, key_hex, voter_id),
        ).fetchone()
        if row is not None:
            raise RuleViolation(Rule.KEY_IN_USE, "this voter key is already enrolled for another voter")

    def _enroll(self, conn: Transaction, app: Application, now: datetime) -> None:
        key_hex = conn.execute(
            "SELECT voter_key FROM applications WHERE number = ?", (app.number,)
        ).fetchone()[0]
        self._refuse_key_in_use(conn, key_hex, app.voter_id)
        style = self.settings.ballot_styles.get(app.district)
        if style is None:
            raise Ineligible(
                IneligibleReason.WRONG_DISTRICT, f"district {app.district!r} has no ballot style"
            )
        salt = secrets.token_bytes(SALT_BYTES)
        ref = voter_reference(self.settings.election_id, app.voter_id, salt)
        conn.execute(
            "INSERT INTO enrollments VALUES (?, ?, ?, ?, ?, ?, ?)",
            (app.voter_id, app.number, ref, salt, bytes.fromhex(key_hex), style, now.isoformat()),
        )

    def enrollment_receipt(self, number: str) -> EnrollmentReceipt:
        """The voter's signed enrollment receipt for her confirmed application (InvalidInput if none)."""
        rows = self._store.read(
            "SELECT voter_ref, salt, voter_key, ballot_style, enrolled_at FROM enrollments WHERE number = ?",
            (number,),
        )
        if not rows:
            raise InvalidInput(f"application {number!r} has no enrolled voter key")
        ref, salt, key, style, at = rows[0]
        enrollment = Enrollment(bytes(ref), bytes(key), str(style))
        return EnrollmentReceipt.sign(
            self._signing_key, self.settings.election_id, enrollment, bytes(salt), datetime.fromisoformat(at)
        )

    def request_key_change(
        self, number: str, new_key: str | bytes, *, now: datetime, actor: str = "voter"
    ) -> str:
        """A one-time code that replaces the enrolled key by ``new_key`` (a lost device); deliver it.

        Only for a confirmed application, before the freeze and before any credential claim; the
        code is bound to the application and to this key. The voter's reference stays.
        """
        key = check_voter_key(new_key, "new voter key")
        code = codes.new_code()
        mac = codes.code_mac(self._code_key, _key_change(number, key), code)

        def work(conn: Transaction) -> None:
            app = self._load(conn, number)
            if app.status is not Status.CONFIRMED:
                raise RuleViolation(
                    Rule.ILLEGAL_TRANSITION, "a voter key is changed on a confirmed application"
                )
            self._refuse_if_frozen(conn, now)
            channel.refuse_if_claimed(conn, app.voter_id, "her key can no longer be changed")
            self._refuse_key_in_use(conn, key.hex(), app.voter_id)
            conn.execute(
                "UPDATE codes SET mac = ?, issued_at = ?, used = 0, new_key = ? WHERE number = ?",
                (mac, now.isoformat(), key.hex(), number),
            )

        self._run(now, actor, "request_key_change", number, work)
        return code

    def confirm_key_change(
        self, number: str, code: str, *, now: datetime, actor: str = "voter"
    ) -> EnrollmentReceipt:
        """Replace the enrolled key with the one :meth:`request_key_change` named; the new signed receipt."""

        def work(conn: Transaction) -> Application | _Refused:
            app = self._load(conn, number)
            if app.status is not Status.CONFIRMED:
                raise RuleViolation(
                    Rule.ILLEGAL_TRANSITION, "a voter key is changed on a confirmed application"
                )
            self._refuse_if_frozen(conn, now)
            channel.refuse_if_claimed(conn, app.voter_id, "her key can no longer be changed")
            row = conn.execute("SELECT new_key FROM codes WHERE number = ?", (number,)).fetchone()
            if row is None or row[0] is None:
                raise RuleViolation(Rule.CODE_INVALID, "no key change was requested for this application")
            key = bytes.fromhex(row[0])
            refused = self._check_code(
                conn, number, codes.code_mac(self._code_key, _key_change(number, key), str(code)), now
            )
            if refused is not None:
                return refused
            self._refuse_key_in_use(conn, key.hex(), app.voter_id)
            conn.execute("UPDATE codes SET new_key = NULL WHERE number = ?", (number,))
            conn.execute("UPDATE applications SET voter_key = ? WHERE number = ?", (key.hex(), number))
            conn.execute(
                "UPDATE enrollments SET voter_key = ?, enrolled_at = ? WHERE number = ?",
                (key, now.isoformat(), number),
            )
            return app

        self._run(now, actor, "confirm_key_change", number, work)
        return self.enrollment_receipt(number)

    # --- reading --------------------------------------------------------------------------
    def application(self, number: str) -> Application:
        """The application as stored now."""
        with self._store.reading() as conn:
            return self._load(conn, number)

    def history(self, number: str) -> list[Transition]:
        """Every transition of the application, oldest first."""
        query = (
            "SELECT from_status, to_status, at, actor, reasons FROM transitions WHERE number = ? ORDER BY id"
        )
        return [
            Transition(Status(f) if f else None, Status(t), datetime.fromisoformat(at), a, reasons_of(r))
            for f, t, at, a, r in self._store.read(query, (number,))
        ]


def _key_change(number: str, key: bytes) -> str:
    """What a key-change code's MAC binds: the application and the new key."""
    return f"{number}/voter-key/{key.hex()}"


def _iso(value: object) -> str:
    return str(value)  # a date from the validators: ISO 8601


def _fold(name: str) -> str:
    """Names compare without case and with Ё = Е, as registers write them either way."""
    return name.replace("ё", "е").replace("Ё", "Е").casefold()
