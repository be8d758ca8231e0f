"""The public site of an election: ``build_site(record, out)`` verifies a record and writes static pages.

docs/site.md. Russian first (``index.html``) with an English page (``en/index.html``); the
verified result with SVG charts drawn here, every check, the record's SHA-256 and every key's
fingerprint, the record's files, and a voter's lookup by tracking code or receipt that loads one
small shard of the index. A record that does not verify gets pages that say so and no result.
The site sits above the verifier: it re-implements no check.
"""

from __future__ import annotations

from degcore.site.build import MARKER, Site, build_site, check_target
from degcore.site.lookup_index import IndexSummary, LookupRow, prefix_length, write_lookup_index

__all__ = [
    "MARKER",
    "IndexSummary",
    "LookupRow",
    "Site",
    "build_site",
    "check_target",
    "prefix_length",
    "write_lookup_index",
]
