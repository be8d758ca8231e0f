"""Anonymous credentials: RFC 9474 blind RSA signatures and the credential issuer (DESIGN.md §1 step 4)."""

from __future__ import annotations

from degcore.issuance import rsabssa
from degcore.issuance.credential import (
    Credential,
    CredentialRequest,
    VoterCredential,
    finish_credential,
    request_credential,
)
from degcore.issuance.eligibility import (
    AuditHead,
    EligibilityOracle,
    FrozenListEligibility,
    RemoteList,
    RemoteListCounts,
    StaticEligibility,
)
from degcore.issuance.issuer import Issuer, load_issuer_key, public_key_pem, save_issuer_key

__all__ = [
    "AuditHead",
    "Credential",
    "CredentialRequest",
    "EligibilityOracle",
    "FrozenListEligibility",
    "Issuer",
    "RemoteList",
    "RemoteListCounts",
    "StaticEligibility",
    "VoterCredential",
    "finish_credential",
    "load_issuer_key",
    "public_key_pem",
    "request_credential",
    "rsabssa",
    "save_issuer_key",
]
