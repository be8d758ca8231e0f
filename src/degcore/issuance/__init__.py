"""Anonymous credentials: RFC 9474 blind RSA signatures and the credential issuer (DESIGN.md §1 step 4)."""
