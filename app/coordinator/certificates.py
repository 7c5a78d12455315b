"""Certificate revocation by coordinators, within their units."""
