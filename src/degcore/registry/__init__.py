"""The registration model (docs/registry.md): voter list, eligibility, applications for remote voting.

Independent of the crypto stack: it imports no group or ElGamal code, and answers the credential
issuer only through :class:`degcore.issuance.EligibilityOracle` (``Registry`` implements it).
Field validators are in :mod:`degcore.registry.fields`; docs/registry.md explains the model.
"""

from __future__ import annotations

from degcore.registry import fields
from degcore.registry.audit import AuditReport
from degcore.registry.registry import CONSENT_KINDS, Application, ElectionSettings, Registry, StatusChanged
from degcore.registry.retention import PurgeReport
from degcore.registry.schedule import Schedule
from degcore.registry.status import RejectionReason, Status
from degcore.registry.voters import VoterRecord

__all__ = [
    "CONSENT_KINDS",
    "Application",
    "AuditReport",
    "ElectionSettings",
    "PurgeReport",
    "Registry",
    "RejectionReason",
    "Schedule",
    "Status",
    "StatusChanged",
    "VoterRecord",
    "fields",
]
