"""Intune collectors: settings.py holds `[intune]` (which signs in with `[entra]`'s tenant and
credentials), plugin.py is what the entry point loads, one module per service."""
