"""degcore: the cryptographic core of remote electronic voting.

The top level exports only the version, the record format string and the error classes;
everything else is imported from its subpackage (``from degcore.elgamal import encrypt``).
"""

import logging

from degcore.encoding import FORMAT
from degcore.errors import (
    DegcoreError,
    FieldError,
    Ineligible,
    InvalidInput,
    NonCanonical,
    RuleViolation,
    StorageError,
    UnsupportedFormat,
    VerificationFailed,
    WrongPassphrase,
)

# A library's records go where the application's logging config sends them, never to stderr by default.
logging.getLogger("degcore").addHandler(logging.NullHandler())

#: The package version, in this one place (pyproject.toml reads it: tool.setuptools.dynamic).
__version__ = "0.1.0"

__all__ = [
    "FORMAT",
    "DegcoreError",
    "FieldError",
    "Ineligible",
    "InvalidInput",
    "NonCanonical",
    "RuleViolation",
    "StorageError",
    "UnsupportedFormat",
    "VerificationFailed",
    "WrongPassphrase",
    "__version__",
]
