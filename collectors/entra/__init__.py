"""Entra ID collectors (msgraph-sdk)."""
