"""Anonymous credentials: RFC 9474 blind RSA signatures and the credential issuer (docs/protocol.md §5)."""

from __future__ import annotations

from degcore.issuance import rsabssa
from degcore.issuance.credential import (
    Credential,
    CredentialRequest,
    VoterCredential,
    authorise_request,
    check_issuance_receipt,
    finish_credential,
    request_credential,
)
from degcore.issuance.eligibility import (
    AuditHead,
    EligibilityOracle,
    FrozenListEligibility,
    RemoteList,
    StaticEligibility,
)
from degcore.issuance.enrollment import (
    Enrollment,
    EnrollmentList,
    EnrollmentReceipt,
    check_request_signature,
    check_voter_key,
    sign_credential_request,
)
from degcore.issuance.issuer import (
    Issuer,
    load_issuer_key,
    load_issuer_public_key,
    public_key_pem,
    save_issuer_key,
)
from degcore.issuance.log import IssuanceReceipt, issuance_line, parse_issuance_line, voter_reference

__all__ = [
    "AuditHead",
    "Credential",
    "CredentialRequest",
    "EligibilityOracle",
    "Enrollment",
    "EnrollmentList",
    "EnrollmentReceipt",
    "FrozenListEligibility",
    "IssuanceReceipt",
    "Issuer",
    "RemoteList",
    "StaticEligibility",
    "VoterCredential",
    "authorise_request",
    "check_issuance_receipt",
    "check_request_signature",
    "check_voter_key",
    "finish_credential",
    "issuance_line",
    "load_issuer_key",
    "load_issuer_public_key",
    "parse_issuance_line",
    "public_key_pem",
    "request_credential",
    "rsabssa",
    "save_issuer_key",
    "sign_credential_request",
    "voter_reference",
]
