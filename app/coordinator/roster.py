"""Roster import: upload, preview, confirm."""
