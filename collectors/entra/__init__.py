"""Entra ID collectors: settings.py holds `[entra]`, plugin.py is what the entry point loads, one module
per service."""
