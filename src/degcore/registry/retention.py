"""Retention: after the appeal period, personal data goes; counts and the audit chain's hashes stay.

REQUIREMENTS.md R25, C23. :func:`purge` records aggregate counts (applications per final status,
voters per channel and district), deletes every row that names or links a person (voters,
applications and everything hanging off them, phone bindings), blanks the contents of the audit
entries while keeping their hashes, then checkpoints the WAL and VACUUMs so that the bytes are
gone from the file, not just unlinked. It is idempotent: a second run removes nothing and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from degcore.registry import audit
from degcore.storage import Database, Transaction

__all__ = ["PurgeReport", "purge"]

#: Deleted in this order (children before parents).
_TABLES = ("codes", "uploads", "consents", "transitions", "applications", "phones", "voters")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """How many rows each table lost, and how many audit entries were blanked."""

    removed: dict[str, int] = field(default_factory=dict)
    audit_entries_blanked: int = 0

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
    }
    for prefix, query in queries.items():
        for key, count in conn.execute(query).fetchall():
            # OR IGNORE: the first purge's counts are the true ones; later runs find empty tables.
            conn.execute(
                "INSERT INTO aggregates VALUES (?, ?) ON CONFLICT DO NOTHING", (f"{prefix}{key}", count)
            )


def purge(db: Database, now: datetime, actor: str) -> PurgeReport:
    """Delete all personal data in one transaction, then compact the store (see the module docstring)."""
    with db.write() as conn:
        _aggregate(conn)
        removed = {table: conn.execute(f"DELETE FROM {table}").rowcount for table in _TABLES}  # noqa: S608
        blanked = conn.execute(
            "UPDATE audit SET at = NULL, actor = NULL, action = NULL, subject = NULL, result = NULL"
            " WHERE at IS NOT NULL AND action != 'purge'"
        ).rowcount
        report = PurgeReport(removed, blanked)
        audit.append(
            conn, now, actor=actor, action="purge", subject="personal data", result=f"removed {report.total}"
        )
    db.compact()
    return report
