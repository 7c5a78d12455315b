"""Batch printing of certificates for a unit, as background jobs."""
