"""Certificate revocation by administrators."""
