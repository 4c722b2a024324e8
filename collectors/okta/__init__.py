"""Okta collectors: settings.py holds `[okta]`, plugin.py is what the entry point loads, client.py (with
executor.py) the one way to the SDK, one module per kind of evidence."""
