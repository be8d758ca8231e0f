"""Retention: after the appeal period, personal data goes; counts and the audit chain's hashes stay.

REQUIREMENTS.md R25, C23. :func:`purge` records aggregate counts (applications per final status,
voters per channel and district), deletes every row that names or links a person (voters,
applications and everything hanging off them, phone bindings), blanks the contents of the audit
entries while keeping their hashes, then checkpoints the WAL and VACUUMs so that the bytes are
gone from the file, not just unlinked. It is idempotent: a second run removes nothing and says so.
The frozen remote list (voter ids) and the enrollments (voter id → reference and salt) go too;
the published enrollment list (references, keys, styles: nothing personal) stays. The report carries the audit
head signed right after the purge's own entry, so a chain cut before that entry is detected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from nacl.signing import SigningKey

from degcore.issuance.eligibility import AuditHead
from degcore.registry import audit, channel
from degcore.storage import Database, Transaction

__all__ = ["PurgeReport", "purge"]

#: Deleted in this order (children before parents).
_TABLES = ("enrollments", "codes", "uploads", "consents", "transitions", "applications", "phones", "voters")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """How many rows each table lost, how many audit entries were blanked, and the signed head after."""

    removed: dict[str, int] = field(default_factory=dict)
    audit_entries_blanked: int = 0
    audit_head: AuditHead | None = None

    @property
    def total(self) -> int:
        """Everything removed or blanked."""
        return sum(self.removed.values()) + self.audit_entries_blanked


def _aggregate(conn: Transaction) -> None:
    queries = {
        "applications.status.": "SELECT status, COUNT(*) FROM applications GROUP BY status",
        "voters.channel.": "SELECT channel, COUNT(*) FROM voters GROUP BY channel",
        "voters.district.": "SELECT district, COUNT(*) FROM voters GROUP BY district",
        "voters.voted_on_paper.": "SELECT voted_on_paper, COUNT(*) FROM voters GROUP BY voted_on_paper",
        "voters.credential.": "SELECT claimed_style, COUNT(*) FROM voters WHERE claimed_style IS NOT NULL"
        " GROUP BY claimed_style",
    }
    for prefix, query in queries.items():
        for key, count in conn.execute(query).fetchall():
            # OR IGNORE: the first purge's counts are the true ones; later runs find empty tables.
            conn.execute(
                "INSERT INTO aggregates VALUES (?, ?) ON CONFLICT DO NOTHING", (f"{prefix}{key}", count)
            )


def purge(db: Database, now: datetime, actor: str, *, key: SigningKey, election_id: str) -> PurgeReport:
    """Delete all personal data in one transaction, then compact the store (see the module docstring)."""
    with db.write() as conn:
        _aggregate(conn)
        removed = {table: conn.execute(f"DELETE FROM {table}").rowcount for table in _TABLES}  # noqa: S608
        conn.execute("DELETE FROM publications WHERE kind = ?", (channel.LIST,))
        blanked = conn.execute(
            "UPDATE audit SET at = NULL, actor = NULL, action = NULL, subject = NULL, result = NULL"
            " WHERE at IS NOT NULL AND action != 'purge'"
        ).rowcount
        total = sum(removed.values()) + blanked
        result = f"removed {total}"
        audit.append(conn, now, actor=actor, action="purge", subject="personal data", result=result)
        report = PurgeReport(removed, blanked, audit.sign_head(conn, key, election_id, now))
    db.compact()
    return report
