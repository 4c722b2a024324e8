"""Checks: pure functions that judge evidence and map results to Annex A controls."""
