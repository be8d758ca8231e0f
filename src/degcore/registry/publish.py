"""What the registry publishes, signed by its own key: audit head, frozen remote list, enrollment list.

docs/registry.md ("The anchored audit log", "The frozen remote list"). A mixin of
:class:`degcore.registry.Registry`, kept apart so that each module stays one concept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from nacl.signing import SigningKey

from degcore.errors import Rule, RuleViolation, VerificationFailed
from degcore.issuance.eligibility import AuditHead, RemoteList
from degcore.issuance.enrollment import Enrollment, EnrollmentList
from degcore.registry import audit, channel
from degcore.registry.model import ElectionSettings
from degcore.registry.retention import PurgeReport, purge
from degcore.registry.schedule import require_aware
from degcore.storage import Database

__all__ = ["Publishing"]


class Publishing:
    """The registry's signed publications and the audit check against them."""

    settings: ElectionSettings
    _store: Database
    _signing_key: SigningKey

    @property
    def public_key(self) -> bytes:
        """The registry's Ed25519 public key (32 bytes): publish it; it checks every signed object."""
        return bytes(self._signing_key.verify_key)

    def verify_audit(
        self, expected: AuditHead | Mapping[str, object] | None = None, *, key: bytes | None = None
    ) -> audit.AuditReport:
        """Recompute the audit chain; with a signed head, also detect truncation and a different head.

        ``expected`` is a published :class:`AuditHead` (or its JSON); ``key`` the registry's public
        key as published (default: this registry's). A head that is not signed by ``key`` or is of
        another election raises VerificationFailed("audit-head"); a broken chain raises
        VerificationFailed("audit-log", "entry N", what is wrong there). A chain that holds gives its report.
        """
        head = None
        if expected is not None:
            head = expected if isinstance(expected, AuditHead) else AuditHead.from_json(expected)
            head.verify(self.public_key if key is None else key)
            if head.election_id != self.settings.election_id:
                raise VerificationFailed("audit-head", head.election_id, "the head is of another election")
        with self._store.reading() as conn:
            report = audit.verify_chain(conn, head)
        if not report.ok:
            raise VerificationFailed("audit-log", f"entry {report.first_broken}", report.problem)
        return report

    def audit_head(self, now: datetime) -> AuditHead:
        """The audit chain's current head, signed now (publish it: later truncation becomes detectable)."""
        require_aware(now)
        with self._store.reading() as conn:
            return audit.sign_head(conn, self._signing_key, self.settings.election_id, now)

    # --- the frozen remote list -----------------------------------------------------------
    def freeze_remote_list(self, now: datetime, *, actor: str = "system") -> RemoteList:
        """The signed remote list (voter id → enrollment) for the issuer, at or after registration closes.

        The first call records the freeze in the audit log and stores the list with the public
        enrollment list (:meth:`enrollment_list`);
        later calls return the same object. From then on no application changes a voter's channel.
        """
        require_aware(now)
        if now < self.settings.schedule.closes:
            raise RuleViolation(Rule.OUTSIDE_WINDOW, "the remote list is frozen when registration closes")
        s = self.settings
        with self._store.write() as conn:
            remote = channel.stored_list(conn)
            if remote is not None:
                return remote
            if channel.frozen(conn):
                raise RuleViolation(
                    Rule.OUTSIDE_WINDOW, "the frozen list was purged; its public list remains"
                )
            return channel.freeze(
                conn, key=self._signing_key, election_id=s.election_id, styles=s.ballot_styles, now=now,
                actor=actor,
            )  # fmt: skip

    def enrollment_list(self) -> tuple[EnrollmentList, Sequence[Enrollment]]:
        """The signed public enrollment list and its entries (for the record); after the freeze.

        One entry per remote voter (reference, key, ballot style; nothing personal); the head's
        counts per ballot style are the remote list's.
        """
        with self._store.reading() as conn:
            published = channel.stored_enrollment(conn)
        if published is None:
            raise RuleViolation(Rule.OUTSIDE_WINDOW, "the remote list has not been frozen yet")
        return published

    def purge(self, *, now: datetime, actor: str = "system") -> PurgeReport:
        """Delete personal data once the retention period is over (R25); idempotent; with a signed head."""
        require_aware(now)
        if not self.settings.schedule.purge_due(now):
            raise RuleViolation(Rule.OUTSIDE_WINDOW, "personal data is kept until the retention period ends")
        return purge(self._store, now, actor, key=self._signing_key, election_id=self.settings.election_id)
